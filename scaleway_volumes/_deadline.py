"""One bound on a whole call, retries and waits included."""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, cast

import anyio

__all__ = ["MIN_GRAIN", "expiry_slot", "grain", "run_within"]

T = TypeVar("T")

# Task.uncancel (Python 3.11+) lets a timeout tell its own cancellation from the
# caller's; without it (3.10) anyio's cancel scope does the bookkeeping.
_CAN_UNCANCEL = hasattr(asyncio.Task, "uncancel")
#: The finest slot of shared timers: bounds under 8 ms fire at most this late.
MIN_GRAIN = 2.0**-12


class _Task(Protocol):
    """What the lean path uses of an ``asyncio.Task`` (typed by hand: checks target 3.10)."""

    def get_loop(self) -> asyncio.AbstractEventLoop: ...
    def cancel(self) -> bool: ...
    def cancelling(self) -> int: ...
    def uncancel(self) -> int: ...


def run_within(
    seconds: float | None,
    call: Callable[[], Awaitable[T]],
    expired: Callable[[], BaseException],
) -> Awaitable[T]:
    """``call()`` bounded: awaiting it raises ``expired()`` after ``seconds`` (None: no bound).

    The error's ``__cause__`` is the one ``expired()`` gave it (the failure that
    held the call, when it knows one), else the timeout.

    A plain function returning what to await: every request of a bulk job passes
    through here, and each coroutine layer is paid again at every resumption.
    """
    if seconds is None:
        return call()
    return _bounded(seconds, call, expired)


def _asyncio_task() -> _Task | None:
    """The running asyncio task when the lean path applies (None under trio or on 3.10)."""
    if not _CAN_UNCANCEL:
        return None
    try:
        return cast("_Task | None", asyncio.current_task())
    except RuntimeError:  # no asyncio loop running: trio
        return None


def grain(seconds: float) -> float:
    """How late a bound of ``seconds`` may fire: the largest power of two at most
    ``seconds / 32`` (``MIN_GRAIN`` at least), so never more than about 3 % late."""
    return (
        max(2.0 ** math.floor(math.log2(seconds / 32.0)), MIN_GRAIN) if seconds > 0 else MIN_GRAIN
    )


def expiry_slot(now: float, seconds: float, step: float) -> float:
    """The end of the ``step``-wide slot in which ``now + seconds`` falls: when the
    shared timer of every bound ending in that slot fires (never before the bound)."""
    return math.ceil((now + seconds) / step) * step


class _Bound:
    """One bounded call waiting on a shared timer."""

    __slots__ = ("fired", "task")

    def __init__(self, task: _Task) -> None:
        self.task = task
        self.fired = False


class _Slot:
    """The calls whose bounds end in one slot, and the one timer that ends them."""

    __slots__ = ("bounds", "key", "owner")

    def __init__(self, owner: _Timers, key: float, loop: asyncio.AbstractEventLoop) -> None:
        # Weakly: the owner holds its slots, and a cycle between them would be
        # left for the garbage collector once their loop is gone.
        self.owner = weakref.ref(owner)
        self.key = key
        self.bounds: set[_Bound] = set()
        loop.call_at(key, self.fire)

    def fire(self) -> None:
        owner = self.owner()
        if owner is not None:
            owner.slots.pop(self.key, None)
        for bound in self.bounds:
            bound.fired = True
            bound.task.cancel()
        self.bounds = set()

    def leave(self, bound: _Bound) -> None:
        # An emptied slot keeps its timer, which will cancel nothing: the next
        # calls ending in the slot (one after another, as a web app makes them)
        # join it instead of each making and cancelling a timer of its own.
        self.bounds.discard(bound)


class _Timers:
    """The shared timers of one event loop, by the end of their slot."""

    __slots__ = ("__weakref__", "grains", "slots")

    def __init__(self) -> None:
        # No reference to the loop: these are the values of a weak dictionary
        # keyed by it, and would keep every finished loop alive.
        self.slots: dict[float, _Slot] = {}
        # A program uses a few bounds (a deadline or two per API copy).
        self.grains: dict[float, float] = {}

    def join(self, bound: _Bound, seconds: float, loop: asyncio.AbstractEventLoop) -> _Slot:
        """Put ``bound`` under the timer (in ``loop``) of the slot its ``seconds`` end in."""
        step = self.grains.get(seconds)
        if step is None:
            if len(self.grains) >= 64:
                self.grains.clear()
            step = self.grains[seconds] = grain(seconds)
        key = expiry_slot(loop.time(), seconds, step)
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = _Slot(self, key, loop)
        slot.bounds.add(bound)
        return slot


_TIMERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Timers] = weakref.WeakKeyDictionary()
# The last loop's timers, spared the weak dictionary's lookup (one tuple: a
# thread running another loop reads it whole, and sees it is not its own).
_last: tuple[asyncio.AbstractEventLoop, _Timers] | None = None


def _timers(loop: asyncio.AbstractEventLoop) -> _Timers:
    global _last
    last = _last
    if last is not None and last[0] is loop:
        return last[1]
    timers = _TIMERS.get(loop)
    if timers is None:
        timers = _TIMERS[loop] = _Timers()
    _last = (loop, timers)
    return timers


async def _bounded(
    seconds: float,
    call: Callable[[], Awaitable[T]],
    expired: Callable[[], BaseException],
) -> T:
    """``await call()`` within ``seconds``: anyio's cancel scope, or on asyncio a shared timer.

    On asyncio, calls whose bounds end within the same slot (1/32 of the bound,
    rounded down to a power of two) share one timer: a bulk job's thousand
    requests make a few dozen timers instead of a thousand, which kept asyncio's
    heap of timers shallow and saved 16 000 instructions per create of a bulk
    call (callgrind, docs/performance.md). A bound thus fires up to 3 % late,
    never early. The cancellation bookkeeping is ``asyncio.timeout``'s:
    the timer cancels the task, and only if no other cancellation arrived
    meanwhile (``uncancel`` brings the count back to where it was) does the
    ``CancelledError`` become ``expired()``. The task is the one that awaits,
    which need not be the one that called ``run_within``.
    """
    task = _asyncio_task()
    if task is None:
        try:
            with anyio.fail_after(seconds):
                return await call()
        except TimeoutError as exc:
            error = expired()
            raise error from (error.__cause__ or exc)
    cancelling = task.cancelling()
    bound = _Bound(task)
    loop = task.get_loop()
    slot = _timers(loop).join(bound, seconds, loop)
    try:
        result = await call()
    except asyncio.CancelledError:
        if bound.fired and task.uncancel() <= cancelling:
            error = expired()
            raise error from (error.__cause__ or TimeoutError(f"no answer within {seconds:g} s"))
        raise
    except BaseException:
        if bound.fired:
            task.uncancel()
        raise
    else:
        if bound.fired:  # it finished while its cancellation was on the way: take that back
            task.uncancel()
        return result
    finally:
        slot.leave(bound)
