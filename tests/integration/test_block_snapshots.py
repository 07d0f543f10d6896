"""AsyncBlockAPI snapshot operations against the fake over loopback TCP, on asyncio and trio."""

from __future__ import annotations

import pytest

from scaleway_volumes import (
    BlockSnapshot,
    NotFoundError,
    PreconditionFailedError,
    TransientStateError,
)
from scaleway_volumes.testing import (
    FakeScaleway,
    FakeServer,
    Fault,
    ManualClock,
    precondition_failed_body,
)

from .block_helpers import GB, MARKER, MISSING, make_block, query, requests

pytestmark = pytest.mark.anyio


async def test_create_snapshot_shape_and_states(fake: FakeScaleway, server: FakeServer) -> None:
    """The body is volume_id, name, project_id, tags; snapshot creating, volume snapshotting."""
    stored = fake.block.add_volume("db", 20 * GB)
    async with make_block(fake, server) as api:
        volume = await api.get_volume(stored["id"])
        snapshot = await api.create_snapshot(volume, name="nightly", tags=["daily"])
        assert fake.block.get_volume(volume.id)["status"] == "available"  # next read settles
    body = requests(fake, "POST", "snapshots")[0].json()
    assert list(body) == ["volume_id", "name", "project_id", "tags"]
    assert body["volume_id"] == volume.id and body["project_id"] == fake.organization
    assert body["tags"][0] == "daily" and body["tags"][1].startswith(MARKER)
    assert isinstance(snapshot, BlockSnapshot)
    assert (snapshot.name, snapshot.size, snapshot.status) == ("nightly", 20 * GB, "creating")
    assert snapshot.parent_volume is not None and snapshot.parent_volume.id == volume.id
    assert snapshot.tags == ("daily",)


async def test_a_snapshot_of_a_volume_model_goes_to_the_volumes_project(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Given the ``BlockVolume``, the snapshot is filed under the volume's project (the
    SDK: the project "to which the volume and the snapshot belong"), not the API's
    default one; an explicit ``project`` still wins, and an id alone takes the default."""
    other = "7e57ab1e-2852-4b0a-9ce8-47f1134ba95a"
    stored = fake.block.add_volume("db", project_id=other)
    async with make_block(fake, server) as api:
        volume = await api.get_volume(stored["id"])
        await api.create_snapshot(volume, name="by-model")
        await api.create_snapshot(volume, name="explicit", project=fake.organization)
        await api.create_snapshot(volume.id, name="by-id")
    projects = [r.json()["project_id"] for r in requests(fake, "POST", "snapshots")]
    assert projects == [other, fake.organization, fake.organization]


async def test_snapshot_of_a_transient_volume_is_refused_once(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A create meeting 409 transient_state is not resent: TransientStateError."""
    fake.block_create_time = 60
    async with make_block(fake, server) as api:
        volume = await api.create_volume(name="new", size=GB)
        with pytest.raises(TransientStateError) as info:
            await api.create_snapshot(volume, name="too-soon")
    assert info.value.current_state == "creating"
    assert len(requests(fake, "POST", "snapshots")) == 1
    assert fake.block.snapshots() == []


async def test_snapshot_bad_arguments_send_nothing(fake: FakeScaleway, server: FakeServer) -> None:
    """A bad volume id, name or snapshot id is refused before any request."""
    async with make_block(fake, server) as api:
        with pytest.raises(ValueError, match="volume_id"):
            await api.create_snapshot("../volumes", name="s")
        with pytest.raises(ValueError, match="name"):
            await api.create_snapshot(MISSING, name="")
        with pytest.raises(ValueError, match="snapshot_id"):
            await api.get_snapshot("x?y")
        with pytest.raises(ValueError, match="snapshot_id"):
            await api.delete_snapshot("")
        with pytest.raises(ValueError, match="at least one"):
            await api.update_snapshot(MISSING)
        with pytest.raises(ValueError, match="volume_id"):
            await api.list_snapshots(volume_id="nope")
    assert fake.stats.requests == []


async def test_get_update_delete_snapshot(fake: FakeScaleway, server: FakeServer) -> None:
    """get by id or model, PATCH name/tags, DELETE; missing is NotFoundError unless missing_ok."""
    volume = fake.block.add_volume("db")
    stored = fake.block.add_snapshot(volume["id"], "s1", tags=["a"])
    async with make_block(fake, server) as api:
        snapshot = await api.get_snapshot(stored["id"])
        assert await api.get_snapshot(snapshot) == snapshot
        updated = await api.update_snapshot(snapshot, name="s2", tags=["b"])
        await api.delete_snapshot(updated)
        gone = await api.wait_for_snapshot(updated, until="deleted")
        with pytest.raises(NotFoundError):
            await api.get_snapshot(snapshot)
        with pytest.raises(NotFoundError):
            await api.delete_snapshot(snapshot)
        await api.delete_snapshot(snapshot, missing_ok=True)
    assert requests(fake, "PATCH", "snapshots")[0].json() == {"name": "s2", "tags": ["b"]}
    assert (updated.name, updated.tags) == ("s2", ("b",))
    assert gone is None
    assert fake.block.snapshots() == []


async def test_delete_snapshot_in_use_is_precondition_failed(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A snapshot the API refuses to delete (412) raises PreconditionFailedError."""
    volume = fake.block.add_volume("db")
    stored = fake.block.add_snapshot(volume["id"])
    fake.add_fault(
        Fault(
            "respond",
            method="DELETE",
            path="/snapshots/",
            status=412,
            body=precondition_failed_body("resource_still_in_use", "the snapshot is in use"),
        )
    )
    async with make_block(fake, server) as api:
        with pytest.raises(PreconditionFailedError) as info:
            await api.delete_snapshot(stored["id"])
    assert info.value.precondition == "resource_still_in_use"
    assert len(fake.block.snapshots()) == 1


async def test_fake_refuses_to_delete_an_in_use_snapshot(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The official SDK: "The snapshot must not be in use". The fake answers a DELETE of
    an in_use snapshot 412 resource_still_in_use (it deleted it): PreconditionFailedError,
    sent once, and the snapshot is kept as it was."""
    volume = fake.block.add_volume("db")
    stored = fake.block.add_snapshot(volume["id"], status="in_use")
    async with make_block(fake, server) as api:
        with pytest.raises(PreconditionFailedError) as info:
            await api.delete_snapshot(stored["id"])
    assert info.value.precondition == "resource_still_in_use"
    assert len(requests(fake, "DELETE", "snapshots")) == 1
    assert fake.block.get_snapshot(stored["id"]) == stored


async def test_a_restore_holds_its_snapshot_in_use_until_the_volume_is_made(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """delete_snapshot's own case, "a volume being restored from it": the snapshot is
    in_use for the restored volume's block_create_time, and a DELETE meanwhile is a
    PreconditionFailedError; once the volume is created the snapshot is available and
    deletes. (A ManualClock moves time: nothing waits.)"""
    clock = fake.clock = ManualClock()
    fake.block_create_time = 60
    volume = fake.block.add_volume("db")
    stored = fake.block.add_snapshot(volume["id"])
    async with make_block(fake, server) as api:
        restoring = await api.create_volume(name="restore", from_snapshot=stored["id"])
        assert restoring.status == "creating"
        assert (await api.get_snapshot(stored["id"])).status == "in_use"
        with pytest.raises(PreconditionFailedError) as info:
            await api.delete_snapshot(stored["id"])
        assert info.value.precondition == "resource_still_in_use"
        clock.advance(59)
        assert (await api.get_snapshot(stored["id"])).status == "in_use"
        clock.advance(1)
        assert (await api.get_volume(restoring)).status == "available"
        assert (await api.get_snapshot(stored["id"])).status == "available"
        await api.delete_snapshot(stored["id"])
    assert fake.block.snapshots() == []


async def test_restores_from_one_snapshot_hold_it_until_the_last_is_made(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """An in_use snapshot still restores (it is in use, not busy), and each restore holds
    it: it is available again only when the last volume restored from it is created."""
    clock = fake.clock = ManualClock()
    fake.block_create_time = 60
    volume = fake.block.add_volume("db")
    stored = fake.block.add_snapshot(volume["id"])
    async with make_block(fake, server) as api:
        first = await api.create_volume(name="first", from_snapshot=stored["id"])
        clock.advance(30)
        second = await api.create_volume(name="second", from_snapshot=stored["id"])
        clock.advance(30)
        assert (await api.get_volume(first)).status == "available"
        assert (await api.get_volume(second)).status == "creating"
        assert (await api.get_snapshot(stored["id"])).status == "in_use"
        with pytest.raises(PreconditionFailedError):
            await api.delete_snapshot(stored["id"])
        clock.advance(30)
        assert (await api.get_volume(second)).status == "available"
        assert (await api.get_snapshot(stored["id"])).status == "available"


async def test_list_snapshots_filters_and_pages(fake: FakeScaleway, server: FakeServer) -> None:
    """volume_id, name, tags filters; 5 snapshots at 2 per page come back once each."""
    first = fake.block.add_volume("one")
    second = fake.block.add_volume("two")
    ids = [fake.block.add_snapshot(first["id"], f"snap-{i}")["id"] for i in range(4)]
    tagged = fake.block.add_snapshot(second["id"], "other", tags=["keep"])["id"]
    async with make_block(fake, server) as api:
        of_first = await api.list_snapshots(volume_id=first["id"], per_page=2)
        by_name = await api.list_snapshots(name="snap-3")
        by_tag = await api.list_snapshots(tags=["keep", "nothing"])
        by_project = await api.list_snapshots(project=fake.organization)
        everything = [s.id async for s in api.iter_snapshots(per_page=2)]
    assert [s.id for s in of_first] == ids
    assert [s.id for s in by_name] == [ids[3]]
    assert [s.id for s in by_tag] == [tagged]
    assert len(by_project) == 5
    assert everything == [*ids, tagged]
    sent = [query(r) for r in requests(fake, "GET", "snapshots")]
    assert sent[0]["volume_id"] == [first["id"]] and sent[0]["page_size"] == ["2"]
    assert len([q for q in sent if q["page_size"] == ["2"]]) == 2 + 3
