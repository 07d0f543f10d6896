"""When ``create_volumes(wait=True)`` polls a volume next: decisions with no I/O.

A volume's next poll comes after a delay as long as its age (drawn in
[age/2, age], at least ``POLL_INITIAL``, at most ``POLL_CAP``): capped
exponential backoff with jitter. So each volume is polled about
log2(settle time / 0.1 s) times at most, and is seen at most about its own age
after it became available. Once one volume of the call is seen ready at age R
(at the answer), younger ones are next polled so that the API reads them at
age R: sent one round trip (the shortest a poll took) before it. One still not
ready past that backs off from it (R/8, then doubling: four polls until twice
R): volumes made together settle together, and the last of them are seen
within a few hundredths of a second, not after another R. These delays are at
most ``POLL_CAP`` too (so more polls until twice a long R): after one slow
volume (R a minute), a younger one ready at once is seen within seconds, not
a minute.

A round polls every due volume and fills its last request of ``BATCH`` ids
with others (``poll_count``): a request costs the same with 3 ids or 100.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

__all__ = [
    "BATCH",
    "DEFER_MAX",
    "POLL_CAP",
    "POLL_INITIAL",
    "PollSchedule",
    "poll_count",
    "poll_delay",
]

# The Block API's largest page: one list request reports on this many volumes.
BATCH = 100
# The shortest and the longest delay between two polls of a volume.
POLL_INITIAL = 0.1
POLL_CAP = 5.0
# How long past its turn a volume may wait for the creates in flight: longer
# than the creates of a call of a thousand volumes take when the client is the
# bottleneck, short enough that a long call's progress moves every second.
DEFER_MAX = 1.0


def poll_count(due: int, pending: int, batch: int = BATCH) -> int:
    """How many of ``pending`` volumes, ``due`` of them due, one round polls.

    Every due volume, plus others to fill the last request of ``batch`` ids:
    a request costs the same however full.

    ```python
    poll_count(due=1, pending=3, batch=2)   # 2: the due one, and one for free
    poll_count(due=0, pending=3, batch=2)   # 0: nothing is due
    ```
    """
    return min(pending, -(-due // batch) * batch)


def poll_delay(
    age: float,
    initial: float = POLL_INITIAL,
    cap: float = POLL_CAP,
    draw: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds until the next poll of a volume created ``age`` seconds ago.

    Drawn in ``[d/2, d]`` with ``d`` the age bounded to ``[initial, cap]``: the
    polls of a volume come at ages about doubling (exponential backoff, capped),
    jittered so volumes created together spread out.

    ```python
    poll_delay(0.0)     # in [0.05, 0.1]: the first poll after the create
    poll_delay(1.0)     # in [0.5, 1.0]
    poll_delay(600.0)   # in [2.5, 5.0]
    ```
    """
    bound = min(cap, max(initial, age))
    return draw(bound / 2, bound)


class PollSchedule:
    """The next poll of each volume of one bulk call, from what its polls have seen.

    ```python
    plan = PollSchedule()
    plan.next_delay(0.0)    # in [0.05, 0.1]: nothing seen yet, ages doubling
    plan.seen_ready(0.2)    # a poll answered at age 0.2 s saw one ready
    plan.answered(0.02)     # a poll took 0.02 s from sending to answer
    plan.next_delay(0.0)    # 0.18: the API reads the next poll at age 0.2
    ```
    """

    __slots__ = ("cap", "initial", "ready_age", "round_trip")

    def __init__(self, initial: float = POLL_INITIAL, cap: float = POLL_CAP) -> None:
        for label, value in (("initial", initial), ("cap", cap)):
            if not (isinstance(value, (int, float)) and 0 < value < math.inf):
                raise ValueError(f"{label} must be a positive number of seconds, got {value!r}")
        if cap < initial:
            raise ValueError(f"cap ({cap}) must be at least initial ({initial})")
        self.initial = float(initial)
        self.cap = float(cap)
        # The youngest age at which a volume of this call was seen ready (at the
        # answer): the others are first polled at that age, not at ages
        # doubling (volumes made together take about as long). An upper bound
        # of when it became ready: the API read it between the poll's sending
        # and the answer. Its age at the sending, a lower bound, polled younger
        # volumes too soon when the API read the poll late (behind ten polls
        # sent at once), and the last volumes of a call came 50 ms late.
        self.ready_age = math.inf
        # The shortest time a poll took, from its sending to its answer read:
        # younger volumes' polls leave that long before R, so that the API reads
        # them at about R.
        self.round_trip = math.inf

    @property
    def defer_max(self) -> float:
        """How long past its turn a volume may wait for the creates in flight."""
        return min(DEFER_MAX, self.cap)

    def answered(self, round_trip: float) -> None:
        """A poll took ``round_trip`` seconds from its sending to its answer."""
        self.round_trip = min(self.round_trip, round_trip)

    def seen_ready(self, age: float) -> None:
        """A poll answered when a volume was ``age`` seconds old saw it ready."""
        self.ready_age = min(self.ready_age, age)

    def next_delay(self, age: float) -> float:
        """Seconds until the next poll of a volume ``age`` seconds old."""
        ready = self.ready_age
        if ready < math.inf:
            if self.round_trip < math.inf:
                # The age at which to send: R, less one round trip (at most R/2).
                ready -= min(self.round_trip, ready / 2)
            if age < ready:
                # Not yet as old as the youngest volume seen ready: poll it at
                # that age (never sooner than the shortest delay, nor later
                # than the cap: R may come from volumes far slower than this one).
                return min(max(ready - age, self.initial / 2), self.cap)
            if age < 2.0 * ready:
                # Past that age and not ready: late by a few milliseconds, mostly
                # (each create's answer and each poll cross the network at their
                # own time). Backing off by its age would keep the last volumes of
                # a call waiting about that long again; back off from that age
                # instead, from an eighth of it (four polls until twice it), capped
                # as any delay is: with R of 100 s, R/8 alone would be 12.5 s.
                return min(max(age - ready, ready / 8), self.cap)
        return poll_delay(age, self.initial, self.cap)
