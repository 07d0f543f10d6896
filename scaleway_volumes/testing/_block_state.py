"""The Block Storage API's state: volumes and snapshots, and their lazy state machines.

No background task moves a resource along: each one keeps at most one pending transition
(``due`` time, status it lands in, fields it changes), applied by whoever reads it at or
after ``due``, under the fake's lock and by the fake's clock. So the in-process transport,
the TCP server's thread and the test's own helpers see the same truth at any instant,
under asyncio and trio alike.
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._timestamps import parse_datetime
from ._core import Clock, dumps, rfc3339

__all__ = ["PERF_TYPES", "BlockHost", "BlockStore", "Entry", "Query"]

#: The volume type of each ``perf_iops`` value the API offers.
PERF_TYPES = {5000: "sbs_5k", 15000: "sbs_15k"}
VOLUME_TRANSIENT = frozenset({"creating", "deleting", "resizing", "snapshotting", "updating"})
SNAPSHOT_TRANSIENT = frozenset({"creating", "deleting", "exporting"})
#: The size of an imported snapshot given none: the fake cannot read the object's.
IMPORT_SIZE = 10_000_000_000
VOLUME_FIELDS = (
    "id",
    "name",
    "type",
    "size",
    "project_id",
    "created_at",
    "updated_at",
    "references",
    "parent_snapshot_id",
    "status",
    "tags",
    "specs",
    "last_detached_at",
    "kms_key_id",
    "zone",
)
SNAPSHOT_FIELDS = (
    "id",
    "name",
    "parent_volume",
    "size",
    "project_id",
    "created_at",
    "updated_at",
    "references",
    "status",
    "tags",
    "zone",
    "class",
    "public",
    "kms_key_id",
)


class BlockHost(Protocol):
    """The fake's settings the Block state reads at each request (they may change any time)."""

    zone: str
    organization: str
    clock: Clock

    @property
    def block_create_time(self) -> float: ...
    @property
    def block_resize_time(self) -> float: ...
    @property
    def block_snapshot_time(self) -> float: ...
    @property
    def block_delete_time(self) -> float: ...
    @property
    def block_deleted_retention(self) -> float: ...
    @property
    def block_quota_volumes(self) -> int | None: ...
    @property
    def block_quota_size(self) -> int | None: ...


_sequence = itertools.count()


@dataclass(eq=False)
class Entry:
    """One volume or snapshot: its JSON object and its pending transition, if any."""

    data: dict[str, Any]
    organization: str | None  # None: whichever an organization_id filter names (``owner``)
    seq: int = field(default_factory=lambda: next(_sequence))
    due: float | None = None
    then_status: str | None = None  # None: the resting status when ``due`` comes
    then: dict[str, Any] | None = None
    gone_at: float | None = None  # when it became "deleted"
    rendered: bytes | None = None
    perf_iops: int = 5000  # a snapshot's source performance, inherited by restores
    # A snapshot's restores: it rests in_use, not available, until then (see ``hold``).
    held_until: float | None = None

    def schedule(
        self,
        now: float,
        delay: float,
        status: str,
        then_status: str | None = None,
        then: dict[str, Any] | None = None,
    ) -> None:
        """Enter ``status`` now and land in ``then_status`` (changing ``then``) after ``delay``."""
        self.data["status"] = status
        self.data["updated_at"] = rfc3339(now)
        self.due, self.then_status, self.then = now + delay, then_status, then
        self.rendered = None

    def hold(self, now: float, delay: float) -> None:
        """Keep this snapshot ``in_use`` for ``delay`` (a volume restored from it is created
        meanwhile); a later restore extends the hold, and it rests ``available`` after.

        A snapshot a test forced ``in_use`` (no pending transition) is left so, as
        :meth:`force` promises.
        """
        if self.data["status"] == "in_use" and self.due is None:
            return
        until = max(now + delay, self.held_until or now)
        self.held_until = until
        if self.due is None:
            self.schedule(now, delay, "in_use")
        else:  # in_use for an earlier restore: both end before it rests
            self.due = max(self.due, until)

    def force(self, status: str, now: float) -> None:
        """Enter ``status`` for good: any pending transition (or restore's hold) is dropped."""
        self.data["status"] = status
        self.data["updated_at"] = rfc3339(now)
        self.due = self.then_status = self.then = self.held_until = None
        self.gone_at = now if status == "deleted" else None
        self.rendered = None

    def touch(self, now: float) -> None:
        self.data["updated_at"] = rfc3339(now)
        self.rendered = None


@dataclass
class Query:
    """A list request's filters, order and page (``None``: not filtered on)."""

    page: int = 1
    page_size: int = 50
    order_by: str = "created_at_asc"
    name: str | None = None
    project_id: str | None = None
    organization_id: str | None = None
    tags: list[str] = field(default_factory=list)
    ids: list[str] | None = None
    volume_type: str | None = None
    volume_id: str | None = None
    product_resource_id: str | None = None
    include_deleted: bool = False
    zone: str | None = None


class BlockStore:
    """Volumes and snapshots by id, with the reads that settle them. Callers hold the lock."""

    def __init__(self, host: BlockHost, lock: threading.RLock) -> None:
        self.host = host
        self.lock = lock
        self.volumes: dict[str, Entry] = {}
        self.snapshots: dict[str, Entry] = {}
        self._swept = -1.0

    def clear(self) -> None:
        self.volumes.clear()
        self.snapshots.clear()

    # -- settling -------------------------------------------------------------------------

    @staticmethod
    def settle(entry: Entry, now: float) -> None:
        """Apply ``entry``'s pending transition if it is due."""
        due = entry.due
        if due is None or due > now:
            return
        if entry.then:
            entry.data.update(entry.then)
        status = entry.then_status
        if status is None:
            held, entry.held_until = entry.held_until, None
            if held is not None and held > due:
                # A snapshot exported while restored from: in_use until the restore ends.
                entry.schedule(due, held - due, "in_use")
                BlockStore.settle(entry, now)
                return
            # A volume rests in_use while something references it; a snapshot available.
            status = "in_use" if entry.data["references"] else "available"
        entry.data["status"] = status
        entry.data["updated_at"] = rfc3339(due)
        if status == "deleted":
            entry.gone_at = due
        entry.due = entry.then_status = entry.then = None
        entry.rendered = None

    def visible(self, entry: Entry, now: float, include_deleted: bool = False) -> bool:
        """Settle ``entry`` and tell whether a read at ``now`` still sees it: deleted ones
        only with ``include_deleted``, and only for ``block_deleted_retention`` seconds."""
        self.settle(entry, now)
        gone = entry.gone_at
        if gone is None:
            return True
        return include_deleted and now - gone <= self.host.block_deleted_retention

    def sweep(self, now: float) -> None:
        """Forget deleted resources past their retention, at most once a second.

        Only memory is at stake: reads already hide them (:meth:`visible`), so a list of a
        few ``volume_ids`` never pays for a scan of every volume.
        """
        if 0 <= now - self._swept < 1.0:
            return
        self._swept = now
        for table in (self.volumes, self.snapshots):
            for key in [k for k, e in table.items() if not self.visible(e, now, True)]:
                del table[key]

    def live(self, store: dict[str, Entry], key: str, now: float) -> Entry | None:
        """The settled entry ``key`` unless it is missing or deleted."""
        entry = store.get(key)
        if entry is None:
            return None
        self.settle(entry, now)
        return None if entry.gone_at is not None else entry

    # -- rendering ------------------------------------------------------------------------

    def render_volume(self, entry: Entry) -> bytes:
        rendered = entry.rendered
        if rendered is None:
            rendered = entry.rendered = dumps(entry.data)
        return rendered

    def render_snapshot(self, entry: Entry, now: float | None) -> bytes:
        """``entry``'s JSON with its parent's name, type and status read live (they change
        after the snapshot); the parent is settled at ``now`` first unless it is None.

        ``parent_volume`` is null once the parent is deleted (and for an imported
        snapshot, which has none); the entry keeps the parent's id for the ``volume_id``
        filter.
        """
        data = dict(entry.data)
        parent = data["parent_volume"]
        if parent is not None:
            volume = self.volumes.get(parent["id"])
            if volume is not None and now is not None:
                self.settle(volume, now)
            if volume is None or volume.gone_at is not None:
                data["parent_volume"] = None
            else:
                source = volume.data
                data["parent_volume"] = {
                    **parent,
                    "name": source["name"],
                    "type": source["type"],
                    "status": source["status"],
                }
        return dumps(data)

    # -- building -------------------------------------------------------------------------

    def new_volume(
        self,
        now: float,
        *,
        name: str,
        size: int,
        perf_iops: int,
        project_id: str | None,
        tags: Iterable[str],
        organization: str | None = None,
        parent_snapshot_id: str | None = None,
        kms_key_id: str | None = None,
        zone: str | None = None,
    ) -> Entry:
        """A volume of ``project_id``, else of ``organization``'s default project, else of
        the fake's; owned by ``organization``, or if None (an API create, which names
        only a project) by the project's owner (:meth:`owner`)."""
        host = self.host
        stamp = rfc3339(now)
        project_id = project_id or organization or host.organization
        data = {
            "id": str(uuid.uuid4()),
            "name": name,
            "type": PERF_TYPES[perf_iops],
            "size": size,
            "project_id": project_id,
            "created_at": stamp,
            "updated_at": stamp,
            "references": [],
            "parent_snapshot_id": parent_snapshot_id,
            "status": "available",
            "tags": list(tags),
            "specs": {"perf_iops": perf_iops, "class": "sbs"},
            "last_detached_at": None,
            "kms_key_id": kms_key_id,
            "zone": zone or host.zone,
        }
        return Entry(data, self.owner(project_id) if organization is None else organization)

    def owner(self, project_id: str) -> str | None:
        """The fake's organization for its default project (the same id), else None: the
        organization of the credentials using it, unseen, so a client lists what it made
        whatever organization it names."""
        return self.host.organization if project_id == self.host.organization else None

    def new_snapshot(
        self,
        now: float,
        volume: Entry | None,
        *,
        name: str,
        project_id: str | None,
        tags: Iterable[str],
        public: bool = False,
        size: int | None = None,
        zone: str | None = None,
    ) -> Entry:
        """A snapshot of ``volume``, in its zone and (default) project, or (``None``) one
        imported from Object Storage into ``zone``: no parent, ``size`` (default
        :data:`IMPORT_SIZE`), the fake's project unless given."""
        host = self.host
        stamp = rfc3339(now)
        source = volume.data if volume is not None else None
        parent = None
        if source is not None:
            parent = {k: source[k] for k in ("id", "name", "type", "status")}
        project: str = project_id or (source or {}).get("project_id") or host.organization
        data = {
            "id": str(uuid.uuid4()),
            "name": name,
            "parent_volume": parent,
            "size": size or (source["size"] if source is not None else IMPORT_SIZE),
            "project_id": project,
            "created_at": stamp,
            "updated_at": stamp,
            "references": [],
            "status": "available",
            "tags": list(tags),
            "zone": source["zone"] if source is not None else zone or host.zone,
            "class": "sbs",
            "public": public,
            # A snapshot of an encrypted volume is encrypted with the volume's key.
            "kms_key_id": source["kms_key_id"] if source is not None else None,
        }
        entry = Entry(data, self.owner(project))
        if volume is not None and project == volume.data["project_id"]:
            entry.organization = volume.organization
        if source is not None:
            entry.perf_iops = source["specs"]["perf_iops"]
        return entry

    # -- listing --------------------------------------------------------------------------

    def select(self, store: dict[str, Entry], query: Query, now: float) -> tuple[list[Entry], int]:
        """The page of entries of ``store`` that ``query`` asks for, and how many match."""
        self.sweep(now)
        if query.ids is not None:
            candidates: Iterable[Entry] = {store[i] for i in query.ids if i in store}
        else:
            candidates = store.values()
        matching = [
            e
            for e in candidates
            if self.visible(e, now, query.include_deleted) and _matches(e, query)
        ]
        # By created_at, as the API: a test may date a resource, or set the clock back.
        matching.sort(key=_created, reverse=query.order_by == "created_at_desc")
        if query.order_by in ("name_asc", "name_desc"):
            matching.sort(key=lambda e: e.data["name"], reverse=query.order_by == "name_desc")
        start = (query.page - 1) * query.page_size
        return matching[start : start + query.page_size], len(matching)

    def copy_out(self, entry: Entry, now: float) -> dict[str, Any]:
        """A deep copy of ``entry``'s JSON as the API would render it now."""
        if "parent_volume" in entry.data:
            return dict(json.loads(self.render_snapshot(entry, now)))
        return dict(json.loads(self.render_volume(entry)))


def _created(entry: Entry) -> tuple[int, float, int]:
    """Sort key of the created_at orders: that instant, then the order of creation.

    A ``created_at`` no instant can be read from (a test's override) sorts after the
    others (so before them in ``created_at_desc``, its reverse).
    """
    stamp = entry.data.get("created_at")
    instant = _instant(stamp) if isinstance(stamp, str) else None
    return (0, instant, entry.seq) if instant is not None else (1, 0.0, entry.seq)


@functools.lru_cache(maxsize=4096)
def _instant(stamp: str) -> float | None:
    # Cached: every list sorts every matching resource, and their stamps rarely change.
    try:
        return parse_datetime(stamp).timestamp()
    except ValueError:
        return None


def _matches(entry: Entry, query: Query) -> bool:
    data = entry.data
    if query.zone is not None and data["zone"] != query.zone:
        return False
    if query.name is not None and query.name not in data["name"]:
        return False
    if query.project_id is not None and data["project_id"] != query.project_id:
        return False
    if query.organization_id and entry.organization not in (None, query.organization_id):
        return False
    # One matching tag is enough, as the real API filters.
    if query.tags and not any(tag in data["tags"] for tag in query.tags):
        return False
    if query.volume_type is not None and data.get("type") != query.volume_type:
        return False
    if query.volume_id is not None:
        parent = data["parent_volume"]  # kept after the parent's deletion
        if parent is None or parent["id"] != query.volume_id:
            return False
    return query.product_resource_id is None or any(
        ref["product_resource_id"] == query.product_resource_id for ref in data["references"]
    )
