"""An offset listing read while its items are deleted lists every item (rule 1 of
``_pagination``): the caller deleting what it was given, others deleting or adding."""

from __future__ import annotations

import logging
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._pagination import Paginator


def drive_deleting(
    universe: list[str],
    per_page: int,
    delete: list[bool],
    *,
    lag: int = 0,
    with_link: bool = False,
) -> tuple[list[str], Paginator]:
    """A Block (total in the body) or Instance (``Link`` and total) server over
    ``universe``; the caller deletes the ``i``-th item it is given when
    ``delete[i]`` (cycled), ``lag`` pages later (a bulk delete still running)."""
    pager = Paginator(per_page, what="GET /volumes")
    out: list[str] = []
    pending: list[list[str]] = []
    while not pager.done:
        assert pager.requests < 10_000, "the listing did not end"
        while len(pending) > lag:
            for gone in pending.pop(0):
                universe.remove(gone)
        start = (pager.page - 1) * per_page
        page = universe[start : start + per_page]
        link: str | None = None
        if with_link:
            more = start + per_page < len(universe)
            link = '<...>; rel="next"' if more else '<...>; rel="first"'
        fresh = pager.feed(page, link=link, total=len(universe))
        pending.append([item for n, item in enumerate(fresh, len(out)) if delete[n]])
        out.extend(fresh)
    return out, pager


def needed(count: int, per_page: int) -> int:
    return max(1, math.ceil(count / per_page))


@pytest.mark.parametrize("with_link", [False, True])
def test_deleting_every_item_as_it_comes_lists_all_of_them(
    with_link: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """250 volumes at 100 a page, each deleted when given: 100 were listed before
    (pages 1 and 2: the second held what had been the third); now all 250, in
    three requests (pages 1, 2, then 1 again), with no warning."""
    universe = [f"id-{i}" for i in range(250)]
    out, pager = drive_deleting(list(universe), 100, [True] * 250, with_link=with_link)
    assert sorted(out) == sorted(universe)
    assert pager.requests == 3
    assert pager.warning is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@given(
    count=st.integers(min_value=0, max_value=400),
    per_page=st.integers(min_value=1, max_value=60),
    delete=st.lists(st.booleans(), min_size=1, max_size=50),
    lag=st.integers(min_value=0, max_value=2),
    with_link=st.booleans(),
)
def test_a_caller_deleting_what_it_was_given_misses_nothing(
    count: int, per_page: int, delete: list[bool], lag: int, with_link: bool
) -> None:
    """Whatever it deletes, and however late its deletes land: every item once, no
    warning, within the bound (rule 7 and the pages stepping back may add)."""
    universe = [f"id-{i}" for i in range(count)]
    pattern = (delete * (count // len(delete) + 1))[: max(count, 1)]
    out, pager = drive_deleting(list(universe), per_page, pattern, lag=lag, with_link=with_link)
    assert sorted(out) == sorted(universe)
    assert len(set(out)) == len(out)
    assert pager.warning is None, pager.warning
    pages = needed(count, per_page)
    assert pager.requests <= 3 * pages + 4


def test_others_deleting_items_not_yet_listed_costs_pages_not_a_warning() -> None:
    """Ten items of the last page vanish (someone else deleted them) while pages 1
    and 2 are read: the listing steps back and reads again, warns of nothing, and
    lists the 240 that are left."""
    universe = [f"id-{i}" for i in range(250)]
    pager = Paginator(100, what="GET /volumes")
    out: list[str] = []
    while not pager.done:
        if pager.requests == 2:
            for gone in universe[200:210]:
                universe.remove(gone)
        start = (pager.page - 1) * 100
        out.extend(pager.feed(universe[start : start + 100], total=len(universe)))
    assert sorted(out) == sorted(universe)
    assert pager.warning is None
    assert pager.requests <= 6


def test_a_total_that_falls_and_rises_forever_is_still_cut() -> None:
    """A server whose total swings every page (a bug) has "removed" more than it
    ever held: the listing stops going back, and says what it may have missed."""
    pager = Paginator(10, what="GET /volumes")
    while not pager.done:
        assert pager.requests < 1_000
        total = 1000 if pager.requests % 2 == 0 else 500
        pager.feed([f"id-{pager.requests}-{i}" for i in range(10)], total=total)
    assert pager.max_pages is not None and pager.requests <= pager.max_pages
    assert "items removed meanwhile may have hidden others" in (pager.warning or "")
