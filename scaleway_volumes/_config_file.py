"""The Scaleway tools' config file: where it is, which profile applies, what it says.

Everything but the file itself comes from the ``environ`` mapping the caller passes,
so the CLI and the tests control it fully. The rules are those of ``scw``, the Go
SDK and the Python SDK; ``docs/configuration.md`` states them.
"""

from __future__ import annotations

import functools
import os
import stat
import threading
import time
from collections.abc import Mapping
from typing import Any

import attrs

from ._constants import CONFIG_FILE_SUBPATH, DEFAULT_PROFILE, ENV_CONFIG_PATH, ENV_PROFILE

__all__ = ["FILE_KEYS", "FILE_VARIABLES", "FileLayer", "load_config_file", "locate_config_file"]

# The variables that choose the file and its profile.
FILE_VARIABLES = (ENV_CONFIG_PATH, "XDG_CONFIG_HOME", "HOME", "USERPROFILE", ENV_PROFILE)

# The settings a profile (or the top level) may hold. Other keys (``insecure``,
# ``send_telemetry``, ... written by ``scw``) are left alone.
FILE_KEYS = (
    "access_key",
    "secret_key",
    "api_url",
    "default_zone",
    "default_region",
    "default_project_id",
    "default_organization_id",
)


@attrs.frozen(kw_only=True)
class FileLayer:
    """What the config file contributes to the configuration.

    ``values`` maps a key of ``FILE_KEYS`` to ``(value, where it was read)``; keys
    absent (or null, or empty) in both the profile and the top level are missing.
    """

    searched_path: str | None
    path_source: str
    path: str | None = None
    profile: str | None = None
    profile_source: str | None = None
    values: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)


def locate_config_file(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(The config file's path, how it was chosen); the path is None without a home.

    ``$SCW_CONFIG_PATH``, else ``$XDG_CONFIG_HOME/scw/config.yaml``, else
    ``$HOME/.config/scw/config.yaml`` (``$USERPROFILE`` when there is no ``$HOME``,
    as the Go SDK does). Empty variables count as unset. The file may not exist.
    """
    explicit = environ.get(ENV_CONFIG_PATH)
    if explicit:
        return explicit, f"environment {ENV_CONFIG_PATH}"
    xdg = environ.get("XDG_CONFIG_HOME")
    if xdg:
        return os.path.join(xdg, *CONFIG_FILE_SUBPATH), "environment XDG_CONFIG_HOME"
    home = environ.get("HOME") or environ.get("USERPROFILE")
    if home:
        return os.path.join(home, ".config", *CONFIG_FILE_SUBPATH), "default location"
    return None, "no home directory"


def load_config_file(environ: Mapping[str, str], profile: str | None = None) -> FileLayer:
    """Read the config file and pick the profile: ``profile``, ``$SCW_PROFILE``,
    the file's ``active_profile``, else the top-level keys (the ``default`` profile).

    A named profile's missing keys fall back to the top-level ones. A missing file is
    an empty layer, unless a profile other than ``default`` was asked for. Raises
    ``ValueError`` naming the file (and the profile) for an unreadable or malformed
    file or an unknown profile; no message ever quotes a value from the file.
    """
    path, path_source = locate_config_file(environ)
    chosen, how = _choose_profile(profile, environ)
    data = None if path is None else _read_mapping(path)
    if path is None or data is None:
        if chosen is not None and chosen != DEFAULT_PROFILE:
            where = f"no config file at {path}" if path else "no config file (no home directory)"
            raise ValueError(f"unknown profile {chosen!r} (from {how}): {where}")
        return FileLayer(searched_path=path, path_source=path_source)

    active = data.get("active_profile")
    if active is not None and not isinstance(active, str):
        raise ValueError(
            f"config file {path}: active_profile must be a profile name (a string), "
            f"got {type(active).__name__}"
        )
    if chosen is None and active:
        chosen, how = active, f"active_profile in {path}"
    profiles = data.get("profiles")
    if profiles is not None and not isinstance(profiles, dict):
        raise ValueError(
            f"config file {path}: profiles must be a mapping of profile names to settings, "
            f"got {type(profiles).__name__}"
        )
    name = chosen or DEFAULT_PROFILE
    values = _profile_values(data, path, DEFAULT_PROFILE)
    # `default` always means the top level, even if `profiles` has an entry of that
    # name: the Go SDK reserves it.
    if name != DEFAULT_PROFILE:
        values.update(_profile_values(_named_profile(profiles or {}, path, name, how), path, name))
    return FileLayer(
        searched_path=path,
        path_source=path_source,
        path=path,
        profile=name,
        profile_source=how if chosen else "default",
        values=values,
    )


def _choose_profile(profile: str | None, environ: Mapping[str, str]) -> tuple[str | None, str]:
    if profile:
        return profile, "argument"
    from_env = environ.get(ENV_PROFILE)
    if from_env:
        return from_env, f"environment {ENV_PROFILE}"
    return None, "default"


def _named_profile(
    profiles: Mapping[Any, Any], path: str, name: str, how: str
) -> Mapping[Any, Any]:
    # YAML makes an unquoted `2024:` an int key: names compare as strings, and a
    # string key wins over another key of the same spelling.
    keys = [name] if name in profiles else [key for key in profiles if str(key) == name]
    if not keys:
        known = ", ".join(
            repr(p)
            for p in [DEFAULT_PROFILE, *sorted({str(p) for p in profiles} - {DEFAULT_PROFILE})]
        )
        raise ValueError(
            f"unknown profile {name!r} (from {how}) in config file {path}; known profiles: {known}"
        )
    body = profiles[keys[0]]
    # `scw` writes a profile whose keys are all commented out: YAML reads it as null.
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError(
            f"config file {path}: profile {name!r} must be a mapping of settings, "
            f"got {type(body).__name__}"
        )
    return body


def _profile_values(
    mapping: Mapping[Any, Any], path: str, profile: str
) -> dict[str, tuple[str, str]]:
    values: dict[str, tuple[str, str]] = {}
    for key in FILE_KEYS:
        value = mapping.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            # A list, a mapping, or a value tagged ``!!int``: not quoted, as it may
            # be the secret key.
            raise ValueError(
                f"config file {path}: {key} of profile {profile!r} must be a string, "
                f"got {type(value).__name__}"
            )
        values[key] = (value, f"profile {profile!r} in {path}")
    return values


def _read_mapping(path: str) -> dict[Any, Any] | None:
    """The file's top-level mapping ({} for an empty file), or None if it does not exist.

    Read and parsed once per process and version of the file: an API built per
    tenant or request (often inside a running event loop) costs an ``os.stat``,
    not a read and a parse (milliseconds). The mapping is shared: only read it.
    """
    started = _clock()
    try:
        info = os.stat(path)
    except FileNotFoundError:
        # Not remembered: the next call's stat sees the file once it exists.
        with _parsed_lock:
            _parsed.pop(path, None)
        return None
    except OSError:
        info = None  # reading it says what is wrong
    # Only a regular file: a pipe (`<(...)`, /dev/stdin) is read each time, as ever.
    stamp = None
    if info is not None and stat.S_ISREG(info.st_mode):
        stamp = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    known = _parsed.get(path)
    if known is not None and known.stamp != stamp:
        known = None
    if known is not None and known.settled:
        return known.data
    raw = _read_bytes(path)
    if raw is None:
        return None
    # A malformed file raises here, every time: failures are not remembered.
    data = known.data if known is not None and known.raw == raw else _parse_mapping(path, raw)
    if stamp is not None and info is not None:
        # Stamped long enough before this read, the file cannot change again
        # without changing its stamp (see _SETTLE_NS).
        settled = started - max(info.st_mtime_ns, info.st_ctime_ns) >= _SETTLE_NS
        with _parsed_lock:
            _parsed.pop(path, None)
            _parsed[path] = _Parsed(stamp=stamp, raw=raw, data=data, settled=settled)
            while len(_parsed) > _PARSED_FILES:
                del _parsed[next(iter(_parsed))]
    return data


def _read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ValueError(f"cannot read config file {path}: {err.strerror or err}") from err


def _parse_mapping(path: str, raw: bytes) -> dict[Any, Any]:
    data, problem = _parse_yaml(raw)
    # Raised here, outside any `except`: the YAML error, whose text quotes the file
    # (secret key included), must not ride along as __context__.
    if problem is not None:
        raise ValueError(f"config file {path} is not valid YAML: {problem}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(
            f"config file {path} must be a YAML mapping of settings, got {type(data).__name__}"
        )
    return data


# -- the parsed file, kept per process ---------------------------------------------

#: How old a file's last change must be, when it is read, for its ``os.stat`` to be
#: trusted to show the next change. A write stamps the file with the kernel's coarse
#: clock (up to a tick, 10 ms at most, behind) cut to the filesystem's granularity
#: (nanoseconds on ext4, XFS, btrfs, APFS, NTFS; 1 s on ext3 and HFS+; 2 s on FAT):
#: a file read sooner after a change could be rewritten within the same stamp with
#: the same size (a test, a script saving twice), so until then it is read again at
#: each use, and parsed again only if its bytes changed.
_SETTLE_NS = 3_000_000_000
# The wall clock the stamps are compared with (the tests move it on).
_clock = time.time_ns
#: Files remembered at most (an app may keep a config file per tenant).
_PARSED_FILES = 32


@attrs.frozen(kw_only=True)
class _Parsed:
    """A parsed config file and the ``os.stat`` of the version parsed."""

    stamp: tuple[int, int, int, int, int]  # device, inode, size, mtime_ns, ctime_ns
    raw: bytes
    data: dict[Any, Any]  # shared by every reader: never modified
    settled: bool  # the stamp is enough to tell a change


_parsed: dict[str, _Parsed] = {}
_parsed_lock = threading.Lock()


# Python's own errors PyYAML lets out while building a value (an unquoted
# `2024-13-45` read as a date, `!!int` on text, an int of too many digits, a
# `!!timestamp` on text: AttributeError; `!!bool` on text: a KeyError of the
# value; `!!int ''`: IndexError): their text may quote the value, which may be
# the secret key.
_BUILD_ERRORS = (ValueError, OverflowError, TypeError, AttributeError, LookupError)
_CANNOT_BUILD = "a value that is not the date or number it looks like or is tagged as"


#: The implicit types a plain (unquoted) scalar may still resolve to: null (an
#: empty or ``~`` value, a profile whose keys are all commented out) and YAML's
#: merge key. Every other plain scalar stays the text it is, as ``scw`` and the
#: Go SDK read the file (yaml.v2 into string fields): ``active_profile: 2024``,
#: which ``scw config profile activate 2024`` writes, names the profile ``2024``
#: (not the int 2024), a profile called ``yes`` is not ``True``, ``010`` is not
#: 8, and a date-like value in a key nobody reads is no date to build.
_IMPLICIT_TAGS = frozenset({"tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"})


@functools.cache
def _loader() -> Any:
    """PyYAML's safe loader reading plain scalars as text (``_IMPLICIT_TAGS``); a
    value it cannot build (an explicit ``!!int`` on text) is a ``ConstructorError``
    at it."""
    import yaml  # type: ignore[import-untyped,unused-ignore]

    class Loader(yaml.SafeLoader):  # type: ignore[misc,unused-ignore]
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except _BUILD_ERRORS:
                # Not chained: the error's text may quote the value.
                raise yaml.constructor.ConstructorError(
                    problem=_CANNOT_BUILD, problem_mark=node.start_mark
                ) from None

    # A class attribute PyYAML documents (``add_implicit_resolver`` fills it):
    # a copy, so SafeLoader itself is left as it is.
    Loader.yaml_implicit_resolvers = {
        first: kept
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        if (kept := [(tag, regexp) for tag, regexp in resolvers if tag in _IMPLICIT_TAGS])
    }
    return Loader


def _parse_yaml(raw: bytes) -> tuple[Any, str | None]:
    """(document, None), or (None, what is wrong and where) without the file's text."""
    # Imported here, not at the top: most deployments configure through the
    # environment and have no file, and importing PyYAML takes tens of times longer
    # than parsing a small file. The ignore is for environments without the
    # types-PyYAML stubs; with them it is unused, hence `unused-ignore`.
    import yaml  # type: ignore[import-untyped,unused-ignore]

    try:
        # A SafeLoader: no arbitrary objects.
        return yaml.load(raw, Loader=_loader()), None
    except RecursionError:
        # PyYAML composes nested collections recursively.
        return None, "collections nested too deeply"
    except _BUILD_ERRORS:
        # Built outside any node (the loader wraps each one): no line to give.
        return None, _CANNOT_BUILD
    except yaml.MarkedYAMLError as err:
        if err.problem_mark is None:
            return None, type(err).__name__
        mark = err.problem_mark
        what = ", ".join(_unquoted(text) for text in (err.context, err.problem) if text)
        return None, f"{what or 'syntax error'} (line {mark.line + 1}, column {mark.column + 1})"
    except yaml.reader.ReaderError as err:
        return None, f"not UTF-8 or UTF-16 text (byte {err.position})"
    except yaml.YAMLError as err:
        return None, type(err).__name__


def _unquoted(problem: str) -> str:
    """``problem`` with what PyYAML quoted from the file (an alias, a tag: it could be
    the secret key) cut out; a quoted character or two (a tab, a colon) is kept."""
    quotes = [i for i, char in enumerate(problem) if char in "'\""]
    # From the first quote to the last: a repr may hold escaped quotes of both kinds.
    if quotes and quotes[-1] - quotes[0] >= 6:
        return problem[: quotes[0]] + "'...'" + problem[quotes[-1] + 1 :]
    return problem
