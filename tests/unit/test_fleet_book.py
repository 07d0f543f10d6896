"""FleetBook: one process's side of a limit shared through Redis, without Redis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._pacing._fleet import MAX_ASK, FleetBook, Lease
from scaleway_volumes._pacing._gate import REFILL

RATE = 100.0  # the fleet's shared rate
INTERVAL = 1.0 / RATE


def paced_book() -> FleetBook:
    book = FleetBook(2.0, 0.1, 0.002)
    book.apply_generation(1, RATE)
    return book


def spend_lease(book: FleetBook, now: float, count: int) -> float:
    """Take every slot of a lease of ``count`` from ``now``, each when it comes due."""
    book.apply_lease(Lease(count, start=now, interval=INTERVAL, gen=1, rate=RATE))
    for _ in range(count):
        wait = book.reserve(now)
        if wait:
            now += wait
            assert book.reserve(now) == 0.0
        book.release(now, 200, now + 0.01)
    return now


def test_an_idle_process_asks_for_one_slot() -> None:
    """A request every 5 s at a shared 100/s: each lease is of one slot, none wasted."""
    book = paced_book()
    now, asked = 1000.0, []
    for _ in range(20):
        now += 5.0
        assert book.reserve(now) == REFILL
        asked.append(book.want(1, now))
        now = spend_lease(book, now, asked[-1])
    assert asked == [1] * 20


def test_a_busy_process_doubles_its_lease_up_to_a_bound() -> None:
    """Spent on time and asked again at once: twice the last lease, never unbounded."""
    book = paced_book()
    now, asked = 1000.0, []
    for _ in range(40):
        assert book.reserve(now) == REFILL
        asked.append(book.want(1, now))
        now = spend_lease(book, now, min(asked[-1], 8))  # the script grants 8 at most
    assert asked[:5] == [1, 2, 4, 8, 16]
    assert asked[-1] == MAX_ASK
    # Lua would print anything larger in exponent form, which int() cannot read.
    assert len(str(MAX_ASK)) < 14


reports = st.tuples(
    st.one_of(st.none(), st.tuples(st.floats(0, 100), st.floats(0.5, 1000), st.integers(0, 9))),
    st.integers(0, 50),
    st.integers(0, 50),
    st.floats(0, 1),
)


@given(before=reports, meanwhile=reports)
def test_a_report_that_did_not_reach_redis_is_put_back(
    before: tuple[tuple[float, float, int] | None, int, int, float],
    meanwhile: tuple[tuple[float, float, int] | None, int, int, float],
) -> None:
    """Whatever came while the call was out is kept too, and the latest 429 wins."""
    book = paced_book()
    book.throttle, book.report_ok, book.report_thr, book.rtt_sample = before
    sending = book.pending()
    book.lease_args() if before[0] is None else book.throttle_args(200.0)
    book.throttle, book.report_ok, book.report_thr, book.rtt_sample = meanwhile
    book.restore(sending)
    old, new = before[0], meanwhile[0]
    assert book.throttle == (old if new is None or (old and old[0] > new[0]) else new)
    assert (book.report_ok, book.report_thr) == (
        before[1] + meanwhile[1],
        before[2] + meanwhile[2],
    )
    assert book.rtt_sample == (meanwhile[3] or before[3])
