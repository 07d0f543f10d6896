"""Resource ids given as a UUID string or as the model that carries one.

Every method that takes an id or a model gets the id here (``check_id``), so
this is the one place that refuses what would send a request about another
resource: a string that would change the request path, or a model of another
zone, whose id means nothing in this API's zone (its 404 there would pass for
"deleted", a delete with ``missing_ok`` for done).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from ._constants import LEGACY_REGIONS, LEGACY_ZONE_URLS

__all__ = ["UUID_PATTERN", "Located", "check_id", "zone_of"]

# The canonical 8-4-4-4-12 form only: anything else ("../servers", "a/b", "")
# would change the request path. Either case is accepted, and sent lower-case.
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")

_ZONE_IN_PATH = re.compile(r"/zones/([^/]+)")
_LEGACY_ZONE_OF_URL = {url: zone for zone, url in LEGACY_ZONE_URLS.items()}


class Located(Protocol):
    """An API object: where its requests go."""

    @property
    def base_url(self) -> str: ...


@functools.lru_cache(maxsize=64)
def _zone_of_url(base_url: str) -> str | None:
    legacy = _LEGACY_ZONE_OF_URL.get(base_url.rstrip("/"))
    if legacy is not None:
        return legacy
    match = _ZONE_IN_PATH.search(urlsplit(base_url).path)
    return unquote(match.group(1)) if match else None


def zone_of(api: Located) -> str | None:
    """The zone ``api``'s requests reach, as its ``base_url`` names it; None if it names none.

    A ``base_url`` built from the configuration always names its zone
    (``.../zones/fr-par-1``, or a seed API host: its legacy zone), and one given
    explicitly overrides ``zone`` (``.../zones/nl-ams-1`` reaches nl-ams-1
    whatever ``zone`` says). One that names no zone (a proxy that rewrites
    paths) may reach any zone: the configured ``zone`` tells nothing there.
    """
    return _zone_of_url(api.base_url)


def _canonical(zone: str) -> str:
    # The seed API's zones are the first zones of their regions: a volume of
    # ``fr-par-1`` is one of ``par1`` too.
    zone = zone.lower()
    region = LEGACY_REGIONS.get(zone)
    return f"{region}-1" if region is not None else zone


def _check_zone(model: Any, argument: str, zone: str) -> None:
    """``ValueError`` when ``model`` says it lives in another zone than ``zone``."""
    where = getattr(model, "zone", None)
    if not isinstance(where, str) or not where or _canonical(where) == _canonical(zone):
        return  # a model that names no zone (the seed API's, one built by hand) is taken
    raise ValueError(
        f"{argument}: {type(model).__name__} {model.id} is in zone {where!r}, but this API "
        f"works in zone {zone!r}, where that id names nothing; use an API built with "
        f"zone={where!r} for it (the same client= shares the connection pool)"
    )


def check_id(value: object, argument: str, *models: type[Any], zone: str | None = None) -> str:
    """The id in ``value``, lower-case: a UUID string, or one of ``models`` (its ``.id``).

    Scaleway's ids are lower-case UUIDs: an upper-case one is accepted and
    sent lower-case (the API would not find it as given). Raises
    ``ValueError`` naming ``argument`` for anything else, and, given the
    ``zone`` the API works in, for a model whose ``zone`` names another one,
    before any request is made.

    ```python
    check_id(volume, "volume_id", BlockVolume, zone="fr-par-1")  # volume.id
    check_id("F929FE39-63F8-4BE8-A80E-1E9C8AE22A76", "volume_id")  # "f929fe39-..."
    check_id("not-a-uuid", "snapshot_id", BlockSnapshot)  # ValueError
    ```
    """
    if models and isinstance(value, models):
        if zone is not None:
            _check_zone(value, argument, zone)
        value = value.id
    if isinstance(value, str) and UUID_PATTERN.fullmatch(value):
        return value.lower()
    accepted = " or ".join(["a UUID string", *(f"a {m.__name__}" for m in models)])
    raise ValueError(f"{argument} must be {accepted}, got {value!r}")
