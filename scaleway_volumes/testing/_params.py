"""Reading request bodies and query strings, the same way for both APIs (and checking
the helpers' arguments)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "MAX_SIZE",
    "MIN_SIZE",
    "int_param",
    "is_uuid",
    "parse_body",
    "size_problem",
    "tag_list",
]

MIN_SIZE = 1_000_000_000
MAX_SIZE = 10_000_000_000_000

UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


def is_uuid(value: object) -> bool:
    """Tell whether ``value`` is a UUID string in its canonical 8-4-4-4-12 form."""
    return isinstance(value, str) and UUID_RE.match(value) is not None


def parse_body(body: bytes) -> dict[str, Any] | None:
    """The JSON object of a request body, top-level nulls dropped; ``None`` if not an object."""
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    # Explicit nulls mean "not set", as for the real APIs' optional fields.
    return {k: v for k, v in obj.items() if v is not None}


def size_problem(value: object) -> str | None:
    """Why ``value`` is not an acceptable volume size in bytes, or ``None`` if it is."""
    if not isinstance(value, int) or isinstance(value, bool):
        return "must be an integer"
    if value < MIN_SIZE:
        return f"must be greater than or equal to {MIN_SIZE}"
    if value > MAX_SIZE:
        return f"must be less than or equal to {MAX_SIZE}"
    return None


def int_param(raw: str | None, default: int, low: int, high: int | None) -> tuple[int, str | None]:
    """A query parameter as an int in ``[low, high]``: ``(value, None)`` or ``(_, problem)``."""
    if raw is None:
        return default, None
    try:
        value = int(raw)
    except ValueError:
        return default, "must be an integer"
    if value < low:
        return value, f"must be greater than or equal to {low}"
    if high is not None and value > high:
        return value, f"must be less than or equal to {high}"
    return value, None


def tag_list(tags: Iterable[str]) -> list[str]:
    """A helper's ``tags`` as a list; ``TypeError`` unless an iterable of strings (a lone
    string, which would be split into letters, included)."""
    if isinstance(tags, (str, bytes, bytearray)):
        raise TypeError(f"tags must be an iterable of strings, not one string: [{tags!r}]?")
    try:
        items = list(tags)
    except TypeError:
        raise TypeError(f"tags must be an iterable of strings, not {tags!r}") from None
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"tags must be strings, not {item!r}")
    return items
