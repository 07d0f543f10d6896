"""How Block Storage volumes, snapshots and volume types look on the command line.

The tables of the ``block`` commands, the names stderr lines give an item,
and the JSON documents they print (``converter.unstructure`` of the models,
so ``--json`` shows every field the API sent, tags without the create marker).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scaleway_volumes import (
    BlockSnapshot,
    BlockVolume,
    BlockVolumeSpec,
    BlockVolumeType,
    Money,
    converter,
)

from ._output import Column, dump_json, failure_json, print_table
from ._sizes import human_size

__all__ = [
    "describe",
    "dump_created",
    "print_block_volumes",
    "print_snapshots",
    "print_volume_types",
    "price",
]

_VOLUME_COLUMNS = (
    Column("id", no_wrap=True),
    Column("name"),
    Column("size", justify="right"),
    Column("type"),
    Column("iops", justify="right"),
    Column("status"),
    Column("tags"),
)
_SNAPSHOT_COLUMNS = (
    Column("id", no_wrap=True),
    Column("name"),
    Column("size", justify="right"),
    Column("volume"),
    Column("status"),
    Column("tags"),
)
_TYPE_COLUMNS = (
    Column("type", no_wrap=True),
    Column("iops", justify="right"),
    Column("class"),
    Column("volume price / GB / hour", justify="right"),
    Column("snapshot price / GB / hour", justify="right"),
)
_NONE = "-"


def describe(item: Any) -> str:
    """A volume or snapshot (``id name``), a spec (its name) or an id, as stderr names them."""
    if isinstance(item, (BlockVolume, BlockSnapshot)):
        return f"{item.id} {item.name}"
    if isinstance(item, BlockVolumeSpec):
        return item.name
    return str(item)


def _tags(tags: Sequence[str]) -> str:
    return ", ".join(tags) or _NONE


def _volume_row(volume: BlockVolume) -> list[str]:
    iops = volume.perf_iops
    return [
        volume.id,
        volume.name,
        human_size(volume.size),
        volume.type,
        _NONE if iops is None else str(iops),
        volume.status,
        _tags(volume.tags),
    ]


def print_block_volumes(volumes: Sequence[BlockVolume], title: str | None = None) -> None:
    """Print a table of Block ``volumes`` (id, name, size, type, iops, status, tags)."""
    print_table(_VOLUME_COLUMNS, (_volume_row(v) for v in volumes), title=title)


def _snapshot_row(snapshot: BlockSnapshot) -> list[str]:
    parent = snapshot.parent_volume
    return [
        snapshot.id,
        snapshot.name,
        human_size(snapshot.size),
        _NONE if parent is None else parent.name or parent.id,
        snapshot.status,
        _tags(snapshot.tags),
    ]


def print_snapshots(snapshots: Sequence[BlockSnapshot], title: str | None = None) -> None:
    """Print a table of ``snapshots`` (id, name, size, the volume's name, status, tags)."""
    print_table(_SNAPSHOT_COLUMNS, (_snapshot_row(s) for s in snapshots), title=title)


def price(money: Money | None) -> str:
    """``0.000118 EUR``, the exact amount and its currency; ``-`` for none.

    >>> price(Money("EUR", units=0, nanos=118000))
    '0.000118 EUR'
    """
    if money is None:
        return _NONE
    # normalize() would write 1E+1 for ten; the fixed-point form never does.
    return f"{money.amount.normalize():f} {money.currency_code}"


def _type_row(kind: BlockVolumeType) -> list[str]:
    specs = kind.specs
    iops = None if specs is None else specs.perf_iops
    return [
        kind.type,
        _NONE if iops is None else str(iops),
        (specs.class_ if specs is not None else None) or _NONE,
        price(kind.pricing),
        price(kind.snapshot_pricing),
    ]


def print_volume_types(kinds: Sequence[BlockVolumeType]) -> None:
    """Print a table of the zone's volume types, their IOPS and prices per GB and hour."""
    print_table(_TYPE_COLUMNS, (_type_row(k) for k in kinds))


def dump_created(
    created: Sequence[BlockVolume], failed: Sequence[tuple[Any, BaseException]]
) -> None:
    """Print what a create did as ``--json`` shows it: ``{"created": [...], "failed": [...]}``."""
    dump_json(
        {
            "created": [converter.unstructure(v) for v in created],
            "failed": [failure_json(converter.unstructure(spec), err) for spec, err in failed],
        }
    )
