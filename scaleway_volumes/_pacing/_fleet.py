"""One process's side of a shared limit, with no I/O: leased slots and pending reports.

The shared schedule lives in Redis (``_lua``); a process leases a few
consecutive slots at a time and spends them here, spaced at the shared rate,
so that most requests make no Redis call. What it must tell Redis waits here
until the gate's refill step sends it: successes ride along with the next
lease; a 429 forces a refill at once.
"""

from __future__ import annotations

import math
from collections import deque

from ._gate import REFILL
from ._record import count_since

__all__ = ["FleetBook", "Lease", "Pending"]

INF = math.inf
# The most slots one lease asks for: the script grants a lease's worth of the
# shared rate at most, and Lua prints a larger number in exponent form.
MAX_ASK = 1 << 16


#: What a process has to report: its latest 429 ``(sent, rate, generation)`` or
#: None, its successes and 429s since the last report, and a round-trip sample.
Pending = tuple[tuple[float, float, int] | None, int, int, float]


class Lease:
    """A reply of the lease script, in the caller's clock."""

    __slots__ = ("count", "gen", "interval", "rate", "start")

    def __init__(self, count: int, start: float, interval: float, gen: int, rate: float) -> None:
        self.count = count
        self.start = start
        self.interval = interval
        self.gen = gen
        #: 0.0 when the shared limit is not paced (no 429 yet).
        self.rate = rate


class FleetBook:
    """Slots leased from the shared schedule and what to report, for one process."""

    __slots__ = (
        "asked",
        "catch_up",
        "first_span",
        "gen",
        "hold_until",
        "in_flight",
        "interval",
        "next_slot",
        "oks",
        "paced",
        "probe",
        "rate",
        "remaining",
        "report_ok",
        "report_thr",
        "reprobe",
        "rtt_sample",
        "sends",
        "srtt",
        "throttle",
        "window",
    )

    def __init__(
        self, initial_window: float, first_span: float, catch_up: float, *, reprobe: bool = False
    ) -> None:
        self.first_span = first_span
        self.catch_up = catch_up
        #: False until the fleet is paced (a 429, or a fleet starting): then slots come
        #: from leases.
        self.paced = False
        #: Set to make the next ``acquire()`` talk to Redis (to see if it is back).
        self.probe = False
        self.window = initial_window
        #: Unpaced, ask again when the window reaches this (it doubles each time): a
        #: fleet may have started meanwhile. ``inf``: never.
        self.reprobe = 2.0 * initial_window if reprobe else INF
        self.in_flight = 0
        self.remaining = 0
        self.next_slot = 0.0
        self.hold_until = 0.0
        self.asked = 1
        self.interval = 0.0
        self.gen = -1
        self.rate = 0.0
        self.srtt = 0.0
        self.rtt_sample = 0.0
        self.report_ok = 0
        self.report_thr = 0
        #: ``(sent, rate and generation it went out at)`` of the latest 429 not reported.
        self.throttle: tuple[float, float, int] | None = None
        self.sends: deque[tuple[float, float, int]] = deque(maxlen=256)
        self.oks: deque[float] = deque(maxlen=256)

    # -- the gate's schedule -------------------------------------------------------------

    def reserve(self, now: float) -> float:
        """Take a slot (0.0), say how long to wait, or ask for a refill (``REFILL``)."""
        if self.throttle is not None or self.probe:
            return REFILL
        if not self.paced:
            if self.in_flight >= self.window:
                return INF
        else:
            if not self.remaining:
                # Out of slots: lease more, unless the schedule said to come back later.
                return self.hold_until - now if self.hold_until > now else REFILL
            slot = self.next_slot
            if slot > now:
                return slot - now
            self.remaining -= 1
            # A late caller may catch up a little, not send a burst.
            self.next_slot = max(slot, now - self.catch_up) + self.interval
            self.sends.append((now, self.rate, self.gen))
        self.in_flight += 1
        return 0.0

    def release(self, sent: float, status: int | None, now: float) -> None:
        """Account for the request sent at ``sent`` that ended at ``now``."""
        self.in_flight -= 1
        if status == 429:
            self.report_thr += 1
            if self.throttle is None or sent > self.throttle[0]:
                self.throttle = (sent, *self._paced_at(sent))
        elif status is not None and status < 500:
            self.report_ok += 1
            rtt = now - sent
            self.rtt_sample = rtt
            self.srtt = rtt if not self.srtt else 0.875 * self.srtt + 0.125 * rtt
            self.oks.append(sent)
            if not self.paced:
                self.window += 1.0
                if self.window >= self.reprobe:
                    self.probe = True
                    self.reprobe = 2.0 * self.window

    def _paced_at(self, sent: float) -> tuple[float, int]:
        for t, rate, gen in reversed(self.sends):
            if t <= sent:
                return rate, gen
        return self.rate, -1

    # -- what the refill step sends and applies ------------------------------------------

    def want(self, waiting: int, now: float) -> int:
        """Slots to ask for: as many as callers wait, or twice the last lease if this
        process spent it all and asks again by the time its next slot would have
        come (it is busy); the script caps it at a lease's worth of the shared
        rate. An idle process asks for one, wasting none."""
        busy = self.remaining == 0 and now <= self.next_slot + self.interval
        self.asked = min(max(waiting, 2 * self.asked if busy else 1), MAX_ASK)
        return self.asked

    def pending(self) -> Pending:
        """What waits to be reported: the latest 429 (or None), successes, 429s and a
        round-trip sample. Taken before a script call, for ``restore``."""
        return (self.throttle, self.report_ok, self.report_thr, self.rtt_sample)

    def restore(self, pending: Pending) -> None:
        """Put back a report that did not reach Redis (its call failed or was
        cancelled), with what came meanwhile: the fleet must still hear of that 429."""
        throttle, ok, thr, sample = pending
        if throttle is not None and (self.throttle is None or throttle[0] > self.throttle[0]):
            self.throttle = throttle
        self.report_ok += ok
        self.report_thr += thr
        self.rtt_sample = self.rtt_sample or sample

    def lease_args(self) -> tuple[int, int, float]:
        """Counts to report with a lease (successes, 429s, a round-trip sample); resets them."""
        ok, thr, sample = self.report_ok, self.report_thr, self.rtt_sample
        self.report_ok = self.report_thr = 0
        self.rtt_sample = 0.0
        return ok, thr, sample

    def throttle_args(self, now: float) -> tuple[float, float, int, int, int, float, int]:
        """What to report of the pending 429: its age, the rate and generation it went
        out at, the counts, a round-trip sample and this process's recent successes
        (a first guess of the rate if it is the fleet's first 429). Clears it."""
        assert self.throttle is not None
        sent, paced, gen = self.throttle
        self.throttle = None
        ok, thr, sample = self.lease_args()
        srtt = self.srtt or (now - sent)
        recent = count_since(self.oks, sent - srtt / 2)
        return now - sent, paced if self.paced else 0.0, gen, ok, thr, sample, recent

    def apply_generation(self, gen: int, rate: float) -> None:
        """Learn the shared state: a new generation (a cut) voids the slots held."""
        if gen != self.gen:
            self.gen = gen
            self.remaining = 0
        if rate > 0:
            self.paced = True
            self.rate = rate
            self.window = INF

    def apply_lease(self, lease: Lease) -> None:
        """Take the slots of a lease (or, unpaced, go back to slow start)."""
        self.apply_generation(lease.gen, lease.rate)
        if lease.rate <= 0:
            self.paced = False
            if self.window == INF:
                self.window = 1.0 + self.in_flight
            return
        self.hold_until = 0.0
        if lease.count:
            self.remaining = lease.count
            self.next_slot = lease.start
            self.interval = lease.interval
        else:
            # The schedule is full too far ahead: wait until ``start``, then ask again.
            self.remaining = 0
            self.hold_until = lease.start

    def recent_rate(self, now: float) -> float:
        """Requests per second this process sent in the last second (0.0: too few to tell)."""
        count = 0
        for t, _, _ in reversed(self.sends):
            if t < now - 1.0:
                break
            count += 1
        return float(count) if count >= 4 else 0.0
