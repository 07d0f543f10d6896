"""Walking a paginated listing: one request per page, lazily, ending when the API says so."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import TypeVar
from urllib.parse import quote, urlencode

from ._pipeline import Pipeline
from ._transport import Reply

__all__ = ["pages"]

T = TypeVar("T")

_LINK_TARGET = re.compile(r"<[^>]*>")
_LINK_REL = re.compile(r'\brel\s*=\s*"?([^";,]*)"?', re.IGNORECASE)


def _links_next(link: str) -> bool:
    """Whether a ``Link`` header has a ``rel="next"`` entry (RFC 8288)."""
    params = _LINK_TARGET.sub("", link)  # a URL may itself contain "rel=next"
    return any("next" in match.group(1).lower().split() for match in _LINK_REL.finditer(params))


def _has_next_page(reply: Reply, seen: int, count: int, per_page: int) -> bool:
    """Whether the API says another page follows, without asking for an empty one."""
    link = reply.headers.get("link")
    if link is not None:
        return _links_next(link)
    total = reply.headers.get("x-total-count")
    if total is not None:
        try:
            return seen < int(total)
        except ValueError:
            pass
    return count >= per_page


async def pages(
    pipeline: Pipeline,
    path: str,
    filters: Sequence[tuple[str, str]],
    per_page: int,
    decode: Callable[[bytes, int], tuple[int, T]],
    *,
    page_size_param: str = "per_page",
) -> AsyncGenerator[T, None]:
    """Each page's decoded content, following pagination as the API says.

    ``decode(content, status)`` returns (items on the page, what to yield).
    """
    page, seen = 1, 0
    while True:
        params = [*filters, ("page", str(page)), (page_size_param, str(per_page))]
        reply = await pipeline.call("GET", path, query=urlencode(params, quote_via=quote))
        count, found = decode(reply.content, reply.status_code)
        seen += count
        yield found
        if not count or not _has_next_page(reply, seen, count, per_page):
            return
        page += 1
