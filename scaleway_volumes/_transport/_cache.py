"""A bounded memo for values the request path derives again and again."""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Memo"]

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Remembers up to ``size`` values; when full, forgets them all and starts over.

    The keys it serves are few and repeat (one URL per collection, one set of
    headers per body length), so the simplest bound is enough: odd keys can
    never grow it without limit, and clearing costs nothing on the hot path.
    """

    __slots__ = ("_size", "_values")

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._values: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        """The remembered value of ``key``, or None."""
        return self._values.get(key)

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key`` and return it."""
        if len(self._values) >= self._size:
            self._values.clear()
        self._values[key] = value
        return value

    def __len__(self) -> int:
        return len(self._values)
