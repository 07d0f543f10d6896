"""The Block Storage API's rules: what each operation does, and in which states it may."""

from __future__ import annotations

import dataclasses
from typing import Any

from . import _shapes as shapes
from ._block_state import PERF_TYPES, SNAPSHOT_TRANSIENT, VOLUME_TRANSIENT, BlockStore, Entry, Query
from ._shapes import Refusal

__all__ = ["SNAPSHOT_SIZE_HELP", "BlockOperations"]

#: The help message recorded from the real API for a restore smaller than its snapshot.
SNAPSHOT_SIZE_HELP = (
    "size, when provided, must be equal to or larger than the size of the source snapshot"
)


def _busy(kind: str, entry: Entry, transient: frozenset[str]) -> None:
    status = entry.data["status"]
    if status in transient:
        raise Refusal(shapes.transient_state(kind, entry.data["id"], status))


def _unused(kind: str, entry: Entry, why: str) -> None:
    """412 ``resource_still_in_use`` if ``entry`` is ``in_use``: it cannot be deleted."""
    if entry.data["status"] == "in_use" or entry.data["references"]:
        raise Refusal(shapes.precondition_failed("resource_still_in_use", f"the {kind} {why}"))


def _usable(kind: str, entry: Entry, done: str) -> None:
    """412 ``resource_not_usable`` unless ``entry`` is available or in use."""
    status = entry.data["status"]
    if status not in ("available", "in_use"):
        raise Refusal(
            shapes.precondition_failed(
                "resource_not_usable",
                f"the {kind} is {status}: only an available or in_use one is {done}",
            )
        )


class BlockOperations:
    """Each Block API operation over a :class:`BlockStore`; refusals raise :class:`Refusal`.

    Every method takes the store's lock and reads the clock once, so one request sees
    one instant. Volumes and snapshots in a transient state refuse PATCH, DELETE and
    being snapshotted or restored with 409 ``transient_state``; an ``in_use`` one (a
    volume with references, a snapshot a volume is being restored from) refuses DELETE
    with 412 ``resource_still_in_use``.

    The operations are those of one ``zone`` (default: the fake's): what they create
    lives there, and a resource of another zone is not found (404).
    """

    def __init__(self, store: BlockStore, zone: str | None = None) -> None:
        self._store = store
        self._zone = store.host.zone if zone is None else zone

    def _volume(self, volume_id: str, now: float) -> Entry:
        entry = self._store.live(self._store.volumes, volume_id, now)
        if entry is None or entry.data["zone"] != self._zone:
            raise Refusal(shapes.not_found("volume", volume_id))
        return entry

    def _snapshot(self, snapshot_id: str, now: float) -> Entry:
        entry = self._store.live(self._store.snapshots, snapshot_id, now)
        if entry is None or entry.data["zone"] != self._zone:
            raise Refusal(shapes.not_found("snapshot", snapshot_id))
        return entry

    def _check_quota(self, now: float, volumes: int, size: int) -> None:
        host = self._store.host
        count_quota, size_quota = host.block_quota_volumes, host.block_quota_size
        if count_quota is None and size_quota is None:
            return
        store = self._store
        live = [e for e in store.volumes.values() if store.visible(e, now)]
        used = sum((e.then or {}).get("size", e.data["size"]) for e in live)
        details = []
        # Only a new volume counts against the count quota: a growth adds bytes, not volumes
        # (and must still work for a project already over a lowered count quota).
        if count_quota is not None and volumes > 0 and len(live) + volumes > count_quota:
            current = len(live)
            details.append({"resource": "block_volumes", "quota": count_quota, "current": current})
        if size_quota is not None and used + size > size_quota:
            details.append(
                {"resource": "block_volumes_total_size", "quota": size_quota, "current": used}
            )
        if details:
            raise Refusal(shapes.quotas_exceeded(*details))

    def create_volume(
        self,
        *,
        name: str,
        project_id: str,
        perf_iops: int | None,
        tags: list[str],
        size: int | None,
        snapshot_id: str | None,
        kms_key_id: str | None,
    ) -> bytes:
        store = self._store
        with store.lock:
            now = store.host.clock()
            snapshot = None
            if snapshot_id is not None:
                snapshot = self._snapshot(snapshot_id, now)
                _busy("snapshot", snapshot, SNAPSHOT_TRANSIENT)
                _usable("source snapshot", snapshot, "restored")
                if size is None:
                    size = snapshot.data["size"]
                elif size < snapshot.data["size"]:
                    raise Refusal(
                        shapes.precondition_failed("resource_not_usable", SNAPSHOT_SIZE_HELP)
                    )
                if perf_iops is None:
                    perf_iops = snapshot.perf_iops
            assert size is not None
            self._check_quota(now, 1, size)
            entry = store.new_volume(
                now,
                name=name,
                size=size,
                perf_iops=perf_iops or 5000,
                project_id=project_id,
                tags=tags,
                parent_snapshot_id=snapshot_id,
                kms_key_id=kms_key_id,
                zone=self._zone,
            )
            delay = store.host.block_create_time
            entry.schedule(now, delay, "creating")
            if snapshot is not None:
                # The source is in use until the volume restored from it is created.
                snapshot.hold(now, delay)
            store.volumes[entry.data["id"]] = entry
            return store.render_volume(entry)

    def read_volume(self, volume_id: str) -> bytes:
        with self._store.lock:
            return self._store.render_volume(self._volume(volume_id, self._store.host.clock()))

    def update_volume(self, volume_id: str, changes: dict[str, Any]) -> bytes:
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = self._volume(volume_id, now)
            data = entry.data
            status = data["status"]
            iops = changes.get("perf_iops")
            if iops is not None and iops != data["specs"]["perf_iops"] and status != "available":
                raise Refusal(
                    shapes.invalid_arguments(
                        shapes.argument(
                            "perf_iops",
                            "constraint",
                            f"perf_iops can only change while the volume is available "
                            f"(it is {status}): detach it and wait for it to settle",
                        )
                    )
                )
            _busy("volume", entry, VOLUME_TRANSIENT)
            size = changes.get("size")
            if size is not None and size < data["size"]:
                raise Refusal(
                    shapes.invalid_arguments(
                        shapes.argument(
                            "size",
                            "constraint",
                            f"a volume can only grow: size must be >= {data['size']}",
                        )
                    )
                )
            grows = size is not None and size > data["size"]
            if grows:
                self._check_quota(now, 0, size - data["size"])
            if "name" in changes:
                data["name"] = changes["name"]
            if "tags" in changes:
                data["tags"] = list(changes["tags"])
            if iops is not None:
                data["specs"] = {**data["specs"], "perf_iops": iops}
                data["type"] = PERF_TYPES[iops]
            entry.touch(now)
            if grows:
                # Answered with the old size and "updating"; the new size shows when settled.
                entry.schedule(now, store.host.block_resize_time, "updating", then={"size": size})
            return store.render_volume(entry)

    def delete_volume(self, volume_id: str) -> None:
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = self._volume(volume_id, now)
            _busy("volume", entry, VOLUME_TRANSIENT)
            why = "is in_use: it can be deleted once nothing uses it"
            if entry.data["references"]:
                why = "is attached (in_use): detach it from its server first"
            _unused("volume", entry, why)
            entry.schedule(now, store.host.block_delete_time, "deleting", "deleted")

    def create_snapshot(
        self, *, volume_id: str, name: str, project_id: str, tags: list[str], public: bool
    ) -> bytes:
        store = self._store
        with store.lock:
            now = store.host.clock()
            volume = self._volume(volume_id, now)
            _busy("volume", volume, VOLUME_TRANSIENT)
            _usable("volume", volume, "snapshotted")
            entry = store.new_snapshot(
                now, volume, name=name, project_id=project_id, tags=tags, public=public
            )
            delay = store.host.block_snapshot_time
            entry.schedule(now, delay, "creating")
            volume.schedule(now, delay, "snapshotting")
            store.snapshots[entry.data["id"]] = entry
            # The answer shows the moment of acting, before any transition lands.
            return store.render_snapshot(entry, None)

    def read_snapshot(self, snapshot_id: str) -> bytes:
        store = self._store
        with store.lock:
            now = store.host.clock()
            return store.render_snapshot(self._snapshot(snapshot_id, now), now)

    def update_snapshot(self, snapshot_id: str, changes: dict[str, Any]) -> bytes:
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = self._snapshot(snapshot_id, now)
            _busy("snapshot", entry, SNAPSHOT_TRANSIENT)
            if "name" in changes:
                entry.data["name"] = changes["name"]
            if "tags" in changes:
                entry.data["tags"] = list(changes["tags"])
            if "public" in changes:
                entry.data["public"] = changes["public"]
            entry.touch(now)
            return store.render_snapshot(entry, now)

    def export_snapshot(self, snapshot_id: str) -> bytes:
        """Copy a snapshot to Object Storage: ``exporting`` for ``block_snapshot_time``."""
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = self._snapshot(snapshot_id, now)
            _busy("snapshot", entry, SNAPSHOT_TRANSIENT)
            _usable("snapshot", entry, "exported")
            entry.schedule(now, store.host.block_snapshot_time, "exporting")
            return store.render_snapshot(entry, now)

    def import_snapshot(
        self, *, name: str, project_id: str, tags: list[str], size: int | None
    ) -> bytes:
        """A snapshot made from an Object Storage object: ``creating`` for
        ``block_snapshot_time``, without a parent volume."""
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = store.new_snapshot(
                now, None, name=name, project_id=project_id, tags=tags, size=size, zone=self._zone
            )
            entry.schedule(now, store.host.block_snapshot_time, "creating")
            store.snapshots[entry.data["id"]] = entry
            return store.render_snapshot(entry, None)

    def delete_snapshot(self, snapshot_id: str) -> None:
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = self._snapshot(snapshot_id, now)
            _busy("snapshot", entry, SNAPSHOT_TRANSIENT)
            _unused("snapshot", entry, "is in_use (a volume is restored from it): wait for it")
            entry.schedule(now, store.host.block_delete_time, "deleting", "deleted")

    def list_page(self, kind: str, query: Query) -> tuple[list[bytes], int]:
        store = self._store
        query = dataclasses.replace(query, zone=self._zone)
        with store.lock:
            now = store.host.clock()
            if kind == "volumes":
                page, total = store.select(store.volumes, query, now)
                return [store.render_volume(e) for e in page], total
            page, total = store.select(store.snapshots, query, now)
            return [store.render_snapshot(e, now) for e in page], total
