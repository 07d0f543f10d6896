"""One bound on a whole call, retries and waits included."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, cast

import anyio

__all__ = ["run_within"]

T = TypeVar("T")

# Task.uncancel (Python 3.11+) lets a timeout tell its own cancellation from the
# caller's; without it (3.10) anyio's cancel scope does the bookkeeping.
_CAN_UNCANCEL = hasattr(asyncio.Task, "uncancel")


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


async def _bounded(
    seconds: float,
    call: Callable[[], Awaitable[T]],
    expired: Callable[[], BaseException],
) -> T:
    """``await call()`` within ``seconds``: anyio's cancel scope, or on asyncio a lean timer.

    The asyncio path does what ``asyncio.timeout(seconds)`` does, at half its
    cost: this runs once per call, so once per request of a bulk job, and
    ``asyncio.timeout``'s context manager (state machine, reschedule, repr
    support) costs about 5 µs, one timer handle about 2. The cancellation
    bookkeeping is the same: the timer cancels the task, and only if no other
    cancellation arrived meanwhile (``uncancel`` brings the count back to where
    it was) does the ``CancelledError`` become ``expired()``. The task is the
    one that awaits, which need not be the one that called ``run_within``.
    """
    task = _asyncio_task()
    if task is None:
        try:
            with anyio.fail_after(seconds):
                return await call()
        except TimeoutError as exc:
            raise expired() from exc
    loop = task.get_loop()
    cancelling = task.cancelling()
    fired = False

    def fire() -> None:
        nonlocal fired
        fired = True
        task.cancel()

    handle = loop.call_at(loop.time() + seconds, fire)
    try:
        result = await call()
    except asyncio.CancelledError:
        if fired and task.uncancel() <= cancelling:
            raise expired() from TimeoutError(f"no answer within {seconds:g} s")
        raise
    except BaseException:
        if fired:
            task.uncancel()
        raise
    else:
        if fired:  # it finished while its cancellation was on the way: take that back
            task.uncancel()
        return result
    finally:
        handle.cancel()
