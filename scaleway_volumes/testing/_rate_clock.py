"""The clock the fake's rate limit refills by: real time, and a test's virtual time too.

Under trio's ``MockClock`` or an asyncio loop on virtual time, the client's limiters
pace in the test's time (``scaleway_volumes._pacing._sleep``): a pause of a second
ends at once. A bucket refilled by real time alone then saw almost no time go by
between paced requests and refused nearly all of them (20 creates at 5 req/s under
a ``MockClock``: 2 created, 662 429s, and the bulk call gave up after four virtual
minutes).
"""

from __future__ import annotations

import time

import sniffio

from .._pacing._sleep import virtual_time

__all__ = ["RateClock"]


class RateClock:
    """``time.monotonic()``, plus the virtual time that went by while requests were
    made under a test's virtual clock.

    Under a real clock (asyncio's, trio's own, or outside any event loop: the TCP
    server's thread, a test setting a rate) this is ``time.monotonic()``. Under a
    virtual one, read from the in-process transport in the test's loop, the time
    that clock moved on since it was last read is added. So the bucket never sees
    less time go by than a client's pacing does (real time, plus the pauses the
    virtual clock skipped), only a little more: the real time spent in those
    pauses. A clock read for the first time, or another loop's, adds nothing until
    read again.

    Not thread-safe: its bucket's owner serialises the calls.
    """

    __slots__ = ("_at", "_clock", "_moved")

    def __init__(self) -> None:
        self._clock: object = None  # the virtual clock read last: a loop, a MockClock
        self._at = 0.0  # its time then
        self._moved = 0.0  # virtual seconds counted, in all

    def __call__(self) -> float:
        current = _virtual_time()
        if current is not None:
            clock, now = current
            if clock is self._clock:
                self._moved += max(0.0, now - self._at)
            self._clock, self._at = clock, now
        return time.monotonic() + self._moved


def _virtual_time() -> tuple[object, float] | None:
    """``virtual_time()``, and None outside any event loop."""
    try:
        return virtual_time()
    except sniffio.AsyncLibraryNotFoundError:
        return None
