"""The official scaleway-async SDK runs unchanged against the TCP fake."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FAKE_TOKEN, FakeScaleway, ManualClock

scaleway_async = pytest.importorskip("scaleway_async")

from scaleway_async import Client  # noqa: E402
from scaleway_async.block.v1 import (  # noqa: E402
    BlockV1API,
    CreateVolumeRequestFromEmpty,
    CreateVolumeRequestFromSnapshot,
    Snapshot,
    Volume,
)
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

    # Only b_ssd volumes grow (the SDK's own docs): a local volume is renamed.
    updated = await api.update_volume(volume_id=volume.id, name="renamed", tags=["x"])
    assert updated.volume is not None
    assert (updated.volume.name, updated.volume.tags) == ("renamed", ["x"])

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
        # The snapshot is in use (not deletable) until the volume restored from it is made.
        await api.wait_for_volume(volume_id=restored.id)

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


# -- Fidelity: what the SDK reads back matches the real API's schema -------------------------
# Each test names where the expected behaviour is recorded: the SDK's generated types and
# marshalling (site-packages/scaleway_async), which follow the real API's schema.

# A second project of the fake's organization (Scaleway projects are UUIDs of their own).
OTHER_PROJECT = "33333333-3333-4333-8333-333333333333"
KMS_KEY = "55555555-5555-4555-8555-555555555555"


@pytest.fixture
def sdk_fake() -> FakeScaleway:
    """A fake with BLOCK_TOKEN, settling at once (every transition lands at the next read)."""
    return FakeScaleway(token=BLOCK_TOKEN)


def _client(root_url: str, *, project: str = FAKE_ORGANIZATION, token: str = BLOCK_TOKEN) -> Client:
    return Client(
        access_key="SCWXXXXXXXXXXXXXXXXX",
        secret_key=token,
        default_organization_id=FAKE_ORGANIZATION,
        default_project_id=project,
        default_zone="fr-par-1",
        api_url=root_url,
    )


def _run_sdk(fake: FakeScaleway, scenario: Callable[[str], Awaitable[None]]) -> None:
    """Serve ``fake`` on loopback and run ``scenario(root_url)`` in its own event loop
    (the SDK does blocking I/O inside coroutines; the server has its own thread)."""
    with fake.serve() as server:
        asyncio.run(scenario(server.root_url))


def test_instance_volume_created_in_a_project_is_listed_by_the_same_client(
    sdk_fake: FakeScaleway,
) -> None:
    """The SDK sends only ``project`` on create and both ``organization`` and ``project``
    on list: the volume belongs to the organization owning the project (the fake's), so
    the client that made it lists it."""

    async def scenario(root_url: str) -> None:
        api = InstanceV1API(_client(root_url, project=OTHER_PROJECT))
        created = (await api.create_volume(name="p", size=GB, volume_type="l_ssd")).volume
        assert created is not None
        assert (created.project, created.organization) == (OTHER_PROJECT, FAKE_ORGANIZATION)
        assert [v.id for v in await api.list_volumes_all()] == [created.id]

    _run_sdk(sdk_fake, scenario)
    assert "organization" not in sdk_fake.stats.requests[0].json()


def test_instance_list_volumes_types(sdk_fake: FakeScaleway) -> None:
    """InstanceV1API.list_volumes_types reads ``{"volumes": {type: VolumeType}}`` from
    ``products/volumes`` (unmarshal_ListVolumesTypesResponse), the count from
    X-Total-Count."""

    async def scenario(root_url: str) -> None:
        listed = await InstanceV1API(_client(root_url)).list_volumes_types()
        assert sorted(listed.volumes) == ["l_ssd", "scratch"]
        assert int(listed.total_count) == 2
        local = listed.volumes["l_ssd"]
        assert local.capabilities is not None and local.capabilities.snapshot is True
        assert local.constraints is not None
        assert (local.constraints.min, local.constraints.max) == (GB, 10_000 * GB)

    _run_sdk(sdk_fake, scenario)


def test_default_fake_token_is_usable_by_the_sdk() -> None:
    """Secret keys are UUIDs and the SDK's Client.validate() refuses anything else: the
    default token of FakeScaleway() is one (FAKE_TOKEN)."""
    fake = FakeScaleway()
    assert fake.token == FAKE_TOKEN

    async def scenario(root_url: str) -> None:
        api = BlockV1API(_client(root_url, token=FAKE_TOKEN))
        assert (await api.list_volumes(include_deleted=False)).total_count == 0

    _run_sdk(fake, scenario)


def test_bad_token_answers_denied_authentication(sdk_fake: FakeScaleway) -> None:
    """The gateway's 401 has type ``denied_authentication`` with ``method`` and
    ``reason`` (the shape scaleway-sdk-go maps to DeniedAuthenticationError)."""

    async def scenario(root_url: str) -> None:
        wrong = "99999999-9999-4999-8999-999999999999"
        api = BlockV1API(_client(root_url, token=wrong))
        with pytest.raises(ScalewayException) as info:
            await api.list_volumes(include_deleted=False)
        assert info.value.status_code == 401
        assert info.value.response.json() == {
            "type": "denied_authentication",
            "message": "authentication is denied",
            "method": "api_key",
            "reason": "invalid_argument",
        }

    _run_sdk(sdk_fake, scenario)


async def _snapshot_of_new_volume(api: BlockV1API, **volume: Any) -> tuple[Volume, Snapshot]:
    """A settled volume (``volume`` goes to create_volume) and a settled snapshot of it."""
    made = await api.create_volume(
        name="src", from_empty=CreateVolumeRequestFromEmpty(size=GB), **volume
    )
    made = await api.wait_for_volume(volume_id=made.id)
    snapshot = await api.create_snapshot(volume_id=made.id, public=False, name="s")
    return made, await api.wait_for_snapshot(snapshot_id=snapshot.id)


def test_block_snapshot_parent_volume_is_null_once_the_volume_is_deleted(
    sdk_fake: FakeScaleway,
) -> None:
    """Snapshot.parent_volume: "If the parent volume was deleted, value is null" (SDK
    types.py); the ``volume_id`` filter still finds the snapshot."""

    async def scenario(root_url: str) -> None:
        api = BlockV1API(_client(root_url))
        volume, snapshot = await _snapshot_of_new_volume(api)
        assert snapshot.parent_volume is not None
        await api.delete_volume(volume_id=volume.id)
        assert (await api.get_snapshot(snapshot_id=snapshot.id)).parent_volume is None
        listed = await api.list_snapshots_all(include_deleted=False, volume_id=volume.id)
        assert [(s.id, s.parent_volume) for s in listed] == [(snapshot.id, None)]

    _run_sdk(sdk_fake, scenario)


def test_block_snapshot_public_flag_round_trips(sdk_fake: FakeScaleway) -> None:
    """The SDK sends ``public`` on create and update and reads it from every snapshot
    (unmarshal_Snapshot, default false)."""

    async def scenario(root_url: str) -> None:
        api = BlockV1API(_client(root_url))
        volume, private = await _snapshot_of_new_volume(api)
        assert private.public is False
        made = await api.create_snapshot(volume_id=volume.id, public=True, name="pub")
        assert made.public is True
        assert (await api.update_snapshot(snapshot_id=made.id, public=False)).public is False
        assert (await api.update_snapshot(snapshot_id=made.id, name="n")).public is False
        assert (await api.update_snapshot(snapshot_id=made.id, public=True)).public is True
        assert (await api.get_snapshot(snapshot_id=made.id)).public is True

    _run_sdk(sdk_fake, scenario)
    assert [s["public"] for s in sdk_fake.block.snapshots()] == [False, True]


def test_block_snapshot_of_encrypted_volume_carries_kms_key_id(sdk_fake: FakeScaleway) -> None:
    """Snapshot.kms_key_id: "KMS Key used for securing the parent volume's encryption"."""

    async def scenario(root_url: str) -> None:
        api = BlockV1API(_client(root_url))
        volume, snapshot = await _snapshot_of_new_volume(api, kms_key_id=KMS_KEY)
        assert (volume.kms_key_id, snapshot.kms_key_id) == (KMS_KEY, KMS_KEY)
        _, plain = await _snapshot_of_new_volume(api)
        assert plain.kms_key_id is None

    _run_sdk(sdk_fake, scenario)


def test_block_export_snapshot_to_object_storage() -> None:
    """BlockV1API.export_snapshot_to_object_storage: the snapshot is ``exporting`` for
    ``block_snapshot_time`` (a ManualClock here), then available again."""
    clock = ManualClock()
    fake = FakeScaleway(token=BLOCK_TOKEN, clock=clock, block_snapshot_time=30)
    snapshot = fake.block.add_snapshot(fake.block.add_volume("src")["id"], "s")

    async def scenario(root_url: str) -> None:
        api = BlockV1API(_client(root_url))
        exported = await api.export_snapshot_to_object_storage(
            snapshot_id=snapshot["id"], bucket="my-bucket", key="s.qcow2"
        )
        assert (exported.id, exported.status) == (snapshot["id"], "exporting")
        with pytest.raises(ScalewayException) as busy:
            await api.delete_snapshot(snapshot_id=snapshot["id"])
        assert busy.value.status_code == 409
        clock.advance(30)
        assert (await api.get_snapshot(snapshot_id=snapshot["id"])).status == "available"

    _run_sdk(fake, scenario)
    assert fake.stats.requests[0].json() == {"bucket": "my-bucket", "key": "s.qcow2"}


def test_block_import_snapshot_from_object_storage() -> None:
    """BlockV1API.import_snapshot_from_object_storage makes a snapshot without parent
    volume, ``creating`` for ``block_snapshot_time``, that restores like any other."""
    clock = ManualClock()
    fake = FakeScaleway(token=BLOCK_TOKEN, clock=clock, block_snapshot_time=30)

    async def scenario(root_url: str) -> None:
        api = BlockV1API(_client(root_url))
        made = await api.import_snapshot_from_object_storage(
            bucket="my-bucket", key="disk.qcow2", name="imported", size=20 * GB, tags=["t"]
        )
        assert (made.status, made.parent_volume, made.size) == ("creating", None, 20 * GB)
        assert (made.name, made.tags, made.project_id) == ("imported", ["t"], FAKE_ORGANIZATION)
        clock.advance(30)
        assert (await api.get_snapshot(snapshot_id=made.id)).status == "available"
        restored = await api.create_volume(
            name="r", from_snapshot=CreateVolumeRequestFromSnapshot(snapshot_id=made.id)
        )
        assert (restored.size, restored.parent_snapshot_id) == (20 * GB, made.id)

    _run_sdk(fake, scenario)


def test_resources_live_in_the_zone_of_their_path(sdk_fake: FakeScaleway) -> None:
    """The SDK's ``zone=`` picks the path; the real Volume.zone is that zone, volume types
    are per zone (VolumeType.zone), and a loop over zones sees each volume once."""

    async def scenario(root_url: str) -> None:
        client = _client(root_url)
        block, instance = BlockV1API(client), InstanceV1API(client)
        volume = await block.create_volume(
            name="ams", zone="nl-ams-1", from_empty=CreateVolumeRequestFromEmpty(size=GB)
        )
        assert volume.zone == "nl-ams-1"
        local = (await instance.create_volume(name="ams-l", zone="nl-ams-1", size=GB)).volume
        assert local is not None and local.zone == "nl-ams-1"
        types = await block.list_volume_types_all(zone="nl-ams-1")
        assert {t.zone for t in types} == {"nl-ams-1"}
        assert await block.list_volumes_all(include_deleted=False, zone="fr-par-1") == []
        assert await instance.list_volumes_all(zone="fr-par-1") == []
        in_ams = await block.list_volumes_all(include_deleted=False, zone="nl-ams-1")
        assert [v.id for v in in_ams] == [volume.id]
        with pytest.raises(ScalewayException) as missing:
            await block.get_volume(volume_id=volume.id, zone="fr-par-1")
        assert missing.value.status_code == 404

    _run_sdk(sdk_fake, scenario)
