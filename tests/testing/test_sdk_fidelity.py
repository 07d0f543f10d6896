"""The official scaleway-async SDK runs unchanged against the TCP fake."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway

scaleway_async = pytest.importorskip("scaleway_async")

from scaleway_async import Client  # noqa: E402
from scaleway_async.instance.v1 import InstanceV1API  # noqa: E402

GB = 1_000_000_000


async def _scenario(root_url: str, token: str) -> None:
    client = Client(
        access_key="SCWXXXXXXXXXXXXXXXXX",
        secret_key=token,
        default_organization_id=FAKE_ORGANIZATION,
        default_project_id=FAKE_ORGANIZATION,
        default_zone="fr-par-1",
        api_url=root_url,
    )
    api = InstanceV1API(client)
    created = await api.create_volume(
        name="sdk-vol", volume_type="l_ssd", size=20 * GB, tags=["sdk"]
    )
    volume = created.volume
    assert volume is not None
    assert (volume.name, volume.size, volume.tags) == ("sdk-vol", 20 * GB, ["sdk"])
    assert volume.project == FAKE_ORGANIZATION
    assert volume.creation_date is not None

    got = await api.get_volume(volume_id=volume.id)
    assert got.volume.id == volume.id

    for i in range(4):
        await api.create_volume(name=f"bulk-{i}", volume_type="l_ssd", size=GB)
    everything = await api.list_volumes_all(per_page=2)
    assert [v.name for v in everything] == ["sdk-vol", "bulk-0", "bulk-1", "bulk-2", "bulk-3"]
    tagged = await api.list_volumes(tags=["sdk"])
    # The SDK copies the X-Total-Count header verbatim, as a string.
    assert int(tagged.total_count) == 1

    updated = await api.update_volume(volume_id=volume.id, name="renamed", size=30 * GB)
    assert updated.volume is not None
    assert (updated.volume.name, updated.volume.size) == ("renamed", 30 * GB)

    await api.delete_volume(volume_id=volume.id)
    assert len(await api.list_volumes_all()) == 4


@pytest.mark.anyio
async def test_official_sdk_against_tcp_fake(anyio_backend: str) -> None:
    fake = FakeScaleway(token="11111111-1111-4111-8111-111111111111")
    async with fake.serve() as server:
        # The SDK does blocking I/O (requests) inside coroutines: give it its own loop.
        await anyio.to_thread.run_sync(
            lambda: asyncio.run(_scenario(server.root_url, fake.token or ""))
        )
    assert [v["name"] for v in fake.volumes] == [f"bulk-{i}" for i in range(4)]
    assert {r.transport for r in fake.stats.requests} == {"tcp"}
    assert fake.stats.statuses[201] == 5
