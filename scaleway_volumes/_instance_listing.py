"""Instance API volume listings: ``list_volumes``, ``iter_volumes`` (part of ``AsyncVolumeAPI``).

The Instance API pages with ``page``/``per_page`` (at most 100) and counts in
the ``X-Total-Count`` header, with a ``Link`` header to the next page.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable

from ._api import BaseAPI
from ._constants import DEFAULT_PER_PAGE, MAX_PER_PAGE
from ._convert import decode_volumes
from ._listing import items, pages
from ._models import Volume
from ._pipeline import Pipeline
from ._transport import Reply
from ._validate import check_optional_str, check_per_page, check_tags

__all__ = ["InstanceListing"]

_COLLECTION = "/volumes"


def _decode_page(reply: Reply) -> tuple[list[Volume], int | None]:
    # The Instance API counts in the X-Total-Count header, not in the body.
    return decode_volumes(reply.content, reply.status_code), None


class InstanceListing(BaseAPI):
    """The listing operations of ``AsyncVolumeAPI`` (see there for the constructor)."""

    async def list_volumes(
        self,
        *,
        name: str | None = None,
        volume_type: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        tags: Iterable[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> list[Volume]:
        """Every volume matching the filters, all pages fetched.

        ``name`` matches as a substring; ``tags`` requires every tag given.
        Pages are followed as the API says (``Link``/``X-Total-Count``), with no
        extra request for an empty last page. The API's ``deadline`` bounds the
        whole call, every page included (``APITimeoutError`` says how many
        had come).
        """
        return await self._gather_pages(
            _COLLECTION,
            lambda pipeline: self._volume_pages(
                pipeline, name, volume_type, organization, project, tags, per_page
            ),
        )

    def iter_volumes(
        self,
        *,
        name: str | None = None,
        volume_type: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        tags: Iterable[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncIterator[Volume]:
        """Like ``list_volumes``, but yields volumes as pages arrive, one page in memory.

        Each page's request is one call for the ``deadline`` (retries
        included): the time the loop's body takes between pages is the caller's.
        The arguments are checked at the call (a ``ValueError`` there), the
        first request made at the first step.

        ```python
        async for volume in api.iter_volumes(volume_type="l_ssd"):
            if volume.server is None:
                print("unattached:", volume.name)
        ```
        """
        return items(
            self._volume_pages(
                self._pipeline, name, volume_type, organization, project, tags, per_page
            )
        )

    def _volume_pages(
        self,
        pipeline: Pipeline,
        name: str | None,
        volume_type: str | None,
        organization: str | None,
        project: str | None,
        tags: Iterable[str] | None,
        per_page: int,
    ) -> AsyncGenerator[list[Volume], None]:
        """The pages of volumes matching the filters, fetched through ``pipeline``."""
        check_per_page(per_page, MAX_PER_PAGE)
        filters: list[tuple[str, str]] = []
        for key, value in (
            ("name", name),
            ("volume_type", volume_type),
            ("organization", organization),
            ("project", project),
        ):
            if check_optional_str(key, value) is not None:
                filters.append((key, value))  # type: ignore[arg-type]
        tag_list = check_tags(tags)
        if tag_list:
            if any("," in tag for tag in tag_list):
                raise ValueError("a tag filter cannot contain ',' (the API's separator)")
            filters.append(("tags", ",".join(tag_list)))
        return pages(pipeline, _COLLECTION, filters, per_page, _decode_page)
