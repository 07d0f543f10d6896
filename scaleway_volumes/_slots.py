"""A bound on requests in flight where some holders go first.

``create_volumes(wait=True)`` keeps many items past their create (waiting
for their volume) while others queue to create; its one poller must not
queue behind them, or volumes that are ready would be seen late. anyio's
``CapacityLimiter`` serves waiters in arrival order only, hence this.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio

__all__ = ["Slots"]


class Slots:
    """At most ``total`` holders at a time; ``hold(first=True)`` is served before the others.

    ```python
    slots = Slots(16)
    async with slots.hold():             # a create
        ...
    async with slots.hold(first=True):   # a poll: next in line whatever the queue
        ...
    ```
    """

    __slots__ = ("_all_free", "_first", "_free", "_others", "_total")

    def __init__(self, total: int) -> None:
        if type(total) is not int or total < 1:
            raise ValueError(f"total must be an int >= 1, got {total!r}")
        self._total = total
        self._free = total
        self._first: deque[anyio.Event] = deque()
        self._others: deque[anyio.Event] = deque()
        self._all_free: Callable[[], object] | None = None

    @property
    def free(self) -> int:
        """Slots nobody holds or has been handed."""
        return self._free

    @property
    def all_free(self) -> bool:
        """Whether nobody holds a slot."""
        return self._free == self._total

    def on_all_free(self, listener: Callable[[], object]) -> None:
        """Call ``listener()`` whenever the last holder gives its slot back.

        One listener: a second call replaces the first.
        """
        self._all_free = listener

    @asynccontextmanager
    async def hold(self, *, first: bool = False) -> AsyncIterator[None]:
        """Hold one slot for the body of the ``async with``."""
        await self.acquire(first=first)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, *, first: bool = False) -> None:
        """Take one slot, waiting in line for it; give it back with ``release``.

        ``hold`` is the safe form; this pair spares a hot path the context
        manager's generator.
        """
        if self._free and not self._first and not self._others:
            self._free -= 1
            return
        granted = anyio.Event()
        queue = self._first if first else self._others
        queue.append(granted)
        try:
            await granted.wait()
        except BaseException:
            if granted.is_set():
                # Handed the slot as the cancellation came: pass it on.
                self.release()
            else:
                queue.remove(granted)
            raise

    def release(self) -> None:
        """Give back a slot taken with ``acquire``."""
        # A slot freed goes straight to the next waiter, so nobody can overtake it.
        for queue in (self._first, self._others):
            if queue:
                queue.popleft().set()
                return
        self._free += 1
        if self._free == self._total and self._all_free is not None:
            self._all_free()
