"""Block listings: an empty tags filter is refused, a total the pages fall short of warns."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from scaleway_volumes import AsyncBlockAPI
from scaleway_volumes._pagination import Paginator

TOKEN = "5ec2e7ab-dead-4bee-8f00-c0ffee5ec2e7"
ORG = "11111111-2222-3333-4444-555555555555"
EMPTY_TAGS = "tags=\\[\\] matches nothing"


@pytest.mark.anyio
@pytest.mark.parametrize("tags", [[], ()])
async def test_empty_tags_filter_is_refused_before_any_request(tags: list[str]) -> None:
    # Sending no filter would list (and, fed to delete_volumes, delete) everything.
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        route = mock.route().mock(return_value=httpx.Response(500))
        async with AsyncBlockAPI(TOKEN, project=ORG) as api:
            with pytest.raises(ValueError, match=EMPTY_TAGS):
                await api.list_volumes(tags=tags)
            with pytest.raises(ValueError, match=EMPTY_TAGS):
                await api.list_snapshots(tags=tags)
            with pytest.raises(ValueError, match="pass tags=None for no tag filter"):
                async for _ in api.iter_volumes(tags=tags):
                    pass
    assert route.call_count == 0


def test_empty_page_short_of_the_total_warns(caplog: pytest.LogCaptureFixture) -> None:
    pager = Paginator(100, what="GET /volumes")
    with caplog.at_level(logging.WARNING, logger="scaleway_volumes"):
        assert len(pager.feed([f"id-{i}" for i in range(100)], total=250)) == 100
        assert pager.feed([], total=250) == []
    assert pager.done
    assert [r.getMessage() for r in caplog.records] == [pager.warning]
    assert "100 of the 250" in (pager.warning or "")


def test_link_last_page_short_of_the_total_warns(caplog: pytest.LogCaptureFixture) -> None:
    pager = Paginator(100, what="GET /volumes")
    with caplog.at_level(logging.WARNING, logger="scaleway_volumes"):
        pager.feed([f"id-{i}" for i in range(100)], link='</v?page=1>; rel="last"', total="250")
    assert pager.done
    assert "100 of the 250" in (pager.warning or "")
    assert len(caplog.records) == 1


def test_empty_page_at_the_total_stays_quiet() -> None:
    pager = Paginator(100)
    pager.feed([f"id-{i}" for i in range(100)])
    pager.feed([], total=100)
    assert pager.done and pager.warning is None
    empty = Paginator(100)
    empty.feed([], total=0)
    assert empty.done and empty.warning is None
