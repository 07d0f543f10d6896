"""Sleeping until a moment more precisely than the event loop's timers allow.

asyncio and trio wait for their timers in ``epoll_wait``, whose timeout counts
whole milliseconds, rounded up: a 2.5 ms pause lasts about 3.1 ms. Pacing 400
requests per second that way sends one in six too few, and against a gateway
that allows no burst that is all lost (docs/rate-limiting.md, "Timer
precision"). Short pauses are therefore slept in a worker thread, whose
``time.sleep`` wakes within tens of microseconds, and handed back to the loop;
the hand-over's own delay is learnt and slept off in advance.
"""

from __future__ import annotations

import time

import anyio
import anyio.lowlevel
import anyio.to_thread

__all__ = ["PRECISE_BELOW", "Sleeper", "next_lead"]

#: Pauses at least this long use the loop's timer: its error (under 1.2 ms) is
#: a small share of them, and a thread costs more CPU than a timer.
PRECISE_BELOW = 0.02
#: How far ahead of the moment the thread wakes at most, and how fast the lead
#: follows the measured hand-over delay.
MAX_LEAD = 0.001
GAIN = 0.25


def next_lead(lead: float, late: float) -> float:
    """The hand-over delay to plan for next time, after waking ``late`` seconds after
    the moment (negative: early) having planned for ``lead``."""
    return min(max(lead + GAIN * late, 0.0), MAX_LEAD)


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


class Sleeper:
    """Sleeps until a ``time.monotonic()`` moment, and returns at it or just after."""

    __slots__ = ("lead",)

    def __init__(self) -> None:
        # What a thread's wake-up and the hand-over to the loop took lately.
        self.lead = 0.0002

    async def until(self, moment: float) -> None:
        """Return once ``time.monotonic() >= moment`` (cancellable throughout)."""
        delay = moment - time.monotonic()
        if delay >= PRECISE_BELOW:
            await anyio.sleep(delay)
            return
        if delay > self.lead:
            # abandon_on_cancel: a cancelled caller leaves at once; the thread
            # finishes its short sleep alone.
            await anyio.to_thread.run_sync(_sleep_until, moment - self.lead, abandon_on_cancel=True)
            self.lead = next_lead(self.lead, time.monotonic() - moment)
        # The rest is shorter than a hand-over (tens of microseconds at most): let
        # the loop run until it passes. No event could end it sooner.
        while time.monotonic() < moment:
            await anyio.lowlevel.checkpoint()
