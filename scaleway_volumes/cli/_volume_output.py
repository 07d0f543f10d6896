"""How Instance volumes look on the command line.

The table of ``list`` and ``create``, the name stderr lines give a volume, and
the JSON document ``create --json`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scaleway_volumes import Volume, VolumeSpec, converter

from ._output import Column, dump_json, failure_json, print_table
from ._sizes import human_size

__all__ = ["describe", "dump_created", "print_volumes"]

_COLUMNS = (
    Column("id", no_wrap=True),
    Column("name"),
    Column("size", justify="right"),
    *(Column(header) for header in ("type", "state", "server", "zone")),
)


def describe(item: Any) -> str:
    """A volume (``id name``), a spec (its name) or an id, as stderr lines name them."""
    if isinstance(item, Volume):
        return f"{item.id} {item.name}"
    if isinstance(item, VolumeSpec):
        return item.name
    return str(item)


def _row(volume: Volume) -> list[str]:
    server = "-"
    if volume.server is not None:
        server = volume.server.name or volume.server.id
    return [
        volume.id,
        volume.name,
        human_size(volume.size),
        volume.volume_type,
        volume.state or "-",
        server,
        volume.zone or "-",
    ]


def print_volumes(volumes: Sequence[Volume], title: str | None = None) -> None:
    """Print a table of ``volumes``, one row each, optionally titled."""
    print_table(_COLUMNS, (_row(v) for v in volumes), title=title)


def dump_created(created: Sequence[Volume], failed: Sequence[tuple[Any, BaseException]]) -> None:
    """Print what a create did as ``--json`` shows it: ``{"created": [...], "failed": [...]}``."""
    dump_json(
        {
            "created": [converter.unstructure(v) for v in created],
            "failed": [failure_json(converter.unstructure(spec), err) for spec, err in failed],
        }
    )
