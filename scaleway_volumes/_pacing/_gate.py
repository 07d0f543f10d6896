"""Waiting for a turn: the FIFO line every limiter of this package shares."""

from __future__ import annotations

import contextlib
import math
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from time import monotonic as _monotonic
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

    One thread at a time: a caller that must line up while another thread's
    event loop has callers in line gets a ``RuntimeError`` (dropping that line
    would leave its callers waiting forever). A request ending in another
    thread still wakes the line, through its loop's thread-safe call.
    """

    __slots__ = (
        "_blocked",
        "_line",
        "_line_loop",
        "_line_thread",
        "_refill",
        "_release_event",
        "schedule",
        "sleeper",
    )

    def __init__(self, schedule: Schedule, refill: Refill | None = None) -> None:
        self.schedule = schedule
        self._refill = refill
        self._line: deque[anyio.Event] = deque()
        self._line_loop: object = None
        self._line_thread = 0
        self._release_event: anyio.Event | None = None
        #: Its pauses, and the pacing's clock (``Sleeper.now``).
        self.sleeper = Sleeper()
        # Whether the head of the line waits for the schedule (a delay, a
        # request to end, a refill). While it does not, the line is only
        # handing over from one waiter to the next, and a newcomer the schedule
        # has a slot for may go at once: otherwise, with many callers and no
        # pacing, a line formed at start-up would never drain and every request
        # would pay for an event and a hand-over.
        self._blocked = False

    def now(self) -> float:
        """The pacing's clock, in seconds: what ``schedule.reserve`` and the answers'
        times are read on (``time.monotonic()``, but under a test's virtual clock;
        see ``_sleep``)."""
        return self.sleeper.now()

    @property
    def waiting(self) -> int:
        """Callers in line now."""
        return len(self._line)

    async def wait_turn(self) -> float:
        """Wait until the schedule gives this caller a slot; return the time it did."""
        if not self._line or not self._blocked:
            # Sleeper.now, inline: this is every request's path.
            now = _monotonic() + self.sleeper.ahead
            if self.schedule.reserve(now) == 0.0:
                return now
        return await self._wait_in_line()

    def wake(self) -> None:
        """A request ended: wake the head of the line if it waits for one."""
        event = self._release_event
        if event is not None:
            self._release_event = None
            if threading.get_ident() != self._line_thread:
                _set_from_another_thread(self._line_loop, event)
                return
            with contextlib.suppress(RuntimeError):  # its loop has ended: nobody waits
                event.set()

    async def _wait_in_line(self) -> float:
        loop = anyio.lowlevel.current_token().native_token
        if loop is not self._line_loop:
            if self._line and _still_running(self._line_loop, self._line_thread):
                raise RuntimeError(
                    "a rate limiter is used by two event loops at once (two threads?): "
                    "another loop's callers wait in its line. Give each thread a limiter "
                    "of its own (RedisRateLimiters of one name share their limit)"
                )
            # Whoever waited in another event loop, now ended, can never be woken.
            self._line = deque()
            self._line_loop = loop
            self._line_thread = threading.get_ident()
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
                now = self.sleeper.now()
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
                        await self.sleeper.until(now + delay)
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


def _still_running(loop: object, thread: int) -> bool:
    """Whether the event loop ``loop`` (an asyncio loop or a trio token) may still
    wake the callers in its line: it runs in thread ``thread``, another one, still
    alive, and (asyncio) it is not closed. A loop of this thread does not run
    while we do."""
    if thread == threading.get_ident() or all(t.ident != thread for t in threading.enumerate()):
        return False
    is_closed = getattr(loop, "is_closed", None)
    return is_closed is None or not is_closed()


def _set_from_another_thread(loop: object, event: anyio.Event) -> None:
    """Set ``event`` of ``loop`` (an asyncio loop or a trio token) from a thread
    that does not run it: through the loop, which an ``Event`` set directly
    from here might not wake (asyncio) or refuses (trio)."""
    call = getattr(loop, "call_soon_threadsafe", None) or getattr(loop, "run_sync_soon", None)
    if call is not None:
        # The loop has ended (RuntimeError, trio's RunFinishedError): nobody waits.
        with contextlib.suppress(RuntimeError):
            call(event.set)
