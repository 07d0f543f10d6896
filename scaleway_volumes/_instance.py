"""``AsyncVolumeAPI``: Instance API volumes (local ``l_ssd``/``scratch``, and the seed API)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ClassVar, Literal, overload

from ._block import CACHE_ATTRIBUTE, AsyncBlockAPI, block_url_for
from ._bulk import (
    THROTTLE_BUDGET,
    BulkResult,
    ItemCallback,
    Prepared,
    ProgressCallback,
    run_bulk,
)
from ._bulk_args import check_items
from ._constants import DEFAULT_CONCURRENCY
from ._convert import decode_volume, find_marked_page
from ._create import create_once, marker_lookup, settle_cancelled_create
from ._deletes import bulk_deleter, delete_resource
from ._errors import ScalewayError
from ._ids import check_id, zone_of
from ._instance_listing import InstanceListing
from ._json import dumps
from ._models import Volume, VolumeSpec
from ._pipeline import Attempts
from ._states import INSTANCE_VOLUME_STATES, INSTANCE_VOLUME_TRANSIENT, InstanceVolumeWaitState
from ._transport import Reply
from ._validate import check_name, check_optional_str, check_size, check_str, check_tags
from ._waiters import poll_get, wait_for

__all__ = ["AsyncVolumeAPI"]

_COLLECTION = "/volumes"


def _decode(reply: Reply) -> Volume:
    return decode_volume(reply.content, reply.status_code)


def _state(volume: Volume) -> str:
    # The seed API reports no state: its volumes are usable once created.
    return volume.state or "available"


class AsyncVolumeAPI(InstanceListing):
    """Async client for Instance API volumes over one pooled ``httpx.AsyncClient``.

    Every method is a coroutine that never blocks the event loop; all share one
    connection pool, so hundreds of concurrent calls reuse a bounded set of
    connections. Works under asyncio and trio, from one event loop at a time
    (successive loops are fine: each gets its own pool).

    ```python
    async with AsyncVolumeAPI() as api:          # token from SCW_SECRET_KEY
        volume = await api.create_volume(name="scratch", size=20 * 10**9)
        async for v in api.iter_volumes(name="scratch"):
            print(v.id, v.size)
        await api.delete_volume(volume)
    ```

    Args:
        token: the secret key; default ``$SCW_SECRET_KEY``. ``ValueError`` if neither.
        zone: default ``$SCW_DEFAULT_ZONE``, else ``fr-par-1``. The legacy zones
            ``par1``/``ams1`` talk to the seed API at ``cp-<zone>.scaleway.com``.
        base_url: overrides ``zone``; paths are appended to it, prefix kept.
        organization, project: defaults for create (``$SCW_DEFAULT_ORGANIZATION_ID``,
            ``$SCW_DEFAULT_PROJECT_ID``). The seed API knows no projects: there
            the organization alone is sent (``ValueError`` without one).
        client: an ``httpx.AsyncClient`` (or ``httpx2.AsyncClient``) to share; it
            is used, never closed, and its redirect, auth and default-header
            settings are not applied to our requests (the token must not follow
            a redirect elsewhere). Every request goes through its ``send()``.
        max_connections: bound of the owned pool (ignored with ``client``).
        timeout: seconds, or an ``httpx.Timeout`` or ``httpx2.Timeout`` (default connect
            5 s, read 30 s).
        retry: a ``RetryPolicy`` (default: 3 retries).
        user_agent: appended to ``scaleway-volumes/<version>`` in ``User-Agent``.
        deadline: seconds one whole call may take, retries included (default
            120; ``None`` for no limit): a ``list_*`` call with all its pages,
            each page of an ``iter_*`` loop. Expiry raises ``APITimeoutError``.
        rate_limiter: paces every request of this API and its copies.
        profile: the profile of the ``scw`` config file to read (default
            ``$SCW_PROFILE``, else the file's ``active_profile``); see
            ``docs/configuration.md`` for where every value comes from.
        create_marker: put the marker tag ``scaleway-volumes:create=<hex>`` on
            every create (default) so an ambiguous failure can be checked and
            never duplicates. With ``False`` no tag is added, and a create that
            fails ambiguously ends as an error with ``outcome_unknown=True``
            instead of being checked (see docs/marker-tag.md).
        environ: the environment to read the ``SCW_*`` variables and the config
            file's location from (default ``os.environ``). ``{}`` reads neither
            a variable nor a file: the arguments and the built-in defaults
            alone, as a test or an offline tool wants whatever the machine has
            set up (``AsyncVolumeAPI(FAKE_TOKEN, base_url=url, environ={})``).
    """

    _API: ClassVar[Literal["instance", "block"]] = "instance"

    @property
    def block(self) -> AsyncBlockAPI:
        """Block Storage (persistent ``sbs_5k``/``sbs_15k`` volumes) with this configuration.

        The same options, connection pool (or shared client) and rate limiter;
        the same object each time (a ``with_options`` copy has its own). Its
        URL is the zone's Block API, or ``base_url`` with ``/instance/v1/`` made
        ``/block/v1/`` (``ValueError`` if absent). See ``AsyncBlockAPI``.
        """
        cached: tuple[object, AsyncBlockAPI] | None = self.__dict__.get(CACHE_ATTRIBUTE)
        if cached is None or cached[0] is not self._pipeline:
            cached = (self._pipeline, self._sibling(AsyncBlockAPI, block_url_for(self)))
            setattr(self, CACHE_ATTRIBUTE, cached)
        return cached[1]

    # -- single-volume operations ----------------------------------------------

    def _volume_path(self, volume_id: str | Volume) -> str:
        """``/volumes/<id>``; a ``Volume`` of another zone than this API's is refused
        (the seed API's zones ``par1``/``ams1`` are ``fr-par-1``/``nl-ams-1``)."""
        return f"{_COLLECTION}/{check_id(volume_id, 'volume_id', Volume, zone=zone_of(self))}"

    async def get_volume(self, volume_id: str | Volume) -> Volume:
        """Fetch one volume by id (or refresh a ``Volume``).

        Raises ``NotFoundError`` if it does not exist.
        """
        return _decode(await self._pipeline.call("GET", self._volume_path(volume_id)))

    async def create_volume(
        self,
        *,
        name: str,
        size: int,
        volume_type: str = "l_ssd",
        organization: str | None = None,
        project: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> Volume:
        """Create a volume of ``size`` bytes and return it as the API made it.

        Never creates two volumes for one call: every create carries one extra
        tag, ``scaleway-volumes:create=<random>``, and after a failure that may
        have created the volume (a dropped connection, a 500/502, a read
        timeout) the library looks that tag up before anything else. It
        returns the volume if it exists and resends only if it does not; a
        volume that merely shares the name is never taken for ours. When the
        outcome cannot be known (a timeout: the create may still land later),
        it raises ``APITimeoutError`` with ``outcome_unknown=True`` and
        ``marker_tag`` instead of resending.

        The zoned API takes one of project or organization, resolved as the
        official SDK does: the explicit ``project``, else the explicit
        ``organization``, else the default project, else the default
        organization. The seed API (zones ``par1``/``ams1``) has no
        projects: it gets the organization (explicit, else the default) and
        no project, and without one it is a ``ValueError`` before any request.
        ``volume_type`` must be a string: leave it out for ``l_ssd``.

        ```python
        volume = await api.create_volume(name="scratch", size=50 * 10**9, tags=["ci"])
        ```
        """
        marker = self._new_marker()
        body = self._create_body(name, size, volume_type, organization, project, tags, marker)
        return await self._post_create(body, name, marker, Attempts(), 0)

    def _create_body(
        self,
        name: str,
        size: int,
        volume_type: str,
        organization: str | None,
        project: str | None,
        tags: Iterable[str] | None,
        marker: str | None,
    ) -> bytes:
        payload: dict[str, Any] = {"name": check_name(name)}
        organization = check_optional_str("organization", organization)
        project = check_optional_str("project", project)
        if self._seed_api():
            # The seed API requires organization and has no project field.
            organization = organization or self.organization
            if organization is None:
                raise ValueError(
                    f"creating a volume on the seed API ({self.base_url}) needs an "
                    "organization (it has no projects): pass organization=, or set "
                    "SCW_DEFAULT_ORGANIZATION_ID or the profile's default_organization_id"
                )
            payload["organization"] = organization
        # The zoned API takes one of project or organization: an explicit
        # project, else an explicit organization, then the default project, then
        # the default organization (the official SDK's ``resolve_one_of`` order).
        elif project is not None:
            payload["project"] = project
        elif organization is not None:
            payload["organization"] = organization
        elif self.project is not None:
            payload["project"] = self.project
        elif self.organization is not None:
            payload["organization"] = self.organization
        payload["size"] = check_size(size)
        # A str with a default: None is refused, not sent as null or left out
        # (the seed API requires the field).
        payload["volume_type"] = check_str("volume_type", volume_type)
        tag_list = check_tags(tags) or []
        if marker is not None:
            tag_list.append(marker)
        if tag_list:
            payload["tags"] = tag_list
        return dumps(payload)

    def _lookup(
        self, name: str, marker: str | None, throttle_budget: int = 0
    ) -> Callable[[], Awaitable[Volume | None]] | None:
        """How to find the volume a create of ``name`` carrying ``marker`` made
        (``throttle_budget``: a bulk create's, for its bare 429s)."""
        return marker_lookup(
            self._pipeline,
            _COLLECTION,
            [("name", name)],
            marker,
            lambda reply, tag: find_marked_page(reply.content, reply.status_code, tag, name),
            throttle_budget=throttle_budget,
        )

    def _post_create(
        self, body: bytes, name: str, marker: str | None, attempts: Attempts, throttle_budget: int
    ) -> Awaitable[Volume]:
        return create_once(
            self._pipeline,
            _COLLECTION,
            body,
            what=f"volume {name!r}",
            marker=marker,
            lookup=self._lookup(name, marker, throttle_budget),
            decode=_decode,
            attempts=attempts,
            throttle_budget=throttle_budget,
        )

    async def update_volume(
        self,
        volume_id: str | Volume,
        *,
        name: str | None = None,
        size: int | None = None,
        tags: Iterable[str] | None = None,
    ) -> Volume:
        """Rename, retag or grow a volume (``PATCH``); only the given fields change.

        ``tags`` replaces the whole list. Whether a size is allowed is the API's
        to judge (only ``b_ssd`` volumes grow, and never shrink; a server's local
        ``l_ssd`` or ``scratch`` disk keeps its size): a refusal is an
        ``InvalidRequestError``.

        ```python
        volume = await api.update_volume(volume, name="db-old", tags=["archived"])
        ```
        """
        path = self._volume_path(volume_id)
        payload: dict[str, Any] = {}
        if name is not None:
            payload["name"] = check_name(name)
        if size is not None:
            payload["size"] = check_size(size)
        if tags is not None:
            payload["tags"] = check_tags(tags)
        if not payload:
            raise ValueError("update_volume needs at least one of name, size or tags")
        return _decode(await self._pipeline.call("PATCH", path, body=dumps(payload)))

    async def delete_volume(self, volume_id: str | Volume, *, missing_ok: bool = False) -> None:
        """Delete a volume.

        ``NotFoundError`` if it does not exist, unless ``missing_ok``. A retry
        that meets 404 after an attempt that may have gone through counts as
        success: that attempt deleted it.
        """
        await delete_resource(self._pipeline, self._volume_path(volume_id), missing_ok=missing_ok)

    # "deleted" gives None, another known state the model; any other str (a
    # variable that may hold "deleted") or a collection may give either.
    @overload
    async def wait_for_volume(
        self, volume_id: str | Volume, *, until: Literal["deleted"], timeout: float = ...
    ) -> None: ...
    @overload
    async def wait_for_volume(
        self,
        volume_id: str | Volume,
        *,
        until: InstanceVolumeWaitState | None = None,
        timeout: float = ...,
    ) -> Volume: ...
    @overload
    async def wait_for_volume(
        self, volume_id: str | Volume, *, until: str | Iterable[str], timeout: float = ...
    ) -> Volume | None: ...
    async def wait_for_volume(
        self,
        volume_id: str | Volume,
        *,
        until: str | Iterable[str] | None = None,
        timeout: float = 300.0,
    ) -> Volume | None:
        """Poll a volume until it settles (or reaches ``until``) and return it.

        As ``AsyncBlockAPI.wait_for_volume``, with the Instance API's transient
        states (``snapshotting``, ``fetching``, ``saving``, ``attaching``,
        ``resizing``, ``hotsyncing``); ``until`` may also name ``available``,
        ``error`` and ``deleted`` (a 404). A volume with no state (the seed
        API) counts as ``available``.

        ```python
        volume = await api.wait_for_volume(volume, until="available", timeout=60)
        ```
        """
        path = self._volume_path(volume_id)

        async def fetch() -> Volume:
            return _decode(await poll_get(self._pipeline, path))

        return await wait_for(
            fetch,
            _state,
            resource_id=path.rpartition("/")[2],
            kind="volume",
            until=until,
            limit=timeout,
            transient=INSTANCE_VOLUME_TRANSIENT,
            states=INSTANCE_VOLUME_STATES,
            given=volume_id,
        )

    # -- bulk ------------------------------------------------------------------

    async def create_volumes(
        self,
        specs: Iterable[VolumeSpec],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback[VolumeSpec, Volume] | None = None,
    ) -> BulkResult[VolumeSpec, Volume]:
        """Create many volumes, ``concurrency`` requests at a time at most.

        ``specs`` may be a lazy iterable; memory stays proportional to
        ``concurrency`` plus the results. Every spec runs even when others fail;
        the ``BulkResult`` keeps input order. A bare 429 is flow control here:
        the item is resent at the rate limiter's pace instead of burning its
        retries. ``on_progress(done, total)`` counts each item that ended (made
        or failed; ``total`` is ``None`` for inputs without a length); items a
        cancellation settled go to ``on_item`` only.

        ```python
        specs = [VolumeSpec(name=f"scratch-{i}", size=10**10) for i in range(200)]
        result = await api.create_volumes(specs, concurrency=32)
        result.raise_for_errors()
        ```
        """
        check_items(specs, "specs", "VolumeSpec items")

        def prepare(spec: VolumeSpec) -> Prepared:
            if not isinstance(spec, VolumeSpec):
                raise TypeError(f"create_volumes takes VolumeSpec items, got {type(spec).__name__}")
            marker = self._new_marker()
            body = self._create_body(
                spec.name,
                spec.size,
                spec.volume_type,
                spec.organization,
                spec.project,
                spec.tags,
                marker,
            )
            attempts = Attempts()

            async def settle() -> Volume | ScalewayError:
                # Cancelled in flight: the create may have landed.
                lookup = self._lookup(spec.name, marker, THROTTLE_BUDGET)
                return await settle_cancelled_create(f"volume {spec.name!r}", marker, lookup)

            job = self._post_create(body, spec.name, marker, attempts, THROTTLE_BUDGET)
            return job, settle, attempts

        return await run_bulk(
            prepare, specs, concurrency=concurrency, on_progress=on_progress, on_item=on_item
        )

    async def delete_volumes(
        self,
        volumes: Iterable[str | Volume],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        missing_ok: bool = True,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback[str | Volume, str] | None = None,
    ) -> BulkResult[str | Volume, str]:
        """Delete many volumes (ids or ``Volume``s), ``concurrency`` at a time at most.

        ``.succeeded`` lists the deleted ids in input order; a volume already
        gone counts as deleted unless ``missing_ok=False``. Even then, a volume
        this call deleted counts as deleted for every item that names it (an id
        given twice) and for an item whose retried DELETE finds it gone.
        Cancelled with ``missing_ok=False``, an item whose volume is found gone
        is an error with ``outcome_unknown``: the 404 cannot tell whether this
        call deleted it.

        ```python
        doomed = await api.list_volumes(name="scratch-")
        result = await api.delete_volumes(doomed, concurrency=32)
        ```
        """
        check_items(volumes, "volumes", "volume ids or Volumes")
        prepare = bulk_deleter(
            self._pipeline, self._volume_path, missing_ok=missing_ok, decode=_decode
        )
        return await run_bulk(
            prepare, volumes, concurrency=concurrency, on_progress=on_progress, on_item=on_item
        )
