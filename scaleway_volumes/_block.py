"""``AsyncBlockAPI``: Scaleway Block Storage (SBS) v1, the persistent network volumes.

The operations live in one module per resource (``_block_volumes``,
``_block_snapshots``, ``_block_bulk``); this module puts them together, adds
the volume types, and builds the Block API that shares an Instance API's pool.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from ._api import BaseAPI
from ._block_bulk import BlockBulk
from ._block_common import PAGE_SIZE_PARAM
from ._block_models import BlockVolumeType
from ._block_snapshots import BlockSnapshots
from ._config import api_base_url
from ._constants import MAX_PER_PAGE
from ._decode_block import decode_volume_type_page
from ._listing import pages

__all__ = ["CACHE_ATTRIBUTE", "AsyncBlockAPI", "block_url_for"]

# Where ``AsyncVolumeAPI.block`` keeps its Block API (never copied to the Block API).
CACHE_ATTRIBUTE = "_block_api"

_INSTANCE_PATH = "/instance/v1/"
_BLOCK_PATH = "/block/v1/"
_TYPES = "/volume-types"


class AsyncBlockAPI(BlockBulk, BlockSnapshots):
    """Async client for Block Storage volumes and snapshots (``sbs_5k``, ``sbs_15k``).

    Since 2025 the Instance API creates only local volumes (``l_ssd``,
    ``scratch``); persistent network volumes are Block Storage volumes, served
    at ``https://api.scaleway.com/block/v1/zones/{zone}``. Same constructor,
    lifecycle and guarantees as ``AsyncVolumeAPI`` (one pooled client, retries
    that never duplicate a create, a deadline per call, a rate limiter that
    paces every request), plus waiters. ``AsyncVolumeAPI(...).block`` is one
    that shares the Instance API's pool and limiter.

    ```python
    async with AsyncBlockAPI(zone="fr-par-1") as api:   # token from SCW_SECRET_KEY
        volume = await api.create_volume(name="db", size=50 * 10**9, perf_iops=5000)
        volume = await api.wait_for_volume(volume)        # "available"
        snapshot = await api.wait_for_snapshot(await api.create_snapshot(volume, name="s1"))
    ```

    Args:
        token, zone, organization, project, client, max_connections, timeout,
            retry, user_agent, deadline, rate_limiter, profile, create_marker,
            environ:
            as for ``AsyncVolumeAPI``. A create needs a project: ``project=``
            of the call, else this ``project``, else this ``organization``
            (its default project has the same id).
        base_url: overrides ``zone``; defaults to the zone's Block API URL.
    """

    _API: ClassVar[Literal["instance", "block"]] = "block"

    async def list_volume_types(self) -> list[BlockVolumeType]:
        """The volume types the zone offers (``sbs_5k``, ``sbs_15k``...), with prices and IOPS.

        All pages are fetched; the API's ``deadline`` bounds the whole call.

        ```python
        for kind in await api.list_volume_types():
            print(kind.type, kind.specs.perf_iops if kind.specs else None)
        ```
        """
        return await self._gather_pages(
            _TYPES,
            lambda pipeline: pages(
                pipeline,
                _TYPES,
                (),
                MAX_PER_PAGE,
                lambda reply: decode_volume_type_page(reply.content, reply.status_code),
                page_size_param=PAGE_SIZE_PARAM,
                key=lambda kind: kind.type,  # a volume type has no id
            ),
        )


def block_url_for(api: BaseAPI) -> str:
    """The Block API URL that goes with an API's base URL.

    The zone's Block URL under the same ``api_url`` when ``api`` uses its
    zone's default URL; for a ``base_url`` given explicitly, the same URL with
    ``/instance/v1/`` replaced by ``/block/v1/``. Anything else is a
    ``ValueError``: build ``AsyncBlockAPI(base_url=...)`` yourself.
    """
    base_url = api.base_url
    if base_url == api_base_url(api.config, "instance"):
        return api_base_url(api.config, "block")  # ValueError for a legacy zone
    # In the path only: a host named ``instance`` (``http://instance/v1/...``)
    # must not become ``block``, which would send the token elsewhere.
    parts = urlsplit(base_url)
    with_slash = parts.path + "/"
    if _BLOCK_PATH in with_slash:
        return base_url
    if _INSTANCE_PATH in with_slash:
        path = with_slash.replace(_INSTANCE_PATH, _BLOCK_PATH, 1).rstrip("/")
        return urlunsplit(parts._replace(path=path))
    raise ValueError(
        f"cannot tell the Block Storage URL that goes with base_url {base_url!r} (it has no "
        f"{_INSTANCE_PATH!r} to replace): build AsyncBlockAPI(base_url=...) with the Block URL "
        "and the same client= to share the pool"
    )
