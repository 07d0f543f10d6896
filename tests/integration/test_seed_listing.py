"""The seed API's paths (zone ``par1``) over the fake in seed mode, on asyncio and trio.

The client talks to ``https://cp-par1.scaleway.com`` through the fake's in-process
transport, so it knows it is on the seed API: listings refuse the filters the
seed cannot honour, and a create's marker lookup still decides as documented.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from scaleway_volumes import APIConnectionError, AsyncVolumeAPI
from scaleway_volumes.testing import FakeScaleway, Fault

pytestmark = pytest.mark.anyio

GB = 1_000_000_000
MARKER = "scaleway-volumes:create=" + "0" * 32


@asynccontextmanager
async def seed_api(fake: FakeScaleway) -> AsyncIterator[AsyncVolumeAPI]:
    async with (
        fake.client() as http,
        AsyncVolumeAPI(fake.token, zone="par1", organization=fake.organization, client=http) as api,
    ):
        yield api


def posts(fake: FakeScaleway) -> int:
    return sum(1 for r in fake.stats.requests if r.method == "POST")


async def test_seed_listing_by_name_and_type() -> None:
    legacy = FakeScaleway(legacy=True)
    legacy.add_volume(name="keep", size=10 * GB)
    legacy.add_volume(name="scratch-1", size=10 * GB, volume_type="scratch")
    legacy.add_volume(name="scratch-2", size=10 * GB)
    async with seed_api(legacy) as api:
        assert [v.name for v in await api.list_volumes(name="scratch-")] == [
            "scratch-1",
            "scratch-2",
        ]
        assert [v.name async for v in api.iter_volumes(volume_type="scratch")] == ["scratch-1"]
        assert [v.name for v in await api.list_volumes(organization=legacy.organization)] == [
            "keep",
            "scratch-1",
            "scratch-2",
        ]


async def test_seed_listing_by_tags_or_project_is_refused_before_any_request() -> None:
    """The documented marker recovery cannot work there: said, not every volume."""
    legacy = FakeScaleway(legacy=True)
    legacy.add_volume(name="data", tags=[MARKER])
    legacy.add_volume(name="other")
    async with seed_api(legacy) as api:
        with pytest.raises(ValueError, match=r"seed API .* without their tags"):
            await api.list_volumes(tags=[MARKER])
        with pytest.raises(ValueError, match=r"seed API .* no projects"):
            await api.list_volumes(project=legacy.organization)
    assert legacy.stats.requests == []


@pytest.mark.parametrize(("action", "volumes", "sent"), [("act_then_drop", 1, 1), ("drop", 1, 2)])
async def test_seed_create_marker_lookup_still_decides(
    action: str, volumes: int, sent: int
) -> None:
    """The marker lookup lists on its own: a landed create with its name listed untagged
    is 'outcome unknown'; one that did not land is resent."""
    legacy = FakeScaleway(legacy=True)
    legacy.add_fault(Fault(action, method="POST"))
    async with seed_api(legacy) as api:
        if action == "act_then_drop":
            with pytest.raises(APIConnectionError) as info:
                await api.create_volume(name="data", size=10 * GB)
            assert info.value.outcome_unknown and info.value.marker_tag
            assert "without tags" in str(info.value)
        else:
            await api.create_volume(name="data", size=10 * GB)
    assert len(legacy.volumes) == volumes
    assert posts(legacy) == sent
