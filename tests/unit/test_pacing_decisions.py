"""Property tests (hypothesis) of the adaptive limiter's pure decisions and state machine."""

from __future__ import annotations

import math
from collections import deque

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleway_volumes._pacing._control import (
    HOLDING,
    SEARCHING,
    UNTHROTTLED,
    AdaptiveControl,
    first_rate,
    rise,
    search_rate,
    take_token,
)
from scaleway_volumes._pacing._lua import cut_rate
from scaleway_volumes._pacing._tuning import Tuning

TUNING = Tuning()
rates = st.floats(min_value=0.01, max_value=1e5, allow_nan=False)
shares = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
seconds = st.floats(min_value=0.0, max_value=1e3, allow_nan=False)


@given(rates, shares, shares)
def test_a_cut_always_lowers_the_rate_and_keeps_the_plateau_above_it(
    base: float, short: float, long: float
) -> None:
    """Whatever the evidence, a cut goes below the failing rate, by at most ``backoff``,
    and the plateau is never below it."""
    new, plateau = cut_rate(base, short, long, TUNING)
    assert new < base
    assert new >= base * TUNING.backoff * (1 - 1e-9)
    assert plateau >= new


@given(rates, shares)
def test_far_above_the_limit_the_cut_goes_to_what_got_through(base: float, short: float) -> None:
    """When fewer than ``deep`` of the requests got through, the new rate follows them."""
    new, _ = cut_rate(base, min(short, TUNING.deep * 0.99), 1.0, TUNING)
    got = base * min(short, TUNING.deep * 0.99)
    assert new == pytest.approx(max(got * TUNING.headroom, base * TUNING.backoff))


@given(rates, st.floats(min_value=0.97, max_value=1.0))
def test_a_stray_429_is_a_small_step_back(base: float, long: float) -> None:
    """Rare 429s (``tolerance``) cost a few percent, not a ``decrease``."""
    new, plateau = cut_rate(base, 1.0, long, TUNING)
    assert new == pytest.approx(base * TUNING.headroom)
    assert plateau == pytest.approx(base)


@given(st.floats(0.001, 0.5), st.floats(0.001, 0.5))
def test_the_rise_balances_the_steps_at_the_target_share(step: float, target: float) -> None:
    """Where ``target`` of the requests meet a 429, the rises of the others make up
    for the steps down: the holding rate settles there."""
    up = rise(step, target)
    assert up > 0
    assert (1 - target) * up == pytest.approx(target * step)


@given(st.integers(0, 1000), st.floats(0.0, 10.0), st.floats(0.001, 1.0))
def test_first_rate_is_what_got_through_per_round_trip(ok: int, srtt: float, span: float) -> None:
    """At least one request per round trip (or per ``first_span``, if longer)."""
    rate = first_rate(ok, srtt, span)
    assert rate == pytest.approx(max(ok, 1) / max(srtt, span))
    assert rate > 0


@given(rates, seconds, st.floats(0.001, 10.0), st.floats(0.0, 1e5))
def test_search_doubles_per_step_but_not_past_twice_what_got_through(
    rate: float, elapsed: float, per_double: float, got: float
) -> None:
    """The search never lowers the rate, and raises it only up to ``2 * got``."""
    new = search_rate(rate, elapsed, per_double, got)
    assert new >= rate
    assert new <= max(rate, 2 * got) * (1 + 1e-9)
    assert new <= rate * 2 ** min(elapsed / per_double, 64) * (1 + 1e-9)


@given(st.floats(0.0, 1.0), rates, st.floats(1.0, 3.0), st.lists(seconds, min_size=1, max_size=20))
def test_paced_takes_are_spaced_even_below_one_in_flight(
    tokens: float, rate: float, capacity: float, gaps: list[float]
) -> None:
    """Successive takes are at least ``(2 - capacity) / rate`` apart: with a capacity of
    one token, exactly one interval, however slow the rate."""
    now = 0.0
    last: float | None = None
    for gap in gaps:
        now += gap
        tokens, wait = take_token(tokens, gap, rate, capacity)
        while wait:
            now += wait
            tokens, wait = take_token(tokens, wait, rate, capacity)
        if last is not None:
            assert now - last >= (2 - capacity) / rate * (1 - 1e-9) - 1e-12
        last = now


events = st.lists(
    st.tuples(
        st.floats(0.0, 0.5),  # time to the next event
        st.sampled_from([201, 429, 500, None, 404]),
        st.booleans(),  # release (True) or reserve (False)
    ),
    max_size=200,
)


@settings(max_examples=200)
@given(events, st.floats(0.5, 50), st.one_of(st.none(), st.floats(60, 1e4)))
def test_the_rate_stays_within_its_bounds(
    steps: list[tuple[float, int | None, bool]], low: float, high: float | None
) -> None:
    """Any sequence of sends and answers keeps the rate in ``[min_rate, max_rate]``
    (or unpaced), and the count of requests in flight consistent."""
    control = AdaptiveControl(min_rate=low, max_rate=high if high is not None else math.inf)
    now = 0.0
    sent: list[float] = []
    for gap, status, release in steps:
        now += gap
        if release and sent:
            control.release(sent.pop(0), status, now)
        else:
            wait = control.reserve(now)
            assert wait >= 0.0
            if wait == 0.0:
                sent.append(now)
        assert control.in_flight == len(sent)
        if control.rate != math.inf:
            assert low * (1 - 1e-9) <= control.rate
            if high is not None:
                assert control.rate <= high * (1 + 1e-9)


@given(st.lists(st.floats(0.001, 0.1), min_size=5, max_size=60))
def test_the_rate_rises_only_with_successes(gaps: list[float]) -> None:
    """Time alone, or answers that are not successes, never raise the rate."""
    control = AdaptiveControl()
    control.reserve(0.0)
    control.release(0.0, 429, 0.01)  # now paced
    now = 0.01
    for gap in gaps:
        before = control.rate
        now += gap
        if control.reserve(now) == 0.0:
            control.release(now, 503, now + 0.001)
        control.reserve(now)  # evaluates the curve
        assert control.rate <= before * (1 + 1e-9)


def test_unthrottled_until_the_first_429_and_paced_after() -> None:
    """No pacing before any 429; the first one starts pacing and the search."""
    control = AdaptiveControl()
    assert control.mode == UNTHROTTLED
    for i in range(6):
        assert control.reserve(0.0) == 0.0, i
    assert control.reserve(0.0) == math.inf  # the first window is full
    control.release(0.0, 201, 0.02)
    assert control.reserve(0.02) == 0.0  # one more per success
    control.release(0.0, 429, 0.021)
    assert control.mode == SEARCHING
    # The first wave tells the burst, not the rate: at least a first window per
    # ``first_span`` is assumed.
    assert control.rate == pytest.approx(first_rate(6, 0.02, TUNING.first_span))
    assert control.throttled == 1


def test_one_cut_per_round_of_429s() -> None:
    """429s of requests sent before the last cut do not cut again."""
    control = AdaptiveControl()
    control.release(0.0, 429, 0.01)
    control.in_flight = 10
    rate = control.rate
    for t in (0.001, 0.002, 0.003):
        control.release(t - 0.01, 429, 0.01 + t)  # sent before the cut at 0.01
    assert control.rate == rate
    assert control.throttled == 4


def test_a_429_after_the_cut_cuts_and_holds() -> None:
    """A 429 of a request sent after the last cut ends the search: the rate drops and
    the limiter holds."""
    control = AdaptiveControl()
    control.release(0.0, 429, 0.01)
    now = 0.02
    sent = []
    for _ in range(200):
        now += 0.01
        if control.reserve(now) == 0.0:
            sent.append(now)
    assert len(sent) >= 10
    for t in sent[:-1]:
        control.release(t, 201, t + 0.005)
    before = control.rate
    control.release(sent[-1], 429, sent[-1] + 0.005)
    assert control.mode == HOLDING
    assert control.rate < before


def test_429s_of_requests_in_flight_before_the_first_are_one_round() -> None:
    """A burst of 429s from one wave makes one cut, not one per answer."""
    control = AdaptiveControl()
    for _ in range(6):
        control.reserve(0.0)
    for i in range(6):
        control.release(0.0, 429, 0.01 + i * 1e-4)
    assert control.mode == SEARCHING
    assert control.throttled == 6


def _holding(rate: float) -> AdaptiveControl:
    control = AdaptiveControl()
    control.resume_at(rate, 0.0)
    assert control.mode == HOLDING
    return control


def test_holding_a_success_that_was_held_back_raises_the_rate_a_little() -> None:
    """While the pacing holds requests back, each success raises the rate by about
    ``rise``; a rate the callers do not use is never raised."""
    control = _holding(100.0)
    assert control.reserve(0.0) == 0.0
    assert control.reserve(0.001) > 0.0  # held back
    control.release(0.0, 201, 0.005)
    assert 100.0 < control.rate <= 100.0 * (1 + 2 * rise(TUNING.step, TUNING.target))
    idle = _holding(100.0)
    assert idle.reserve(0.0) == 0.0
    idle.release(0.0, 201, 0.005)  # nobody waited
    assert idle.rate == 100.0


def test_holding_every_429_is_one_step_down() -> None:
    """Near the limit each 429 lowers the rate by ``step`` (not one cut per round:
    the share of 429s is what settles the rate)."""
    control = _holding(100.0)
    assert control.reserve(0.0) == 0.0
    control.in_flight = 2
    control.release(0.0, 429, 0.01)
    assert control.rate == pytest.approx(100.0 * (1 - TUNING.step))
    control.release(0.0, 429, 0.011)
    assert control.rate == pytest.approx(100.0 * (1 - TUNING.step) ** 2)
    assert control.mode == HOLDING


@pytest.mark.parametrize(
    ("one_token", "failed", "answers"),
    [
        (False, 410.0, TUNING.round_trip),
        (True, 410.0, TUNING.round_trip_one),
        (True, 1000.0, TUNING.round_trip),
    ],
)
def test_with_many_answers_per_round_trip_a_429_is_a_share_of_a_step(
    one_token: bool, failed: float, answers: float
) -> None:
    """At 400 req/s behind 100 ms, 40 answers come per round trip: a 429 cuts by
    ``round_trip`` / 40 of a step; near a one-token limit's cliff (within
    ``gentle`` under the rate that failed) by ``round_trip_one`` / 40, so that the
    hold swings less per crossing there; far under it, as anywhere else."""
    control = _holding(400.0)
    control.one_token = one_token
    control.failed = failed
    control.srtt = 0.1
    assert control.reserve(0.0) == 0.0
    control.in_flight = 2
    control.release(0.0, 429, 0.1)
    assert answers < 40.0
    assert control.rate == pytest.approx(400.0 * (1 - TUNING.step * answers / 40.0))


def _sample_after_a_cut(
    sends: int, refused: int, *, one_token: bool = False
) -> tuple[float, float]:
    """Holding at 10 req/s: ``sends`` paced requests after the cut, the last
    ``refused`` of them refused. Returns the rate before the first 429, and after."""
    control = _holding(10.0)
    control.one_token = one_token
    times: list[float] = []
    now = 0.0
    while len(times) < sends:
        now += 0.01
        if control.reserve(now) == 0.0:
            times.append(now)
    for t in times[: sends - refused]:
        control.release(t, 201, t + 0.005)
    before = control.rate
    for t in times[sends - refused :]:
        control.release(t, 429, t + 0.005)
    assert control.mode == HOLDING
    return before, control.rate


def test_far_above_the_limit_on_a_few_requests_cuts_a_quarter_at_most() -> None:
    """Two 429s in the five requests since a cut read as far above the limit, but
    cut a quarter at most (``small_backoff``): where many requests meet a 429 (a
    fleet), such runs are common, and halving on each squeezed slow senders. So
    under a limit taken for one-token too (a fleet member's first wave can look
    like one). Half a sample or more may cut by half (``backoff``)."""
    assert TUNING.deep > 3 / 5  # two refused in five is "far above" by the share
    for one_token in (False, True):
        before, after = _sample_after_a_cut(5, 2, one_token=one_token)
        stepped = before * (1 - TUNING.step)  # the first 429 (3 of 4 got through)
        assert after == pytest.approx(stepped * TUNING.small_backoff), one_token
    before, after = _sample_after_a_cut(10, 5)
    assert after < before * 0.7


def test_with_many_answers_per_round_trip_each_moves_the_rate_by_a_share() -> None:
    """400 req/s behind 100 ms: 40 answers per round trip, each moving the rate by
    ``round_trip / 40`` of a step (one overshoot's 429s all come a round trip late)."""
    control = _holding(400.0)
    control.srtt = 0.1
    assert control.reserve(0.0) == 0.0
    control.release(0.0, 429, 0.1)
    share = TUNING.round_trip / 40.0
    assert control.rate == pytest.approx(400.0 * (1 - TUNING.step * share))


@pytest.mark.parametrize(("first_wave_ok", "target"), [(1, TUNING.target_one), (5, TUNING.target)])
def test_a_one_token_limit_is_held_closer(first_wave_ok: int, target: float) -> None:
    """A first wave of which one request got through shows a limit with no burst:
    the rate settles where more 429s (``target_one``) are met, since under such a
    limit a pace a little too slow wastes a part of every slot."""
    control = AdaptiveControl()
    for _ in range(6):
        assert control.reserve(0.0) == 0.0
    for i in range(first_wave_ok):
        control.release(0.0, 201, 0.01 + i * 1e-4)
    control.release(0.0, 429, 0.011)
    assert control.burst_seen == first_wave_ok
    assert control.one_token is (first_wave_ok == 1)
    assert control.rise == pytest.approx(rise(TUNING.step, target))


@pytest.mark.parametrize(
    ("first_ok_sent", "oks"),
    [(0.0, 0), (0.0004, 1)],
    ids=["none-got-through", "a-later-one-got-through"],
)
def test_a_first_wave_behind_a_drained_shared_bucket_is_not_a_one_token_limit(
    first_ok_sent: float, oks: int
) -> None:
    """In a fleet the first process empties the shared burst: the others' first
    waves meet 429s from the start (none got through), or one of them gets the
    token the bucket refilled by, whichever arrives then (not the first sent).
    Neither tells a limit with no burst, so neither is held as one."""
    control = AdaptiveControl()
    for i in range(6):
        assert control.reserve(i * 1e-4) == 0.0
    for _ in range(oks):
        control.release(first_ok_sent, 201, 0.01)
    control.release(0.0, 429, 0.011)  # the first sent was refused
    assert control.one_token is False
    assert control.rise == pytest.approx(rise(TUNING.step, TUNING.target))


@pytest.mark.parametrize(("late_oks", "one_token"), [(1, True), (3, False)])
def test_answers_of_the_first_wave_after_its_first_429_still_tell_the_limit(
    late_oks: int, one_token: bool
) -> None:
    """Answers of one wave arrive in any order: a success of the first wave that
    comes after its first 429 still counts (one: a one-token limit; more: a burst)."""
    control = AdaptiveControl()
    for _ in range(6):
        assert control.reserve(0.0) == 0.0
    control.release(0.0, 429, 0.010)
    assert control.one_token is False
    for i in range(late_oks):
        control.release(0.0, 201, 0.011 + i * 1e-4)
    assert control.mode == SEARCHING
    assert control.one_token is one_token
    assert control.burst_seen == late_oks
    target = TUNING.target_one if one_token else TUNING.target
    assert control.rise == pytest.approx(rise(TUNING.step, target))


def _quiet_success(control: AdaptiveControl, now: float) -> None:
    """A success at ``now`` of a request the pacing held the next one back after."""
    assert control.reserve(now) == 0.0
    assert control.reserve(now + 0.001) > 0.0  # held back
    control.release(now, 201, now + 0.005)


@pytest.mark.parametrize(
    ("one_token", "quiet", "grows_by_time"),
    [
        (False, TUNING.calm + 1.0, True),
        (True, TUNING.calm + 1.0, False),
        (True, TUNING.calm_one - 0.1, False),
        (True, TUNING.calm_one + 0.1, True),
    ],
)
def test_after_a_long_calm_a_slow_rate_grows_by_time(
    one_token: bool, quiet: float, grows_by_time: bool
) -> None:
    """No 429 for ``calm`` seconds: the rate grows by time, by at least
    ``calm_growth`` of itself per second, however few its successes (a fleet member
    others squeezed must not creep up for minutes). Under a one-token limit, where
    passing the limit wastes every other slot, only after ``calm_one``: a fleet
    member's first wave can look like one (it got one refilled token)."""
    control = _holding(10.0)
    control.one_token = one_token
    _quiet_success(control, quiet)
    by_time = 10.0 * (1 + TUNING.calm_growth / 10.0)
    assert (control.rate >= by_time * (1 - 1e-9)) is grows_by_time


def test_the_climb_back_to_the_rate_that_failed_ends_there_and_the_hold_goes_on() -> None:
    """After a cut from above a one-token limit the rate climbs back quickly to just
    under the rate that failed, no further, and from there holds as anywhere else:
    a small rise per success, past it while no 429 comes. (It used to climb by
    shares of what was left, never arriving, and stay there until ``calm_one``:
    traced, three seconds at half a 400 req/s limit after a stray 429 ended the
    search.)"""
    control = _holding(100.0)
    control.one_token = True
    control.failed = 200.0
    control.ceiling = 190.0
    rates = []
    for i in range(200):  # 2.2 s: not yet ``calm_one``
        _quiet_success(control, 0.1 + i * 0.011)
        rates.append(control.rate)
    arrived = rates.index(190.0)
    assert arrived < 100
    assert max(rates[:arrived]) < 190.0
    assert control.ceiling == 0.0
    assert rates[-1] > 190.0


def _answer_all(control: AdaptiveControl, rtt: float, until: float) -> list[tuple[float, float]]:
    """Send as fast as the pacing allows, every answer a success ``rtt`` later, until
    ``until``; return (answer time, rate after it) for each answer."""
    now, next_try = 0.0, 0.0
    in_flight: deque[float] = deque()
    seen = []
    while now < until:
        answer_at = in_flight[0] + rtt if in_flight else math.inf
        if next_try <= answer_at:
            now = next_try
            wait = control.reserve(now)
            if wait == 0.0:
                in_flight.append(now)
            else:
                next_try = now + max(wait, 1e-9)  # a float-rounding wait: move on
        else:
            now = answer_at
            control.release(in_flight.popleft(), 201, now)
            seen.append((now, control.rate))
    return seen


def _climbing(climb: float) -> AdaptiveControl:
    """Holding at 200 req/s under a one-token limit that failed at 400 req/s: the
    climb back aims at 380 (``headroom``)."""
    control = AdaptiveControl(tuning=attrs.evolve(TUNING, climb=climb))
    control.resume_at(200.0, 0.0)
    control.one_token = True
    control.failed = 400.0
    control.ceiling = 380.0
    return control


def test_with_many_in_flight_the_climb_back_takes_a_few_round_trips() -> None:
    """At 400 req/s behind 100 ms (40 answers a round trip) the climb back from
    half the rate that failed arrives within three round trips of the first answer,
    never passing where it aims. (With ``climb`` at 0.5, as before, it took more:
    traced there, each climb took half a second.)"""
    seen = _answer_all(_climbing(TUNING.climb), rtt=0.1, until=1.0)
    arrived = next(t for t, rate in seen if rate == 380.0)
    assert arrived <= seen[0][0] + 3 * 0.1
    assert max(rate for t, rate in seen if t < arrived) < 380.0
    before = _answer_all(_climbing(0.5), rtt=0.1, until=2.0)
    assert next(t for t, rate in before if rate == 380.0) > seen[0][0] + 3 * 0.1


def test_after_a_step_cut_the_rate_climbs_back_slowly_until_calm_peak() -> None:
    """Under a limit with a burst, after a 429's step cut the rate climbs back to
    where it was cut by the base rise alone: no doubling and no growth by time
    until ``calm_peak``. (Grown by time after ``calm``, a 20 req/s rate went back
    over the limit about every second, and the 20 req/s cells met 8-10 % of
    429s.) Later it grows by time again, as after any calm."""
    control = _holding(20.0)
    assert control.reserve(0.0) == 0.0
    control.release(0.0, 429, 0.01)
    cut = 20.0 * (1 - TUNING.step)
    assert control.rate == pytest.approx(cut)
    successes = 0
    now = 0.06
    while now < TUNING.calm_peak - 0.1:
        _quiet_success(control, now)
        successes += 1
        now += 0.06
    assert TUNING.calm < now  # a calm that grows the rate without a cut
    base = rise(TUNING.step, TUNING.target)
    assert control.rate == pytest.approx(cut * (1 + base) ** successes)
    assert control.rate < 20.0
    # Under a one-token limit the step leaves no plateau: its hold has its own
    # rules near the rate that failed.
    one_token = _holding(20.0)
    one_token.one_token = True
    assert one_token.reserve(0.0) == 0.0
    one_token.release(0.0, 429, 0.01)
    for i in range(successes):
        _quiet_success(one_token, 0.06 * (i + 1))
    assert one_token.rate > control.rate * 1.01
    before = control.rate
    _quiet_success(control, TUNING.calm_peak + 0.5)
    assert control.rate > before * (1 + 4 * base)


def test_a_rate_resumed_from_elsewhere_has_no_plateau() -> None:
    """``resume_at`` (a fleet's limiter falling back to its local one at the
    fleet's rate) forgets the last step's peak: the rate given is no step cut."""
    control = _holding(20.0)
    assert control.reserve(0.0) == 0.0
    control.release(0.0, 429, 0.01)
    assert control.peak == 20.0
    control.resume_at(15.0, 0.02)
    assert control.peak == 0.0
    _quiet_success(control, 0.02 + TUNING.calm + 0.5)
    assert control.rate >= 15.0 * (1 + TUNING.calm_growth / 15.0) * (1 - 1e-9)


def test_after_a_long_calm_the_rate_grows_by_time_past_the_rate_that_failed() -> None:
    """A calm of ``calm_one`` grows a one-token rate by time, even past the rate
    that failed (a rate kept under an old failure would never follow a limit that
    rose, or take what a fleet's other members leave)."""
    control = _holding(10.0)
    control.one_token = True
    control.failed = 10.05
    _quiet_success(control, 0.1)
    before = control.rate
    _quiet_success(control, TUNING.calm_one + 1.0)
    assert control.rate >= before * (1 + TUNING.calm_growth / before) * (1 - 1e-9)


def _paced_with_a_gap(gap: float) -> tuple[AdaptiveControl, list[float]]:
    """Holding at 400 req/s with the next request always held back: ten requests
    2.6 ms apart, then one more ``gap`` seconds after it came due; the first nine
    succeed. Returns the limiter and the send times."""
    control = _holding(400.0)
    control.srtt = 0.05
    sent = []
    now = 0.0
    for _ in range(10):
        assert control.reserve(now) == 0.0
        sent.append(now)
        assert control.reserve(now + 0.0001) > 0.0  # held back
        now += 0.0026
    assert control.reserve(now + gap) == 0.0
    sent.append(now + gap)
    for t in sent[:-2]:
        control.release(t, 201, t + 0.05)
    return control, sent


@pytest.mark.parametrize(("gap", "moves"), [(0.0, True), (0.004, True), (0.03, False)])
def test_429s_of_the_requests_around_a_stall_of_the_loop_move_nothing(
    gap: float, moves: bool
) -> None:
    """A slot taken long after it came due, while requests were held back, means
    the event loop stalled (a garbage collection): the request before went out at
    the end of the stall and this one right after it. Their 429s are counted but
    lower nothing (traced at 400 req/s: a 25-35 ms collection ended the search at
    half the limit). A slot taken a little late (4 ms here, under the 5 ms
    floor) is no stall: those 429s count."""
    control, sent = _paced_with_a_gap(gap)
    before = control.rate
    control.release(sent[-1], 429, sent[-1] + 0.05)
    control.release(sent[-2], 429, sent[-2] + 0.0501)
    assert control.throttled == 2
    assert (control.rate < before) is moves


@settings(max_examples=50)
@given(st.floats(min_value=0.0, max_value=30.0), st.floats(min_value=0.01, max_value=30.0))
def test_the_longer_the_calm_the_faster_the_rate_grows(quiet: float, more: float) -> None:
    """Growth by time never slows while no 429 comes, and from three ``calm`` on it
    speeds up, up to its cap (a member left alone when the others of a fleet
    finish climbs back within seconds, not at a quarter of itself per second)."""
    grown = []
    for after in (quiet, quiet + more):
        control = _holding(10.0)
        _quiet_success(control, after)
        grown.append(control.rate)
    assert grown[1] >= grown[0]
    if 3.0 * TUNING.calm <= quiet < (3.0 + TUNING.calm_doublings) * TUNING.calm:
        assert grown[1] > grown[0]


@pytest.mark.parametrize(("quiet", "speed"), [(2.0, 1.0), (4.0, 2.0), (5.0, 4.0), (9.0, 8.0)])
def test_a_long_calm_doubles_the_growth_every_calm(quiet: float, speed: float) -> None:
    """From three ``calm`` on, growth by time doubles every ``calm``, up to eight
    times ``calm_growth`` a second: a fleet's last member, alone once the others
    are done, took five seconds to go from 6 to 26 req/s when it sped up by a
    quarter every two ``calm``."""
    control = _holding(10.0)
    _quiet_success(control, quiet * TUNING.calm - 0.005)  # answered at ``quiet``
    assert control.rate == pytest.approx(10.0 * (1 + TUNING.calm_growth * speed / 10.0))


def _send_at(control: AdaptiveControl, paces: list[float], start: float) -> list[float]:
    """Send one request at each of ``paces`` (a rate still rising), 10 ms apart from
    ``start``; return their send times."""
    times = []
    for i, pace in enumerate(paces):
        control.rate = pace
        control.tokens = 1.0  # each request goes at its own pace
        assert control.reserve(start + 0.01 * i) == 0.0
        times.append(start + 0.01 * i)
    return times


def _one_token_round(paces: list[float], first_refused: int) -> AdaptiveControl:
    """Holding under a one-token limit, requests sent 10 ms apart at ``paces`` (a
    rate still rising); from ``first_refused`` on, every other one is refused (the
    pattern above such a limit), answered in order 50 ms after it went out."""
    control = _holding(paces[0])
    control.one_token = True
    times = _send_at(control, paces, 0.01)
    for i, t in enumerate(times):
        refused = i >= first_refused and (i - first_refused) % 2 == 0
        control.release(t, 429 if refused else 201, t + 0.05)
        if control.ceiling:
            break
    return control


def test_above_a_one_token_limit_the_ceiling_is_the_pace_of_the_first_429() -> None:
    """Holding, the rate rises while the 429s of a crossing are on their way back:
    the later ones went out at a higher pace. The rate that failed, climbed back
    towards, is the pace of the round's first 429 (traced at 200 req/s behind 100
    ms: its pace was under the limit and the last ones 9 % over it)."""
    paces = [100.0 + i for i in range(24)]
    control = _one_token_round(paces, first_refused=12)
    assert control.mode == HOLDING
    assert control.failed == pytest.approx(112.0)
    assert control.ceiling == pytest.approx(112.0 * TUNING.headroom)
    assert control.rate < control.ceiling


def _rise_after_a_long_run(rate: float, failed: float, *, one_token: bool) -> float:
    """The share the rate rises by with one more success after 100 without a 429."""
    control = _holding(rate)
    control.one_token = one_token
    control.failed = failed
    for i in range(100):
        _quiet_success(control, 0.1 + i * 0.003)
    before = control.rate
    _quiet_success(control, 0.45)
    return control.rate / before - 1.0


def test_near_a_one_token_limit_that_failed_the_rise_stops_doubling() -> None:
    """A long run of successes doubles the rise (a rate far under the limit comes
    back fast), but not from ``gentle`` of a one-token rate that failed up to it (a
    doubled rise crosses such a limit before its first 429 is back). Past it with
    no 429, that rate was too low a guess: the rise doubles again (traced at 400
    req/s behind 100 ms: the rate crept 4 % a second for three seconds)."""
    base = rise(TUNING.step, TUNING.target)
    near = _rise_after_a_long_run(400.0, failed=400.0 / TUNING.gentle, one_token=True)
    assert near == pytest.approx(base, rel=0.05)
    far = _rise_after_a_long_run(400.0, failed=1000.0, one_token=True)
    past = _rise_after_a_long_run(400.0, failed=350.0, one_token=True)
    with_burst = _rise_after_a_long_run(400.0, failed=400.0, one_token=False)
    for boosted in (far, past, with_burst):
        assert boosted == pytest.approx(base * 2.0**TUNING.doublings, rel=0.05)


def test_past_a_one_token_rate_that_failed_the_rise_doubles_again_from_one() -> None:
    """The successes counted from ``gentle`` of the rate that failed up to it do not
    double the rise past it: the doubling starts there again. (They did: the rise
    jumped at once to its full ``doublings`` past that rate, and crossed a 400 req/s
    limit a tenth of a second later, traced: 375 to 393 req/s, 17 429s.)"""
    base = rise(TUNING.step, TUNING.target)
    control = _holding(400.0 * TUNING.gentle + 0.5)
    control.one_token = True
    control.failed = 400.0
    now = 0.1
    while control.rate <= 400.0:
        assert control.run == 0
        _quiet_success(control, now)
        now += 0.003
    for i in range(8):
        before = control.rate
        _quiet_success(control, now + i * 0.003)
        expected = base * 2.0 ** ((i + 1) / TUNING.run)
        assert control.rate / before - 1.0 == pytest.approx(expected, rel=0.05)


def test_the_search_ends_at_the_rate_when_its_first_429_comes_back() -> None:
    """The search's first 429 may be a stray one (a pause of the client, a request
    on a new connection, arriving with the next): what a one-token limit climbs
    back towards after it is the rate when that 429 came back, not its own pace."""
    control = AdaptiveControl()
    control.release(0.0, 429, 0.01)  # the first wave's 429: the search begins
    assert control.mode == SEARCHING
    control.one_token = True
    times = _send_at(control, [100.0 + 20.0 * i for i in range(8)], 0.02)
    for t in times[:5]:
        control.release(t, 201, t + 0.05)
    control.release(times[5], 429, times[5] + 0.05)  # sent at 200 req/s
    assert control.mode == HOLDING
    assert control.failed == pytest.approx(240.0)
    assert control.ceiling == pytest.approx(240.0 * TUNING.headroom)


@pytest.mark.parametrize("in_flight", [0, 40])
@pytest.mark.parametrize(
    ("next_three", "failed"),
    [
        ((201, 201, 201), 260.0),  # a stray: the rate when it came back
        ((201, 429, 201), 200.0),  # one in two refused: crossed at its pace
        ((429, 201, 201), 200.0),
    ],
)
def test_the_search_comes_back_under_the_pace_of_its_first_429_if_it_crossed_there(
    next_three: tuple[int, int, int], failed: float, in_flight: int
) -> None:
    """Under a one-token limit, the search's first 429 is a stray if the three
    requests sent next got through, and the limit crossed at its pace if one of
    them was refused too (one in two is, above such a limit): the climb back then
    aims under that pace, not under the rate a round trip later (traced at 100
    req/s behind 100 ms: 155 req/s, and the climb crossed the limit again).
    The check waits for the three's answers however many more requests went out
    meanwhile (``in_flight``; at 400 req/s behind 100 ms, 40): it once ended at
    once, as for a request that is never answered, and took every crossing for
    a stray."""
    control = AdaptiveControl()
    control.release(0.0, 429, 0.01)  # the first wave's 429: the search begins
    control.one_token = True
    paces = [100.0 + 20.0 * i for i in range(9)] + [260.0] * in_flight
    times = _send_at(control, paces, 0.02)
    for t in times[:5]:
        control.release(t, 201, t + 0.05)
    control.release(times[5], 429, times[5] + 0.05)  # sent at 200 req/s
    assert (control.mode, control.failed) == (HOLDING, 260.0)
    for t, status in zip(times[6:9], next_three, strict=True):
        assert control.failed == 260.0  # not told yet: none refused, not all answered
        control.release(t, status, t + 0.05)
        if status == 429:
            break
    assert control.failed == pytest.approx(failed)
    assert control.ceiling == pytest.approx(failed * TUNING.headroom)
    if 429 in next_three:
        assert control.confirm is None
    else:
        # A stray: the search's later requests may still show where it crossed,
        # until one sent after its end is answered.
        assert control.confirm is not None
        control.tokens = 1.0
        assert control.reserve(1.0) == 0.0
        control.release(1.0, 201, 1.05)
        assert control.confirm is None
        assert control.failed == 260.0


def _search_ended_by_a_429_at_200(ended: float = 0.15) -> tuple[AdaptiveControl, list[float]]:
    """A one-token search sending from 100 to 360 req/s, 10 ms apart, whose first
    429 (sent at 200 req/s, the sixth) came back at ``ended``; return it and the
    send times."""
    control = AdaptiveControl()
    control.release(0.0, 429, 0.01)  # the first wave's 429: the search begins
    control.one_token = True
    times = _send_at(control, [100.0 + 20.0 * i for i in range(14)], 0.02)
    for t in times[:5]:
        control.release(t, 201, t + 0.05)
    control.release(times[5], 429, ended)
    return control, times


def test_after_a_stray_the_search_comes_back_under_the_pace_of_its_next_crossing() -> None:
    """The search's first 429 a stray (the three sent next got through), a later
    request sent before the search's end refused with one of its next three: the
    limit was crossed there, and the climb back aims under that pace, not under
    the rate when the stray came back (traced at 400 req/s behind 100 ms: 474
    req/s, and the climb back crossed the limit again 0.4 s later)."""
    control, times = _search_ended_by_a_429_at_200()
    assert (control.mode, control.failed) == (HOLDING, 360.0)
    statuses = (201, 201, 201, 429, 201, 429)  # a stray, then at 280 req/s one in two
    for t, status in zip(times[6:12], statuses, strict=True):
        assert control.failed == 360.0
        control.release(t, status, t + 0.08)
    assert control.confirm is None
    assert control.failed == pytest.approx(280.0)
    assert control.ceiling == pytest.approx(280.0 * TUNING.headroom)


def test_a_429_sent_after_the_search_ended_is_no_crossing_of_it() -> None:
    """Only the requests sent before the search's end tell where it crossed: a 429
    sent after it (at the pace of the cut) is the hold's business."""
    # The search ends at 0.105: times[9] on went out later.
    control, times = _search_ended_by_a_429_at_200(ended=0.105)
    for t, status in zip(times[6:12], (201, 201, 201, 429, 201, 429), strict=True):
        control.release(t, status, t + 0.08)
    assert control.confirm is None
    assert control.failed == 360.0


def test_without_confirm_the_search_ends_at_the_rate_when_its_429_came_back() -> None:
    """``confirm=0`` keeps the rate when the search's first 429 came back, crossed or
    not."""
    control = AdaptiveControl(tuning=Tuning(confirm=0))
    control.release(0.0, 429, 0.01)
    control.one_token = True
    times = _send_at(control, [100.0 + 20.0 * i for i in range(9)], 0.02)
    for t in times[:5]:
        control.release(t, 201, t + 0.05)
    for t, status in zip(times[5:], (429, 201, 429, 201), strict=True):
        control.release(t, status, t + 0.05)
    assert control.failed == 260.0


def test_a_deep_cut_after_the_search_fails_at_a_pace_sent_after_its_end() -> None:
    """The round of 429s that ended the search is over at its cut: a deep cut soon
    after, while 429s would still count as that round, takes the rate that failed
    from the first 429 sent since the search's end, not from the search's stray
    (traced at 400 req/s behind 100 ms: 336 req/s, and the hold crept under it for
    a second where the limit let 380 req/s through)."""
    control, times = _search_ended_by_a_429_at_200()
    for t in times[6:]:
        control.release(t, 201, t + 0.08)  # a stray, and no crossing after it
    assert (control.mode, control.confirm, control.failed) == (HOLDING, None, 360.0)
    after = _send_at(control, [300.0 + i for i in range(8)], 0.16)
    for i, t in enumerate(after):  # from the third on, one in two refused
        control.release(t, 429 if i >= 2 and i % 2 == 0 else 201, t + 0.08)
    assert control.failed == pytest.approx(302.0)
    assert control.ceiling == pytest.approx(302.0 * TUNING.headroom)
