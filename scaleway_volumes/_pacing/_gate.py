"""Waiting for a turn: the FIFO line every limiter of this package shares."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

import anyio
import anyio.lowlevel

from ._sleep import Sleeper

__all__ = ["REFILL", "Gate", "Schedule"]

#: What ``Schedule.reserve`` returns when the gate must ``await refill(waiting)`` first.
REFILL = -1.0


class Schedule(Protocol):
    """What a gate asks before letting a request go."""

    def reserve(self, now: float) -> float:
        """Take a slot now (0.0), or say how long to wait (``inf``: until a request
        ends; ``REFILL``: until the gate has awaited its refill)."""
        ...


Refill = Callable[[int], Awaitable[None]]


class Gate:
    """Lets requests through one at a time, in arrival order, when ``schedule`` allows.

    The fast path, when nobody waits and the schedule has a slot, creates nothing
    and awaits nothing. Otherwise callers line up: only the first in line sleeps
    (for the delay the schedule asks, until a request ends, or while ``refill``
    runs), then hands the head of the line to the next. Nothing is bound to an
    event loop at construction: the events of a line are made by the loop that
    waits, and a line left behind by a loop that is gone is dropped, so one gate
    serves successive ``asyncio.run()`` calls and trio. A cancelled waiter leaves
    the line and takes nothing.
    """

    __slots__ = (
        "_blocked",
        "_line",
        "_line_loop",
        "_refill",
        "_release_event",
        "_sleeper",
        "schedule",
    )

    def __init__(self, schedule: Schedule, refill: Refill | None = None) -> None:
        self.schedule = schedule
        self._refill = refill
        self._line: deque[anyio.Event] = deque()
        self._line_loop: object = None
        self._release_event: anyio.Event | None = None
        self._sleeper = Sleeper()
        # Whether the head of the line waits for the schedule (a delay, a
        # request to end, a refill). While it does not, the line is only
        # handing over from one waiter to the next, and a newcomer the schedule
        # has a slot for may go at once: otherwise, with many callers and no
        # pacing, a line formed at start-up would never drain and every request
        # would pay for an event and a hand-over.
        self._blocked = False

    @property
    def waiting(self) -> int:
        """Callers in line now."""
        return len(self._line)

    async def wait_turn(self) -> float:
        """Wait until the schedule gives this caller a slot; return the time it did."""
        if not self._line or not self._blocked:
            now = time.monotonic()
            if self.schedule.reserve(now) == 0.0:
                return now
        return await self._wait_in_line()

    def wake(self) -> None:
        """A request ended: wake the head of the line if it waits for one."""
        event = self._release_event
        if event is not None:
            self._release_event = None
            event.set()

    async def _wait_in_line(self) -> float:
        loop = anyio.lowlevel.current_token().native_token
        if loop is not self._line_loop:
            # Whoever waited in another event loop can never be woken from this one.
            self._line = deque()
            self._line_loop = loop
            self._release_event = None
            self._blocked = False
        line = self._line
        me = anyio.Event()
        line.append(me)
        try:
            if line[0] is not me:
                await me.wait()
            schedule = self.schedule
            while True:
                now = time.monotonic()
                delay = schedule.reserve(now)
                if delay == 0.0:
                    return now
                self._blocked = True
                try:
                    if delay == REFILL and self._refill is not None:
                        await self._refill(len(line))
                    elif delay == math.inf:
                        event = self._release_event = anyio.Event()
                        await event.wait()
                    else:
                        await self._sleeper.until(now + delay)
                finally:
                    self._blocked = False
        finally:
            if line and line[0] is me:
                line.popleft()
                if line:
                    line[0].set()
            elif me in line:
                # Cancelled while waiting behind others: just leave the line.
                line.remove(me)
