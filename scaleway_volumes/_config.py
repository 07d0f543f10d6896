"""Configuration like the Scaleway tools: arguments, environment, config file, defaults.

``resolve_config()`` gives a frozen ``Config`` that says where each value came from;
``api_base_url()`` turns it into the URL an API's paths are appended to. Both are
pure apart from reading the config file. The rules are in ``docs/configuration.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import attrs
import httpx

from ._config_file import FILE_VARIABLES, load_config_file
from ._constants import (
    DEFAULT_API_URL,
    DEFAULT_PROFILE,
    DEFAULT_REGION,
    DEFAULT_ZONE,
    ENV_ACCESS_KEY,
    ENV_API_URL,
    ENV_ORGANIZATION,
    ENV_PROJECT,
    ENV_REGION,
    ENV_SECRET_KEY,
    ENV_ZONE,
    LEGACY_REGIONS,
    LEGACY_ZONE_URLS,
)
from ._redis_url import redact, scrub

__all__ = ["Config", "api_base_url", "mask_secret", "resolve_config"]

# The shapes the Go SDK checks (scaleway-sdk-go validation/is.go, widened from
# three letters by scaleway/scaleway-sdk-go#2748).
ZONE_PATTERN = re.compile(r"[a-z]{2}-[a-z]{3,7}-[0-9]{1,2}")
REGION_PATTERN = re.compile(r"[a-z]{2}-[a-z]{3,7}")
# Printable ASCII without spaces: anything else in a header is a mistake or an injection.
TOKEN_PATTERN = re.compile(r"[\x21-\x7e]+")

# field -> (argument of resolve_config or None, environment variable, config file key)
_LAYERS = {
    "secret_key": ("token", ENV_SECRET_KEY, "secret_key"),
    "access_key": (None, ENV_ACCESS_KEY, "access_key"),
    "api_url": ("api_url", ENV_API_URL, "api_url"),
    "zone": ("zone", ENV_ZONE, "default_zone"),
    "region": (None, ENV_REGION, "default_region"),
    "project": ("project", ENV_PROJECT, "default_project_id"),
    "organization": ("organization", ENV_ORGANIZATION, "default_organization_id"),
}
_APIS = ("instance", "block")
_NOT_SET = "-"


def mask_secret(secret: str) -> str:
    """``secret`` as it may be shown: at most its first 4 characters, then ``***``.

    Scaleway secret keys are 36 characters; anything shorter than 16 shows nothing.
    """
    return secret[:4] + "***" if len(secret) >= 16 else "***"


def _secret_repr(secret: str | None) -> str:
    return "None" if secret is None else repr(mask_secret(secret))


def _frozen(sources: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(sources))


@attrs.frozen(kw_only=True)
class Config:
    """The resolved configuration, and where each value came from.

    Build it with ``resolve_config()``. Its ``repr`` masks the secret key.

    ```python
    config = resolve_config(profile="prod")
    config.zone                   # 'nl-ams-1'
    config.sources["zone"]        # "profile 'prod' in /home/u/.config/scw/config.yaml"
    token = config.require_secret_key()
    ```

    Attributes:
        secret_key, access_key: the credentials (``secret_key`` is the token).
        api_url: the API root, without trailing slash (``https://api.scaleway.com``).
        zone, region: always set; each is derived from the other when only one is.
        project, organization: defaults for creates, or None.
        profile: the profile whose keys were read (``default`` is the file's top
            level), or None when no config file was read.
        config_path: the config file read, or None when it does not exist.
        searched_path: where the config file was looked for (None without a home).
        sources: field name -> where its value came from, e.g. ``argument``,
            ``environment SCW_SECRET_KEY``, ``profile 'prod' in <file>``, ``default``.
    """

    secret_key: str | None = attrs.field(default=None, repr=_secret_repr)
    access_key: str | None = None
    api_url: str = DEFAULT_API_URL
    zone: str = DEFAULT_ZONE
    region: str = DEFAULT_REGION
    project: str | None = None
    organization: str | None = None
    profile: str | None = None
    config_path: str | None = None
    searched_path: str | None = None
    sources: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen, hash=False)

    def require_secret_key(self) -> str:
        """The secret key, or ``ValueError`` saying every way to provide one."""
        if self.secret_key is not None:
            return self.secret_key
        message = f"no secret key: pass token=... or set the {ENV_SECRET_KEY} environment variable"
        if self.config_path is not None:
            message += f", or add secret_key to profile {self.profile!r} in {self.config_path}"
        elif self.searched_path is not None:
            message += f", or write one to {self.searched_path} (`scw init` does)"
        raise ValueError(message)

    def rows(self) -> list[tuple[str, str, str]]:
        """(field, value as it may be shown, source) for each field: a ``config`` table.

        The secret key is masked; a missing value shows as ``-``.
        """
        rows: list[tuple[str, str, str]] = []
        for name in (*_LAYERS, "profile", "config_path"):
            value = getattr(self, name)
            if name == "secret_key" and value is not None:
                value = mask_secret(value)
            source = self.sources.get(name, "not set")
            if name == "config_path" and value is None and self.searched_path is not None:
                source = f"{source}: {self.searched_path} does not exist"
            rows.append((name, _NOT_SET if value is None else value, source))
        return rows


def resolve_config(
    *,
    token: str | None = None,
    zone: str | None = None,
    organization: str | None = None,
    project: str | None = None,
    api_url: str | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve the configuration as the Scaleway tools do, highest first: arguments,
    the environment, the chosen profile of the config file, built-in defaults.

    The environment is ``SCW_SECRET_KEY``, ``SCW_ACCESS_KEY``, ``SCW_API_URL``,
    ``SCW_DEFAULT_ZONE``, ``SCW_DEFAULT_REGION``, ``SCW_DEFAULT_PROJECT_ID``,
    ``SCW_DEFAULT_ORGANIZATION_ID``; ``SCW_PROFILE`` and ``SCW_CONFIG_PATH`` choose
    the profile and the file. Empty strings count as unset everywhere. With no zone
    anywhere, a region gives ``<region>-1``; with no region, the zone gives it.

    ```python
    config = resolve_config(zone="nl-ams-1", environ={"SCW_SECRET_KEY": key})
    api_base_url(config, "block")   # 'https://api.scaleway.com/block/v1/zones/nl-ams-1'
    ```

    Args:
        token: the secret key. Not required here: ``Config.require_secret_key()``
            raises when there is none.
        zone, organization, project, api_url: override every other source.
        profile: the config file profile (over ``$SCW_PROFILE`` and ``active_profile``).
        environ: the environment to read (default ``os.environ``).

    Raises:
        TypeError: ``environ`` is not a mapping, or an argument or a variable of
            ``environ`` that is read is neither a string nor None.
        ValueError: a malformed config file or unknown profile (naming the file and
            profile), or a value that is not a zone, region, URL or token, naming
            where it came from. No message contains the secret key.
    """
    environ = os.environ if environ is None else environ
    _check_environ(environ)
    arguments = {
        "token": token,
        "zone": zone,
        "organization": organization,
        "project": project,
        "api_url": api_url,
        "profile": profile,
    }
    for name, value in arguments.items():
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    layer = load_config_file(environ, profile or None)

    values: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for field, (argument, variable, key) in _LAYERS.items():
        if argument is not None and arguments[argument]:
            values[field], sources[field] = arguments[argument], "argument"
        elif environ.get(variable):
            values[field], sources[field] = environ[variable], f"environment {variable}"
        elif key in layer.values:
            values[field], sources[field] = layer.values[key]
        else:
            values[field] = None

    secret_key = values["secret_key"]
    if secret_key is not None and not TOKEN_PATTERN.fullmatch(secret_key):
        raise ValueError(
            f"{_origin('secret key', 'token', sources['secret_key'])} must be printable "
            "ASCII without spaces"
        )
    root = values["api_url"]
    if root is None:
        root, sources["api_url"] = DEFAULT_API_URL, "default"
    else:
        root = _check_http_url(_origin("api_url", "api_url", sources["api_url"]), root)
    resolved_zone, region = _zone_and_region(values["zone"], values["region"], sources)

    if layer.profile is not None and layer.profile_source is not None:
        sources["profile"] = layer.profile_source
    sources["config_path"] = layer.path_source
    return Config(
        secret_key=secret_key,
        access_key=values["access_key"],
        api_url=root,
        zone=resolved_zone,
        region=region,
        project=values["project"],
        organization=values["organization"],
        profile=layer.profile,
        config_path=layer.path,
        searched_path=layer.searched_path,
        sources=sources,
    )


def api_base_url(
    config: Config, api: Literal["instance", "block"], base_url: str | None = None
) -> str:
    """The URL every path of ``api`` is appended to, without trailing slash.

    ``base_url`` wins when given (an http(s) URL with a host, no query or fragment;
    a path prefix is kept). Otherwise ``{api_url}/instance/v1/zones/{zone}`` or
    ``{api_url}/block/v1/zones/{zone}``. The legacy zones ``par1``/``ams1`` reach the
    seed API at ``https://cp-par1.scaleway.com``/``https://cp-ams1.scaleway.com`` for
    ``instance``; Block Storage has no legacy zones (``ValueError``). Any
    zone-shaped zone is accepted, so a zone opened tomorrow works today.

    ```python
    api_base_url(config, "instance")                 # '.../instance/v1/zones/fr-par-1'
    api_base_url(config, "block", "http://127.0.0.1:8080/p/")   # 'http://127.0.0.1:8080/p'
    ```
    """
    if api not in _APIS:
        raise ValueError(f"api must be one of {_APIS}, got {api!r}")
    if base_url is not None:
        if not isinstance(base_url, str):
            raise TypeError(f"base_url must be a string, got {type(base_url).__name__}")
        return _check_http_url("base_url", base_url)
    zone = config.zone
    if zone in LEGACY_ZONE_URLS:
        if api == "block":
            source = config.sources.get("zone", "argument")
            where = "argument zone" if source == "argument" else source
            raise ValueError(
                f"Block Storage has no legacy zone {zone!r} (from {where}): use a zone such "
                "as 'fr-par-1', 'nl-ams-1' or 'pl-waw-1'"
            )
        return LEGACY_ZONE_URLS[zone]
    _check_zone(zone, "config.zone")
    return f"{config.api_url}/{api}/v1/zones/{zone}"


def _check_environ(environ: Mapping[str, str]) -> None:
    # ``os.environ`` holds only strings, but a mapping passed as ``environ=`` may
    # hold anything, and each kind failed its own way deep inside: an int
    # SCW_CONFIG_PATH is a file descriptor to ``open()`` (reading, then closing,
    # whatever the process has open there), an int project id reached the requests.
    # None counts as unset, as an empty string does.
    if not isinstance(environ, Mapping):
        raise TypeError(
            f"environ must be a mapping of variable names to values, got {type(environ).__name__}"
        )
    for variable in (*(layer[1] for layer in _LAYERS.values()), *FILE_VARIABLES):
        value = environ.get(variable)
        if value is not None and not isinstance(value, str):
            raise TypeError(
                f"environ[{variable!r}] must be a string (or absent), got {type(value).__name__}"
            )


def _origin(label: str, argument: str, source: str) -> str:
    """How an error names a value: the argument itself, or the label and its source."""
    return argument if source == "argument" else f"{label} from {source}"


def _check_zone(zone: str, where: str) -> None:
    if zone not in LEGACY_ZONE_URLS and not ZONE_PATTERN.fullmatch(zone):
        raise ValueError(
            f"unknown zone {zone!r} (from {where}): expected a zone such as 'fr-par-1', "
            f"'nl-ams-1', 'pl-waw-1', or a legacy zone {sorted(LEGACY_ZONE_URLS)}"
        )


def _rank(source: str) -> int:
    """How strongly a value's source binds: an argument, then a variable, then a
    named profile, then the file's top level (lower binds more)."""
    if source == "argument":
        return 0
    if source.startswith("environment"):
        return 1
    return 3 if source.startswith(f"profile {DEFAULT_PROFILE!r}") else 2


def _zone_and_region(
    zone: str | None, region: str | None, sources: dict[str, str]
) -> tuple[str, str]:
    """Zone and region as one pair: each derived from the other when only one is set,
    or when the other comes from a weaker source and names another region (``scw
    init`` writes both at the top of the file: a ``SCW_DEFAULT_REGION``, a
    profile's zone or a ``zone=`` argument must not be paired with the other).
    Two of one strength that disagree are a ``ValueError`` naming both."""
    if region is not None:
        region = LEGACY_REGIONS.get(region, region)
        if not REGION_PATTERN.fullmatch(region):
            raise ValueError(
                f"unknown region {region!r} (from {sources['region']}): expected a region "
                "such as 'fr-par', 'nl-ams' or 'pl-waw'"
            )
    if zone is not None and region is not None:
        where = sources["zone"]
        _check_zone(zone, "argument zone" if where == "argument" else where)
        zone_rank, region_rank = _rank(where), _rank(sources["region"])
        if _region_of(zone) != region:
            if zone_rank == region_rank:
                raise ValueError(
                    f"zone {zone!r} (from {where}) is not in region {region!r} "
                    f"(from {sources['region']}): set one, or both alike"
                )
            if region_rank < zone_rank:
                zone = None  # the region's own zone, below
            else:
                region = None  # the zone's own region, below
    if zone is None:
        if region is not None:
            zone, sources["zone"] = f"{region}-1", f"derived from region ({sources['region']})"
        else:
            zone, sources["zone"] = DEFAULT_ZONE, "default"
    else:
        where = sources["zone"]
        _check_zone(zone, "argument zone" if where == "argument" else where)
    if region is None:
        region = _region_of(zone)
        sources["region"] = f"derived from zone ({sources['zone']})"
    return zone, region


def _region_of(zone: str) -> str:
    # As `scw` guesses it: a zone is its region plus "-<n>". The legacy zones have
    # the legacy region names.
    return LEGACY_REGIONS.get(zone) or zone.rsplit("-", 1)[0]


def _check_http_url(origin: str, url: str) -> str:
    """``url`` without trailing slash, or ``ValueError`` unless it is a plain http(s) URL."""
    # Every message shows the URL with its password masked: the checks that
    # refuse a user:password@ come after these.
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as err:
        if not isinstance(url, str):
            raise ValueError(f"invalid {origin} {url!r}: {err}") from err
        # Not chained: httpx's text may quote the password.
        raise ValueError(f"invalid {origin} {redact(url)!r}: {scrub(str(err), url)}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{origin} must be an http(s) URL with a host, got {redact(url)!r}")
    if parsed.userinfo:
        # Never quoted: it holds a password. And never used: requests authenticate
        # with the token, so a user:password@ would only end up in logs and repr().
        raise ValueError(f"{origin} must not hold credentials (user:password@)")
    if parsed.query or parsed.fragment:
        raise ValueError(f"{origin} must not have a query or fragment, got {redact(url)!r}")
    return str(parsed).rstrip("/")
