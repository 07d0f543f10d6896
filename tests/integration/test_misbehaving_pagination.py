"""A server that ignores paging: every listing and marker lookup still ends, bounded.

The server here returns the same 120 volumes for any page and any page size, with
neither `Link` nor `X-Total-Count` (Instance) and a `total_count` that lies
(Block), as an independent emulator was seen to do.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, RetryPolicy

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

ORG = "11111111-2222-4333-8444-555555555555"


def instance_volume(i: int) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=i + 1)),
        "name": f"v{i}",
        "size": 10**10,
        "volume_type": "l_ssd",
        "organization": ORG,
        "project": ORG,
        "state": "available",
        "tags": [],
        "zone": "fr-par-1",
    }


def block_volume(i: int) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=i + 1)),
        "name": f"b{i}",
        "type": "sbs_5k",
        "size": 10**10,
        "project_id": ORG,
        "status": "available",
        "tags": [],
        "zone": "fr-par-1",
        "references": [],
        "specs": {"perf_iops": 5000, "class": "sbs"},
    }


class IgnoresPaging:
    """Answers every list with the same 120 volumes; counts the requests."""

    def __init__(self, *, block: bool, total: int | None = None) -> None:
        self.block = block
        self.total = total
        self.lists = 0
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
            return httpx.Response(502, text="<html>Bad Gateway</html>")
        self.lists += 1
        if self.block:
            body: dict[str, Any] = {"volumes": [block_volume(i) for i in range(120)]}
            body["total_count"] = self.total if self.total is not None else 120
        else:
            body = {"volumes": [instance_volume(i) for i in range(120)]}
        return httpx.Response(200, content=json.dumps(body).encode())


@pytest.mark.parametrize("per_page", [100, 50, 1])
async def test_instance_listing_ends_with_the_unique_volumes(per_page: int) -> None:
    """No Link, no X-Total-Count, page ignored: 120 unique volumes in at most 2 requests."""
    server = IgnoresPaging(block=False)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        api = AsyncVolumeAPI("token", client=client, organization=ORG)
        volumes = await api.list_volumes(per_page=per_page)
    assert len(volumes) == len({v.id for v in volumes}) == 120
    assert server.lists <= 2


@pytest.mark.parametrize("total", [10_000, 5, None])
async def test_block_listing_ends_whatever_the_total_says(total: int | None) -> None:
    """A total_count that lies (or page ignored) still ends the Block listing, bounded."""
    server = IgnoresPaging(block=True, total=total)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        api = AsyncBlockAPI("token", client=client, organization=ORG)
        volumes = [v async for v in api.iter_volumes(per_page=100)]
    assert len(volumes) == len({v.id for v in volumes}) == 120
    assert server.lists <= 2


async def test_marker_lookup_ends_too() -> None:
    """After an ambiguous create, the marker lookup over such a server ends, then resends."""
    server = IgnoresPaging(block=False)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        api = AsyncVolumeAPI(
            "token", client=client, organization=ORG, retry=RetryPolicy(max_retries=1)
        )
        with pytest.raises(Exception) as info:
            await api.create_volume(name="data", size=10**10)
    # Two creates (the first 502 checked, then resent once), each lookup bounded.
    assert server.posts == 2
    assert server.lists <= 4
    assert "502" in str(info.value)
