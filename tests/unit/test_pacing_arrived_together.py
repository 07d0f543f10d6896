"""A 429 of a request that reached the server together with a held-up one before it
moves nothing (``_record.arrived_together``), as a stall's does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._pacing._control import HOLDING, SEARCHING, AdaptiveControl
from scaleway_volumes._pacing._record import arrived_together, overtaken

FLOOR = 0.005
times = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)
gaps = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(times, gaps, gaps, gaps, st.one_of(st.just(0.0), gaps), st.booleans())
def test_together_only_if_the_one_before_came_back_late_and_close(
    sent_before: float, gap: float, rtt: float, closer: float, srtt: float, clumped: bool
) -> None:
    """Two requests sent ``gap`` apart and answered ``closer`` apart reached the
    server together when this one came back within half the gap after the one
    before, and that one was held up by more than the floor (against this one,
    or against the smoothed round trip when known) or was itself of a clump."""
    before = (sent_before, sent_before + rtt)
    sent = sent_before + gap
    answered = before[1] + closer
    verdict = arrived_together(before, sent, answered, FLOOR, srtt, clumped=clumped)
    # Computed as the function sees them (a float sum does not round-trip).
    gap, closer = sent - before[0], answered - before[1]
    late = gap - closer > FLOOR or (srtt > 0.0 and before[1] - before[0] - srtt > FLOOR)
    assert verdict == (0.0 <= closer < gap / 2 and (clumped or late))


@given(times, gaps, gaps)
def test_answers_in_their_turn_are_never_together(
    sent_before: float, gap: float, rtt: float
) -> None:
    """Sent ``gap`` apart and answered as far apart: each arrived in its turn."""
    before = (sent_before, sent_before + rtt)
    assert not arrived_together(before, sent_before + gap, before[1] + gap, FLOOR)


@given(times, gaps, gaps, st.floats(min_value=1e-6, max_value=1.0))
def test_an_answer_before_the_one_before_is_never_together(
    sent_before: float, gap: float, rtt: float, earlier: float
) -> None:
    """The one before came back after this one: nothing tells it arrived first."""
    before = (sent_before, sent_before + rtt + earlier)
    assert not arrived_together(before, sent_before + gap, sent_before + rtt, FLOOR)


def _searching_at(paces: list[float]) -> tuple[AdaptiveControl, list[float]]:
    """A search under a one-token limit, one request sent at each pace 10 ms apart."""
    control = AdaptiveControl()
    control.release(0.0, 429, 0.01)  # the first wave's 429: the search begins
    control.one_token = True
    sent = []
    for i, pace in enumerate(paces):
        control.rate = pace
        control.tokens = 1.0
        assert control.reserve(0.02 + 0.01 * i) == 0.0
        sent.append(0.02 + 0.01 * i)
    return control, sent


@pytest.mark.parametrize(("held_up", "searching"), [(0.0098, True), (0.0, False)])
def test_a_429_arriving_with_a_held_up_request_does_not_end_the_search(
    held_up: float, searching: bool
) -> None:
    """Traced at 400 req/s behind 100 ms: a request on a new connection reached the
    server 13 ms late, the next one 0.2 ms after it met a 429, and the search ended
    at half the limit. The one before came back ``held_up`` late, just before the
    429: the search goes on. In its turn (10 ms before): the 429 ends the search."""
    control, sent = _searching_at([100.0 + 20.0 * i for i in range(8)])
    for t in sent[:4]:
        control.release(t, 201, t + 0.05)
    control.release(sent[4], 201, sent[4] + 0.05 + held_up)
    control.release(sent[5], 429, sent[5] + 0.05)
    assert control.throttled == 2
    assert control.mode == (SEARCHING if searching else HOLDING)


def test_holding_a_429_arriving_with_a_held_up_request_is_no_step_down() -> None:
    """The same while holding: no step down, and the rate goes on rising."""
    control, sent = _searching_at([200.0] * 8)
    control.mode = HOLDING
    control.srtt = 0.05
    for t in sent[:4]:
        control.release(t, 201, t + 0.05)
    before = control.rate
    control.release(sent[4], 201, sent[5] + 0.0499)
    control.release(sent[5], 429, sent[5] + 0.05)
    assert control.rate >= before
    control.release(sent[6], 429, sent[6] + 0.05)  # in its turn: one step down
    assert control.rate < before


@pytest.mark.parametrize(("held_up", "searching"), [(0.009, True), (0.0, False)])
def test_a_clump_arriving_together_does_not_end_the_search(held_up: float, searching: bool) -> None:
    """Traced at 400 req/s behind 100 ms: three requests sent 4.8 ms apart (208
    req/s) came back 10, 5 and 0 ms late, within 0.4 ms of each other: held up
    on the way, they reached the server together, the first took the token and
    the two after it were refused, and the search ended at half the limit. The
    interval is under the floor, so the one before is judged late against the
    smoothed round trip; a fourth, back with the third, came with the clump
    (itself hardly late). In their turn (``held_up`` 0), the first 429 ends the
    search."""
    control = AdaptiveControl()
    control.release(0.0, 429, 0.01)  # the first wave's 429: the search begins
    control.one_token = True
    sent = []
    for i in range(10):
        control.rate = 250.0
        control.tokens = 1.0
        assert control.reserve(0.02 + 0.004 * i) == 0.0
        sent.append(0.02 + 0.004 * i)
    for t in sent[:6]:
        control.release(t, 201, t + 0.05)
    first = sent[6] + 0.05 + held_up
    control.release(sent[6], 201, first)
    for i, t in enumerate(sent[7:10], start=1):
        # Each 0.2 ms after the one before it, or in its turn.
        control.release(t, 429, first + 0.0002 * i if held_up else t + 0.05)
    assert control.throttled == 4
    assert control.mode == (SEARCHING if searching else HOLDING)


@given(times, gaps, gaps, gaps, st.floats(min_value=-1.0, max_value=1.0))
def test_overtaken_only_if_held_up_itself_and_back_with_or_after_the_next(
    sent: float, gap: float, rtt: float, srtt: float, closer: float
) -> None:
    """A request held up by more than the floor over the smoothed round trip, and
    the one sent ``gap`` after it back less than half the gap after it (or before
    it), reached the server with it or behind it."""
    this = (sent, sent + rtt)
    after = (sent + gap, this[1] + closer)
    verdict = overtaken(this, after, FLOOR, srtt)
    late = srtt > 0.0 and this[1] - this[0] - srtt > FLOOR
    assert verdict == (late and after[1] - this[1] < (after[0] - this[0]) / 2)


@pytest.mark.parametrize(("held_up", "searching"), [(0.017, True), (0.0, False)])
def test_a_held_up_request_refused_behind_the_next_does_not_end_the_search(
    held_up: float, searching: bool
) -> None:
    """Traced at 400 req/s behind 100 ms: a request of the search took 118 ms where
    the others took 101, and came back 0.3 ms after the one sent 16 ms after it:
    that one reached the server first, took the token, and the held-up one was
    refused; the search ended at a third of the limit (1.85x of the ideal wall).
    In its turn (``held_up`` 0), the 429 ends the search."""
    control, sent = _searching_at([100.0 + 20.0 * i for i in range(8)])
    for t in sent[:4]:
        control.release(t, 201, t + 0.05)
    answers = [(sent[4] + 0.05 + held_up, sent[4], 429), (sent[5] + 0.05, sent[5], 201)]
    for answered, t, status in sorted(answers):
        control.release(t, status, answered)
    assert control.throttled == 2
    assert control.mode == (SEARCHING if searching else HOLDING)
