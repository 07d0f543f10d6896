"""Block Storage volumes: create, get, update, list, delete, wait (a part of ``AsyncBlockAPI``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any, Literal, overload

from . import _block_common as common
from ._api import BaseAPI
from ._block_models import BlockSnapshot, BlockVolume
from ._constants import DEFAULT_PER_PAGE, MAX_PER_PAGE
from ._create import create_once, marker_lookup
from ._decode_block import decode_block_volume, decode_block_volume_page, find_marked_volume
from ._decoding import MarkedPage
from ._deletes import delete_resource
from ._ids import check_id, zone_of
from ._listing import items, pages
from ._pipeline import Attempts, Pipeline
from ._states import BLOCK_VOLUME_STATES, BLOCK_VOLUME_TRANSIENT, BlockVolumeWaitState
from ._transport import Reply
from ._validate import check_name, check_per_page, check_size, check_tags
from ._waiters import poll_get, wait_for

__all__ = ["BlockVolumes", "check_perf_iops", "volume_path"]

COLLECTION = "/volumes"


def _find_marked(reply: Reply, tag: str) -> MarkedPage[BlockVolume]:
    return find_marked_volume(reply.content, reply.status_code, tag)


def volume_path(volume_id: str | BlockVolume, zone: str | None = None) -> str:
    """``/volumes/<id>`` of a UUID or a ``BlockVolume`` (``ValueError`` for anything else).

    Given the API's ``zone``, a ``BlockVolume`` of another zone is a ``ValueError`` too.
    """
    return f"{COLLECTION}/{check_id(volume_id, 'volume_id', BlockVolume, zone=zone)}"


def check_perf_iops(perf_iops: object) -> int:
    """A positive int (which values exist, 5000 or 15000 today, is the API's to judge)."""
    if type(perf_iops) is not int:
        raise TypeError(f"perf_iops must be an int, got {type(perf_iops).__name__}")
    if perf_iops <= 0:
        raise ValueError(f"perf_iops must be positive, got {perf_iops}")
    return perf_iops


def decode_volume(reply: Reply) -> BlockVolume:
    """The ``BlockVolume`` of a get, create or update answer."""
    return decode_block_volume(reply.content, reply.status_code)


def decode_volume_page(reply: Reply) -> tuple[list[BlockVolume], int | None]:
    """(volumes, ``total_count``) of a list answer."""
    return decode_block_volume_page(reply.content, reply.status_code)


class BlockVolumes(BaseAPI):
    """The volume operations of ``AsyncBlockAPI`` (see there for the constructor)."""

    def _volume_path(self, volume_id: str | BlockVolume) -> str:
        """``volume_path`` in this API's zone: a ``BlockVolume`` of another is refused."""
        return volume_path(volume_id, zone_of(self))

    async def create_volume(
        self,
        *,
        name: str,
        size: int | None = None,
        perf_iops: int | None = None,
        from_snapshot: str | BlockSnapshot | None = None,
        project: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> BlockVolume:
        """Create a volume and return it as the API answered (usually ``status="creating"``).

        Give ``size`` (bytes) for an empty volume, or ``from_snapshot`` (a
        ``BlockSnapshot`` or its id) to restore one, optionally with a ``size``
        at least the snapshot's. ``perf_iops`` (5000 or 15000) picks the type
        (``sbs_5k``/``sbs_15k``); the API's default otherwise. ``project``
        defaults to the API's project, else its organization (whose default
        project has the same id); with neither known it is a ``ValueError``.

        Never creates two volumes for one call: the create carries the tag
        ``scaleway-volumes:create=<random>``, and after a failure that may have
        created it the library looks that tag up before resending (see
        ``AsyncVolumeAPI.create_volume``). Wait for it with ``wait_for_volume``.

        ```python
        volume = await api.create_volume(name="db", size=50 * 10**9, perf_iops=15000)
        volume = await api.wait_for_volume(volume)          # status "available"
        restored = await api.create_volume(name="db-copy", from_snapshot=snapshot)
        ```
        """
        marker = self._new_marker()
        body = self._volume_body(name, size, perf_iops, from_snapshot, project, tags, marker)
        return await self._post_volume(body, name, marker, Attempts(), 0)

    def _volume_body(
        self,
        name: str,
        size: int | None,
        perf_iops: int | None,
        from_snapshot: str | BlockSnapshot | None,
        project: str | None,
        tags: Iterable[str] | None,
        marker: str | None,
    ) -> bytes:
        payload: dict[str, Any] = {
            "name": check_name(name),
            "project_id": common.project_for(project, self.project, self.organization),
        }
        if perf_iops is not None:
            payload["perf_iops"] = check_perf_iops(perf_iops)
        tag_list = common.tags_with_marker(tags, marker)
        if tag_list is not None:
            payload["tags"] = tag_list
        if from_snapshot is not None:
            source: dict[str, Any] = {
                "snapshot_id": check_id(
                    from_snapshot, "from_snapshot", BlockSnapshot, zone=zone_of(self)
                )
            }
            if size is not None:
                source["size"] = check_size(size)
            payload["from_snapshot"] = source
        elif size is not None:
            payload["from_empty"] = {"size": check_size(size)}
        else:
            raise ValueError(
                "create_volume needs size (bytes) for an empty volume, or from_snapshot"
            )
        return common.encode(payload)

    def _volume_lookup(
        self, name: str, marker: str | None, throttle_budget: int = 0
    ) -> Callable[[], Awaitable[BlockVolume | None]] | None:
        """How to find the volume a create of ``name`` carrying ``marker`` made
        (``throttle_budget``: a bulk create's, for its bare 429s)."""
        return marker_lookup(
            self._pipeline,
            COLLECTION,
            [("name", name)],
            marker,
            _find_marked,
            page_size_param=common.PAGE_SIZE_PARAM,
            throttle_budget=throttle_budget,
        )

    def _post_volume(
        self, body: bytes, name: str, marker: str | None, attempts: Attempts, throttle_budget: int
    ) -> Awaitable[BlockVolume]:
        return create_once(
            self._pipeline,
            COLLECTION,
            body,
            what=f"volume {name!r}",
            marker=marker,
            lookup=self._volume_lookup(name, marker, throttle_budget),
            decode=decode_volume,
            attempts=attempts,
            throttle_budget=throttle_budget,
        )

    async def get_volume(self, volume_id: str | BlockVolume) -> BlockVolume:
        """Fetch one volume by id (or refresh a ``BlockVolume``); ``NotFoundError`` if none."""
        return decode_volume(await self._pipeline.call("GET", self._volume_path(volume_id)))

    async def update_volume(
        self,
        volume_id: str | BlockVolume,
        *,
        name: str | None = None,
        size: int | None = None,
        tags: Iterable[str] | None = None,
        perf_iops: int | None = None,
    ) -> BlockVolume:
        """Rename, grow, retag or change the IOPS of a volume (``PATCH``); only given fields change.

        The API answers a growth with the **old** size and ``status="updating"``;
        the new size shows once it settles (``wait_for_volume``). ``tags``
        replaces the whole list. A volume in a transient state is waited for
        (409 ``transient_state`` is resent within the call's deadline, after 30
        waits of the retry backoff at most: 216 s in all at most with the
        default ``RetryPolicy``, even with ``deadline=None``). The
        API refuses a smaller size, and a ``perf_iops`` change on a volume that
        is not ``available``, with ``InvalidRequestError`` (``.fields`` names
        the argument).

        ```python
        await api.update_volume(volume, size=volume.size * 2)
        volume = await api.wait_for_volume(volume)   # the new size
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
        if perf_iops is not None:
            payload["perf_iops"] = check_perf_iops(perf_iops)
        if not payload:
            raise ValueError("update_volume needs at least one of name, size, tags or perf_iops")
        reply = await self._pipeline.call("PATCH", path, body=common.encode(payload))
        return decode_volume(reply)

    async def delete_volume(
        self, volume_id: str | BlockVolume, *, missing_ok: bool = False
    ) -> None:
        """Delete a volume.

        ``NotFoundError`` if it does not exist, unless ``missing_ok``; a retry
        that finds it gone (404, or 409 ``transient_state`` in ``deleting``)
        after an attempt that may have gone through succeeded, and so does
        one already ``deleting`` with ``missing_ok`` (without, that is a
        ``TransientStateError`` at once: someone else is deleting it). A volume still attached
        is refused with ``PreconditionFailedError`` (``precondition ==
        "resource_still_in_use"``); one in a transient state (``snapshotting``)
        is waited for, within the call's deadline and for 30 waits of the
        retry backoff at most (216 s in all at most with the default
        ``RetryPolicy``, even with ``deadline=None``), then
        ``TransientStateError``. Wait for it to be gone with
        ``wait_for_volume(volume, until="deleted")``.
        """
        await delete_resource(self._pipeline, self._volume_path(volume_id), missing_ok=missing_ok)

    async def list_volumes(
        self,
        *,
        name: str | None = None,
        project: str | None = None,
        organization: str | None = None,
        tags: Iterable[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> list[BlockVolume]:
        """Every volume matching the filters, all pages fetched.

        ``name`` matches as a substring; ``tags`` matches a volume carrying
        **any** of them (the Block API's rule); ``project``/``organization``
        filter by id. Pages of ``per_page`` (at most 100) are followed by the
        body's ``total_count``. The API's ``deadline`` bounds the whole call,
        every page included (``APITimeoutError`` says how many had come).
        """
        return await self._gather_pages(
            COLLECTION,
            lambda pipeline: self._volume_pages(
                pipeline, name, project, organization, tags, per_page
            ),
        )

    def iter_volumes(
        self,
        *,
        name: str | None = None,
        project: str | None = None,
        organization: str | None = None,
        tags: Iterable[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncGenerator[BlockVolume, None]:
        """Like ``list_volumes``, but yields volumes as pages arrive, one page in memory.

        The ids already yielded are kept too (about 200 bytes each, until the
        loop ends), so that each volume is yielded once even from a server that
        ignores paging. Deleting volumes as they come (in the loop, or in tasks
        it starts) reaches every one: when the total falls, the listing goes back
        over the places the deleted ones left, which costs a page or two more.
        Each page's request is one call for the ``deadline`` (retries included):
        the time the loop's body takes between pages is the caller's.
        The arguments are checked at the call (a ``ValueError`` there), the
        first request made at the first step.
        A loop that may stop early (``break``, an error) is best written inside
        ``async with contextlib.aclosing(api.iter_volumes(...)) as volumes:``: the
        listing then ends at the loop's end, not when the collector finds it
        (trio warns of every async generator left to the collector).

        ```python
        async for volume in api.iter_volumes(tags=["prod"]):
            print(volume.name, volume.type, volume.status)
        ```
        """
        return items(
            self._volume_pages(self._pipeline, name, project, organization, tags, per_page)
        )

    def _volume_pages(
        self,
        pipeline: Pipeline,
        name: str | None,
        project: str | None,
        organization: str | None,
        tags: Iterable[str] | None,
        per_page: int,
    ) -> AsyncGenerator[list[BlockVolume], None]:
        """The pages of volumes matching the filters, fetched through ``pipeline``."""
        check_per_page(per_page, MAX_PER_PAGE)
        filters = common.str_filters(
            ("name", name),
            ("project:project_id", project),
            ("organization:organization_id", organization),
        )
        filters += common.tag_filters(tags)
        return pages(
            pipeline,
            COLLECTION,
            filters,
            per_page,
            decode_volume_page,
            page_size_param=common.PAGE_SIZE_PARAM,
        )

    # "deleted" gives None, another known state the model; any other str (a
    # variable that may hold "deleted") or a collection may give either.
    @overload
    async def wait_for_volume(
        self, volume_id: str | BlockVolume, *, until: Literal["deleted"], timeout: float = ...
    ) -> None: ...
    @overload
    async def wait_for_volume(
        self,
        volume_id: str | BlockVolume,
        *,
        until: BlockVolumeWaitState | None = None,
        timeout: float = ...,
    ) -> BlockVolume: ...
    @overload
    async def wait_for_volume(
        self, volume_id: str | BlockVolume, *, until: str | Iterable[str], timeout: float = ...
    ) -> BlockVolume | None: ...
    async def wait_for_volume(
        self,
        volume_id: str | BlockVolume,
        *,
        until: str | Iterable[str] | None = None,
        timeout: float = 300.0,
    ) -> BlockVolume | None:
        """Poll a volume until it settles (or reaches ``until``) and return it.

        ``until`` None waits for any state but ``creating``, ``deleting``,
        ``resizing``, ``snapshotting`` and ``updating``; a state or a collection
        of states waits for those; a state a Block volume cannot have (states
        are lowercase) raises ``ValueError`` before any request.
        ``until="deleted"`` waits for the volume to be gone (404, or status
        ``deleted``) and returns None; gone while waiting for anything else
        raises ``NotFoundError``. ``error`` or ``locked`` when not asked for
        raises ``ResourceStateError`` at once (``.resource`` is the volume);
        past ``timeout`` seconds ``WaitTimeoutError`` (``.last_state``). The
        first poll is at once, the next ones back off from 0.5 s to 5 s with
        jitter; every poll is an ordinary GET, paced by the rate limiter, and a
        bare 429 is flow control (resent at the limiter's pace). A poll that
        fails (after the pipeline's own retries) with a 429, a 500, 502, 503 or
        504, or, once a poll of this wait was answered, with a network error or
        a timeout, is made again while time is left (after its ``Retry-After``
        if it has one); if time runs out, the ``WaitTimeoutError`` names that
        error (its ``__cause__``). Any other error of a poll is raised at once:
        401, 403, a 501, an unreadable answer, and a network error or timeout
        before any poll was answered (a wrong ``base_url`` is likelier then).
        A ``BlockVolume`` of another zone than this API's is a ``ValueError``.

        ```python
        volume = await api.wait_for_volume(volume)                    # settled
        await api.delete_volume(volume)
        await api.wait_for_volume(volume, until="deleted", timeout=60)
        ```
        """
        path = self._volume_path(volume_id)
        return await wait_for(
            lambda: self._poll_volume_at(path),
            lambda volume: volume.status,
            resource_id=path.rpartition("/")[2],
            kind="volume",
            until=until,
            limit=timeout,
            transient=BLOCK_VOLUME_TRANSIENT,
            states=BLOCK_VOLUME_STATES,
            given=volume_id,
        )

    async def _poll_volume_at(self, path: str) -> BlockVolume:
        return decode_volume(await poll_get(self._pipeline, path))
