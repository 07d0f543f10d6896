"""Pagination that always ends: after each page, what to yield and whether to ask again.

Pure (no I/O): the caller makes the requests, ``Paginator`` decides. One is
made per listing (every paginated call of both APIs, and the lookup of a
create's marker). The rules, in order, after each page:

1. Items whose id was already seen are dropped: nothing is yielded twice.
   With a total, the listing also keeps the places (offsets in the server's
   order) where an item not yet listed may be: at first all of them; a page
   read removes its own, and a total smaller than the last one says that many
   items were removed meanwhile (the caller deleting what it was given), so
   every unlisted item may have moved up to that many places towards the
   start. The next page is the first one holding such a place after the page
   just read; at the end of the list (rule 2 or 6), if places remain before
   it and the total fell since the listing last came back, it reads again
   from the first of them (a new pass, counted by ``passes``; rule 3 does not
   end a page read twice). A page holding an item known to lie after nothing
   but listed items covers every place before it too.
2. An empty page ends the listing (with a warning if fewer distinct ids
   than the page's total were seen; the same for a ``Link`` last page).
3. A page whose ids were all seen before ends it: the server ignores ``page``.
4. A page holding more items than asked for ends it (its unseen items are
   yielded): the server ignores ``per_page``, so page numbers mean nothing.
5. A page listing more distinct items than the total it announces (plus
   what the totals say was removed) ends it.
6. Otherwise the server says whether more follow: a ``Link`` header decides
   by its ``rel="next"`` (Instance API); else a total (``X-Total-Count`` or
   the body's ``total_count``) decides: more while a place may hold an item
   not yet listed; else a full page means another may follow and a short one
   is the last.
7. Even then, once a total is known the listing fetches at most
   ``2 * ceil(total / page size) + 2`` pages, from the first total and the
   largest page seen by then: twice what the listing needs, so one that
   grows while it is read (creates running alongside) still completes,
   while a server that never says "last" is cut. Passes (rule 1) add the
   pages they read, as many again at most; and none starts once the totals
   have fallen by more than the first one (no list shrinks by more than it
   held): that listing ends with a warning.

An offset listing read while its items are deleted used to skip some: the
deleted ones' places were taken by items not yet listed, on pages already
read. Deleting every volume as ``iter_volumes`` yields it left 100 of 250
listed at ``per_page=100``; with rule 1 it reaches all of them in three
requests (pages 1, 2, then 1 again). Over delete patterns and delays of up
to three pages (the caller's deletes landing late), a listing took at most
2.3 times its pages, 1.4 on average. Items removed by someone else only cost
pages read again; items added while listing can still push unlisted ones
onto a page already read (no offset listing can tell).

So an honest server is listed in exactly the pages it has (no request for an
empty page when it sends a total or ``Link``), and a misbehaving one ends
with the distinct items it sent: the same 120 volumes on every page, with no
headers, cost one request at ``per_page=100`` (rule 4) and two at
``per_page=120`` (rule 3 on the repeat).

Contradictions (a total smaller than what was listed, a page larger than
asked) never raise: the items decoded fine, so they are yielded, the listing
stops, and one warning per listing goes to the ``scaleway_volumes.pagination``
logger (a child of ``scaleway_volumes``: it reaches that logger's handlers too).
A ``ResponseDecodeError`` would throw away data that is valid, and a caller
of ``iter_volumes`` may already hold the earlier pages.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._constants import PAGINATION_LOGGER

__all__ = ["Paginator", "links_next", "parse_total"]

logger = logging.getLogger(PAGINATION_LOGGER)

T = TypeVar("T")

_LINK_TARGET = re.compile(r"<[^>]*>")
_LINK_REL = re.compile(r'\brel\s*=\s*"?([^";,]*)"?', re.IGNORECASE)


def links_next(link: str) -> bool:
    """Whether a ``Link`` header has a ``rel="next"`` entry (RFC 8288).

    ```python
    links_next('</volumes?page=2>; rel="next", </volumes?page=5>; rel="last"')  # True
    ```
    """
    params = _LINK_TARGET.sub("", link)  # a URL may itself contain "rel=next"
    return any("next" in match.group(1).lower().split() for match in _LINK_REL.finditer(params))


def parse_total(value: int | str | None) -> int | None:
    """A total count from a body (int) or a header (str); None if absent or not a count."""
    if type(value) is int:
        return value if value >= 0 else None
    if isinstance(value, str):
        value = value.strip()
        if value.isascii() and value.isdigit():
            return int(value)
    return None


def _id_of(item: Any) -> str:
    return item if type(item) is str else item.id


class _Places:
    """Places (0-based offsets in the server's order) where an item not yet listed
    may be: sorted, disjoint ``[start, end)`` spans; at first, all of them."""

    __slots__ = ("spans",)

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = [(0, sys.maxsize)]

    def shift(self, fell: int) -> None:
        """``fell`` items were removed: each unlisted item moved at most that many
        places towards the start."""
        merged: list[tuple[int, int]] = []
        for start, end in self.spans:
            start = max(0, start - fell)
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self.spans = merged

    def cover(self, start: int, end: int) -> None:
        """Places ``[start, end)`` were just read: they hold listed items."""
        kept: list[tuple[int, int]] = []
        for a, b in self.spans:
            if b <= start or a >= end:
                kept.append((a, b))
                continue
            if a < start:
                kept.append((a, start))
            if b > end:
                kept.append((end, b))
        self.spans = kept

    def first(self, at: int, total: int) -> int | None:
        """The first place at or after ``at`` and before ``total``, or None."""
        for a, b in self.spans:
            if b > at:
                place = max(a, at)
                return place if place < total else None
        return None


class Paginator:
    """Decides, page after page, what a listing yields and whether it asks again.

    ``per_page`` is what each request asks for. ``page`` is the page number
    to request next (from 1); ``done`` says to stop. ``feed`` takes each page's
    items (models with an ``id``, or the ids themselves) and what the answer
    said about more pages, and returns the items to yield. ``passes`` counts
    the times it went over the list (more than one only after its total fell).

    ```python
    pager = Paginator(per_page, what="GET /volumes")
    while not pager.done:
        response = await get("/volumes", page=pager.page, page_size=per_page)
        volumes, total = decode_block_volume_page(response.content, response.status_code)
        for volume in pager.feed(volumes, total=total):
            yield volume
    ```
    """

    __slots__ = (
        "_cursor",
        "_extra",
        "_first_total",
        "_furthest",
        "_max_pages",
        "_page_size",
        "_pass_removed",
        "_per_page",
        "_places",
        "_removed",
        "_seen",
        "_settled",
        "_total",
        "_what",
        "done",
        "page",
        "passes",
        "requests",
        "stop_reason",
        "warning",
    )

    def __init__(self, per_page: int, *, what: str = "listing") -> None:
        if type(per_page) is not int or per_page < 1:
            raise ValueError(f"per_page must be a positive int, got {per_page!r}")
        self._per_page = per_page
        self._what = what
        self._seen: set[str] = set()
        # The ids after nothing but listed items; None while that is all of them
        # (no total ever fell): one set of ids, not two, for most listings.
        self._settled: set[str] | None = None
        self._max_pages: int | None = None
        self._page_size = 0  # the largest page seen
        self._total: int | None = None  # the last total announced
        self._removed = 0  # by how much the total fell, in all
        self._places = _Places()
        self._cursor = 0  # where the page read last ends
        self._pass_removed = 0  # _removed when the listing last went back
        self._furthest = 0  # the highest page asked for
        self._first_total = 0
        self._extra = 0  # pages that going back may still add to max_pages
        self.page = 1
        self.requests = 0
        self.passes = 1
        self.done = False
        self.stop_reason: str | None = None
        self.warning: str | None = None

    @property
    def seen(self) -> int:
        """How many distinct ids the listing has yielded."""
        return len(self._seen)

    @property
    def max_pages(self) -> int | None:
        """The most pages this listing will fetch, once a total is known (rule 7)."""
        return self._max_pages

    def feed(
        self,
        items: Sequence[T],
        *,
        link: str | None = None,
        total: int | str | None = None,
        key: Callable[[T], str] = _id_of,
    ) -> list[T]:
        """Record one page; return its items not yielded before, in order.

        ``link`` is the ``Link`` header (None if absent), ``total`` the
        ``X-Total-Count`` header or the body's ``total_count`` (None if
        absent; a value that is not a count is ignored). ``key`` gives an
        item's id (default: the item itself if it is a string, else ``.id``).
        """
        if self.done:
            raise RuntimeError(f"{self._what}: feed() after the listing ended")
        self.requests += 1
        count = len(items)
        seen = self._seen
        fresh: list[T] = []
        ids: list[str] = []
        new_ids: set[str] = set()
        for item in items:
            item_id = key(item)
            ids.append(item_id)
            if item_id not in seen:
                seen.add(item_id)
                new_ids.add(item_id)
                fresh.append(item)
        known = parse_total(total)
        self._page_size = max(self._page_size, count)
        if known is not None and self._max_pages is None:
            needed = -(-known // max(self._page_size, 1))
            self._max_pages = self.requests - 1 + 2 * needed + 2
            self._first_total = known
            self._extra = 2 * needed + 2
        revisit = self.page <= self._furthest
        self._furthest = max(self._furthest, self.page)
        self._track(ids, new_ids, known)
        self._decide(count, len(fresh), link, known, revisit=revisit)
        return fresh

    def _track(self, ids: list[str], new_ids: set[str], total: int | None) -> None:
        """Rule 1: which places, in this answer's order, may hold an item not yet
        listed, after what the total says was removed since the last answer."""
        if total is None:
            return
        fell = 0 if self._total is None else max(0, self._total - total)
        self._total = total
        self._removed += fell
        places = self._places
        if fell:
            places.shift(fell)
        start = (self.page - 1) * self._unit()
        self._cursor = start + len(ids)
        # Every item before a settled one was listed, so a page holding one
        # lies right after the listed start, or over it.
        settled = self._settled
        if settled is None:  # every id seen before this page is settled
            holds = len(new_ids) < len(ids) and any(i not in new_ids for i in ids)
        else:
            holds = any(item_id in settled for item_id in ids)
        places.cover(0 if holds else start, self._cursor)
        first = places.first(0, total)
        if first is None or first >= self._cursor:
            if settled is not None:
                settled.update(ids)
        elif settled is None:
            # The first page past a place that may hold an unlisted item: from
            # here on the settled ids are kept apart from the others.
            self._settled = self._seen - new_ids

    def _unit(self) -> int:
        """The server's page size: what was asked, or less if it sends less."""
        return max(1, min(self._per_page, self._page_size))

    def _decide(
        self, count: int, fresh: int, link: str | None, total: int | None, *, revisit: bool
    ) -> None:
        # The server's own total says items are missing: stop, but say so. Fewer
        # distinct items than the total for certain: items removed by others,
        # never listed, would make a count of those still there a false alarm.
        short = total is not None and self.seen < total
        # The first place after this page that may hold an item not yet listed.
        ahead = None if total is None else self._places.first(self._cursor, total)
        shortfall = f"only {self.seen} of the {total} items its total announces listed"
        if count == 0:
            self._last(f"an empty page, {shortfall}" if short else "an empty page", total, short)
        elif fresh == 0 and not revisit:
            self._stop("a page of items already listed (the server ignores page)", warn=True)
        elif count > self._per_page:
            self._stop(
                f"a page of {count} items for {self._per_page} asked (the server ignores per_page)",
                warn=True,
            )
        elif total is not None and self.seen - self._removed > total:
            listed = self.seen - self._removed
            self._stop(f"{listed} items listed, more than the total of {total}", warn=True)
        elif link is not None and not links_next(link):
            reason = f"the last page (Link), {shortfall}" if short else "the last page (Link)"
            self._last(reason, total, short)
        elif link is None and total is not None and ahead is None:
            reason = f"the last page (total), {shortfall}" if short else "the last page (total)"
            self._last(reason, total, short)
        elif link is None and total is None and count < self._per_page:
            self._stop("a short page")
        elif self._max_pages is not None and self.requests >= self._max_pages:
            self._stop(f"{self.requests} pages, twice what the first total needed", warn=True)
        else:
            self.page = self._next_page(ahead)

    def _next_page(self, ahead: int | None) -> int:
        """The page holding ``ahead``, the next place where an item not yet listed
        may be (None: the page after this one)."""
        if ahead is None:
            return self.page + 1
        # A short page mid-listing (a server at odds with its total) can only go
        # on to the next one.
        return max(ahead // self._unit() + 1, self.page + 1)

    def _last(self, reason: str, total: int | None, short: bool) -> None:
        """The end of the list: read again where items removed meanwhile may have
        hidden others (rule 1), or stop."""
        first = None if total is None else self._places.first(0, total)
        if total is None or first is None or self._removed == self._pass_removed:
            self._stop(reason, warn=short)
            return
        # Deleting can only lower the total by what it first announced: a total
        # that falls by more is not one list shrinking. And going back adds at
        # most as many pages as rule 7 first allowed.
        unit = self._unit()
        back = first // unit + 1
        pages = min(-(-(total - (back - 1) * unit) // unit), self._extra)
        if self._removed > self._first_total or pages <= 0:
            self._stop(f"{reason}; items removed meanwhile may have hidden others", warn=True)
            return
        self._pass_removed = self._removed
        self.passes += 1
        self._extra -= pages
        if self._max_pages is not None:
            self._max_pages += pages
        self.page = back

    def _stop(self, reason: str, *, warn: bool = False) -> None:
        self.done = True
        self.stop_reason = reason
        if warn:
            self.warning = (
                f"{self._what}: stopped after {self.requests} requests and {self.seen} "
                f"distinct items: {reason}"
            )
            logger.warning("%s", self.warning)
