"""The pure readings of the adaptive limiter's record (``_pacing._record``)."""

from __future__ import annotations

from collections import deque

from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._pacing._record import LATE, count_since, crossed

# Each request after the refused one: got through, refused, or not answered yet.
outcomes = st.lists(st.sampled_from(["ok", "refused", "pending"]), max_size=8)


@given(outcomes, st.integers(1, 4))
def test_crossed_reads_the_k_requests_sent_next(after: list[str], k: int) -> None:
    """True as soon as one of the ``k`` requests sent after the refused one is refused
    too, False once all ``k`` got through, None until then; later requests and the
    ones before it do not count."""
    sends = deque([(0.0, 50.0), (0.5, 50.0), (1.0, 60.0)])  # the refused one at 1.0
    oks, refused = deque([0.0]), deque([0.5, 1.0])
    for i, outcome in enumerate(after):
        t = 2.0 + i
        sends.append((t, 70.0))
        if outcome == "ok":
            oks.append(t)
        elif outcome == "refused":
            refused.append(t)
    verdict = crossed(1.0, k, sends, oks, refused, answered=sends[-1][0])
    nexts = after[:k]
    if len(nexts) < k:
        assert verdict is None
    elif "refused" in nexts:
        assert verdict is True
    elif nexts == ["ok"] * k:
        assert verdict is False
    else:
        assert verdict is None


def test_a_request_never_answered_shows_no_crossing_once_one_sent_late_after_is() -> None:
    """One of the ``k`` failed otherwise (a network error, a 5xx): no sign of a
    crossing, and the limiter stops waiting for it once a request sent ``LATE``
    after them is answered."""
    sends = deque([(0.0, 50.0)] + [(1.0 + i, 50.0) for i in range(3 + LATE)])
    oks = deque([1.0, 3.0] + [4.0 + i for i in range(LATE)])  # 2.0 never answered
    assert crossed(0.0, 3, sends, oks, deque([0.0]), answered=2.0 + LATE) is None
    assert crossed(0.0, 3, sends, oks, deque([0.0]), answered=3.0 + LATE) is False


def test_requests_in_flight_after_the_k_do_not_end_the_wait_for_their_answers() -> None:
    """Many requests sent after the ``k`` and not answered yet (at 400 req/s behind
    100 ms, 40 are in flight): the ``k`` are not taken for lost."""
    sends = deque([(0.0, 400.0)] + [(0.0025 * (1 + i), 400.0) for i in range(3 + 40)])
    assert crossed(0.0, 3, sends, deque(), deque([0.0]), answered=0.0) is None
    oks = deque([0.0025, 0.0075])
    assert crossed(0.0, 3, sends, oks, deque([0.0, 0.005]), answered=0.0075) is True


def test_count_since_counts_a_closed_span() -> None:
    """Send times at or after ``since`` and not after ``until``."""
    times = deque([0.0, 1.0, 2.0, 3.0])
    assert count_since(times, 1.0) == 3
    assert count_since(times, 1.0, until=2.0) == 2
    assert count_since(times, 3.5) == 0
