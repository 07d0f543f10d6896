"""Block Storage snapshots: create, get, update, list, delete, wait (part of ``AsyncBlockAPI``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Any, Literal, overload

from . import _block_common as common
from ._api import BaseAPI
from ._block_models import BlockSnapshot, BlockVolume
from ._constants import DEFAULT_PER_PAGE, MAX_PER_PAGE
from ._create import create_once, marker_lookup
from ._decode_block import decode_block_snapshot, decode_block_snapshot_page, find_marked_snapshot
from ._decoding import MarkedPage
from ._deletes import delete_resource
from ._ids import check_id, zone_of
from ._listing import items, pages
from ._pipeline import Attempts, Pipeline
from ._states import BLOCK_SNAPSHOT_STATES, BLOCK_SNAPSHOT_TRANSIENT, BlockSnapshotWaitState
from ._transport import Reply
from ._validate import check_name, check_per_page, check_tags
from ._waiters import poll_get, wait_for

__all__ = ["BlockSnapshots"]

COLLECTION = "/snapshots"


def _decode(reply: Reply) -> BlockSnapshot:
    return decode_block_snapshot(reply.content, reply.status_code)


def _find_marked(reply: Reply, tag: str) -> MarkedPage[BlockSnapshot]:
    return find_marked_snapshot(reply.content, reply.status_code, tag)


def _decode_page(reply: Reply) -> tuple[list[BlockSnapshot], int | None]:
    return decode_block_snapshot_page(reply.content, reply.status_code)


class BlockSnapshots(BaseAPI):
    """The snapshot operations of ``AsyncBlockAPI`` (see there for the constructor)."""

    def _snapshot_path(self, snapshot_id: str | BlockSnapshot) -> str:
        """``/snapshots/<id>``; a ``BlockSnapshot`` of another zone than this API's is refused."""
        return f"{COLLECTION}/{self._id_of(snapshot_id, 'snapshot_id', BlockSnapshot)}"

    def _id_of(self, value: object, argument: str, model: type[object]) -> str:
        """``check_id`` in this API's zone."""
        return check_id(value, argument, model, zone=zone_of(self))

    async def create_snapshot(
        self,
        volume_id: str | BlockVolume,
        *,
        name: str,
        project: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> BlockSnapshot:
        """Snapshot a volume; returns the snapshot as answered (usually ``creating``).

        The volume is ``snapshotting`` meanwhile. ``project`` defaults to the
        volume's, given the ``BlockVolume`` (the project "to which the volume
        and the snapshot belong", as Scaleway documents it), else as for
        ``create_volume``. Never creates two snapshots for one call (the same
        marker tag as volume creates). A volume in a transient state is
        refused with ``TransientStateError`` (a create is not retried blindly):
        wait for it first.

        ```python
        snapshot = await api.create_snapshot(volume, name="before-upgrade")
        snapshot = await api.wait_for_snapshot(snapshot)        # "available"
        ```
        """
        source = self._id_of(volume_id, "volume_id", BlockVolume)
        if project is None and isinstance(volume_id, BlockVolume):
            project = volume_id.project_id
        name = check_name(name)
        marker = self._new_marker()
        payload: dict[str, Any] = {
            "volume_id": source,
            "name": name,
            "project_id": common.project_for(project, self.project, self.organization),
        }
        tag_list = common.tags_with_marker(tags, marker)
        if tag_list is not None:
            payload["tags"] = tag_list

        lookup = marker_lookup(
            self._pipeline,
            COLLECTION,
            [("name", name), ("volume_id", source)],
            marker,
            _find_marked,
            page_size_param=common.PAGE_SIZE_PARAM,
        )
        return await create_once(
            self._pipeline,
            COLLECTION,
            common.encode(payload),
            what=f"snapshot {name!r}",
            marker=marker,
            lookup=lookup,
            decode=_decode,
            attempts=Attempts(),
        )

    async def get_snapshot(self, snapshot_id: str | BlockSnapshot) -> BlockSnapshot:
        """Fetch one snapshot by id (or refresh a ``BlockSnapshot``); ``NotFoundError`` if none."""
        return _decode(await self._pipeline.call("GET", self._snapshot_path(snapshot_id)))

    async def update_snapshot(
        self,
        snapshot_id: str | BlockSnapshot,
        *,
        name: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> BlockSnapshot:
        """Rename or retag a snapshot (``PATCH``); ``tags`` replaces the whole list."""
        path = self._snapshot_path(snapshot_id)
        payload: dict[str, Any] = {}
        if name is not None:
            payload["name"] = check_name(name)
        if tags is not None:
            payload["tags"] = check_tags(tags)
        if not payload:
            raise ValueError("update_snapshot needs at least one of name or tags")
        return _decode(await self._pipeline.call("PATCH", path, body=common.encode(payload)))

    async def delete_snapshot(
        self, snapshot_id: str | BlockSnapshot, *, missing_ok: bool = False
    ) -> None:
        """Delete a snapshot; 404 as for ``delete_volume``.

        One in use (a volume being restored from it) is refused with
        ``PreconditionFailedError``; one in a transient state is waited for
        as by ``delete_volume`` (30 waits at most, even with ``deadline=None``),
        and one already ``deleting`` is done as a 404 would be.
        """
        await delete_resource(
            self._pipeline, self._snapshot_path(snapshot_id), missing_ok=missing_ok
        )

    async def list_snapshots(
        self,
        *,
        name: str | None = None,
        volume_id: str | BlockVolume | None = None,
        project: str | None = None,
        organization: str | None = None,
        tags: Iterable[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> list[BlockSnapshot]:
        """Every snapshot matching the filters, all pages fetched.

        ``volume_id`` keeps the snapshots of one volume; the other filters are
        those of ``list_volumes`` (``tags``: any one of them matches). The
        API's ``deadline`` bounds the whole call, every page included.
        """
        return await self._gather_pages(
            COLLECTION,
            lambda pipeline: self._snapshot_pages(
                pipeline, name, volume_id, project, organization, tags, per_page
            ),
        )

    def iter_snapshots(
        self,
        *,
        name: str | None = None,
        volume_id: str | BlockVolume | None = None,
        project: str | None = None,
        organization: str | None = None,
        tags: Iterable[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncGenerator[BlockSnapshot, None]:
        """Like ``list_snapshots``, but yields snapshots as pages arrive.

        Each page's request is one call for the ``deadline`` (retries
        included): the time the loop's body takes between pages is the caller's.
        The arguments are checked at the call (a ``ValueError`` there), the
        first request made at the first step.
        A loop that may stop early (``break``, an error) is best written inside
        ``async with contextlib.aclosing(api.iter_snapshots(...)) as snapshots:``: the
        listing then ends at the loop's end, not when the collector finds it
        (trio warns of every async generator left to the collector).

        ```python
        async for snapshot in api.iter_snapshots(volume_id=volume):
            print(snapshot.name, snapshot.size, snapshot.status)
        ```
        """
        return items(
            self._snapshot_pages(
                self._pipeline, name, volume_id, project, organization, tags, per_page
            )
        )

    def _snapshot_pages(
        self,
        pipeline: Pipeline,
        name: str | None,
        volume_id: str | BlockVolume | None,
        project: str | None,
        organization: str | None,
        tags: Iterable[str] | None,
        per_page: int,
    ) -> AsyncGenerator[list[BlockSnapshot], None]:
        """The pages of snapshots matching the filters, fetched through ``pipeline``."""
        check_per_page(per_page, MAX_PER_PAGE)
        filters = common.str_filters(
            ("name", name),
            ("project:project_id", project),
            ("organization:organization_id", organization),
        )
        if volume_id is not None:
            filters.append(("volume_id", self._id_of(volume_id, "volume_id", BlockVolume)))
        filters += common.tag_filters(tags)
        return pages(
            pipeline,
            COLLECTION,
            filters,
            per_page,
            _decode_page,
            page_size_param=common.PAGE_SIZE_PARAM,
        )

    # "deleted" gives None, another known state the model; any other str (a
    # variable that may hold "deleted") or a collection may give either.
    @overload
    async def wait_for_snapshot(
        self, snapshot_id: str | BlockSnapshot, *, until: Literal["deleted"], timeout: float = ...
    ) -> None: ...
    @overload
    async def wait_for_snapshot(
        self,
        snapshot_id: str | BlockSnapshot,
        *,
        until: BlockSnapshotWaitState | None = None,
        timeout: float = ...,
    ) -> BlockSnapshot: ...
    @overload
    async def wait_for_snapshot(
        self, snapshot_id: str | BlockSnapshot, *, until: str | Iterable[str], timeout: float = ...
    ) -> BlockSnapshot | None: ...
    async def wait_for_snapshot(
        self,
        snapshot_id: str | BlockSnapshot,
        *,
        until: str | Iterable[str] | None = None,
        timeout: float = 300.0,
    ) -> BlockSnapshot | None:
        """Poll a snapshot until it settles (or reaches ``until``) and return it.

        As ``wait_for_volume``; a snapshot's transient states are ``creating``,
        ``deleting`` and ``exporting`` (``until`` may name it too).

        ```python
        snapshot = await api.wait_for_snapshot(snapshot)
        await api.delete_snapshot(snapshot)
        await api.wait_for_snapshot(snapshot, until="deleted")
        ```
        """
        path = self._snapshot_path(snapshot_id)

        async def fetch() -> BlockSnapshot:
            return _decode(await poll_get(self._pipeline, path))

        return await wait_for(
            fetch,
            lambda snapshot: snapshot.status,
            resource_id=path.rpartition("/")[2],
            kind="snapshot",
            until=until,
            limit=timeout,
            transient=BLOCK_SNAPSHOT_TRANSIENT,
            states=BLOCK_SNAPSHOT_STATES,
            given=snapshot_id,
        )
