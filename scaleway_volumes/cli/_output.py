"""What commands print on stdout: tables for people, JSON with ``--json``.

Progress and errors go to stderr (``_progress``, ``_errors``), so stdout holds
only the result and pipes cleanly into ``jq``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console, JustifyMethod
from rich.table import Table

from ._errors import hint, one_line, waited_id
from ._sizes import human_size

__all__ = ["Column", "dump_json", "failure_json", "print_record", "print_table"]


def _stdout_console() -> Console:
    # Off a terminal rich would lay tables out for 80 columns and fold the ids.
    width = None if sys.stdout.isatty() else 200
    # Cells hold what the API sent (names, tags, a config path): rich must print
    # them as they are, not read "[bold]" or "[/]" as markup or ":fire:" as an
    # emoji code (a stray "[/]" would even raise). Our styling goes through
    # styles (the field column's bold), which need neither.
    return Console(width=width, soft_wrap=False, markup=False, emoji=False)


def dump_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout."""
    click.echo(json.dumps(obj, indent=2))


def failure_json(item: Any, error: BaseException) -> dict[str, Any]:
    """One failed item of a bulk call, as ``--json`` shows it.

    ``{"input": item, "error": <one line>, "hint": <what to do next, or null>}``,
    and ``"id"`` when the error names a resource the item made, which exists
    (``waited_id``: a volume not available in time, or in error).
    """
    failure = {"input": item, "error": one_line(error), "hint": hint(error)}
    made = waited_id(error)
    if made is not None:
        failure["id"] = made
    return failure


@dataclass(frozen=True)
class Column:
    """A table column: its header, whether its cells may wrap, where they sit."""

    header: str
    no_wrap: bool = False
    justify: JustifyMethod = "left"


def print_table(
    columns: Sequence[Column], rows: Iterable[Sequence[str]], title: str | None = None
) -> None:
    """Print one row per resource under ``columns``, optionally titled.

    Every cell prints exactly as given: ``[bold]prod`` is a name, not markup.
    """
    table = Table(title=title)
    for column in columns:
        table.add_column(column.header, no_wrap=column.no_wrap, justify=column.justify)
    for row in rows:
        table.add_row(*row)
    _stdout_console().print(table)


def _pairs(value: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in value.items() if v is not None)


def _field_text(key: str, value: Any) -> str:
    if key == "size" and isinstance(value, int):
        return f"{human_size(value)} ({value} bytes)"
    if key == "tags":
        value = ", ".join(value)
    elif isinstance(value, dict):
        value = _pairs(value)
    elif isinstance(value, list):
        # e.g. a Block volume's references: one line each.
        value = "\n".join(_pairs(v) if isinstance(v, dict) else str(v) for v in value)
    return "-" if value in (None, "") else str(value)


def print_record(fields: Mapping[str, Any]) -> None:
    """Print one resource (its unstructured fields) as a two-column field/value table.

    Sizes read ``10 GB (10000000000 bytes)``, tags are joined, nested objects
    show as ``key=value`` pairs (a list of them one per line), empty values as
    ``-``; values print exactly as given, as in ``print_table``.
    """
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in fields.items():
        table.add_row(key, _field_text(key, value))
    _stdout_console().print(table)
