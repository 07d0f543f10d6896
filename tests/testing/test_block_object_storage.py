"""Block snapshots to and from Object Storage: export-to- and import-from-object-storage.

Driven by a ManualClock (no wall-clock timing), in-process: the routes go through the
same pipeline as every other one, so faults and the rate limiter apply to them too.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway, Fault, ManualClock

pytestmark = pytest.mark.anyio

GB = 1_000_000_000
EXPORT = {"bucket": "my-bucket", "key": "snapshots/s.qcow2"}
IMPORT = {
    "bucket": "my-bucket",
    "key": "disk.qcow2",
    "name": "imported",
    "project_id": FAKE_ORGANIZATION,
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_750_000_000.0)


@pytest.fixture
def fake(clock: ManualClock) -> FakeScaleway:
    return FakeScaleway(clock=clock, block_snapshot_time=11)


@pytest.fixture
async def http(fake: FakeScaleway) -> AsyncIterator[httpx.AsyncClient]:
    async with fake.client(base_url=fake.block_base_url) as client:
        yield client


def _export_url(snapshot_id: str) -> str:
    return f"/snapshots/{snapshot_id}/export-to-object-storage"


def _details(response: httpx.Response) -> dict[str, str]:
    """The ``argument_name -> reason`` pairs of a 400 ``invalid_arguments`` answer."""
    assert response.status_code == 400, response.text
    return {d["argument_name"]: d["reason"] for d in response.json()["details"]}


async def test_export_is_exporting_then_settles(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """An export answers the snapshot ``exporting``; it refuses changes (409) for
    block_snapshot_time, then is available again."""
    snapshot = fake.block.add_snapshot(fake.block.add_volume()["id"])
    url = _export_url(snapshot["id"])
    exported = await http.post(url, json=EXPORT)
    assert exported.status_code == 200
    assert (exported.json()["id"], exported.json()["status"]) == (snapshot["id"], "exporting")
    clock.advance(10.999)
    for busy in (
        await http.post(url, json=EXPORT),
        await http.patch(f"/snapshots/{snapshot['id']}", json={"name": "x"}),
        await http.delete(f"/snapshots/{snapshot['id']}"),
    ):
        assert busy.status_code == 409
        assert (busy.json()["type"], busy.json()["current_state"]) == (
            "transient_state",
            "exporting",
        )
    clock.advance(0.001)
    assert (await http.get(f"/snapshots/{snapshot['id']}")).json()["status"] == "available"


async def test_export_refusals(http: httpx.AsyncClient, fake: FakeScaleway) -> None:
    """A creating snapshot is a 409, an errored one a 412 resource_not_usable, an unknown
    one a 404, a malformed id or body a 400 naming each problem."""
    volume = fake.block.add_volume()
    creating = (
        await http.post(
            "/snapshots",
            json={"volume_id": volume["id"], "name": "s", "project_id": FAKE_ORGANIZATION},
        )
    ).json()
    busy = await http.post(_export_url(creating["id"]), json=EXPORT)
    assert (busy.status_code, busy.json()["current_state"]) == (409, "creating")
    broken = fake.block.add_snapshot(volume["id"], status="error")
    refused = await http.post(_export_url(broken["id"]), json=EXPORT)
    assert (refused.status_code, refused.json()["precondition"]) == (412, "resource_not_usable")
    missing = str(uuid.uuid4())
    unknown = await http.post(_export_url(missing), json=EXPORT)
    assert (unknown.status_code, unknown.json()["resource_id"]) == (404, missing)
    assert _details(await http.post(_export_url("nope"), json=EXPORT)) == {
        "snapshot_id": "constraint"
    }
    healthy_id = fake.block.add_snapshot(volume["id"])["id"]
    healthy = _export_url(healthy_id)
    assert _details(await http.post(healthy, json={})) == {"bucket": "required", "key": "required"}
    bad: dict[str, Any] = {"bucket": "Not_A_Bucket", "key": "", "region": "fr-par"}
    assert _details(await http.post(healthy, json=bad)) == {
        "bucket": "constraint",
        "key": "constraint",
        "region": "unknown",
    }
    assert _details(await http.post(healthy, content=b"[]")) == {"body": "format"}
    assert fake.block.get_snapshot(healthy_id) == fake.block.snapshots()[-1]
    assert fake.block.snapshots()[-1]["status"] == "available"


async def test_import_makes_a_snapshot_without_parent(
    http: httpx.AsyncClient, clock: ManualClock, fake: FakeScaleway
) -> None:
    """An import is ``creating`` for block_snapshot_time, has no parent volume, takes the
    given size (10 GB without one, or with the SDK's 0) and restores like any snapshot."""
    made = await http.post(
        "/snapshots/import-from-object-storage",
        json={**IMPORT, "tags": ["t"], "size": 20 * GB},
    )
    assert made.status_code == 200
    snapshot = made.json()
    assert (snapshot["status"], snapshot["parent_volume"], snapshot["size"]) == (
        "creating",
        None,
        20 * GB,
    )
    assert (snapshot["name"], snapshot["tags"], snapshot["project_id"]) == (
        "imported",
        ["t"],
        FAKE_ORGANIZATION,
    )
    assert (snapshot["public"], snapshot["kms_key_id"], snapshot["class"]) == (False, None, "sbs")
    for body in (IMPORT, {**IMPORT, "size": 0}):
        other = (await http.post("/snapshots/import-from-object-storage", json=body)).json()
        assert other["size"] == 10 * GB
    clock.advance(11)
    assert (await http.get(f"/snapshots/{snapshot['id']}")).json()["status"] == "available"
    listed = (await http.get("/snapshots", params={"volume_id": str(uuid.uuid4())})).json()
    assert listed["total_count"] == 0
    restore = {
        "name": "r",
        "project_id": FAKE_ORGANIZATION,
        "from_snapshot": {"snapshot_id": snapshot["id"]},
    }
    restored = (await http.post("/volumes", json=restore)).json()
    assert (restored["size"], restored["type"]) == (20 * GB, "sbs_5k")
    by_org = await http.get("/snapshots", params={"organization_id": FAKE_ORGANIZATION})
    assert by_org.json()["total_count"] == 3


async def test_import_validation(http: httpx.AsyncClient, fake: FakeScaleway) -> None:
    """Every missing or malformed field of an import is listed; nothing is created."""
    url = "/snapshots/import-from-object-storage"
    assert _details(await http.post(url, json={})) == {
        "bucket": "required",
        "key": "required",
        "name": "required",
        "project_id": "required",
    }
    bad = {**IMPORT, "project_id": "p", "size": 1, "tags": "t", "bucket": "x", "public": True}
    assert _details(await http.post(url, json=bad)) == {
        "project_id": "constraint",
        "size": "constraint",
        "tags": "constraint",
        "bucket": "constraint",
        "public": "unknown",
    }
    assert fake.block.snapshots() == []


async def test_routes_methods_and_faults(http: httpx.AsyncClient, fake: FakeScaleway) -> None:
    """Both routes take POST only (405 with Allow otherwise); deeper paths are 404s; a
    fault scripted for them fires as for any route."""
    snapshot = fake.block.add_snapshot(fake.block.add_volume()["id"])
    for path in ("/snapshots/import-from-object-storage", _export_url(snapshot["id"])):
        wrong = await http.get(path)
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
    deeper = await http.post(f"/snapshots/x{_export_url(snapshot['id'])}", json=EXPORT)
    assert deeper.status_code == 404
    fake.add_fault(Fault("respond", path="import-from-object-storage$", status=503))
    scripted = await http.post("/snapshots/import-from-object-storage", json=IMPORT)
    assert scripted.status_code == 503
    assert fake.block.snapshots()[0]["id"] == snapshot["id"]
    assert len(fake.block.snapshots()) == 1
