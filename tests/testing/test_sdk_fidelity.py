"""The official scaleway-async SDK runs unchanged against the TCP fake."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway

scaleway_async = pytest.importorskip("scaleway_async")

from scaleway_async import Client  # noqa: E402
from scaleway_async.instance.v1 import InstanceV1API  # noqa: E402
from scaleway_core.api import ScalewayException  # noqa: E402

GB = 1_000_000_000
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.anyio
async def test_official_sdk_create_without_volume_type(anyio_backend: str) -> None:
    """The SDK leaves volume_type out of the body unless given; the API's default is l_ssd."""
    fake = FakeScaleway(token="11111111-1111-4111-8111-111111111111")

    async def scenario(root_url: str) -> None:
        client = Client(
            access_key="SCWXXXXXXXXXXXXXXXXX",
            secret_key=fake.token or "",
            default_organization_id=FAKE_ORGANIZATION,
            default_project_id=FAKE_ORGANIZATION,
            default_zone="fr-par-1",
            api_url=root_url,
        )
        created = await InstanceV1API(client).create_volume(name="default", size=GB)
        assert created.volume is not None
        assert created.volume.volume_type == "l_ssd"

    async with fake.serve() as server:
        await anyio.to_thread.run_sync(lambda: asyncio.run(scenario(server.root_url)))
    assert "volume_type" not in fake.stats.requests[-1].json()
    assert [v["volume_type"] for v in fake.volumes] == ["l_ssd"]


# -- Block Storage: the SDK against `python -m scaleway_volumes.testing` ---------------------

BLOCK_TOKEN = "22222222-2222-4222-8222-222222222222"


def _block_scenario(root_url: str) -> None:
    """Drive BlockV1API through every call the issue names; assertions inside."""
    from scaleway_async.block.v1 import (
        BlockV1API,
        CreateVolumeRequestFromEmpty,
        CreateVolumeRequestFromSnapshot,
    )
    from scaleway_async.block.v1.types import VolumeSpecifications

    async def scenario() -> None:
        client = Client(
            access_key="SCWXXXXXXXXXXXXXXXXX",
            secret_key=BLOCK_TOKEN,
            default_organization_id=FAKE_ORGANIZATION,
            default_project_id=FAKE_ORGANIZATION,
            default_zone="fr-par-1",
            api_url=root_url,
        )
        api = BlockV1API(client)
        types = await api.list_volume_types_all()
        assert sorted(t.type_ for t in types) == ["sbs_15k", "sbs_5k"]
        assert all(isinstance(t.specs, VolumeSpecifications) for t in types)

        created = await api.create_volume(
            name="sdk-block",
            perf_iops=15000,
            from_empty=CreateVolumeRequestFromEmpty(size=20 * GB),
            tags=["sdk"],
        )
        assert (created.status, created.type_, created.size) == ("creating", "sbs_15k", 20 * GB)
        assert created.specs is not None
        assert created.specs.perf_iops == 15000
        assert created.created_at is not None
        assert created.created_at.tzinfo is not None
        ready = await api.wait_for_volume(volume_id=created.id)
        assert ready.status == "available"

        got = await api.get_volume(volume_id=created.id)
        assert (got.id, got.name, got.tags) == (created.id, "sdk-block", ["sdk"])

        for i in range(2):
            await api.create_volume(
                name=f"extra-{i}", from_empty=CreateVolumeRequestFromEmpty(size=GB)
            )
        everything = await api.list_volumes_all(include_deleted=False, page_size=2)
        assert [v.name for v in everything] == ["sdk-block", "extra-0", "extra-1"]
        tagged = await api.list_volumes(include_deleted=False, tags=["sdk", "nope"])
        assert (tagged.total_count, [v.id for v in tagged.volumes]) == (1, [created.id])

        updated = await api.update_volume(volume_id=created.id, name="renamed", size=30 * GB)
        # Answered with the old size while the resize runs, as the real API does.
        assert (updated.name, updated.size, updated.status) == ("renamed", 20 * GB, "updating")
        grown = await api.wait_for_volume(volume_id=created.id)
        assert (grown.size, grown.status) == (30 * GB, "available")

        snapshot = await api.create_snapshot(volume_id=created.id, name="snap", public=False)
        assert snapshot.status == "creating"
        assert snapshot.parent_volume is not None
        assert snapshot.parent_volume.id == created.id
        snapshot = await api.wait_for_snapshot(snapshot_id=snapshot.id)
        assert (snapshot.status, snapshot.size) == ("available", 30 * GB)
        snapshots = await api.list_snapshots_all(include_deleted=False, volume_id=created.id)
        assert [s.id for s in snapshots] == [snapshot.id]
        # Without a size the SDK sends "size": 0 (its default), meaning the snapshot's size.
        source = CreateVolumeRequestFromSnapshot(snapshot_id=snapshot.id)
        assert source.size == 0
        restored = await api.create_volume(name="restored", from_snapshot=source)
        assert (restored.size, restored.parent_snapshot_id) == (30 * GB, snapshot.id)

        await api.delete_snapshot(snapshot_id=snapshot.id)
        await api.delete_volume(volume_id=created.id)
        with pytest.raises(ScalewayException) as missing:
            await api.get_volume(volume_id=created.id)
        assert missing.value.status_code == 404
        left = await api.list_volumes_all(include_deleted=False)
        assert [v.name for v in left] == ["extra-0", "extra-1", "restored"]

    asyncio.run(scenario())


def test_official_block_sdk_against_fake_process() -> None:
    """BlockV1API runs unchanged against `python -m scaleway_volumes.testing`."""
    cmd = [sys.executable, "-m", "scaleway_volumes.testing", "--token", BLOCK_TOKEN]
    # Transitions shorter than the SDK's one-second minimum poll: each wait polls once.
    cmd += ["--block-create-time", "0.2", "--block-resize-time", "0.2"]
    cmd += ["--block-snapshot-time", "0.2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout is not None
        _, base_url, block_base_url = proc.stdout.readline().split()
        root_url = block_base_url.removesuffix("/block/v1/zones/fr-par-1")
        assert base_url == root_url + "/instance/v1/zones/fr-par-1"
        _block_scenario(root_url)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "0 throttled" in stderr
