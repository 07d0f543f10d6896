"""The constants of the adaptive algorithm (``_control``) and of the fleet's (``_lua``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

from .._validate import as_float

__all__ = ["Tuning"]


@attrs.frozen
class Tuning:
    """The constants of the adaptive algorithm, as measured by benchmarks/ratelimit.py."""

    #: Requests in flight before the first 429; one more per success.
    initial_window: float = 6.0
    #: Seconds of requests a server's burst is assumed to hold (first guess of a rate).
    first_span: float = 0.1
    #: Shortest doubling time while searching, seconds.
    search_time: float = 0.05
    #: Share of requests meeting a 429 that the holding rate settles at: a pace
    #: above a limit with a burst gains nothing...
    target: float = 0.01
    #: ...while under a one-token limit, the closer the pace, the more requests
    #: arrive a little early and meet a 429 (the network's and the loops' jitter),
    #: and a pace a little too slow wastes a part of every slot.
    target_one: float = 0.02
    #: Cut per 429 while holding (the rise per success follows from ``target``).
    step: float = 0.04
    #: Share of the way back to the rate that failed, per success, after a deep cut...
    recovery: float = 0.05
    #: ...and at most ``climb`` over a round trip's answers, however many: the way
    #: left shrinks by ``exp(-climb)`` a round trip (the climb never passes its
    #: target, so its 429s coming a round trip late cost nothing; at 0.5, traced
    #: at 400 req/s behind 100 ms, each climb took half a second).
    climb: float = 2.0
    #: Answers per round trip that move the rate by a full step or rise each;
    #: with more in flight, each moves it by a share.
    round_trip: float = 16.0
    #: ...near a one-token limit's cliff (within ``gentle`` under the rate that
    #: last failed), fewer: the hold swings less per crossing (a crossing's
    #: 429s, all a round trip late, cut it by a smaller share each, and the rise
    #: is as much smaller), nearer the point where 429s begin (interleaved at
    #: 200 req/s behind 100 ms: 1.29x and 5.9 % of 429s with 16, 1.25x and
    #: 4.7 % with 8). Far under it the rate comes back as fast as anywhere.
    round_trip_one: float = 8.0
    #: Successes without a 429 that double the rise per success...
    run: float = 32.0
    #: Doublings of the rise at most.
    doublings: float = 3.0
    #: Seconds without a 429 (and at least eight round trips) after which the
    #: rate grows by at least ``calm_growth`` of itself per second, and from two
    #: ``calm`` later on twice as fast every ``calm``...
    calm: float = 1.0
    calm_growth: float = 0.25
    #: ...at most ``2 ** calm_doublings`` times as fast (``_formulas.calm_speed``):
    #: the last members of a fleet, left alone, take what the others leave
    #: within seconds (in-process fleets of 4, fifteen interleaved runs: 1.26x
    #: of the ideal wall to 1.16x on average, where growth sped up by a quarter
    #: every two ``calm``).
    calm_doublings: float = 3.0
    #: ``calm`` under a one-token limit: longer, since passing it wastes every
    #: other slot (but a fleet member can be taken for one, see ``_control``).
    calm_one: float = 3.0
    #: Seconds after a step cut (a limit with a burst) during which the rate
    #: climbs back to where it was cut without doubling or growing by time.
    calm_peak: float = 3.0
    #: Under a one-token limit, the rise no longer doubles at this share of the
    #: rate that last failed (as CUBIC slows near its last maximum): above such a
    #: limit every other request is refused, and a doubling rise crossed it by
    #: a tenth within the round trip its first 429 took to come back. Past that
    #: rate the rise doubles again, counting successes from there.
    gentle: float = 0.9
    #: The climb back towards the rate that failed ends within this share of it.
    near: float = 0.02
    #: Under a one-token limit, requests sent after the search's first 429 that
    #: tell a crossing of the limit (one of them refused too: come back under
    #: the pace it went out at) from a stray (all through); 0: never tell.
    confirm: int = 3
    #: A paced request taken this many intervals (and at least ``stall_floor``
    #: seconds) after its slot came due, while requests were held back, follows
    #: a stall of the event loop: its 429, and that of the request before it,
    #: do not move the rate.
    stall: float = 2.0
    stall_floor: float = 0.005
    #: Cut factor for a 429 at the limit (fleet).
    decrease: float = 0.85
    #: Share of the measured rate to hold at after a cut from far above.
    headroom: float = 0.95
    #: Below this share of requests getting through, the rate was far above the limit.
    deep: float = 0.75
    #: Deepest single cut.
    backoff: float = 0.5
    #: Deepest single cut judged on fewer than half a ``sample`` since the last
    #: cut.
    small_backoff: float = 0.75
    #: 429s up to this share of the last two seconds are strays: small
    #: cut (fleet).
    tolerance: float = 0.03
    #: The plateau sits at this share of the rate that failed (fleet).
    hold: float = 0.92
    #: CUBIC constant below the plateau (share of it per time unit cubed; fleet).
    scale: float = 0.4
    #: CUBIC constant above the plateau: probing is gentler than coming back (fleet).
    probe_scale: float = 0.1
    #: Requests per CUBIC time unit (fleet).
    cycle: float = 80.0
    #: Seconds per CUBIC time unit, at most (a rate pushed far down must come back;
    #: fleet)...
    max_unit: float = 1.0
    #: ...but one success moves the curve by this share of a unit at most (a slow
    #: rate must not leap in a few requests; fleet).
    max_step: float = 0.25
    #: Round trips per CUBIC time unit, at least (fleet).
    rtts: float = 4.0
    #: Requests judged after a cut.
    sample: int = 16
    #: Seconds of lateness a fleet member's pacing may catch up (fleet; the
    #: in-process pacing catches up nothing: pauses are slept precisely, and under
    #: a one-token limit a request caught up arrives early and wastes its slot).
    catch_up: float = 0.002
    #: Requests per second a fleet whose processes start together starts at,
    #: searching up from there (fleet; ``RedisRateLimiter(start_rate=None)``)...
    fleet_start: float = 20.0
    #: ...processes that first ask within this many seconds of each other (fleet).
    together: float = 1.0

    def __attrs_post_init__(self) -> None:
        # A bad constant would show only later, as a limiter that never lets a
        # request through or divides by zero: say which one, here.
        for names, (what, allowed) in _RULES.items():
            for name in names:
                value = getattr(self, name)
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError(f"{name} must be a number, got {value!r}")
                # as_float: an int too large for a float is no finite amount
                # (10**400 < inf in Python).
                if not allowed(as_float(value)):
                    raise ValueError(f"{name} must be {what}, got {value!r}")
        for name in ("confirm", "sample"):
            if not isinstance(getattr(self, name), int):
                raise TypeError(f"{name} must be an int, got {getattr(self, name)!r}")


#: Each constant's range: shares of a rate strictly between 0 and 1, factors
#: from 0 to 1, finite amounts.
_RULES: dict[tuple[str, ...], tuple[str, Callable[[float], bool]]] = {
    # headroom: a 1 would make a stray 429's cut no cut at all.
    ("target", "target_one", "step", "decrease", "backoff", "small_backoff", "headroom"): (
        "between 0 and 1 (both excluded)",
        lambda v: 0 < v < 1,
    ),
    ("recovery", "deep", "hold", "gentle", "near", "tolerance"): (
        "between 0 and 1",
        lambda v: 0 <= v <= 1,
    ),
    (
        "first_span",
        "search_time",
        "round_trip",
        "round_trip_one",
        "run",
        "calm",
        "calm_growth",
        "calm_one",
        "calm_peak",
        "climb",
        "stall",
        "scale",
        "probe_scale",
        "cycle",
        "max_unit",
        "max_step",
        "rtts",
        "fleet_start",
    ): ("a positive, finite number", lambda v: 0 < v < math.inf),
    ("doublings", "calm_doublings", "stall_floor", "catch_up", "together", "confirm"): (
        "a finite number >= 0",
        lambda v: 0 <= v < math.inf,
    ),
    ("initial_window", "sample"): ("a finite number >= 1", lambda v: 1 <= v < math.inf),
}
