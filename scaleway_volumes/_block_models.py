"""Block Storage (SBS) data: volumes, snapshots, volume types, and what to create.

Plain frozen attrs classes with no JSON code (that is ``_converter.py`` and
``_decode_block.py``). Attribute names are the Block API's JSON field names,
except ``class`` which is ``class_``. Statuses and types are plain strings: a
value the API adds tomorrow decodes today. Timestamps are aware datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from ._ids import check_id
from ._models import tag_tuple, to_tags
from ._validate import check_optional_str

__all__ = [
    "BlockSnapshot",
    "BlockVolume",
    "BlockVolumeSpec",
    "BlockVolumeSpecs",
    "BlockVolumeType",
    "Money",
    "SnapshotParentVolume",
    "VolumeReference",
]


@attrs.frozen
class VolumeReference:
    """A link between a volume or snapshot and a product resource using it.

    ``product_resource_type`` is e.g. ``"instance_server"``; ``type`` is
    ``"link"``, ``"exclusive"`` or ``"read_only"``; ``status`` e.g.
    ``"attaching"``, ``"attached"``, ``"detaching"``.
    """

    id: str
    product_resource_type: str
    product_resource_id: str
    type: str
    status: str
    created_at: datetime | None = None


def reference_tuple(value: Iterable[VolumeReference]) -> tuple[VolumeReference, ...]:
    """A model's ``references``: a tuple is kept as it is (what the decoders
    pass), anything else becomes one of ``VolumeReference`` items only."""
    if type(value) is tuple:
        return value
    references = tuple(value)
    for reference in references:
        if not isinstance(reference, VolumeReference):
            raise TypeError(
                f"every reference must be a VolumeReference, got {type(reference).__name__}"
            )
    return references


@attrs.frozen
class BlockVolumeSpecs:
    """Performance of a volume or volume type: IOPS and storage class (``"sbs"``)."""

    perf_iops: int | None = None
    class_: str | None = None


@attrs.frozen
class BlockVolume:
    """A Block Storage volume as the API describes it.

    ``type`` is e.g. ``"sbs_5k"``, ``size`` is in bytes, ``status`` one of
    ``creating, available, in_use, deleting, deleted, resizing, error,
    snapshotting, locked, updating`` (or anything newer, as a string).
    ``tags`` hides the library's create marker (see ``BlockVolumeSpec``).

    ```python
    volume = await api.block.get_volume("f929fe39-63f8-4be8-a80e-1e9c8ae22a76")
    print(volume.name, volume.size, volume.perf_iops, volume.status)
    ```
    """

    id: str
    name: str
    type: str
    size: int
    project_id: str
    status: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    references: tuple[VolumeReference, ...] = attrs.field(default=(), converter=reference_tuple)
    parent_snapshot_id: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=tag_tuple)
    specs: BlockVolumeSpecs | None = None
    last_detached_at: datetime | None = None
    kms_key_id: str | None = None
    zone: str | None = None

    @property
    def perf_iops(self) -> int | None:
        """The volume's IOPS (``specs.perf_iops``), or None when the API did not say."""
        return None if self.specs is None else self.specs.perf_iops


@attrs.frozen
class SnapshotParentVolume:
    """The volume a snapshot was taken from, as the snapshot remembers it."""

    id: str
    name: str
    type: str
    status: str


@attrs.frozen
class BlockSnapshot:
    """A Block Storage snapshot.

    ``status`` is one of ``creating, available, error, deleting, deleted,
    in_use, locked, exporting`` (or anything newer, as a string); ``in_use``
    while a volume is restored from it. ``parent_volume`` is the volume it was
    taken from (None once that is deleted); ``public`` whether anyone may
    restore from it; ``kms_key_id`` the key encrypting it (its volume's).

    ```python
    snapshot = await api.block.create_snapshot(volume, name="nightly")
    snapshot = await api.block.wait_for_snapshot(snapshot)
    ```
    """

    id: str
    name: str
    size: int
    project_id: str
    status: str
    parent_volume: SnapshotParentVolume | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    references: tuple[VolumeReference, ...] = attrs.field(default=(), converter=reference_tuple)
    tags: tuple[str, ...] = attrs.field(default=(), converter=tag_tuple)
    zone: str | None = None
    class_: str | None = None
    public: bool = False
    kms_key_id: str | None = None


@attrs.frozen
class Money:
    """A price as the API sends it: ``units`` plus ``nanos`` billionths of ``currency_code``."""

    currency_code: str
    units: int = 0
    nanos: int = 0

    @property
    def amount(self) -> Decimal:
        """The exact amount, e.g. ``Decimal("0.000104")`` for units=0, nanos=104000."""
        return Decimal(self.units) + Decimal(self.nanos).scaleb(-9)


@attrs.frozen
class BlockVolumeType:
    """A kind of Block volume the zone offers (``GET /volume-types``).

    ``pricing`` is per GB and hour of volume, ``snapshot_pricing`` of snapshot;
    ``specs`` holds its IOPS and storage class.
    """

    type: str
    pricing: Money | None = None
    snapshot_pricing: Money | None = None
    specs: BlockVolumeSpecs | None = None
    zone: str | None = None


def _check_name(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"name must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError("name must not be empty")


def _check_positive_int(label: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if type(value) is not int:
            raise TypeError(f"{label} must be an int, got {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{label} must be positive, got {value}")

    return check


def _snapshot_id(value: str | BlockSnapshot | None) -> str | None:
    if value is None:
        return None
    return check_id(value, "from_snapshot", BlockSnapshot)


def _check_project(_: object, __: attrs.Attribute[Any], value: object) -> None:
    check_optional_str("project", value)


@attrs.frozen
class BlockVolumeSpec:
    """What to create: the input of ``AsyncBlockAPI.create_volumes``.

    Give ``size`` (bytes) for an empty volume, or ``from_snapshot`` (a
    ``BlockSnapshot`` or its id) to restore one; both together restore into a
    volume of that size (the API requires it to be at least the snapshot's).
    ``perf_iops`` (e.g. 5000 or 15000) and ``project`` default to the API's.
    Only types and shapes are checked here; the API judges the rest.

    ```python
    specs = (BlockVolumeSpec(f"data-{i}", size=20 * 10**9, perf_iops=5000) for i in range(300))
    result = await api.block.create_volumes(specs, concurrency=32, wait=True)
    ```
    """

    name: str = attrs.field(validator=_check_name)
    size: int | None = attrs.field(default=None, validator=_check_positive_int("size"))
    perf_iops: int | None = attrs.field(default=None, validator=_check_positive_int("perf_iops"))
    from_snapshot: str | None = attrs.field(default=None, converter=_snapshot_id)
    project: str | None = attrs.field(default=None, validator=_check_project)
    tags: tuple[str, ...] = attrs.field(default=(), converter=to_tags)
    # The BlockSnapshot given as from_snapshot (which keeps its id): the API that
    # creates the volume checks its zone, as create_volume does with the model.
    _snapshot: BlockSnapshot | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_pre_init__(
        self,
        name: object,
        size: object,
        perf_iops: object,
        from_snapshot: object,
        project: object,
        tags: object,
    ) -> None:
        model = from_snapshot if isinstance(from_snapshot, BlockSnapshot) else None
        object.__setattr__(self, "_snapshot", model)

    def __attrs_post_init__(self) -> None:
        if self.size is None and self.from_snapshot is None:
            raise ValueError("a BlockVolumeSpec needs size, from_snapshot, or both")

    def _snapshot_source(self) -> str | BlockSnapshot | None:
        # from_snapshot as given: the BlockSnapshot (whose zone the creating API
        # checks), else its id. attrs.evolve passes the id on: a copy checks no zone.
        return self._snapshot if self._snapshot is not None else self.from_snapshot
