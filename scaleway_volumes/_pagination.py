"""Pagination that always ends: after each page, what to yield and whether to ask again.

Pure (no I/O): the caller makes the requests, ``Paginator`` decides. One is
made per listing (every paginated call of both APIs, and the lookup of a
create's marker). The rules, in order, after each page:

1. Items whose id was already seen are dropped: nothing is yielded twice.
2. An empty page ends the listing (with a warning if fewer distinct ids
   than the page's total were seen; the same for a ``Link`` last page).
3. A page whose ids were all seen before ends it: the server ignores ``page``.
4. A page holding more items than asked for ends it (its unseen items are
   yielded): the server ignores ``per_page``, so page numbers mean nothing.
5. A page listing more distinct items than the total it announces ends it.
6. Otherwise the server says whether more follow: a ``Link`` header decides
   by its ``rel="next"`` (Instance API); else a total (``X-Total-Count`` or
   the body's ``total_count``) decides: more while fewer distinct ids than
   the total were seen; else a full page means another may follow and a
   short one is the last.
7. Even then, once a total is known the listing fetches at most
   ``2 * ceil(total / page size) + 2`` pages, from the first total and the
   largest page seen by then: twice what the listing needs, so one that
   grows while it is read (creates running alongside) still completes,
   while a server that never says "last" is cut.

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


class Paginator:
    """Decides, page after page, what a listing yields and whether it asks again.

    ``per_page`` is what each request asks for. ``page`` is the page number
    to request next (from 1); ``done`` says to stop. ``feed`` takes each page's
    items (models with an ``id``, or the ids themselves) and what the answer
    said about more pages, and returns the items to yield.

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
        "_max_pages",
        "_page_size",
        "_per_page",
        "_seen",
        "_what",
        "done",
        "page",
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
        self._max_pages: int | None = None
        self._page_size = 0  # the largest page seen
        self.page = 1
        self.requests = 0
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
        for item in items:
            item_id = key(item)
            if item_id not in seen:
                seen.add(item_id)
                fresh.append(item)
        known = parse_total(total)
        self._page_size = max(self._page_size, count)
        if known is not None and self._max_pages is None:
            needed = -(-known // max(self._page_size, 1))
            self._max_pages = self.requests - 1 + 2 * needed + 2
        self._decide(count, len(fresh), link, known)
        return fresh

    def _decide(self, count: int, fresh: int, link: str | None, total: int | None) -> None:
        # The server's own total says items are missing: stop, but say so.
        short = total is not None and self.seen < total
        shortfall = f"only {self.seen} of the {total} items its total announces listed"
        if count == 0:
            self._stop(f"an empty page, {shortfall}" if short else "an empty page", warn=short)
        elif fresh == 0:
            self._stop("a page of items already listed (the server ignores page)", warn=True)
        elif count > self._per_page:
            self._stop(
                f"a page of {count} items for {self._per_page} asked (the server ignores per_page)",
                warn=True,
            )
        elif total is not None and self.seen > total:
            self._stop(f"{self.seen} items listed, more than the total of {total}", warn=True)
        elif link is not None and not links_next(link):
            self._stop(
                f"the last page (Link), {shortfall}" if short else "the last page (Link)",
                warn=short,
            )
        elif link is None and total is not None and self.seen >= total:
            self._stop("the last page (total)")
        elif link is None and total is None and count < self._per_page:
            self._stop("a short page")
        elif self._max_pages is not None and self.requests >= self._max_pages:
            self._stop(f"{self.requests} pages, twice what the first total needed", warn=True)
        else:
            self.page += 1

    def _stop(self, reason: str, *, warn: bool = False) -> None:
        self.done = True
        self.stop_reason = reason
        if warn:
            self.warning = (
                f"{self._what}: stopped after {self.requests} requests and {self.seen} "
                f"distinct items: {reason}"
            )
            logger.warning("%s", self.warning)
