"""What every response decoder shares: JSON loading, timestamps, tags, error paths.

Timestamps are read by ``_timestamps.parse_datetime``, re-exported here.

No converter here (that is ``_converter.py``) and no model: the Instance
decoders (``_convert.py``) and the Block ones (``_decode_block.py``) both build
on these, so the rules for a bad body are written once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs
import cattrs

from ._constants import MARKER_TAG_PREFIX
from ._errors import ResponseDecodeError
from ._json import loads
from ._timestamps import iso_for_py310, parse_datetime

__all__ = [
    "MarkedPage",
    "NotPlain",
    "decode_error",
    "fast_date",
    "fast_tags",
    "iso_for_py310",
    "load_object",
    "opt_str",
    "parse_datetime",
    "share",
    "structure_or_raise",
    "visible_tags",
]

T = TypeVar("T")

# For values of a small, fixed set (states, types, zones): one copy each for good.
intern = sys.intern

_SHARED: dict[str, str] = {}
_SHARED_MAX = 4096


def share(value: str) -> str:
    """One copy of ``value`` for the models that hold it, as ``intern`` gives, but
    bounded: the tags and project ids a long-running worker sees have no limit, and
    interned strings are immortal from Python 3.12 on. Past ``_SHARED_MAX`` values
    the table starts again, so recent values are the ones shared.
    """
    shared = _SHARED.get(value)
    if shared is not None:
        return shared
    if len(_SHARED) >= _SHARED_MAX:
        _SHARED.clear()
    _SHARED[value] = value
    return value


class NotPlain(Exception):
    """A fast decoder met something it does not handle: let cattrs judge it."""


# -- tags ----------------------------------------------------------------------

_TAG_TUPLES: dict[tuple[str, ...], tuple[str, ...]] = {}
_TAG_TUPLES_MAX = 4096


def visible_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The tags a user set: without the marker the library adds to every create.

    The marker (``scaleway-volumes:create=<hex>``) is the library's bookkeeping
    for duplicate-free retries; it stays on the volume, but ``Volume.tags``
    shows what was asked for, so a created volume compares equal to its spec's
    tags and ``update_volume(v, tags=[*v.tags, "x"])`` keeps meaning what it says.
    """
    visible = tuple(share(t) for t in tags if not t.startswith(MARKER_TAG_PREFIX))
    # Volumes made together share their tags: one tuple for them all keeps a
    # 100 000-volume result small. Bounded, so odd tag sets cannot grow it forever.
    shared = _TAG_TUPLES.get(visible)
    if shared is not None:
        return shared
    if len(_TAG_TUPLES) < _TAG_TUPLES_MAX:
        _TAG_TUPLES[visible] = visible
    return visible


# -- fast-path helpers: anything unusual raises NotPlain -------------------------


def opt_str(value: Any, *, interned: bool = False, shared: bool = False) -> str | None:
    """``value`` if it is a string or None, else ``NotPlain``; ``interned`` (a value of
    a fixed set) or ``shared`` (one of an open set, ``share``) on request."""
    if value is None:
        return None
    if type(value) is not str:
        raise NotPlain
    if interned:
        return intern(value)
    return share(value) if shared else value


def fast_date(value: Any) -> datetime | None:
    """A timestamp or None; ``NotPlain`` for anything the converter must judge."""
    if value is None:
        return None
    if type(value) is not str:
        raise NotPlain
    try:
        return parse_datetime(value)
    except ValueError:
        raise NotPlain from None


def fast_tags(value: Any) -> tuple[str, ...]:
    """The visible tags of a raw ``tags`` value; pass ``get("tags", ())`` for "missing"."""
    if type(value) is list:
        for tag in value:
            if type(tag) is not str:
                raise NotPlain
        return visible_tags(value) if value else ()
    if value == ():
        return ()
    raise NotPlain  # null, a string, a number: the converter decides


# -- bodies and errors -----------------------------------------------------------


def load_object(content: bytes, status_code: int | None) -> dict[str, Any]:
    """The JSON object of a body, or ``ResponseDecodeError`` at ``$``."""
    try:
        data = loads(content)
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError both are
        raise ResponseDecodeError(
            f"response body is not valid JSON ({err})", path="$", status_code=status_code
        ) from err
    if not isinstance(data, dict):
        raise ResponseDecodeError(
            f"expected a JSON object, got {type(data).__name__}", path="$", status_code=status_code
        )
    return data


# cattrs names attributes in its paths; the path a user reads is the JSON's.
_ATTRIBUTE_NAMES = re.compile(r"\.class_(?=[.\[]|$)")


def _first_error(exc: Exception, root: str) -> tuple[str, str]:
    """(message, path) of the first problem cattrs found, e.g. ``$.volume.size``."""
    if isinstance(exc, (cattrs.BaseValidationError, TypeError, ValueError, KeyError)):
        for line in cattrs.transform_error(exc, path=root):
            message, sep, path = line.rpartition(" @ ")
            if sep:
                return message, _ATTRIBUTE_NAMES.sub(".class", path)
            return line, root
    return str(exc), root


def decode_error(err: Exception, status_code: int | None, root: str = "$") -> ResponseDecodeError:
    """The ``ResponseDecodeError`` that explains what cattrs refused, with its path."""
    message, path = _first_error(err, root)
    return ResponseDecodeError(message, path=path, status_code=status_code)


def structure_or_raise(
    data: dict[str, Any],
    hook: Callable[[Any, Any], T],
    key: str,
    status_code: int | None,
) -> T:
    """``hook(data)`` for an envelope that must hold ``key``; errors name their path."""
    if key not in data:
        raise ResponseDecodeError(
            f"expected the {key!r} envelope, got keys {sorted(data)[:5]}",
            path=f"$.{key}",
            status_code=status_code,
        )
    try:
        return hook(data, None)
    except Exception as err:
        raise decode_error(err, status_code) from err


@attrs.frozen
class MarkedPage(Generic[T]):
    """One page of a create-marker lookup: what to paginate on, and the match if any.

    ``ids`` are the page's item ids in order (what ``Paginator.feed`` takes),
    ``total_count`` the body's count (None when the body has none, as on the
    Instance API), ``found`` the decoded item whose raw tags hold the marker.
    """

    ids: list[str]
    total_count: int | None = None
    found: T | None = None
