"""Deleting each volume as a listing yields it deletes them all, on both APIs: the
listing goes back over the places the deleted ones left (``_pagination`` rule 1)."""

from __future__ import annotations

import anyio
import pytest

from scaleway_volumes.testing import FakeScaleway, FakeServer
from tests.integration.block_helpers import make_block, requests
from tests.integration.conftest import ApiFactory

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]


def instance_lists(fake: FakeScaleway) -> int:
    return sum(1 for r in fake.stats.requests if r.method == "GET" and r.path.endswith("/volumes"))


async def test_instance_deleting_each_volume_as_it_comes(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """250 volumes at 100 a page, each deleted when yielded: all 250 go, in three
    listing requests (pages 1, 2, then 1 again); before, 100 were left."""
    for i in range(250):
        fake.add_volume(f"v{i}")
    async with api() as client:
        async for volume in client.iter_volumes(per_page=100):
            await client.delete_volume(volume)
    assert fake.volumes == []
    assert instance_lists(fake) == 3


async def test_block_deleting_each_volume_as_it_comes(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The same on Block Storage (a total in the body, no ``Link``)."""
    for i in range(250):
        fake.block.add_volume(f"v{i}")
    async with make_block(fake, server) as client:
        async for volume in client.iter_volumes(per_page=100):
            await client.delete_volume(volume)
    assert fake.block.volumes() == []
    assert len(requests(fake, "GET")) == 3


async def test_deletes_running_alongside_the_listing(fake: FakeScaleway, api: ApiFactory) -> None:
    """Deletes started as tasks land while later pages are read, in any order:
    every volume is still reached, and the listing costs at most a few pages more."""
    for i in range(230):
        fake.add_volume(f"v{i}")
    async with api() as client, anyio.create_task_group() as tasks:
        async for volume in client.iter_volumes(per_page=20):
            tasks.start_soon(client.delete_volume, volume)
    assert fake.volumes == []
    assert instance_lists(fake) <= 3 * 12 + 4
