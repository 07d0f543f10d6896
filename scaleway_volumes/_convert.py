"""JSON <-> models: the one cattrs converter, and envelope decoding.

The converter is strict about types (``"10"`` is not a size, ``"abc"`` is not a
list of tags) and lenient about shape (unknown keys are ignored, missing
optional keys default), so a field the API adds tomorrow never breaks a client
that is already deployed. All hooks are built once, at import.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs

from ._constants import MARKER_TAG_PREFIX
from ._errors import ResponseDecodeError, ScalewayError
from ._models import Volume, VolumeServer

__all__ = [
    "converter",
    "decode_page",
    "decode_volume",
    "decode_volumes",
    "find_marked",
    "make_converter",
    "visible_tags",
]

T = TypeVar("T")


@attrs.frozen
class _VolumeEnvelope:
    volume: Volume


@attrs.frozen
class _VolumeList:
    volumes: list[Volume]


def _structure_int(value: Any, _: Any) -> int:
    # bool is an int subclass, and cattrs' default int(value) would accept "10" or 10.7.
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _structure_str(value: Any, _: Any) -> str:
    # cattrs' default str(value) would turn 123 or None into a string.
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_tags(value: Any, _: Any) -> tuple[str, ...]:
    # A bare string would otherwise become a tuple of its characters.
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list of strings, got {type(value).__name__}")
    for item in value:
        if type(item) is not str:
            raise TypeError(f"expected a list of strings, got an item of {type(item).__name__}")
    return visible_tags(value)


def visible_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The tags a user set: without the marker the library adds to every create.

    The marker (``scaleway-volumes:create=<hex>``) is the library's bookkeeping
    for duplicate-free retries; it stays on the volume, but ``Volume.tags``
    shows what was asked for, so a created volume compares equal to its spec's
    tags and ``update_volume(v, tags=[*v.tags, "x"])`` keeps meaning what it says.
    """
    visible = tuple(sys.intern(t) for t in tags if not t.startswith(MARKER_TAG_PREFIX))
    # Volumes made together share their tags: one tuple for them all keeps a
    # 100 000-volume result small. Bounded, so odd tag sets cannot grow it forever.
    shared = _TAG_TUPLES.get(visible)
    if shared is not None:
        return shared
    if len(_TAG_TUPLES) < _TAG_TUPLES_MAX:
        _TAG_TUPLES[visible] = visible
    return visible


_TAG_TUPLES: dict[tuple[str, ...], tuple[str, ...]] = {}
_TAG_TUPLES_MAX = 4096


_FRACTION = re.compile(r"(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_datetime(value: str) -> datetime:
    """Parse the API's ISO 8601 timestamps on every supported Python.

    The API sends ``2026-11-27T10:38:35.123456+00:00`` and sometimes ``...Z``;
    ``datetime.fromisoformat`` accepts ``Z`` and any number of fraction digits
    only from Python 3.11 on, so 3.10 gets them normalised first. Naive values
    are taken as UTC, which is what the API means.
    """
    if sys.version_info < (3, 11):  # pragma: no cover - exercised on 3.10 only
        match = _FRACTION.search(value)
        if match is not None:
            fraction, offset = match.group(1) or "", match.group(2) or ""
            if fraction:
                fraction = "." + fraction[1:7].ljust(6, "0")
            if offset == "Z":
                offset = "+00:00"
            value = value[: match.start()] + fraction + offset
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return parse_datetime(value)


def _is_tags(type_: Any) -> bool:
    return bool(type_ == tuple[str, ...])


def make_converter(*, forbid_extra_keys: bool = False) -> cattrs.Converter:
    """Build a converter with this library's hooks.

    The public ``scaleway_volumes.converter`` is ``make_converter()``; tests use
    ``make_converter(forbid_extra_keys=True)`` to catch fields a model forgot.

    ```python
    from scaleway_volumes import Volume, converter

    volume = converter.structure(payload["volume"], Volume)
    payload = converter.unstructure(volume)
    ```
    """
    conv = cattrs.Converter(forbid_extra_keys=forbid_extra_keys)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook_func(_is_tags, _structure_tags)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_unstructure_hook_func(_is_tags, list)
    # Prime the generated functions now so the first request pays nothing.
    for cls in (VolumeServer, Volume, _VolumeEnvelope, _VolumeList):
        conv.get_structure_hook(cls)
        conv.get_unstructure_hook(cls)
    return conv


converter = make_converter()

_structure_envelope = converter.get_structure_hook(_VolumeEnvelope)
_structure_list = converter.get_structure_hook(_VolumeList)


def _first_error(exc: Exception, root: str) -> tuple[str, str]:
    """(message, path) of the first problem cattrs found, e.g. ``$.volume.size``."""
    if isinstance(exc, (cattrs.BaseValidationError, TypeError, ValueError, KeyError)):
        for line in cattrs.transform_error(exc, path=root):
            message, sep, path = line.rpartition(" @ ")
            if sep:
                return message, path
            return line, root
    return str(exc), root


# Bound once: json.loads re-checks its arguments and sniffs the encoding per call.
_json_decode = json.JSONDecoder().decode


def _load(content: bytes, status_code: int | None) -> dict[str, Any]:
    try:
        data = _json_decode(content.decode("utf-8"))
    except ValueError as err:
        raise ResponseDecodeError(
            f"response body is not valid JSON ({err})", path="$", status_code=status_code
        ) from err
    if not isinstance(data, dict):
        raise ResponseDecodeError(
            f"expected a JSON object, got {type(data).__name__}", path="$", status_code=status_code
        )
    return data


def _structure(data: dict[str, Any], hook: Any, key: str, status_code: int | None) -> Any:
    if key not in data:
        raise ResponseDecodeError(
            f"expected the {key!r} envelope, got keys {sorted(data)[:5]}",
            path=f"$.{key}",
            status_code=status_code,
        )
    try:
        return hook(data, None)
    except Exception as err:
        message, path = _first_error(err, "$")
        raise ResponseDecodeError(message, path=path, status_code=status_code) from err


class _NotPlain(Exception):
    """The fast decoder met something it does not handle: let cattrs judge it."""


_intern = sys.intern


def _opt_str(value: Any, *, intern: bool = False) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise _NotPlain
    return _intern(value) if intern else value


def _fast_volume(data: Any) -> Volume:
    """``Volume`` from a well-formed dict, about three times faster than the converter.

    Semantics are the converter's: anything unusual raises ``_NotPlain`` and
    the caller re-runs the converter, which decides (and names the path of
    any error). Values that repeat across volumes (organization, project, type,
    state, zone) are interned, so a listing of thousands shares one copy each.
    """
    if type(data) is not dict:
        raise _NotPlain
    get = data.get
    volume_id, name, size, volume_type = get("id"), get("name"), get("size"), get("volume_type")
    if (
        type(volume_id) is not str
        or type(name) is not str
        or type(size) is not int
        or type(volume_type) is not str
    ):
        raise _NotPlain
    server = get("server")
    if server is not None:
        if type(server) is not dict or type(server.get("id")) is not str:
            raise _NotPlain
        server = VolumeServer(server["id"], _opt_str(server.get("name")))
    tags: Any = get("tags", ())
    if tags:
        if type(tags) is not list or any(type(tag) is not str for tag in tags):
            raise _NotPlain
        tags = visible_tags(tags)
    elif tags != [] and tags != ():
        raise _NotPlain
    else:
        tags = ()
    created_raw, modified_raw = get("creation_date"), get("modification_date")
    created = None if created_raw is None else _fast_date(created_raw)
    if modified_raw is None:
        modified = None
    elif modified_raw == created_raw:
        modified = created  # one object for the common "never modified" case
    else:
        modified = _fast_date(modified_raw)
    return Volume(
        volume_id,
        name,
        size,
        _intern(volume_type),
        _opt_str(get("organization"), intern=True),
        _opt_str(get("export_uri")),
        server,
        _opt_str(get("project"), intern=True),
        _opt_str(get("state"), intern=True),
        tags,
        _opt_str(get("zone"), intern=True),
        created,
        modified,
    )


def _fast_date(value: Any) -> datetime:
    if type(value) is not str:
        raise _NotPlain
    try:
        return parse_datetime(value)
    except ValueError:
        raise _NotPlain from None


def decode_volume(content: bytes, status_code: int | None = None) -> Volume:
    """Decode a ``{"volume": {...}}`` body, or raise ``ResponseDecodeError``."""
    return _volume_envelope(_load(content, status_code), status_code)


def _volume_envelope(data: dict[str, Any], status_code: int | None) -> Volume:
    try:
        return _fast_volume(data["volume"])
    except (_NotPlain, KeyError):
        pass
    envelope: _VolumeEnvelope = _structure(data, _structure_envelope, "volume", status_code)
    return envelope.volume


def decode_page(content: bytes, status_code: int | None = None) -> tuple[int, list[Volume]]:
    """(items on the page, the volumes) of a ``{"volumes": [...]}`` body."""
    volumes = decode_volumes(content, status_code)
    return len(volumes), volumes


class TagsNotShown(ScalewayError):
    """The API lists volumes without their tags: a create's marker cannot be checked."""


def find_marked(
    content: bytes, status_code: int | None, marker: str, name: str
) -> tuple[int, Volume | None]:
    """(items on the page, the volume whose raw tags hold ``marker``, if any).

    Reads the raw tags: ``Volume.tags`` hides markers, and the server's tag
    filter is not trusted alone (a server that ignores it must not make an
    older volume with the same name look like the one just created). Raises
    ``TagsNotShown`` when a volume of that name is listed without tags (the
    seed API): whether it is the new one cannot be known.
    """
    data = _load(content, status_code)
    items = data.get("volumes")
    if type(items) is list:
        for item in items:
            tags = item.get("tags") if type(item) is dict else None
            if type(tags) is list and marker in tags:
                return len(items), _volume_envelope({"volume": item}, status_code)
            if tags is None and type(item) is dict and item.get("name") == name:
                raise TagsNotShown(
                    f"the API lists {name!r} without tags, so whether the create landed "
                    "cannot be checked"
                )
        if all(type(item) is dict for item in items):
            return len(items), None
    # Not a well-formed page: let the full decoder say what is wrong.
    return decode_page(content, status_code)[0], None


def decode_volumes(content: bytes, status_code: int | None = None) -> list[Volume]:
    """Decode a ``{"volumes": [...]}`` body, or raise ``ResponseDecodeError``."""
    data = _load(content, status_code)
    items = data.get("volumes")
    if type(items) is list:
        try:
            return [_fast_volume(item) for item in items]
        except _NotPlain:
            pass
    page: _VolumeList = _structure(data, _structure_list, "volumes", status_code)
    return page.volumes
