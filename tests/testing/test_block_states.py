"""Block state machines, driven by a ManualClock: no wall-clock timing anywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway, ManualClock

pytestmark = pytest.mark.anyio

GB = 1_000_000_000
START = 1_750_000_000.0
EMPTY = {"name": "data", "project_id": FAKE_ORGANIZATION, "from_empty": {"size": 20 * GB}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake(clock: ManualClock) -> FakeScaleway:
    return FakeScaleway(
        clock=clock,
        block_create_time=5,
        block_resize_time=7,
        block_snapshot_time=11,
        block_delete_time=3,
        block_deleted_retention=100,
    )


@pytest.fixture
async def http(fake: FakeScaleway) -> AsyncIterator[httpx.AsyncClient]:
    async with fake.client(base_url=fake.block_base_url) as client:
        yield client


async def _get(http: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_creating_then_available(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """A volume is "creating" for exactly block_create_time, then "available"."""
    volume = (await http.post("/volumes", json=EMPTY)).json()
    assert volume["created_at"] == "2025-06-15T15:06:40.000000Z"
    url = f"/volumes/{volume['id']}"
    clock.advance(4.999)
    assert (await _get(http, url))["status"] == "creating"
    # Mutations wait for the volume to settle: 409 transient_state with its state.
    busy = await http.patch(url, json={"name": "x"})
    assert busy.status_code == 409
    assert busy.json() == {
        "type": "transient_state",
        "message": "resource is in a transient state",
        "resource": "volume",
        "resource_id": volume["id"],
        "current_state": "creating",
    }
    assert (await http.delete(url)).json()["current_state"] == "creating"
    snapshot = {"volume_id": volume["id"], "name": "s", "project_id": FAKE_ORGANIZATION}
    assert (await http.post("/snapshots", json=snapshot)).status_code == 409
    clock.advance(0.001)
    settled = await _get(http, url)
    assert settled["status"] == "available"
    # The transition is dated when it landed, not when it was read.
    clock.advance(50)
    assert (await _get(http, url))["updated_at"] == "2025-06-15T15:06:45.000000Z"
    assert fake.block.get_volume(volume["id"]) == settled


async def test_resize_shows_the_new_size_once_settled(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """A size PATCH answers the old size, "updating"; the new size lands after resize time."""
    volume = fake.block.add_volume(size=20 * GB)
    fake.block.add_reference(volume["id"])
    url = f"/volumes/{volume['id']}"
    patched = (await http.patch(url, json={"size": 40 * GB, "name": "big"})).json()
    assert (patched["size"], patched["status"], patched["name"]) == (20 * GB, "updating", "big")
    clock.advance(6)
    during = await _get(http, url)
    assert (during["size"], during["status"]) == (20 * GB, "updating")
    assert (await http.patch(url, json={"size": 50 * GB})).json()["current_state"] == "updating"
    clock.advance(1)
    after = await _get(http, url)
    # Still referenced: it rests in_use, not available.
    assert (after["size"], after["status"]) == (40 * GB, "in_use")


async def test_snapshot_state_machine(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """Snapshot "creating" and volume "snapshotting" for block_snapshot_time, then back."""
    volume = fake.block.add_volume()
    body = {"volume_id": volume["id"], "name": "s", "project_id": FAKE_ORGANIZATION}
    snapshot = (await http.post("/snapshots", json=body)).json()
    s_url, v_url = f"/snapshots/{snapshot['id']}", f"/volumes/{volume['id']}"
    clock.advance(10)
    assert (await _get(http, s_url))["status"] == "creating"
    assert (await _get(http, s_url))["parent_volume"]["status"] == "snapshotting"
    assert (await _get(http, v_url))["status"] == "snapshotting"
    busy = await http.delete(s_url)
    assert (busy.status_code, busy.json()["resource"]) == (409, "snapshot")
    assert (await http.patch(s_url, json={"name": "n"})).json()["current_state"] == "creating"
    restore: dict[str, Any] = {"name": "r", "project_id": FAKE_ORGANIZATION}
    restore["from_snapshot"] = {"snapshot_id": snapshot["id"]}
    assert (await http.post("/volumes", json=restore)).json()["current_state"] == "creating"
    clock.advance(1)
    assert (await _get(http, s_url))["status"] == "available"
    assert (await _get(http, v_url))["status"] == "available"
    assert (await http.post("/volumes", json=restore)).status_code == 200


async def test_delete_then_gone_then_forgotten(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """DELETE: "deleting" for block_delete_time, then 404 (listed as "deleted" a while)."""
    volume = fake.block.add_volume()
    url = f"/volumes/{volume['id']}"
    assert (await http.delete(url)).status_code == 204
    clock.advance(2)
    assert (await _get(http, url))["status"] == "deleting"
    assert [v["status"] for v in (await _get(http, "/volumes"))["volumes"]] == ["deleting"]
    assert (await http.delete(url)).json()["current_state"] == "deleting"
    clock.advance(1)
    assert (await http.get(url)).status_code == 404
    assert (await http.delete(url)).status_code == 404
    assert (await _get(http, "/volumes"))["total_count"] == 0
    deleted = await _get(http, "/volumes?include_deleted=true")
    assert [v["status"] for v in deleted["volumes"]] == ["deleted"]
    clock.advance(100)
    assert (await _get(http, "/volumes?include_deleted=true"))["total_count"] == 1
    clock.advance(0.001)
    assert (await _get(http, "/volumes?include_deleted=true"))["total_count"] == 0
    assert fake.block.volumes(include_deleted=True) == []


async def test_snapshot_delete(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """Snapshots are deleted the same way; their parent_volume is null once it is deleted."""
    volume = fake.block.add_volume()
    snapshot = fake.block.add_snapshot(volume["id"])
    assert (await http.delete(f"/volumes/{volume['id']}")).status_code == 204
    clock.advance(3)
    kept = await _get(http, f"/snapshots/{snapshot['id']}")
    assert kept["parent_volume"] is None
    assert (await http.delete(f"/snapshots/{snapshot['id']}")).status_code == 204
    assert (await _get(http, f"/snapshots/{snapshot['id']}"))["status"] == "deleting"
    clock.advance(3)
    assert (await http.get(f"/snapshots/{snapshot['id']}")).status_code == 404
    clock.advance(101)
    assert fake.block.snapshots(include_deleted=True) == []
    # The parent volume was forgotten too.
    assert fake.block.volumes(include_deleted=True) == []


async def test_forced_status_drops_the_transition(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """set_volume_status stops any transition: an "error" volume stays in error."""
    volume = (await http.post("/volumes", json=EMPTY)).json()
    fake.block.set_volume_status(volume["id"], "error")
    clock.advance(60)
    errored = await _get(http, f"/volumes/{volume['id']}")
    assert errored["status"] == "error"
    assert errored["updated_at"] == volume["created_at"]
    fake.block.set_volume_status(volume["id"], "creating")
    clock.advance(60)
    assert (await _get(http, f"/volumes/{volume['id']}"))["status"] == "creating"


async def test_zero_times_still_answer_the_transient_state(clock: ManualClock) -> None:
    """With every time at 0 (the default), answers show the transient state, reads don't."""
    fake = FakeScaleway(clock=clock)
    async with fake.client(base_url=fake.block_base_url) as http:
        created = (await http.post("/volumes", json=EMPTY)).json()
        assert created["status"] == "creating"
        url = f"/volumes/{created['id']}"
        assert (await _get(http, url))["status"] == "available"
        assert (await http.patch(url, json={"size": 30 * GB})).json()["status"] == "updating"
        assert (await _get(http, url))["size"] == 30 * GB


async def test_a_restore_holds_its_snapshot_in_use(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """A volume restored from a snapshot keeps it in_use until the volume is created: a
    DELETE meanwhile is 412 resource_still_in_use. An export during the hold lands back in
    in_use (not available), and the snapshot rests available when the restore ends."""
    fake.block_create_time = 20
    volume = fake.block.add_volume()
    snapshot = fake.block.add_snapshot(volume["id"])
    url = f"/snapshots/{snapshot['id']}"
    restore = {"name": "r", "project_id": FAKE_ORGANIZATION}
    restore["from_snapshot"] = {"snapshot_id": snapshot["id"]}
    assert (await http.post("/volumes", json=restore)).status_code == 200
    held = await _get(http, url)
    assert (held["status"], held["updated_at"]) == ("in_use", "2025-06-15T15:06:40.000000Z")
    refused = await http.delete(url)
    assert refused.status_code == 412
    assert (refused.json()["type"], refused.json()["precondition"]) == (
        "precondition_failed",
        "resource_still_in_use",
    )
    clock.advance(1)
    export = {"bucket": "my-bucket", "key": "s.qcow2"}
    exporting = await http.post(f"{url}/export-to-object-storage", json=export)
    assert exporting.json()["status"] == "exporting"
    clock.advance(11)  # the export is done, the restore is not
    exported = await _get(http, url)
    assert (exported["status"], exported["updated_at"]) == (
        "in_use",
        "2025-06-15T15:06:52.000000Z",
    )
    assert (await http.delete(url)).status_code == 412
    clock.advance(8)
    rested = await _get(http, url)
    assert (rested["status"], rested["updated_at"]) == (
        "available",
        "2025-06-15T15:07:00.000000Z",
    )
    assert (await http.delete(url)).status_code == 204


async def test_a_forced_in_use_snapshot_stays_in_use(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """A snapshot a test forced in_use restores, and stays in_use (and undeletable) after
    the restore; forcing a held snapshot available ends the restore's hold at once."""
    volume = fake.block.add_volume()
    forced = fake.block.add_snapshot(volume["id"], status="in_use")
    held = fake.block.add_snapshot(volume["id"])
    for snapshot in (forced, held):
        restore = {"name": "r", "project_id": FAKE_ORGANIZATION}
        restore["from_snapshot"] = {"snapshot_id": snapshot["id"]}
        assert (await http.post("/volumes", json=restore)).status_code == 200
    assert (await _get(http, f"/snapshots/{held['id']}"))["status"] == "in_use"
    fake.block.set_snapshot_status(held["id"], "available")
    assert (await http.delete(f"/snapshots/{held['id']}")).status_code == 204
    clock.advance(60)
    assert (await http.delete(f"/snapshots/{forced['id']}")).status_code == 412
    assert fake.block.get_snapshot(forced["id"]) == forced
