"""Checks of the caller's arguments: types and shapes only, before any request.

Business rules (minimum sizes, known volume types, growing only) are the API's
to judge, so a volume type the API adds tomorrow works today.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import httpx

from ._constants import MARKER_TAG_PREFIX

__all__ = [
    "as_float",
    "check_bool",
    "check_deadline",
    "check_name",
    "check_number",
    "check_optional_str",
    "check_per_page",
    "check_size",
    "check_str",
    "check_tag_filter",
    "check_tags",
    "tag_items",
    "timeout_dict",
]

T = TypeVar("T")


def check_bool(label: str, value: object) -> bool:
    """``value`` when it is ``True`` or ``False``; else a ``TypeError`` naming ``label``.

    Truthiness would misread the likely mistakes: ``"false"`` and ``"no"`` are
    true, ``None`` (an unset variable) false, so ``create_marker=None`` would turn
    off the duplicate protection and ``missing_ok="no"`` would hide a 404.
    """
    if not isinstance(value, bool):
        raise TypeError(f"{label} must be True or False, got {value!r}")
    return value


def check_name(name: object) -> str:
    """A non-empty name."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return name


def check_size(size: object, label: str = "size") -> int:
    """A positive int number of bytes (not a float, bool or string)."""
    if type(size) is not int:
        raise TypeError(f"{label} must be an int number of bytes, got {type(size).__name__}")
    if size <= 0:
        raise ValueError(f"{label} must be a positive number of bytes, got {size}")
    return size


def tag_items(tags: Iterable[T]) -> list[T]:
    """The items of ``tags``; ``TypeError`` for a lone string, a mapping or anything
    not iterable (the type says a collection, callers may pass anything)."""
    if isinstance(tags, (str, bytes)):
        raise TypeError("tags must be an iterable of strings, not a single string")
    # A mapping would give its keys alone (``{"env": "prod"}``: "env", "prod" lost).
    if isinstance(tags, Mapping) or not isinstance(tags, Iterable):
        raise TypeError(f"tags must be an iterable of strings, got {type(tags).__name__}")
    return list(tags)


def check_tag_filter(tags: Iterable[str] | None) -> list[str] | None:
    """Tags to filter a listing by: a list of non-empty strings (None stays None).

    A marker tag (``scaleway-volumes:create=...``) is a valid filter: it is how
    a resource whose create had an unknown outcome is found.
    """
    if tags is None:
        return None
    checked = tag_items(tags)
    for tag in checked:
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"every tag must be a non-empty string, got {tag!r}")
    return checked


def check_tags(tags: Iterable[str] | None) -> list[str] | None:
    """Tags to write on a create or update: as ``check_tag_filter``, and none may
    start with the reserved marker prefix (None stays None).

    The models hide tags with that prefix (the library's create markers), so a
    caller's own would vanish from ``tags`` and the next
    ``update(tags=[*v.tags, ...])`` would drop it.
    """
    checked = check_tag_filter(tags)
    for tag in checked or ():
        if tag.startswith(MARKER_TAG_PREFIX):
            raise ValueError(
                f"tag {tag!r} starts with {MARKER_TAG_PREFIX!r}, a prefix reserved for "
                "the library's create markers (see docs/marker-tag.md)"
            )
    return checked


def check_str(label: str, value: object) -> str:
    """A non-empty string; None is not one (an argument with a default is left out instead)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{label} must be a non-empty string, got {value!r}")
    return value


def check_optional_str(label: str, value: object) -> str | None:
    """None, or a non-empty string."""
    return None if value is None else check_str(label, value)


def check_per_page(per_page: object, maximum: int) -> int:
    """A page size from 1 to the API's ``maximum``."""
    if type(per_page) is not int or not 1 <= per_page <= maximum:
        raise ValueError(f"per_page must be an int from 1 to {maximum}, got {per_page!r}")
    return per_page


def as_float(number: float) -> float:
    """``float(number)``, but an int too large for a float is ``±math.inf``, not ``OverflowError``.

    ```python
    as_float(10**400)   # inf: a bound (seconds, a rate) that large bounds nothing
    ```
    """
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def check_number(
    name: str, value: object, *, unit: str, positive: bool = True, finite: bool = True
) -> float:
    """``value`` as a float once checked: a number (not a bool), not NaN, ``> 0``
    (``positive``) or ``>= 0``, and finite unless ``finite=False`` (an int too large
    for a float is infinite); else a ``TypeError`` or ``ValueError`` naming ``name``.

    ```python
    check_number("rate", 50, unit="requests per second")   # 50.0
    ```
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of {unit}, got {value!r}")
    number = as_float(value)
    # NaN fails both comparisons: refused with the numbers out of range.
    if not (number > 0 if positive else number >= 0) or (finite and number == math.inf):
        if positive:
            kind = (
                f"a positive, finite number of {unit}" if finite else f"a positive number of {unit}"
            )
        else:
            kind = f"a finite number of {unit} >= 0" if finite else f"{unit} >= 0 (inf allowed)"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return number


def check_deadline(deadline: object) -> float | None:
    """None, or a positive number of seconds; ``inf`` (or an int too large for a float) is None.

    Both mean no bound, and the asyncio deadline timer cannot be set at infinity.
    """
    if deadline is None:
        return None
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not deadline > 0:
        raise ValueError(f"deadline must be > 0 seconds or None, got {deadline!r}")
    seconds = as_float(deadline)
    return None if seconds == math.inf else seconds


def timeout_dict(timeout: object) -> dict[str, float | None]:
    """httpx's per-request timeout extension from seconds or an ``httpx.Timeout``.

    An ``httpx2.Timeout`` is taken too (the natural one beside an httpx2
    client). Every part is a positive number of seconds or None (httpx's "no
    timeout"). An infinite part (or an int too large for a float) is None too:
    the aiohttp transport cannot arm a timer at infinity. Zero, a negative
    number or NaN is a ValueError naming the part: aiohttp would take it for "no
    timeout" where httpcore under trio times out at once (or raises on NaN
    mid-request), so one value would mean two things.
    """
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = _timeout_part("timeout", timeout, "")
        return dict.fromkeys(("connect", "read", "write", "pool"), seconds)
    if not isinstance(timeout, _timeout_classes()):
        raise TypeError(
            f"timeout must be seconds or an httpx.Timeout (or httpx2.Timeout), got {timeout!r}"
        )
    parts: dict[str, Any] = timeout.as_dict()  # type: ignore[attr-defined]
    return {
        part: None if value is None else _timeout_part(f"timeout.{part}", value, " or None")
        for part, value in parts.items()
    }


def _timeout_classes() -> tuple[type, ...]:
    # httpx2 is optional and costs its import: an httpx2.Timeout can only exist
    # once something imported httpx2.
    httpx2 = sys.modules.get("httpx2")
    return (httpx.Timeout,) if httpx2 is None else (httpx.Timeout, httpx2.Timeout)


def _timeout_part(label: str, value: object, alternative: str) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(
            f"{label} must be a positive number of seconds{alternative}, got {value!r}"
        )
    seconds = as_float(value)
    return None if seconds == math.inf else seconds
