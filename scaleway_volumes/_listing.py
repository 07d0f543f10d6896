"""Walking a paginated listing: one request per page, lazily, always ending.

What to request next and when to stop is decided by the pure ``Paginator``
(``_pagination``); this module only makes the requests. Every listing of both
APIs and every marker lookup goes through here, so a server that ignores
``page`` or ``per_page`` ends every one of them after a bounded number of
requests.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from ._decoding import MarkedPage
from ._pagination import Paginator
from ._pipeline import Pipeline
from ._transport import Reply

__all__ = ["find_marked", "page_query", "page_total", "pages"]

T = TypeVar("T")

Filters = Sequence[tuple[str, str]]


async def _fetch(
    pipeline: Pipeline,
    path: str,
    filters: Filters,
    page: int,
    per_page: int,
    page_size_param: str,
    throttle_budget: int = 0,
) -> Reply:
    query = page_query(filters, page, per_page, page_size_param)
    return await pipeline.call("GET", path, query=query, throttle_budget=throttle_budget)


def page_query(filters: Filters, page: int, per_page: int, page_size_param: str) -> str:
    """The query string of one page of a listing filtered by ``filters``."""
    params = [*filters, ("page", str(page)), (page_size_param, str(per_page))]
    return urlencode(params, quote_via=quote)


def page_total(reply: Reply, body_total: int | None) -> int | str | None:
    """The listing's total: the Block API counts in the body, the Instance API in a header."""
    return body_total if body_total is not None else reply.headers.get("x-total-count")


async def pages(
    pipeline: Pipeline,
    path: str,
    filters: Filters,
    per_page: int,
    decode: Callable[[Reply], tuple[list[T], int | None]],
    *,
    page_size_param: str = "per_page",
    what: str | None = None,
    key: Callable[[T], str] | None = None,
) -> AsyncGenerator[list[T], None]:
    """Each page's items not seen before; ``decode`` gives (items, the body's total).

    ``key`` gives an item's identity (default: its ``id``). The warning of a
    listing stopped early names the request with the API's full path
    (``GET /block/v1/zones/fr-par-1/volumes``), so an operator can tell the API
    and zone; ``what``, if given, names the request instead, followed by the
    API's base path.
    """
    base = pipeline.base_path
    pager = Paginator(per_page, what=f"{what} at {base}" if what else f"GET {base}{path}")
    while not pager.done:
        reply = await _fetch(pipeline, path, filters, pager.page, per_page, page_size_param)
        items, total = decode(reply)
        link, count = reply.headers.get("link"), page_total(reply, total)
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
) -> Any:
    """The item a marker lookup finds in any page, or None when the listing ends first.

    ``throttle_budget``: bare 429s each page request may resend at the rate
    limiter's pace (a bulk create's lookup, where a 429 is flow control).
    """
    pager = Paginator(per_page, what=f"marker lookup GET {pipeline.base_path}{path}")
    while not pager.done:
        reply = await _fetch(
            pipeline, path, filters, pager.page, per_page, page_size_param, throttle_budget
        )
        page = decode(reply)
        if page.found is not None:
            return page.found
        pager.feed(
            page.ids, link=reply.headers.get("link"), total=page_total(reply, page.total_count)
        )
    return None
