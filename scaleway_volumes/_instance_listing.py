"""Instance API volume listings: ``list_volumes``, ``iter_volumes`` (part of ``AsyncVolumeAPI``).

The Instance API pages with ``page``/``per_page`` (at most 100) and counts in
the ``X-Total-Count`` header, with a ``Link`` header to the next page. The seed
API (legacy zones ``par1``/``ams1``) takes no filter and lists volumes without
tags: there ``name``, ``volume_type`` and ``organization`` are applied to each
page as it arrives, and ``project`` or ``tags`` are refused.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing

from ._api import BaseAPI
from ._constants import DEFAULT_PER_PAGE, LEGACY_ZONE_URLS, MAX_PER_PAGE
from ._convert import decode_volumes
from ._listing import items, pages
from ._models import Volume
from ._pipeline import Pipeline
from ._transport import Reply
from ._validate import check_optional_str, check_per_page, check_tag_filter

__all__ = ["InstanceListing"]

_COLLECTION = "/volumes"
_SEED_URLS = frozenset(LEGACY_ZONE_URLS.values())


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
        The seed API (zones ``par1``/``ams1``) takes no filter: ``name``,
        ``volume_type`` and ``organization`` are applied here to what it lists,
        and ``project`` or ``tags`` (it has no projects and lists no tags) are a
        ``ValueError`` before any request.
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
    ) -> AsyncGenerator[Volume, None]:
        """Like ``list_volumes``, but yields volumes as pages arrive, one page in memory.

        The ids already yielded are kept too (about 200 bytes each, until the
        loop ends), so that each volume is yielded once even from a server that
        ignores paging. Deleting volumes as they come (in the loop, or in tasks
        it starts) reaches every one: when the total falls, the listing goes back
        over the places the deleted ones left, which costs a page or two more.
        Each page's request is one call for the ``deadline`` (retries included):
        the time the loop's body takes between pages is the caller's.
        The arguments are checked at the call (a ``ValueError`` there), the
        first request made at the first step.
        A loop that may stop early (``break``, an error) is best written inside
        ``async with contextlib.aclosing(api.iter_volumes(...)) as volumes:``: the
        listing then ends at the loop's end, not when the collector finds it
        (trio warns of every async generator left to the collector).

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
        tag_list = check_tag_filter(tags)
        if self._seed_api():
            # The seed API ignores every filter and answers all the volumes: sent
            # and trusted, `delete_volumes(await list_volumes(name=...))` would
            # delete the whole account.
            if project is not None:
                raise ValueError(
                    f"the seed API ({self.base_url}) has no projects: list_volumes "
                    "cannot filter by project there (filter by organization)"
                )
            if tag_list:
                raise ValueError(
                    f"the seed API ({self.base_url}) lists volumes without their tags: "
                    "list_volumes cannot filter by tags there"
                )
            return _matching(
                pages(pipeline, _COLLECTION, [], per_page, _decode_page), dict(filters)
            )
        if tag_list:
            if any("," in tag for tag in tag_list):
                raise ValueError("a tag filter cannot contain ',' (the API's separator)")
            filters.append(("tags", ",".join(tag_list)))
        return pages(pipeline, _COLLECTION, filters, per_page, _decode_page)

    def _seed_api(self) -> bool:
        """Whether this API talks to the seed API: one of its hosts (a legacy zone's
        URL, unless ``base_url`` overrides it with another)."""
        return self.base_url in _SEED_URLS


async def _matching(
    listing: AsyncGenerator[list[Volume], None], filters: dict[str, str]
) -> AsyncGenerator[list[Volume], None]:
    """``listing``'s pages with only the volumes matching ``filters`` (the zoned
    API's rules: ``name`` a substring, the others equal).

    Pages are filtered once the pager has seen them whole: a page made short here
    must not read as the listing's last.
    """
    name = filters.get("name")
    volume_type = filters.get("volume_type")
    organization = filters.get("organization")
    async with aclosing(listing):
        async for page in listing:
            yield [
                volume
                for volume in page
                if (name is None or name in volume.name)
                and (volume_type is None or volume.volume_type == volume_type)
                and (organization is None or volume.organization == organization)
            ]
