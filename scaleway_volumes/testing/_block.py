""":class:`FakeBlockStorage`: the Block Storage test helpers, reachable as ``fake.block``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from ._block_state import PERF_TYPES, BlockStore, Entry
from ._core import rfc3339
from ._params import tag_list

__all__ = ["FakeBlockStorage"]

GB = 1_000_000_000
# What add_volume/add_snapshot take as overrides: the fields no argument or helper sets.
_VOLUME_OVERRIDES = frozenset(
    {"id", "created_at", "updated_at", "parent_snapshot_id", "last_detached_at"}
    | {"kms_key_id", "zone"}
)
_SNAPSHOT_OVERRIDES = frozenset(
    {"id", "created_at", "updated_at", "project_id", "size", "zone", "public", "kms_key_id"}
)


def _check_status(status: object) -> str:
    if not isinstance(status, str):
        raise TypeError(f"status must be a string, not {status!r}")
    if not status:
        raise ValueError("status must not be empty")
    return status


class FakeBlockStorage:
    """The fake's Block Storage volumes and snapshots, for tests to arrange and inspect.

    Reached as ``fake.block``. Every method returns copies (JSON as the API would render
    it now), takes the fake's lock, and raises ``KeyError`` for an unknown or deleted id::

        volume = fake.block.add_volume("db", 20 * GB)
        fake.block.add_reference(volume["id"])          # now "in_use": DELETE gets a 412
        fake.block.set_volume_status(volume["id"], "error")
        assert fake.block.get_volume(volume["id"])["status"] == "error"
    """

    def __init__(self, store: BlockStore) -> None:
        self._store = store

    # -- arranging ------------------------------------------------------------------------

    def add_volume(
        self,
        name: str = "vol",
        size: int = 10 * GB,
        *,
        perf_iops: int = 5000,
        tags: Iterable[str] = (),
        status: str = "available",
        project_id: str | None = None,
        organization: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Store a settled volume without going through the API; return its JSON.

        ``perf_iops`` is 5000 (``sbs_5k``) or 15000 (``sbs_15k``); ``tags`` an iterable of
        strings (a lone string is a ``TypeError``, not split into letters).
        ``status`` is kept until an API call or a helper changes it (no transition runs).
        ``overrides`` replace any other volume field (``id``, ``created_at``,
        ``parent_snapshot_id``, ``kms_key_id``, ``zone``...: the fake's zone unless
        given, the only one whose paths find it); ``organization`` is what the
        ``organization_id`` filter matches (default: the fake's organization).
        """
        unknown = set(overrides) - _VOLUME_OVERRIDES
        if unknown:
            raise TypeError(f"unknown or not overridable volume fields: {sorted(unknown)}")
        status = _check_status(status)
        if isinstance(perf_iops, bool) or not isinstance(perf_iops, int):
            raise TypeError(f"perf_iops must be an int, not {perf_iops!r}")
        if perf_iops not in PERF_TYPES:
            offered = ", ".join(map(str, PERF_TYPES))
            raise ValueError(f"perf_iops must be one the API offers ({offered}), not {perf_iops}")
        tags = tag_list(tags)
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = store.new_volume(
                now,
                name=name,
                size=size,
                perf_iops=perf_iops,
                project_id=project_id,
                tags=tags,
                # A helper's volume without one is the fake's organization's.
                organization=organization or store.host.organization,
            )
            entry.data.update(overrides)
            entry.force(status, now)
            entry.data["updated_at"] = overrides.get("updated_at", entry.data["created_at"])
            store.volumes[entry.data["id"]] = entry
            return store.copy_out(entry, now)

    def add_snapshot(
        self,
        volume_id: str,
        name: str = "snap",
        *,
        tags: Iterable[str] = (),
        status: str = "available",
        **overrides: Any,
    ) -> dict[str, Any]:
        """Store a settled snapshot of the volume ``volume_id`` (any status) and return it.

        ``tags`` is an iterable of strings, as for :meth:`add_volume`. ``overrides`` replace
        ``id``, ``size``, ``project_id``, ``created_at``, ``updated_at``, ``zone`` (default:
        the volume's), ``public`` (default false) or ``kms_key_id`` (default: the volume's).
        """
        unknown = set(overrides) - _SNAPSHOT_OVERRIDES
        if unknown:
            raise TypeError(f"unknown or not overridable snapshot fields: {sorted(unknown)}")
        status = _check_status(status)
        tags = tag_list(tags)
        store = self._store
        with store.lock:
            now = store.host.clock()
            volume = store.live(store.volumes, volume_id, now)
            if volume is None:
                raise KeyError(volume_id)
            entry = store.new_snapshot(now, volume, name=name, project_id=None, tags=tags)
            entry.data.update(overrides)
            entry.force(status, now)
            entry.data["updated_at"] = overrides.get("updated_at", entry.data["created_at"])
            store.snapshots[entry.data["id"]] = entry
            return store.copy_out(entry, now)

    def set_volume_status(self, volume_id: str, status: str) -> None:
        """Force a volume into ``status`` (``"error"``, ``"locked"``...), dropping any
        pending transition; it stays there until an API call or a helper moves it."""
        self._force(self._store.volumes, volume_id, _check_status(status))

    def set_snapshot_status(self, snapshot_id: str, status: str) -> None:
        """Force a snapshot into ``status``, as :meth:`set_volume_status` does for volumes."""
        self._force(self._store.snapshots, snapshot_id, _check_status(status))

    def _force(self, table: dict[str, Entry], key: str, status: str) -> None:
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = store.live(table, key, now)
            if entry is None:
                raise KeyError(key)
            entry.force(status, now)

    def add_reference(
        self,
        volume_id: str,
        *,
        product_resource_id: str | None = None,
        product_resource_type: str = "instance_server",
        reference_type: str = "exclusive",
        status: str = "attached",
    ) -> dict[str, Any]:
        """Reference a volume (as attaching it to a server does) and return the reference.

        An ``available`` volume becomes ``in_use``; one in a transition rests ``in_use``
        when it settles. Deleting an ``in_use`` volume answers 412 ``precondition_failed``.
        ``product_resource_id`` defaults to a new id (the server's).
        """
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = store.live(store.volumes, volume_id, now)
            if entry is None:
                raise KeyError(volume_id)
            reference = {
                "id": str(uuid.uuid4()),
                "product_resource_type": product_resource_type,
                "product_resource_id": product_resource_id or str(uuid.uuid4()),
                "created_at": rfc3339(now),
                "type": reference_type,
                "status": status,
            }
            entry.data["references"] = [*entry.data["references"], reference]
            if entry.data["status"] == "available":
                entry.data["status"] = "in_use"
            entry.touch(now)
            return dict(reference)

    def remove_reference(self, volume_id: str, reference_id: str | None = None) -> None:
        """Drop one reference of a volume (every one if ``reference_id`` is None).

        A volume left with none goes from ``in_use`` back to ``available`` and records
        ``last_detached_at``. Raises ``KeyError`` for an unknown reference.
        """
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = store.live(store.volumes, volume_id, now)
            if entry is None:
                raise KeyError(volume_id)
            references = entry.data["references"]
            kept = [r for r in references if reference_id is not None and r["id"] != reference_id]
            if reference_id is not None and len(kept) == len(references):
                raise KeyError(reference_id)
            entry.data["references"] = kept
            if not kept:
                entry.data["last_detached_at"] = rfc3339(now)
                if entry.data["status"] == "in_use":
                    entry.data["status"] = "available"
            entry.touch(now)

    # -- inspecting -----------------------------------------------------------------------

    def get_volume(self, volume_id: str) -> dict[str, Any] | None:
        """The volume ``volume_id`` as a GET would show it now, or ``None`` (missing/deleted)."""
        return self._get(self._store.volumes, volume_id)

    def get_snapshot(self, snapshot_id: str) -> dict[str, Any] | None:
        """The snapshot ``snapshot_id`` as a GET would show it now, or ``None``."""
        return self._get(self._store.snapshots, snapshot_id)

    def _get(self, table: dict[str, Entry], key: str) -> dict[str, Any] | None:
        store = self._store
        with store.lock:
            now = store.host.clock()
            entry = store.live(table, key, now)
            return None if entry is None else store.copy_out(entry, now)

    def volumes(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every volume in creation order, as the API would list them now."""
        return self._all(self._store.volumes, include_deleted)

    def snapshots(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every snapshot in creation order, as the API would list them now."""
        return self._all(self._store.snapshots, include_deleted)

    def _all(self, table: dict[str, Entry], include_deleted: bool) -> list[dict[str, Any]]:
        store = self._store
        with store.lock:
            now = store.host.clock()
            store.sweep(now)
            return [
                store.copy_out(e, now)
                for e in table.values()
                if store.visible(e, now, include_deleted)
            ]

    def __repr__(self) -> str:
        store = self._store
        return f"<FakeBlockStorage {len(store.volumes)} volumes, {len(store.snapshots)} snapshots>"
