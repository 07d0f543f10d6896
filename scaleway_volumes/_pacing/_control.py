"""The adaptive limiter's decisions, with no I/O: every time is passed in.

The algorithm (the reasons are in docs/rate-limiting.md):

1. Unthrottled: no pacing; at most ``initial_window`` requests in flight, one
   more per success (TCP's slow start), so a burst at start-up meets few 429s.
2. First 429: pace at what got through in the last round trip, assuming a burst
   holds ``first_span`` seconds of requests, and search: double the rate each
   round trip while the pacing holds requests back, never past twice what got
   through lately.
3. Every later 429 of a request sent after the last cut is one cut, from the
   rate that request went out at: to what got through if far above the limit,
   by ``decrease`` otherwise, a little if 429s are rare. Then grow back along a
   CUBIC curve (botocore's adaptive mode, TCP CUBIC) to just under the rate
   that failed, hold there, and probe above it, in time units of ``cycle``
   requests so that slow limits are probed as rarely per request as fast ones.
"""

from __future__ import annotations

import math
from collections import deque

import attrs

__all__ = [
    "AdaptiveControl",
    "Tuning",
    "cubic_k",
    "cubic_rate",
    "cut_rate",
    "first_rate",
    "search_rate",
    "take_token",
]

INF = math.inf
UNTHROTTLED, SEARCHING, HOLDING = "unthrottled", "searching", "holding"


@attrs.frozen
class Tuning:
    """The constants of the adaptive algorithm, as measured by benchmarks/ratelimit.py."""

    #: Requests in flight before the first 429; one more per success.
    initial_window: float = 6.0
    #: Seconds of requests a server's burst is assumed to hold (first guess of a rate).
    first_span: float = 0.1
    #: Shortest doubling time while searching, seconds.
    search_time: float = 0.05
    #: Cut factor for a 429 at the limit.
    decrease: float = 0.85
    #: Share of the measured rate to hold at after a cut from far above.
    headroom: float = 0.95
    #: Below this share of requests getting through, the rate was far above the limit.
    deep: float = 0.75
    #: Deepest single cut.
    backoff: float = 0.5
    #: 429s up to this share of the last ``long_span`` seconds are strays: small cut.
    tolerance: float = 0.03
    #: The plateau sits at this share of the rate that failed.
    hold: float = 0.95
    #: CUBIC constant below the plateau (share of it per time unit cubed).
    scale: float = 0.4
    #: CUBIC constant above the plateau: probing is gentler than coming back.
    probe_scale: float = 0.2
    #: Requests per CUBIC time unit.
    cycle: float = 80.0
    #: Seconds per CUBIC time unit, at most (a rate pushed far down must come back)...
    max_unit: float = 1.0
    #: ...but one success moves the curve by this share of a unit at most (a slow
    #: rate must not leap in a few requests).
    max_step: float = 0.25
    #: Round trips per CUBIC time unit, at least.
    rtts: float = 4.0
    #: Requests judged after a cut.
    sample: int = 16
    #: Seconds of requests judged for stray 429s.
    long_span: float = 2.0
    #: Seconds of lateness the pacing may catch up (a late wake-up, a slow loop).
    catch_up: float = 0.002


def take_token(tokens: float, elapsed: float, rate: float, capacity: float) -> tuple[float, float]:
    """Refill a pacing bucket for ``elapsed`` seconds and take one token if there is one.

    Returns the tokens left and how long to wait (0.0: taken). Between two takes at
    least ``(1 - (capacity - 1)) / rate`` seconds pass: the spacing of one request
    at a time, even when the rate is below one request per round trip.
    """
    tokens = min(capacity, tokens + elapsed * rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


def first_rate(recent_ok: int, srtt: float, first_span: float) -> float:
    """The first guess after the first 429: what got through per round trip.

    A round trip shorter than ``first_span`` tells nothing but the server's
    burst, assumed to hold ``first_span`` seconds of its rate.
    """
    return max(recent_ok, 1) / max(srtt, first_span)


def search_rate(rate: float, elapsed: float, per_double: float, got: float) -> float:
    """Double ``rate`` every ``per_double`` seconds, but not past ``2 * got`` (never down)."""
    grown = rate * float(2.0 ** min(elapsed / per_double, 64.0))
    return max(min(grown, 2.0 * got), rate)


def cut_rate(base: float, short: float, long: float, tuning: Tuning) -> tuple[float, float]:
    """The rate after a 429 and the plateau to come back to.

    ``base`` is the rate the throttled request went out at; ``short`` the share
    of the requests sent since the last cut that got through, ``long`` the same
    over the last ``tuning.long_span`` seconds.
    The new rate is always below ``base``; the plateau is never below the new rate.
    """
    if short < tuning.deep:
        # Far above the limit: go to what got through.
        new = base * max(short * tuning.headroom, tuning.backoff)
        plateau = base * short
    elif long >= 1.0 - tuning.tolerance:
        # Stray 429s among many successes (a server's own jitter): step back a
        # little and come back soon.
        return base * tuning.headroom, base
    else:
        new = base * tuning.decrease
        plateau = base * tuning.hold
    return new, max(plateau, new)


def cubic_k(plateau: float, start: float, scale: float) -> float:
    """Time units the CUBIC curve takes from ``start`` back up to ``plateau``."""
    if plateau <= start:
        return 0.0
    return float(((plateau - start) / (scale * plateau)) ** (1.0 / 3.0))


def cubic_rate(plateau: float, k: float, elapsed: float, tuning: Tuning) -> float:
    """The CUBIC curve ``elapsed`` time units after a cut: concave up to ``plateau``
    (reached at ``k``), flat around it, then convex above it."""
    if elapsed < k:
        return plateau - tuning.scale * plateau * (k - elapsed) ** 3
    # Bounded: a curve left alone for years must not overflow.
    return plateau + tuning.probe_scale * plateau * min(elapsed - k, 1e6) ** 3


def count_since(times: deque[float], since: float) -> int:
    """How many of ``times`` (ascending) are at or after ``since``."""
    count = 0
    for t in reversed(times):
        if t < since:
            break
        count += 1
    return count


class AdaptiveControl:
    """State of one adaptive limiter (not thread-safe; times in seconds, monotonic).

    ``reserve(now)`` asks for a slot, ``release(sent, status, now)`` reports an answer.
    """

    __slots__ = (
        "answered",
        "burst_seen",
        "clock",
        "epoch",
        "grown",
        "in_flight",
        "k",
        "last_cut",
        "last_ok",
        "max_rate",
        "min_rate",
        "mode",
        "oks",
        "paced_since",
        "plateau",
        "rate",
        "sends",
        "srtt",
        "stamp",
        "throttled",
        "tokens",
        "tuning",
        "waited",
        "window",
    )

    def __init__(
        self, *, min_rate: float = 0.5, max_rate: float = INF, tuning: Tuning | None = None
    ) -> None:
        self.tuning = tuning = tuning or Tuning()
        self.min_rate = min_rate
        self.max_rate = max_rate
        self.mode = UNTHROTTLED
        #: Requests per second the pacing allows (``inf`` until the first 429).
        self.rate = INF
        self.window = tuning.initial_window
        self.in_flight = 0
        self.tokens = 1.0
        self.stamp = 0.0
        self.last_cut = -INF
        self.paced_since = INF
        self.plateau = INF
        self.k = 0.0
        self.clock = 0.0  # time that counts for growth: only while requests succeed
        self.epoch = 0.0  # ``clock`` at the last cut
        self.last_ok = -INF
        self.grown = 0.0
        self.srtt = 0.0
        self.burst_seen = 1
        self.waited = -INF
        #: 429s seen, in all.
        self.throttled = 0
        self.sends: deque[tuple[float, float]] = deque(maxlen=2048)  # (sent, pacing rate)
        self.oks: deque[float] = deque(maxlen=2048)  # send times of successes
        self.answered: deque[float] = deque(maxlen=2048)  # answer times of successes

    # -- sending -------------------------------------------------------------------------

    def reserve(self, now: float) -> float:
        """Take a slot now (returns 0.0) or say how long to wait.

        ``inf`` means: until a request in flight ends.
        """
        if self.in_flight >= self.window:
            return INF
        if self.mode != UNTHROTTLED:
            rate = self.rate
            if self.mode == HOLDING:
                rate = self._curve()
            # A late wake-up may be caught up, by a few requests at most.
            capacity = 1.0 + min(rate * self.tuning.catch_up, 4.0)
            self.tokens, wait = take_token(self.tokens, now - self.stamp, rate, capacity)
            self.stamp = now
            if wait:
                self.waited = now
                return wait
            self.sends.append((now, rate))
        self.in_flight += 1
        return 0.0

    def _unit(self) -> float:
        tuning = self.tuning
        # Time counts in units of ``cycle`` requests at the plateau's rate (or a few
        # round trips if longer): a slow limit gets as many requests per probe as a
        # fast one, so its 429s are as rare a share of its requests.
        return max(min(tuning.cycle / self.plateau, tuning.max_unit), tuning.rtts * self.srtt)

    def _curve(self) -> float:
        tuning = self.tuning
        rate = cubic_rate(self.plateau, self.k, (self.clock - self.epoch) / self._unit(), tuning)
        self.rate = rate = min(max(rate, self.min_rate), self.max_rate)
        return rate

    def resume_at(self, rate: float, now: float) -> None:
        """Pace at ``rate`` from now on, holding it (0.0: keep what we have)."""
        if rate > 0:
            self.mode = HOLDING
            self.rate = self.plateau = min(max(rate, self.min_rate), self.max_rate)
            self.k = 0.0
            self.epoch = self.clock
            self.window = INF
            self.paced_since = self.last_cut = now
            self.tokens = min(self.tokens, 1.0)
            self.stamp = now

    # -- answers -------------------------------------------------------------------------

    def release(self, sent: float, status: int | None, now: float) -> None:
        """Account for the request sent at ``sent`` that ended at ``now`` with ``status``."""
        self.in_flight -= 1
        if status == 429:
            self.throttled += 1
            if sent >= self.last_cut:
                self._cut(sent, now)
        elif status is not None and status < 500:
            self._success(sent, now)

    def _success(self, sent: float, now: float) -> None:
        rtt = now - sent
        self.srtt = rtt if not self.srtt else 0.875 * self.srtt + 0.125 * rtt
        self.oks.append(sent)
        if self.mode == UNTHROTTLED:
            self.window += 1.0
            return
        self.answered.append(now)
        # Growth time passes only while answers keep coming: not while idle.
        step = now - self.last_ok
        if self.mode == HOLDING:
            step = min(step, self.tuning.max_step * self._unit())
        self.clock += min(step, 2.0 / self.rate + self.srtt)
        self.last_ok = now
        if self.mode == SEARCHING:
            self._search(now)

    def _saturated(self, now: float) -> bool:
        """Whether the pacing held a request back lately: then it sets the send rate."""
        return now - self.waited < 2.0 / self.rate + self.srtt

    def _search(self, now: float) -> None:
        elapsed, self.grown = now - self.grown, now
        if self._saturated(now):
            tuning = self.tuning
            # Double per round trip, or per burst's worth of requests if longer.
            per_double = max(self.srtt, tuning.search_time, self.burst_seen / self.rate)
            span = max(self.srtt, tuning.search_time)
            got = count_since(self.answered, now - span) / span
            rate = search_rate(self.rate, elapsed, per_double, got)
            self.rate = min(rate, self.max_rate)

    def _window(self, sent: float) -> tuple[float, float, float, float]:
        """How the requests sent just before ``sent`` fared.

        Returns the pacing rate ``sent`` went out at, the rate requests went out
        at since the last cut (0.0 if too few to tell), the share of those that
        got through, and that share over the last ``long_span`` seconds.
        """
        tuning = self.tuning
        start = max(sent - max(tuning.long_span, tuning.sample / self.rate), self.paced_since)
        sends = fresh = 0
        paced = self.rate
        fresh_start = sent
        for t, rate in reversed(self.sends):
            if t < start:
                break
            if t <= sent:
                if not sends:
                    paced = rate
                sends += 1
                # Requests sent before the last cut went out at a corrected rate.
                if fresh < tuning.sample and t >= self.last_cut:
                    fresh += 1
                    fresh_start = t
        oks = fresh_oks = 0
        for t in reversed(self.oks):
            if t < start:
                break
            if t < sent:
                oks += 1
                if t >= fresh_start:
                    fresh_oks += 1
        long = oks / sends if sends >= 4 else 1.0
        if fresh < 4:
            return paced, 0.0, long, long
        return paced, fresh / max(sent - fresh_start, 1e-6), fresh_oks / fresh, long

    def _cut(self, sent: float, now: float) -> None:
        tuning = self.tuning
        srtt = self.srtt or (now - sent)
        if self.mode == UNTHROTTLED:
            recent = count_since(self.oks, sent - srtt / 2)
            self.burst_seen = max(recent, 1)
            new = first_rate(recent, srtt, tuning.first_span)
            self.mode = SEARCHING
            self.window = INF
            self.paced_since = self.grown = now
        else:
            paced, measured, short, long = self._window(sent)
            # The rate the throttled request went out at: the pacing rate then if the
            # pacing held requests back, else what was actually sent.
            base = paced if self._saturated(sent) or not measured else min(paced, measured)
            new, self.plateau = cut_rate(base, short, long, tuning)
            self.mode = HOLDING
        new = min(max(new, self.min_rate), self.max_rate)
        self.plateau = max(self.plateau, new) if self.mode == HOLDING else INF
        self.k = cubic_k(self.plateau, new, tuning.scale) if self.mode == HOLDING else 0.0
        self.epoch = self.clock
        self.rate = new
        self.last_cut = now
        # The next request waits a full interval at the new rate.
        self.tokens = min(self.tokens, 0.0)
        self.stamp = now
