"""The adaptive limiter's decisions, with no I/O: every time is passed in.

The algorithm (the reasons are in docs/rate-limiting.md):

1. Unthrottled: paced at ``max_rate`` only (if given); at most ``initial_window``
   requests in flight, one more per success (TCP's slow start), so a burst at
   start-up meets few 429s.
2. First 429: pace at least the first window per ``first_span`` seconds (the
   first wave tells the burst, not the rate), and search: double the rate each
   round trip while the pacing holds requests back, never past twice what got
   through lately. The search ends at the next 429: pace at what got through.
3. Holding: every success raises the rate a little, every 429 lowers it by
   ``step``, so that the rate settles where ``target`` of the requests meet a
   429: just over a limit with a burst (whose extra requests cost nothing but a
   resend), just under a one-token limit (where a request too early wastes its
   slot). The rise grows while no 429 comes (a rate far under the limit comes
   back fast), but not while a rate stepped down under a limit with a burst
   climbs back to where the step came (for ``calm_peak`` at most); with many
   answers per round trip each moves the rate by a share.
   Far above the limit (most of the last requests refused: a lowered limit) the
   rate goes at once to what got through, one cut per round (a quarter down at
   most when judged on the few requests sent since a cut); above a one-token
   limit what got through is half the limit, so the rate then climbs back
   quickly towards the rate that failed: holding, the pace the first 429 of
   that round went out at (the later ones went out at a pace still rising); at
   the search's end, that pace once the requests sent next show the limit was
   crossed there (``_record.search_crossing``; after a stray, the next 429 among the
   requests sent before the search ended is judged so), else the rate; from
   ``gentle`` of it up to it, the rise no longer doubles (past it with no 429,
   it was too low a guess: it doubles again, from the base rise). The climb
   back ends within ``near`` of it, in about two round trips (``climb``).
   The 429s of the two requests around a stall of the event loop (a slot taken
   long after it came due), and of those that reached the server in a clump
   behind a held-up one, or held up themselves and overtaken by the next one
   (``_record.in_a_clump``), move nothing.

The fleet's limiter (``redis.RedisRateLimiter``) decides in Lua and grows back
along a CUBIC curve instead (its cut in Python: ``_lua.cut_rate``); the
constants only it uses are marked "fleet" in ``Tuning``.
"""

from __future__ import annotations

import math
from collections import deque

from ._formulas import calm_speed, first_rate, rise, search_rate, take_token
from ._record import count_since, in_a_clump, search_crossing, window
from ._tuning import Tuning

__all__ = ["AdaptiveControl", "first_rate", "rise", "search_rate", "take_token"]

INF = math.inf
UNTHROTTLED, SEARCHING, HOLDING = "unthrottled", "searching", "holding"


class AdaptiveControl:
    """State of one adaptive limiter (not thread-safe; times in seconds, read on the
    pacing's clock: ``Gate.now``).

    ``reserve(now)`` asks for a slot, ``release(sent, status, now)`` reports an answer.
    """

    __slots__ = (
        "answered",
        "burst_seen",
        "calm_since",
        "ceiling",
        "confirm",
        "done",
        "failed",
        "grown",
        "in_flight",
        "last_cut",
        "max_rate",
        "min_rate",
        "mode",
        "muted",
        "oks",
        "one_token",
        "peak",
        "rate",
        "refused",
        "rise",
        "round_at",
        "round_sent",
        "run",
        "sends",
        "srtt",
        "stamp",
        "throttled",
        "tokens",
        "tuning",
        "waited",
        "wave",
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
        self.rise = rise(tuning.step, tuning.target)
        self.run = 0  # successes since the last 429
        self.calm_since = 0.0  # time of the last 429
        self.ceiling = 0.0  # the rate to come back to quickly after a deep cut
        self.failed = 0.0  # the rate found over the limit at the last deep cut
        self.peak = 0.0  # the rate at the last step cut (a limit with a burst)
        self.round_at = -INF  # answer time of the latest 429
        self.round_sent = 0.0  # send time of the first 429 of that round
        # Send time of the search's first 429 until a crossing or a stray (one-token)
        self.confirm: float | None = None
        self.window = tuning.initial_window
        self.in_flight = 0
        self.tokens = 1.0
        self.stamp = 0.0
        self.last_cut = -INF
        self.grown = 0.0
        self.srtt = 0.0
        self.burst_seen = 1
        self.one_token = False  # the first wave met a limit that keeps no burst
        self.wave = (0.0, 0.0)  # send time of the first 429, and the round trip then
        self.waited = -INF
        #: 429s seen, in all.
        self.throttled = 0
        self.sends: deque[tuple[float, float]] = deque(maxlen=2048)  # (sent, pacing rate)
        self.muted: deque[float] = deque(maxlen=8)  # sends whose 429 moves nothing
        self.oks: deque[float] = deque(maxlen=2048)  # send times of successes
        self.refused: deque[float] = deque(maxlen=256)  # send times of 429s
        self.answered: deque[float] = deque(maxlen=2048)  # answer times of successes
        self.done: deque[tuple[float, float]] = deque(maxlen=64)  # (sent, answered): 2xx, 429

    # -- sending -------------------------------------------------------------------------

    def reserve(self, now: float) -> float:
        """Take a slot now (returns 0.0) or say how long to wait.

        ``inf`` means: until a request in flight ends.
        """
        if self.in_flight >= self.window:
            return INF
        if self.mode != UNTHROTTLED:
            rate, tokens, stamp = self.rate, self.tokens, self.stamp
            self.tokens, wait = take_token(tokens, now - stamp, rate, 1.0)
            self.stamp = now
            if wait:
                self.waited = now
                return wait
            # How long ago this slot came due: requests were being held back, so
            # a slot taken long after its time means the loop stalled (a garbage
            # collection, a slow callback). The request before went out late, at
            # the end of the stall, and this one just after it: to the server
            # they come together, and a 429 of either says nothing of the limit
            # (traced at 400 req/s: a 25-35 ms collection ended the search at
            # half the limit).
            late = (tokens - 1.0) / rate + (now - stamp)
            tuning = self.tuning
            if late > tuning.stall_floor and late * rate > tuning.stall and self._saturated(now):
                self.muted.append(now)
                if self.sends:
                    self.muted.append(self.sends[-1][0])
            self.sends.append((now, rate))
        elif self.max_rate < INF:
            # ``max_rate`` caps the first wave too (one token: no burst); no cap costs nothing.
            self.tokens, wait = take_token(self.tokens, now - self.stamp, self.max_rate, 1.0)
            self.stamp = now
            if wait:
                self.waited = now
                return wait
        self.in_flight += 1
        return 0.0

    def resume_at(self, rate: float, now: float) -> None:
        """Pace at ``rate`` from now on, holding it (0.0: keep what we have)."""
        if rate > 0:
            self.mode = HOLDING
            self.rate = self._bounded(rate)
            self.window = INF
            self.last_cut = self.calm_since = now
            self.ceiling = self.peak = 0.0
            self.run = 0
            self.tokens = min(self.tokens, 1.0)
            self.stamp = now
            self.confirm = None

    def _bounded(self, rate: float) -> float:
        return min(max(rate, self.min_rate), self.max_rate)

    # -- answers -------------------------------------------------------------------------

    def release(self, sent: float, status: int | None, now: float) -> None:
        """Account for the request sent at ``sent`` that ended at ``now`` with ``status``."""
        self.in_flight -= 1
        if status == 429:
            self.throttled += 1
            self.refused.append(sent)
            if sent >= self.last_cut and sent not in self.muted and not self._together(sent, now):
                self._throttled(sent, now)
            if self.mode != UNTHROTTLED:
                self.done.append((sent, now))
        elif status is not None and status < 500:
            self._success(sent, now)
        if self.confirm is not None:
            self._confirm(self.confirm, sent)

    def _success(self, sent: float, now: float) -> None:
        rtt = now - sent
        self.srtt = rtt if not self.srtt else 0.875 * self.srtt + 0.125 * rtt
        self.oks.append(sent)
        if self.mode == UNTHROTTLED:
            self.window += 1.0
            return
        self.answered.append(now)
        self.done.append((sent, now))
        if self.mode == SEARCHING:
            if sent <= self.wave[0]:
                # An answer of the first wave that came after its first 429.
                self._classify()
            self._search(now)
        elif self._saturated(now):
            # Only a rate that holds requests back is probed: one the callers do
            # not use would grow without bound.
            tuning = self.tuning
            calm = max(tuning.calm_one if self.one_token else tuning.calm, 8.0 * self.srtt)
            quiet = now - self.calm_since
            if self.rate < self.ceiling and quiet <= calm:
                # Back towards the rate that failed, within a few round trips (and
                # no further: just under it is where a one-token limit is held).
                share = min(tuning.recovery, tuning.climb / max(self.rate * self.srtt, 1e-9))
                self.rate += (self.ceiling - self.rate) * share
                if self.rate >= (1.0 - tuning.near) * self.ceiling:
                    # Back: hold from here as anywhere else. Climbing on by shares
                    # of what is left would never arrive, and the rate stayed
                    # under it until ``calm_one`` (traced: three seconds at half
                    # a 400 req/s limit after a stray 429 ended the search).
                    self.rate = self.ceiling
                    self.ceiling = 0.0
                return
            # The longer no 429 came, the faster: a rate far under the limit comes
            # back in a few round trips.
            self.run += 1
            # Where the rise must not double, the run starts again (no boost), and
            # the doubling counts from where it may:
            # - back to where a step cut came (a limit with a burst), the base rise
            #   alone: one 429 per 1 / target successes. Grown by time after
            #   ``calm``, a 20 req/s rate crossed again every second or so;
            # - near a one-token limit's cliff: a doubling rise would cross it by
            #   the time its first 429 comes back (traced at 200 req/s behind
            #   100 ms: 9 % over, 15 429s in a row, then a deep cut). Past the rate
            #   that failed with no 429, it was a low guess, and the rise doubles
            #   again (without, it crept on at 4 % a second), counted from there:
            #   counted from ``gentle`` on, it jumped at once to its full
            #   ``doublings`` and crossed the limit a tenth of a second later
            #   (traced at 400 req/s behind 100 ms: 375 to 393 req/s, 17 429s).
            below = self.rate < self.peak and quiet <= tuning.calm_peak
            cliff = self._near_cliff()
            if below or cliff:
                self.run = 0
            # Doubling at most every two round trips: its 429s come a round trip late.
            per_double = max(tuning.run, 2.0 * self.rate * self.srtt)
            boost = 2.0 ** min(self.run / per_double, tuning.doublings)
            up = self.rise * boost * self._per_answer(cliff)
            if quiet > calm and not below:
                # No 429 for long: the limit rose, or others sharing it left. Grow
                # by time, not only per success, and faster the longer it lasts: a
                # slow rate (a fleet member the others squeezed) must not take
                # minutes to creep up, nor seconds once alone (traced in a fleet of
                # 8: from 6 to 26 req/s in five seconds, the others done). Later
                # under a one-token limit, where passing it wastes every other
                # slot: but a fleet member's first wave can look like one (one
                # refilled token), and must not stay squeezed.
                speed = calm_speed(quiet, calm, tuning.calm, tuning.calm_doublings)
                up = max(up, tuning.calm_growth * speed / self.rate)
            self.rate = self._bounded(self.rate * (1.0 + up))

    def _classify(self) -> int:
        """Tell the limit from the first wave (at its first 429, and again as the rest of
        its answers come); return how many of it got through."""
        sent, srtt = self.wave
        # The successes sent with the refused request or before it: not those sent
        # after it, as the window grew.
        recent = count_since(self.oks, sent - srtt / 2, until=sent)
        self.burst_seen = max(recent, 1)
        # Exactly one request of the first wave got through, and it went out before
        # the refused one: a limit that keeps no burst lets the first through. None
        # did, or a later one did: others drained a shared bucket (a fleet) and it
        # refilled by a token, which tells nothing of its burst.
        self.one_token = recent == 1
        # Closing in on a one-token limit costs a few 429s more (``target_one``).
        target = self.tuning.target_one if self.one_token else self.tuning.target
        self.rise = rise(self.tuning.step, target)
        return recent

    def _together(self, sent: float, now: float) -> bool:
        """Whether the request sent at ``sent``, refused at ``now``, reached the server
        with a neighbour (``_record.in_a_clump``): its 429, as a stall's, moves
        nothing, nor that of the next one if it came with it."""
        floor = self.tuning.stall_floor
        if in_a_clump((sent, now), self.sends, self.done, self.muted, floor, self.srtt):
            self.muted.append(sent)
            return True
        return False

    def _near_cliff(self) -> bool:
        """Whether the rate is within ``gentle`` under the one-token rate that last
        failed, or at it: where that limit is held."""
        failed = self.failed
        return self.one_token and 0.0 < self.tuning.gentle * failed <= self.rate <= failed

    def _per_answer(self, near_cliff: bool) -> float:
        """The share of a full step one answer moves the rate by: a round trip's
        worth of answers moves it as much as ``round_trip`` answers would, however
        many are in flight (their 429s all come a round trip late: one step each
        would cut many times for one overshoot); ``round_trip_one`` answers
        ``near_cliff`` (``_near_cliff``), where a one-token limit's hold swings.
        Far under it (a search ended by a stray 429) the rate comes back as fast
        as anywhere. The caller says whether it is near: it knows already."""
        tuning = self.tuning
        answers = tuning.round_trip_one if near_cliff else tuning.round_trip
        return min(1.0, answers / max(self.rate * self.srtt, 1e-9))

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

    def _pace_at(self, sent: float) -> float:
        """The pacing rate the request sent at ``sent`` went out at (0.0: not known)."""
        for t, rate in reversed(self.sends):
            if t <= sent:
                return rate
        return 0.0

    def _throttled(self, sent: float, now: float) -> None:
        tuning = self.tuning
        if now - self.round_at > max(2.0 * self.srtt, 4.0 / self.rate) or (
            self.round_sent < self.last_cut
        ):
            # The first 429 of a round: 429s that follow within two round trips
            # (or four intervals: above a one-token limit, every other request
            # is refused) are its consequences, sent at a pace still rising.
            # A round whose first 429 went out before the last cut is over (traced:
            # the search's stray at 336 req/s set the rate that failed again at a
            # deep cut after the search, under a 400 req/s limit).
            self.round_sent = sent
        self.round_at = now
        if self.mode == UNTHROTTLED:
            srtt = self.srtt or (now - sent)
            self.wave = (sent, srtt)
            recent = self._classify()
            # The first wave tells the burst, not the rate: at least the first
            # window per ``first_span`` is assumed, and the search doubles from there.
            guess = max(recent, tuning.initial_window)
            self.rate = self._bounded(first_rate(guess, srtt, tuning.first_span))
            self.mode = SEARCHING
            self.window = INF
            self.grown = now
            self._cut_at(now)
            return
        got, share, top, sends = window(sent, self.last_cut, tuning.sample, self.sends, self.oks)
        if not got and self.mode == SEARCHING:
            # Too few requests since the first guess to tell how far above it is:
            # the search goes on (it never passes twice what gets through).
            return
        if self.mode == HOLDING and share >= tuning.deep:
            # At the limit: one step per 429 (the target share settles it).
            if not self.one_token:
                self.peak = self.rate
            share = self._per_answer(self._near_cliff())
            self.rate = self._bounded(self.rate * (1.0 - tuning.step * share))
            self.run = 0
            self.calm_since = now
            self.ceiling = 0.0
            return
        # The end of the search, or far above a lowered limit: what got through,
        # never more than half the rate at once; judged on fewer than half a
        # sample since the last cut, a quarter at most (``small_backoff``): two
        # 429s in the few requests after a cut are common where many meet one
        # anyway (a fleet), and halving on each squeezed slow senders to a
        # request a second, one-token or not (docs/rate-limiting.md).
        base = self.rate
        small = sends < tuning.sample // 2 and self.mode == HOLDING
        deepest = tuning.small_backoff if small else tuning.backoff
        self.rate = self._bounded(max(got * tuning.headroom, base * deepest))
        # A server that let one request of the first wave through keeps no burst:
        # it refuses every other request of a pace under twice its rate, so what
        # got through is half its rate, not its rate. Come back towards the rate
        # that failed, quickly; the first 429 on the way ends that.
        failed = max(base, top)
        first = self._pace_at(self.round_sent)
        if self.mode == HOLDING and first:
            # Holding, the rate rose slowly: the round's first 429 shows where
            # the limit was crossed. (Not at the end of the search, whose first
            # 429 may be a stray one: a garbage collection's pause, a request on
            # a new connection, arriving with the next.)
            failed = min(failed, first)
        self.failed = failed
        self.ceiling = self._bounded(failed * tuning.headroom) if self.one_token else 0.0
        searched = self.mode == SEARCHING
        self.mode = HOLDING
        self._cut_at(now)
        if searched and self.one_token and first and tuning.confirm:
            self.confirm = self.round_sent

    def _confirm(self, first: float, answered: float) -> None:
        """If the search crossed the limit at a 429 (its first, or after a stray the
        next one sent before its end: ``_record.search_crossing``), come back under the
        pace that 429 went out at, not under the rate the search reached a round trip
        later (at 100 req/s behind 100 ms: 155, and the climb crossed it again). Every
        later cut ends the watch, so the search's end is the last cut."""
        at, decided = search_crossing(
            first, self.last_cut, self.tuning.confirm, self.sends, self.oks, self.refused, answered
        )
        self.confirm = None if decided else at
        if decided and at is not None:
            pace = self._pace_at(at)
            self.failed = min(self.failed, pace)
            if self.ceiling:
                self.ceiling = min(self.ceiling, self._bounded(pace * self.tuning.headroom))

    def _cut_at(self, now: float) -> None:
        """A cut: 429s of requests sent before ``now`` are not counted again, the
        next request waits a full interval at the new rate, and no step's plateau
        holds the rate back (it is no step)."""
        self.last_cut = self.calm_since = now
        self.peak = 0.0
        self.tokens = min(self.tokens, 0.0)
        self.stamp = now
        self.confirm = None
