"""Sleeping until a moment more precisely than the event loop's timers allow.

asyncio and trio wait for their timers in ``epoll_wait``, whose timeout counts
whole milliseconds, rounded up: a 2.5 ms pause lasts about 3.1 ms. Pacing 400
requests per second that way sends one in six too few, and against a gateway
that allows no burst that is all lost (docs/rate-limiting.md, "Timer
precision"). Short pauses are therefore slept in a worker thread, whose
``time.sleep`` wakes within tens of microseconds, and handed back to the loop;
the hand-over's own delay is learnt and slept off in advance.

Those threads are counted by a limiter of their own, not anyio's default one: the
host app owns that one (FastAPI and Starlette run every sync endpoint through it),
and a pause waiting for its tokens would last as long as the app's slowest work.

A test may run its event loop on a virtual clock (trio's ``MockClock``; on
asyncio, a loop whose ``time()`` is not ``time.monotonic()``), whose timers end
at once with no real time gone. Read by ``time.monotonic()`` alone, a limiter
then found its slot still ahead after each pause and paused again: it paced in
real time while the virtual clock ran forward by hours, and a test's
``fail_after`` fired. So a ``Sleeper`` is also the pacing's clock
(``Sleeper.now``): ``time.monotonic()`` plus the pauses a virtual clock skipped,
and under one every pause is the loop's timer.
"""

from __future__ import annotations

import asyncio
import time

import anyio
import anyio.lowlevel
import anyio.to_thread
import sniffio

__all__ = [
    "PAUSE_THREADS",
    "PRECISE_BELOW",
    "Sleeper",
    "next_lead",
    "pause_threads",
    "virtual_clock",
    "virtual_time",
]

#: Pauses at least this long use the loop's timer: its error (under 1.2 ms) is
#: a small share of them, and a thread costs more CPU than a timer.
PRECISE_BELOW = 0.02
#: Pauses slept in threads at once, per event loop. Only the head of a limiter's
#: line pauses, so this is how many limiters may pause in threads at the same
#: moment; any more (an app with a limiter per tenant, all pacing) use the loop's
#: timer meanwhile, about a millisecond less precise, and never wait for a thread.
#: A thread is held at most ``PRECISE_BELOW`` seconds, so 8 are rarely all busy.
PAUSE_THREADS = 8
#: How far ahead of the moment the thread wakes at most, and how fast the lead
#: follows the measured hand-over delay.
MAX_LEAD = 0.001
GAIN = 0.25


def next_lead(lead: float, late: float) -> float:
    """The hand-over delay to plan for next time, after waking ``late`` seconds after
    the moment (negative: early) having planned for ``lead``."""
    return min(max(lead + GAIN * late, 0.0), MAX_LEAD)


_threads: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar(
    "scaleway_volumes.pause_threads"
)


def pause_threads() -> anyio.CapacityLimiter:
    """This event loop's limiter of the pacing's threads (made at first use)."""
    try:
        return _threads.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(PAUSE_THREADS)
        _threads.set(limiter)
        return limiter


#: A loop's clock this far from ``time.monotonic()`` is not the real one.
VIRTUAL_APART = 1.0


def virtual_clock() -> bool:
    """Whether the running event loop keeps a virtual time (a test's): trio's
    ``MockClock``, or an asyncio loop whose clock is not ``time.monotonic()``
    (asyncio's own reads it; uvloop's within a millisecond)."""
    return virtual_time() is not None


def virtual_time() -> tuple[object, float] | None:
    """The running event loop's virtual clock (the asyncio loop, or trio's
    ``MockClock``) and its time now; None under a real clock (``virtual_clock``)."""
    library = sniffio.current_async_library()
    if library == "asyncio":
        loop = asyncio.get_running_loop()
        now = loop.time()
        return (loop, now) if abs(now - time.monotonic()) > VIRTUAL_APART else None
    if library == "trio":
        import trio.lowlevel  # only ever running under it: not a dependency
        import trio.testing

        clock = trio.lowlevel.current_clock()
        if isinstance(clock, trio.testing.MockClock):
            return clock, trio.current_time()
    return None


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


class Sleeper:
    """Sleeps until a moment of its clock (``now``), and returns at it or just after."""

    __slots__ = ("ahead", "lead")

    def __init__(self) -> None:
        # What a thread's wake-up and the hand-over to the loop took lately.
        self.lead = 0.0002
        # The pauses a virtual clock skipped, in all (0.0 under a real one).
        self.ahead = 0.0

    def now(self) -> float:
        """The pacing's time: ``time.monotonic()``, plus the pauses a test's virtual
        clock skipped (none under a real one)."""
        return time.monotonic() + self.ahead

    async def until(self, moment: float) -> None:
        """Return once ``now() >= moment`` (cancellable throughout)."""
        delay = moment - self.now()
        if delay <= 0:
            return
        if delay >= PRECISE_BELOW or virtual_clock():
            await anyio.sleep(delay)
            late = moment - self.now()
            if late > 0 and virtual_clock():
                # The timer ended with little or no real time gone: the pacing's
                # clock moves on to the moment. (A real clock coarser than the
                # loop's, as Windows' before Python 3.13, is not moved: the
                # caller finds the rest and waits for it.)
                self.ahead += late
            return
        # Real time from here: the moment on ``time.monotonic()``'s scale.
        moment -= self.ahead
        if delay > self.lead:
            threads = pause_threads()
            if threads.available_tokens < 1:
                # Every pause thread is busy: the loop's timer, a little late.
                await anyio.sleep(delay)
            else:
                # abandon_on_cancel: a cancelled caller leaves at once; the thread
                # finishes its short sleep alone.
                await anyio.to_thread.run_sync(
                    _sleep_until, moment - self.lead, abandon_on_cancel=True, limiter=threads
                )
                self.lead = next_lead(self.lead, time.monotonic() - moment)
        # The rest is shorter than a hand-over (tens of microseconds at most): let
        # the loop run until it passes. No event could end it sooner.
        while time.monotonic() < moment:
            await anyio.lowlevel.checkpoint()
