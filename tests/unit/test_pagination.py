"""Pagination decisions: every listing ends, nothing twice, honest servers cost nothing extra."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._pagination import Paginator, links_next, parse_total

# A server: (page number, per_page) -> (ids on the page, Link header, total)
Answer = tuple[list[str], "str | None", "int | str | None"]
Server = Callable[[int, int], Answer]


def ids(count: int) -> list[str]:
    return [f"id-{i}" for i in range(count)]


def drive(server: Server, per_page: int, *, limit: int = 10_000) -> tuple[list[str], Paginator]:
    """The loop a client runs: ask for pager.page until pager.done."""
    pager = Paginator(per_page, what="GET /volumes")
    out: list[str] = []
    while not pager.done:
        assert pager.requests < limit, "the listing did not end"
        items, link, total = server(pager.page, per_page)
        out.extend(pager.feed(items, link=link, total=total))
    return out, pager


def sliced(universe: list[str], page: int, per_page: int) -> list[str]:
    return universe[(page - 1) * per_page : page * per_page]


def block_server(universe: list[str]) -> Server:
    """Honest Block API: the slice, and total_count in the body."""
    return lambda page, per_page: (sliced(universe, page, per_page), None, len(universe))


def instance_server(universe: list[str]) -> Server:
    """Honest Instance API: the slice, Link rel=next while more follow, X-Total-Count."""

    def serve(page: int, per_page: int) -> Answer:
        more = page * per_page < len(universe)
        link = (
            f'</volumes?page={page + 1}>; rel="next"' if more else '</volumes?page=1>; rel="first"'
        )
        return sliced(universe, page, per_page), link, str(len(universe))

    return serve


def bare_server(universe: list[str]) -> Server:
    """Honest but silent: the slice and nothing else (the seed API)."""
    return lambda page, per_page: (sliced(universe, page, per_page), None, None)


# -- honest servers --------------------------------------------------------------


@given(st.integers(min_value=0, max_value=450), st.integers(min_value=1, max_value=100))
def test_honest_servers_list_everything_in_the_pages_they_have(count: int, per_page: int) -> None:
    """With a total or Link, every item comes once, in order, with no request for an empty page."""
    universe = ids(count)
    pages = max(1, -(-count // per_page))
    for server in (block_server(universe), instance_server(universe)):
        out, pager = drive(server, per_page)
        assert out == universe
        assert pager.requests == pages
        assert pager.warning is None


@given(st.integers(min_value=0, max_value=450), st.integers(min_value=1, max_value=100))
def test_silent_honest_server_costs_at_most_one_empty_page(count: int, per_page: int) -> None:
    """With no total and no Link, a short page ends it; only an exact multiple costs one more."""
    out, pager = drive(bare_server(ids(count)), per_page)
    assert out == ids(count)
    assert pager.requests == count // per_page + 1
    assert pager.warning is None


# -- misbehaving servers ---------------------------------------------------------


def test_issue_server_ignoring_paging_ends_at_once(caplog: pytest.LogCaptureFixture) -> None:
    """The emulator that returns the same 120 volumes for every page: one request, 120 items."""
    universe = ids(120)
    with caplog.at_level(logging.WARNING, logger="scaleway_volumes"):
        out, pager = drive(lambda page, per_page: (universe, None, None), 100)
    assert out == universe and pager.requests == 1
    assert [r.getMessage() for r in caplog.records] == [pager.warning]
    assert "ignores per_page" in (pager.warning or "")


def test_server_ignoring_page_stops_on_the_repeat(caplog: pytest.LogCaptureFixture) -> None:
    """A server that honours per_page but not page: two requests, the first page once."""
    universe = ids(250)
    with caplog.at_level(logging.WARNING, logger="scaleway_volumes"):
        out, pager = drive(lambda page, per_page: (universe[:per_page], None, 250), 100)
    assert out == universe[:100] and pager.requests == 2
    assert len(caplog.records) == 1 and "ignores page" in caplog.records[0].getMessage()


def test_total_smaller_than_the_page_stops_with_the_items() -> None:
    """total_count says 5 but a page lists 7: the 7 are kept, the listing stops with a warning."""
    out, pager = drive(lambda page, per_page: (ids(7) if page == 1 else ids(20), None, 5), 10)
    assert out == ids(7) and pager.requests == 1
    assert "more than the total of 5" in (pager.warning or "")


def test_link_next_forever_is_bounded_by_the_first_total() -> None:
    """Link says next forever, ids fresh, total growing: cut at twice the first total's pages."""

    def serve(page: int, per_page: int) -> Answer:
        items = [f"p{page}-{i}" for i in range(per_page)]
        return items, '<x>; rel="next"', str(page * per_page + 1)

    out, pager = drive(serve, 10)
    assert pager.max_pages == 2 * 2 + 2 == pager.requests
    assert len(out) == 60 and "twice what the first total needed" in (pager.warning or "")


def test_total_above_what_was_listed_with_link_next() -> None:
    """Link says next with a fixed total: the listing ends once more than the total came."""

    def serve(page: int, per_page: int) -> Answer:
        return [f"p{page}-{i}" for i in range(per_page)], '<x>; rel="next"', "30"

    out, pager = drive(serve, 10)
    assert pager.requests == 4 and len(out) == 40
    assert "more than the total of 30" in (pager.warning or "")


def test_duplicates_within_and_across_pages_are_dropped() -> None:
    """A shifting listing (an item seen twice) yields it once and keeps going."""
    pages = {1: ["a", "b", "b"], 2: ["b", "c", "d"], 3: ["e"]}
    out, pager = drive(lambda page, per_page: (pages.get(page, []), None, None), 3)
    assert out == ["a", "b", "c", "d", "e"] and pager.requests == 3


def test_server_serving_fewer_than_asked_is_followed_by_its_total() -> None:
    """A server capping pages at 50 when 100 were asked is listed to its total."""
    universe = ids(120)
    out, pager = drive(lambda page, per_page: (sliced(universe, page, 50), None, 120), 100)
    assert out == universe and pager.requests == 3 and pager.warning is None


def test_listing_that_grows_while_read_is_followed_to_its_end() -> None:
    """Volumes created during the listing (appended at the end) are listed too, once each."""
    universe = ids(95)
    totals: list[int] = []

    def serve(page: int, per_page: int) -> Answer:
        totals.append(len(universe))
        answer = sliced(universe, page, per_page), None, len(universe)
        universe.extend(f"new-{page}-{i}" for i in range(2))  # created after this page
        return answer

    out, pager = drive(serve, 10)
    assert out == universe[: totals[-1]] and totals[-1] > 95
    assert pager.warning is None and pager.requests == 12


def test_models_are_keyed_by_id() -> None:
    """Items with an ``id`` are deduplicated by it; a custom key works too."""

    @attrs.frozen
    class Item:
        id: str
        n: int

    pager = Paginator(10)
    first = pager.feed([Item("a", 1), Item("a", 2), Item("b", 3)], total=4)
    assert first == [Item("a", 1), Item("b", 3)] and not pager.done and pager.page == 2
    assert pager.feed([Item("c", 4), Item("d", 5)], total=4, key=lambda i: i.id) == [
        Item("c", 4),
        Item("d", 5),
    ]
    assert pager.done and pager.stop_reason == "the last page (total)"


def test_feed_after_the_end_and_bad_per_page_raise() -> None:
    """Misuse is a clear error, not a silent extra request."""
    pager = Paginator(10)
    pager.feed([])
    with pytest.raises(RuntimeError, match="after the listing ended"):
        pager.feed(["a"])
    for bad in (0, -1, 1.5, "10", True):
        with pytest.raises(ValueError, match="per_page"):
            Paginator(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://api/v?page=2>; rel="next"', True),
        ('<https://api/v?page=2>; rel=next, <https://api/v?page=9>; rel="last"', True),
        ('<https://api/v?page=9>; REL="prev next"', True),
        ('<https://api/v?rel=next>; rel="last"', False),
        ('<https://api/v?page=1>; rel="first"', False),
        ("", False),
    ],
)
def test_links_next(header: str, expected: bool) -> None:
    """rel=next is found in any RFC 8288 spelling, never inside a URL."""
    assert links_next(header) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (0, 0),
        (7, 7),
        (-1, None),
        (True, None),
        ("12", 12),
        (" 3 ", 3),
        ("x", None),
        ("-2", None),
        ("١٢", None),
        (1.0, None),
    ],
)
def test_parse_total(value: Any, expected: int | None) -> None:
    """Counts come as body ints or header strings; anything else is no count."""
    assert parse_total(value) == expected


# -- any server at all -----------------------------------------------------------

answers = st.tuples(
    st.lists(st.sampled_from(ids(40)), max_size=30),
    st.none() | st.sampled_from(['<u>; rel="next"', '<u>; rel="last"', ""]),
    st.none() | st.integers(min_value=-1, max_value=60) | st.sampled_from(["15", "abc"]),
)


@given(
    st.lists(answers, min_size=1, max_size=12),
    st.integers(min_value=1, max_value=30),
    st.booleans(),
)
def test_any_server_ends_within_the_bound_and_never_repeats(
    script: list[Answer], per_page: int, cycle: bool
) -> None:
    """Whatever pages come back (repeating, shrinking, lying), the loop ends, each id once."""

    def serve(page: int, _: int) -> Answer:
        return script[(page - 1) % len(script)] if cycle else script[min(page, len(script)) - 1]

    out, pager = drive(serve, per_page, limit=100)
    assert len(out) == len(set(out))
    assert set(out) <= {i for items, _, _ in script for i in items}
    # Every page but the last brought a new id, and a repeat of the script brings none,
    # unless a falling total sent the listing back over what it had read.
    if pager.passes == 1:
        assert pager.requests <= min(len(set(out)) + 1, len(script) + 1)
    if pager.max_pages is not None:
        assert pager.requests <= pager.max_pages


@given(
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=1, max_value=100),
    st.sampled_from(["ignore_page", "ignore_per_page", "ignore_both", "lying_total", "shrinking"]),
    st.integers(min_value=0, max_value=1000),
    st.booleans(),
)
def test_misbehaving_servers_end_with_unique_items(
    count: int, per_page: int, behaviour: str, claimed: int, headers: bool
) -> None:
    """Servers that ignore page or per_page, lie about totals or shrink all end, bounded."""
    universe = ids(count)
    total: int | None = count if headers else None

    def serve(page: int, size: int) -> Answer:
        if behaviour == "ignore_page":
            return universe[:size], None, total
        if behaviour in ("ignore_per_page", "ignore_both"):
            return universe, None, total
        if behaviour == "lying_total":
            return sliced(universe, page, size), None, claimed
        return sliced(universe, page, max(1, size - page)), None, total  # shrinking pages

    out, pager = drive(serve, per_page)
    assert len(out) == len(set(out)) and set(out) <= set(universe)
    assert pager.requests <= count + 1
    if pager.max_pages is not None:
        assert pager.requests <= pager.max_pages
    if behaviour in ("ignore_per_page", "ignore_both"):
        assert out == universe and pager.requests <= 2
