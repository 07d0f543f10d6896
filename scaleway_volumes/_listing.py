"""Walking a paginated listing: one request per page, lazily, always ending.

What to request next and when to stop is decided by the pure ``Paginator``
(``_pagination``); this module only makes the requests. Every listing of both
APIs and every marker lookup goes through here, so a server that ignores
``page`` or ``per_page`` ends every one of them after a bounded number of
requests.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from ._decoding import MarkedPage
from ._pagination import Paginator
from ._pipeline import Attempts, Pipeline
from ._transport import Reply

__all__ = ["counted_get", "find_marked", "items", "pages"]

T = TypeVar("T")

Filters = Sequence[tuple[str, str]]


async def items(listing: AsyncGenerator[list[T], None]) -> AsyncGenerator[T, None]:
    """Each item of ``listing``'s pages as they arrive, one page in memory (the pager
    keeps the ids it has seen, to list each item once).

    Closing this generator (a caller's ``aclosing``, or a ``break`` then
    collection) closes ``listing`` with it, not left to the collector.
    """
    async with aclosing(listing):
        async for page in listing:
            for item in page:
                yield item


async def _fetch(
    pipeline: Pipeline,
    path: str,
    filters: Filters,
    page: int,
    per_page: int,
    page_size_param: str,
    throttle_budget: int = 0,
    throttled: Callable[[int], None] | None = None,
) -> Reply:
    params = [*filters, ("page", str(page)), (page_size_param, str(per_page))]
    query = urlencode(params, quote_via=quote)
    return await counted_get(
        pipeline, path, query, throttle_budget=throttle_budget, throttled=throttled
    )


async def counted_get(
    pipeline: Pipeline,
    path: str,
    query: str | None,
    *,
    throttle_budget: int = 0,
    throttled: Callable[[int], None] | None = None,
) -> Reply:
    """GET ``path``: up to ``throttle_budget`` bare 429s are resent at the rate
    limiter's pace (a bulk call's flow control), and ``throttled`` is told how many."""
    if throttled is None:
        return await pipeline.call("GET", path, query=query, throttle_budget=throttle_budget)
    attempts = Attempts()
    try:
        return await pipeline.call(
            "GET", path, query=query, attempts=attempts, throttle_budget=throttle_budget
        )
    finally:
        throttled(attempts.throttled)


def _total(reply: Reply, body_total: int | None) -> int | str | None:
    # The Block API counts in the body, the Instance API in a header.
    return body_total if body_total is not None else reply.headers.get("x-total-count")


async def pages(
    pipeline: Pipeline,
    path: str,
    filters: Filters,
    per_page: int,
    decode: Callable[[Reply], tuple[list[T], int | None]],
    *,
    page_size_param: str = "per_page",
    key: Callable[[T], str] | None = None,
    throttle_budget: int = 0,
    throttled: Callable[[int], None] | None = None,
) -> AsyncGenerator[list[T], None]:
    """Each page's items not seen before; ``decode`` gives (items, the body's total).

    ``key`` gives an item's identity (default: its ``id``). The warning of a
    listing stopped early names the request with the API's full path
    (``GET /block/v1/zones/fr-par-1/volumes``), so an operator can tell the API
    and zone. ``throttle_budget`` and ``throttled``: as for ``counted_get``.
    """
    pager = Paginator(per_page, what=f"GET {pipeline.base_path}{path}")
    while not pager.done:
        reply = await _fetch(
            pipeline,
            path,
            filters,
            pager.page,
            per_page,
            page_size_param,
            throttle_budget,
            throttled,
        )
        items, total = decode(reply)
        link, count = reply.headers.get("link"), _total(reply, total)
        if key is None:
            yield pager.feed(items, link=link, total=count)
        else:
            yield pager.feed(items, link=link, total=count, key=key)


async def find_marked(
    pipeline: Pipeline,
    path: str,
    filters: Filters,
    per_page: int,
    decode: Callable[[Reply], MarkedPage[Any]],
    *,
    page_size_param: str = "per_page",
    throttle_budget: int = 0,
    throttled: Callable[[int], None] | None = None,
) -> Any:
    """The item a marker lookup finds in any page, or None when the listing ends first.

    ``throttle_budget``: bare 429s each page request may resend at the rate
    limiter's pace (a bulk create's lookup, where a 429 is flow control), and
    ``throttled`` is told how many each page met (as for ``counted_get``).
    """
    pager = Paginator(per_page, what=f"marker lookup GET {pipeline.base_path}{path}")
    while not pager.done:
        reply = await _fetch(
            pipeline,
            path,
            filters,
            pager.page,
            per_page,
            page_size_param,
            throttle_budget,
            throttled,
        )
        page = decode(reply)
        if page.found is not None:
            return page.found
        pager.feed(page.ids, link=reply.headers.get("link"), total=_total(reply, page.total_count))
    return None
