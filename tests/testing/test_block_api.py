"""The fake's Block Storage API v1: routes, shapes and rules, over both transports."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FAKE_TOKEN, FakeScaleway, Fault

if TYPE_CHECKING:
    from .conftest import Target

pytestmark = pytest.mark.anyio

BLOCK = "/block/v1/zones/fr-par-1"
GB = 1_000_000_000
PROJECT = FAKE_ORGANIZATION
EMPTY = {"name": "data", "project_id": PROJECT, "from_empty": {"size": 20 * GB}}
VOLUME_FIELDS = [
    "id",
    "name",
    "type",
    "size",
    "project_id",
    "created_at",
    "updated_at",
    "references",
    "parent_snapshot_id",
    "status",
    "tags",
    "specs",
    "last_detached_at",
    "kms_key_id",
    "zone",
]
SNAPSHOT_FIELDS = [
    "id",
    "name",
    "parent_volume",
    "size",
    "project_id",
    "created_at",
    "updated_at",
    "references",
    "status",
    "tags",
    "zone",
    "class",
    "public",
    "kms_key_id",
]
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def _details(response: httpx.Response) -> dict[str, str]:
    """The ``argument_name -> reason`` pairs of a 400 ``invalid_arguments`` answer."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["type"], body["message"]) == ("invalid_arguments", "invalid argument(s)")
    assert all(d["help_message"] for d in body["details"])
    return {d["argument_name"]: d["reason"] for d in body["details"]}


async def test_volume_round_trip(target: Target) -> None:
    """Create answers 200 with a bare "creating" volume; get, update, delete follow it."""
    async with target.client(BLOCK) as http:
        created = await http.post("/volumes", json={**EMPTY, "tags": ["a", "b"]})
        assert created.status_code == 200
        assert created.headers["content-type"] == "application/json"
        volume = created.json()
        assert list(volume) == VOLUME_FIELDS
        assert str(uuid.UUID(volume["id"])) == volume["id"]
        assert volume["status"] == "creating"
        assert (volume["name"], volume["size"], volume["tags"]) == ("data", 20 * GB, ["a", "b"])
        assert (volume["type"], volume["specs"]) == ("sbs_5k", {"perf_iops": 5000, "class": "sbs"})
        assert (volume["project_id"], volume["zone"]) == (PROJECT, "fr-par-1")
        assert volume["references"] == []
        assert volume["parent_snapshot_id"] is volume["last_detached_at"] is None
        assert volume["kms_key_id"] is None
        assert RFC3339_Z.match(volume["created_at"])
        assert volume["created_at"] == volume["updated_at"]
        url = f"/volumes/{volume['id']}"

        got = (await http.get(url)).json()
        assert got == {**volume, "status": "available"}

        renamed = await http.patch(url, json={"name": "renamed", "tags": [], "perf_iops": 15000})
        assert renamed.status_code == 200
        assert (renamed.json()["name"], renamed.json()["tags"]) == ("renamed", [])
        assert renamed.json()["type"] == "sbs_15k"
        assert renamed.json()["specs"] == {"perf_iops": 15000, "class": "sbs"}
        assert renamed.json()["status"] == "available"

        grown = await http.patch(url, json={"size": 30 * GB})
        assert (grown.json()["size"], grown.json()["status"]) == (20 * GB, "updating")
        settled = (await http.get(url)).json()
        assert (settled["size"], settled["status"]) == (30 * GB, "available")
        assert target.fake.block.get_volume(volume["id"]) == settled

        deleted = await http.delete(url)
        assert (deleted.status_code, deleted.content) == (204, b"")
        missing = await http.get(url)
        assert missing.status_code == 404
        assert missing.json() == {
            "type": "not_found",
            "message": "resource is not found",
            "resource": "volume",
            "resource_id": volume["id"],
        }
        assert (await http.get("/volumes")).json() == {"volumes": [], "total_count": 0}
        kept = (await http.get("/volumes", params={"include_deleted": "true"})).json()
        assert [(v["id"], v["status"]) for v in kept["volumes"]] == [(volume["id"], "deleted")]


async def test_snapshot_round_trip(target: Target) -> None:
    """A snapshot is created "creating" with its parent "snapshotting", then settles."""
    volume = target.fake.block.add_volume("src", 15 * GB, perf_iops=15000)
    body = {"volume_id": volume["id"], "name": "snap", "project_id": PROJECT, "tags": ["t"]}
    async with target.client(BLOCK) as http:
        created = await http.post("/snapshots", json={**body, "public": False})
        assert created.status_code == 200
        snapshot = created.json()
        assert list(snapshot) == SNAPSHOT_FIELDS
        assert snapshot["status"] == "creating"
        assert snapshot["parent_volume"] == {
            "id": volume["id"],
            "name": "src",
            "type": "sbs_15k",
            "status": "snapshotting",
        }
        assert (snapshot["size"], snapshot["class"], snapshot["tags"]) == (15 * GB, "sbs", ["t"])
        assert RFC3339_Z.match(snapshot["created_at"])
        url = f"/snapshots/{snapshot['id']}"

        got = (await http.get(url)).json()
        assert got["status"] == "available"
        assert got["parent_volume"]["status"] == "available"
        patched = await http.patch(url, json={"name": "renamed", "tags": ["x"], "public": False})
        assert (patched.json()["name"], patched.json()["tags"]) == ("renamed", ["x"])

        listed = await http.get("/snapshots", params={"volume_id": volume["id"]})
        assert listed.json() == {"snapshots": [patched.json()], "total_count": 1}
        none = await http.get("/snapshots", params={"volume_id": str(uuid.uuid4())})
        assert none.json() == {"snapshots": [], "total_count": 0}

        assert (await http.delete(url)).status_code == 204
        missing = await http.get(url)
        assert missing.status_code == 404
        assert missing.json()["resource"] == "snapshot"
        # The volume outlives its snapshot, and the other way round.
        assert (await http.get(f"/volumes/{volume['id']}")).status_code == 200


async def test_volume_from_snapshot(target: Target) -> None:
    """Restores take the snapshot's size and performance unless told; smaller is 412."""
    block = target.fake.block
    source = block.add_volume("src", 20 * GB, perf_iops=15000)
    snapshot = block.add_snapshot(source["id"])
    restore = {"name": "restored", "project_id": PROJECT}
    async with target.client(BLOCK) as http:
        same = await http.post(
            "/volumes", json={**restore, "from_snapshot": {"snapshot_id": snapshot["id"]}}
        )
        assert same.status_code == 200
        assert (same.json()["size"], same.json()["type"]) == (20 * GB, "sbs_15k")
        assert same.json()["parent_snapshot_id"] == snapshot["id"]
        bigger = {"snapshot_id": snapshot["id"], "size": 30 * GB}
        cheaper = await http.post(
            "/volumes", json={**restore, "perf_iops": 5000, "from_snapshot": bigger}
        )
        assert (cheaper.json()["size"], cheaper.json()["type"]) == (30 * GB, "sbs_5k")
        null_size = {"snapshot_id": snapshot["id"], "size": None}
        assert (await http.post("/volumes", json={**restore, "from_snapshot": null_size})).json()[
            "size"
        ] == 20 * GB
        # What the official SDK sends when no size is given (its dataclass default).
        zero_size = {"snapshot_id": snapshot["id"], "size": 0}
        zero = await http.post("/volumes", json={**restore, "from_snapshot": zero_size})
        assert (zero.status_code, zero.json()["size"]) == (200, 20 * GB), zero.text

        smaller = {"snapshot_id": snapshot["id"], "size": 10 * GB}
        refused = await http.post("/volumes", json={**restore, "from_snapshot": smaller})
        assert refused.status_code == 412
        assert refused.json() == {
            "type": "precondition_failed",
            "message": "precondition is not respected",
            "precondition": "resource_not_usable",
            "help_message": "size, when provided, must be equal to or larger than the size "
            "of the source snapshot",
        }
    assert len(block.volumes()) == 5


async def test_list_filters(target: Target) -> None:
    """volume_ids and tags repeat (one tag is enough); the other filters narrow down."""
    block = target.fake.block
    other, project = str(uuid.uuid4()), str(uuid.uuid4())
    a = block.add_volume("db-main", tags=["prod", "db"])
    b = block.add_volume("db-replica", tags=["db"], project_id=project, perf_iops=15000)
    c = block.add_volume("cache", tags=["prod"], organization=other)
    server = str(uuid.uuid4())
    block.add_reference(c["id"], product_resource_id=server)
    c = block.get_volume(c["id"])
    cases: list[tuple[list[tuple[str, str]], list[Any]]] = [
        ([], [a, b, c]),
        ([("name", "db")], [a, b]),
        ([("tags", "prod")], [a, c]),
        ([("tags", "nope"), ("tags", "db")], [a, b]),
        ([("tags", "nope")], []),
        ([("volume_ids", a["id"]), ("volume_ids", c["id"])], [a, c]),
        ([("volume_ids", c["id"]), ("volume_ids", a["id"])], [a, c]),
        ([("volume_ids", str(uuid.uuid4()))], []),
        ([("project_id", project)], [b]),
        ([("project_id", other)], [c]),  # an organization's default project: the same id
        ([("organization_id", other)], [c]),
        ([("organization_id", FAKE_ORGANIZATION)], [a, b]),
        ([("volume_type", "sbs_15k")], [b]),
        ([("product_resource_id", server)], [c]),
        ([("tags", "db"), ("name", "main")], [a]),
        ([("order_by", "created_at_desc")], [c, b, a]),
        ([("order_by", "name_asc")], [c, a, b]),
        ([("order_by", "name_desc")], [b, a, c]),
    ]
    async with target.client(BLOCK) as http:
        for params, expected in cases:
            response = await http.get("/volumes", params=params)
            assert response.json() == {"volumes": expected, "total_count": len(expected)}, params


async def test_include_deleted(target: Target) -> None:
    """Deleted resources are listed only with include_deleted, with status "deleted"."""
    block = target.fake.block
    volume = block.add_volume("gone")
    kept = block.add_volume("kept")
    snapshot = block.add_snapshot(kept["id"])
    async with target.client(BLOCK) as http:
        assert (await http.delete(f"/volumes/{volume['id']}")).status_code == 204
        assert (await http.delete(f"/snapshots/{snapshot['id']}")).status_code == 204
        for value, names in (("true", ["gone", "kept"]), ("False", ["kept"]), ("0", ["kept"])):
            listed = await http.get("/volumes", params={"include_deleted": value})
            assert [v["name"] for v in listed.json()["volumes"]] == names, value
        snapshots = await http.get("/snapshots", params={"include_deleted": "True"})
        assert [s["status"] for s in snapshots.json()["snapshots"]] == ["deleted"]
        assert (await http.get("/snapshots")).json()["total_count"] == 0
    assert block.volumes(include_deleted=True)[0]["status"] == "deleted"
    assert [v["name"] for v in block.volumes()] == ["kept"]


async def test_pagination_counts_in_the_body(target: Target) -> None:
    """page/page_size slice the list; total_count is in the body, never a header."""
    ids = [target.fake.block.add_volume(f"v{i}")["id"] for i in range(7)]
    async with target.client(BLOCK) as http:
        seen: list[str] = []
        for page in (1, 2, 3):
            response = await http.get("/volumes", params={"page": page, "page_size": 3})
            assert response.json()["total_count"] == 7
            assert "x-total-count" not in response.headers
            assert "link" not in response.headers
            seen += [v["id"] for v in response.json()["volumes"]]
        assert seen == ids
        past = await http.get("/volumes", params={"page": 9, "page_size": 3})
        assert past.json() == {"volumes": [], "total_count": 7}
        default = await http.get("/volumes")
        assert len(default.json()["volumes"]) == 7


@pytest.mark.parametrize(
    ("params", "argument"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"include_deleted": "maybe"}, "include_deleted"),
        ({"order_by": "size_asc"}, "order_by"),
        ({"volume_ids": "nope"}, "volume_ids"),
        ({"project_id": "nope"}, "project_id"),
        ({"organization_id": "nope"}, "organization_id"),
    ],
)
async def test_bad_list_params(target: Target, params: dict[str, Any], argument: str) -> None:
    """A malformed list parameter is a 400 invalid_arguments naming it."""
    async with target.client(BLOCK) as http:
        assert argument in _details(await http.get("/volumes", params=params))


async def test_bad_snapshot_list_params(target: Target) -> None:
    """Snapshot lists check volume_id like the other ids."""
    async with target.client(BLOCK) as http:
        response = await http.get("/snapshots", params={"volume_id": "x", "page_size": 500})
    assert _details(response) == {"volume_id": "constraint", "page_size": "constraint"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": None}, {"name": "required"}),
        ({"name": ""}, {"name": "constraint"}),
        ({"project_id": None}, {"project_id": "required"}),
        ({"project_id": "p"}, {"project_id": "constraint"}),
        ({"perf_iops": 7000}, {"perf_iops": "constraint"}),
        ({"perf_iops": True}, {"perf_iops": "constraint"}),
        ({"perf_iops": [5000]}, {"perf_iops": "constraint"}),
        ({"perf_iops": {"5000": 1}}, {"perf_iops": "constraint"}),
        ({"tags": "a,b"}, {"tags": "constraint"}),
        ({"tags": ["a", 1]}, {"tags": "constraint"}),
        ({"kms_key_id": "k"}, {"kms_key_id": "constraint"}),
        ({"colour": "red"}, {"colour": "unknown"}),
        ({"from_empty": None}, {"from_empty": "required"}),
        ({"from_empty": 5}, {"from_empty": "constraint"}),
        ({"from_empty": {}}, {"from_empty.size": "required"}),
        ({"from_empty": {"size": GB - 1}}, {"from_empty.size": "constraint"}),
        ({"from_empty": {"size": 0}}, {"from_empty.size": "constraint"}),
        ({"from_empty": {"size": "10"}}, {"from_empty.size": "constraint"}),
        ({"from_empty": {"size": GB, "x": 1}}, {"from_empty.x": "unknown"}),
        ({"from_snapshot": {"snapshot_id": str(uuid.uuid4())}}, {"from_empty": "constraint"}),
    ],
)
async def test_create_volume_validation(
    target: Target, change: dict[str, Any], expected: dict[str, str]
) -> None:
    """Each malformed create field is named with its reason; nothing is stored."""
    body = {k: v for k, v in {**EMPTY, **change}.items() if v is not None}
    async with target.client(BLOCK) as http:
        assert _details(await http.post("/volumes", json=body)) == expected
    assert target.fake.block.volumes() == []


async def test_create_validation_of_restores_and_bodies(target: Target) -> None:
    """from_snapshot needs a snapshot UUID; a body must be a JSON object."""
    base = {"name": "r", "project_id": PROJECT}
    async with target.client(BLOCK) as http:
        response = await http.post("/volumes", json={**base, "from_snapshot": {"size": GB}})
        assert _details(response) == {"from_snapshot.snapshot_id": "required"}
        bad_id = {"snapshot_id": "s", "size": 1}
        response = await http.post("/volumes", json={**base, "from_snapshot": bad_id})
        assert _details(response) == {
            "from_snapshot.snapshot_id": "constraint",
            "from_snapshot.size": "constraint",
        }
        everything = await http.post("/volumes", json={})
        assert _details(everything) == {
            "name": "required",
            "project_id": "required",
            "from_empty": "required",
        }
        for content in (b"[1]", b"not json", b""):
            assert _details(await http.post("/volumes", content=content)) == {"body": "format"}
            assert _details(await http.post("/snapshots", content=content)) == {"body": "format"}
        snapshot = await http.post("/snapshots", json={"volume_id": "v", "public": "no"})
        assert _details(snapshot) == {
            "volume_id": "constraint",
            "name": "required",
            "project_id": "required",
            "public": "constraint",
        }
    assert target.fake.block.volumes() == []


async def test_update_validation(target: Target) -> None:
    """Shrinks, unknown fields and malformed values are refused, changing nothing."""
    block = target.fake.block
    volume = block.add_volume(size=20 * GB)
    snapshot = block.add_snapshot(volume["id"])
    async with target.client(BLOCK) as http:
        url = f"/volumes/{volume['id']}"
        assert _details(await http.patch(url, json={"size": 10 * GB})) == {"size": "constraint"}
        assert _details(await http.patch(url, json={"name": ""})) == {"name": "constraint"}
        assert _details(await http.patch(url, json={"perf_iops": 1})) == {"perf_iops": "constraint"}
        for unhashable in ([5000], {}):
            refused = await http.patch(url, json={"perf_iops": unhashable})
            assert _details(refused) == {"perf_iops": "constraint"}
        assert _details(await http.patch(url, json={"type": "sbs_15k"})) == {"type": "unknown"}
        assert _details(await http.patch(url, content=b"[]")) == {"body": "format"}
        same = await http.patch(url, json={"size": 20 * GB})
        assert (same.status_code, same.json()["status"]) == (200, "available")
        snap_url = f"/snapshots/{snapshot['id']}"
        assert _details(await http.patch(snap_url, json={"size": GB})) == {"size": "unknown"}
        assert _details(await http.patch(snap_url, json={"tags": [3]})) == {"tags": "constraint"}
    assert block.get_volume(volume["id"]) == {**volume, "updated_at": same.json()["updated_at"]}


async def test_perf_iops_change_needs_an_available_volume(target: Target) -> None:
    """A perf_iops change on a volume that is not available is a 400 on perf_iops."""
    block = target.fake.block
    volume = block.add_volume()
    block.add_reference(volume["id"])
    async with target.client(BLOCK) as http:
        url = f"/volumes/{volume['id']}"
        refused = await http.patch(url, json={"perf_iops": 15000})
        assert _details(refused) == {"perf_iops": "constraint"}
        assert "in_use" in refused.json()["details"][0]["help_message"]
        # Asking for the value it already has is no change at all.
        assert (await http.patch(url, json={"perf_iops": 5000})).status_code == 200
        block.remove_reference(volume["id"])
        block.set_volume_status(volume["id"], "error")
        assert _details(await http.patch(url, json={"perf_iops": 15000})) == {
            "perf_iops": "constraint"
        }
    assert block.get_volume(volume["id"])["type"] == "sbs_5k"  # type: ignore[index]


async def test_in_use_volume_refuses_deletion(target: Target) -> None:
    """A referenced volume is in_use: DELETE is a 412 resource_still_in_use."""
    block = target.fake.block
    volume = block.add_volume()
    reference = block.add_reference(volume["id"])
    assert block.get_volume(volume["id"])["status"] == "in_use"  # type: ignore[index]
    async with target.client(BLOCK) as http:
        url = f"/volumes/{volume['id']}"
        refused = await http.delete(url)
        assert refused.status_code == 412
        body = refused.json()
        assert (body["type"], body["precondition"]) == (
            "precondition_failed",
            "resource_still_in_use",
        )
        assert body["message"] == "precondition is not respected"
        assert "detach" in body["help_message"]
        listed = (await http.get(url)).json()
        assert listed["status"] == "in_use"
        assert listed["references"] == [reference]
        block.remove_reference(volume["id"], reference["id"])
        assert (await http.delete(url)).status_code == 204


async def test_quotas(target: Target) -> None:
    """Creates and growths past a configured quota answer 403 quotas_exceeded."""
    fake = target.fake
    fake.block_quota_volumes = 2
    fake.block_quota_size = 70 * GB
    async with target.client(BLOCK) as http:
        first = (await http.post("/volumes", json=EMPTY)).json()
        assert (await http.post("/volumes", json=EMPTY)).status_code == 200
        refused = await http.post("/volumes", json=EMPTY)
        assert refused.status_code == 403
        assert refused.json() == {
            "type": "quotas_exceeded",
            "message": "quota(s) exceeded for this resource",
            "details": [{"resource": "block_volumes", "quota": 2, "current": 2}],
        }
        grow = await http.patch(f"/volumes/{first['id']}", json={"size": 51 * GB})
        assert grow.status_code == 403
        assert grow.json()["details"] == [
            {"resource": "block_volumes_total_size", "quota": 70 * GB, "current": 40 * GB}
        ]
        # Deleting frees the quota; both limits are reported when both are hit.
        assert (await http.delete(f"/volumes/{first['id']}")).status_code == 204
        big = {**EMPTY, "from_empty": {"size": 60 * GB}}
        assert (await http.post("/volumes", json=big)).status_code == 403
        fake.block_quota_volumes = 1
        both = await http.post("/volumes", json=big)
        assert [d["resource"] for d in both.json()["details"]] == [
            "block_volumes",
            "block_volumes_total_size",
        ]
        fake.block_quota_volumes = fake.block_quota_size = None
        assert (await http.post("/volumes", json=big)).status_code == 200


async def test_growth_is_not_held_to_the_count_quota(target: Target) -> None:
    """Growing adds bytes, not a volume: a count quota at or below the count allows it."""
    fake = target.fake
    volume = fake.block.add_volume(size=10 * GB)
    fake.block.add_volume(size=10 * GB)
    async with target.client(BLOCK) as http:
        url = f"/volumes/{volume['id']}"
        for quota in (2, 1):
            fake.block_quota_volumes = quota
            size = (13 - quota) * 2 * GB
            grown = await http.patch(url, json={"size": size})
            assert (grown.status_code, grown.json()["status"]) == (200, "updating"), grown.text
            assert (await http.get(url)).json()["size"] == size
        # The size quota still applies to growth.
        fake.block_quota_size = 40 * GB
        refused = await http.patch(url, json={"size": 31 * GB})
        assert refused.status_code == 403
        assert [d["resource"] for d in refused.json()["details"]] == ["block_volumes_total_size"]


async def test_not_usable_sources(target: Target) -> None:
    """Snapshots of broken volumes and restores of broken snapshots are 412s."""
    block = target.fake.block
    volume = block.add_volume(status="error")
    healthy = block.add_volume()
    snapshot = block.add_snapshot(healthy["id"], status="error")
    async with target.client(BLOCK) as http:
        body = {"volume_id": volume["id"], "name": "s", "project_id": PROJECT}
        refused = await http.post("/snapshots", json=body)
        assert refused.status_code == 412
        assert refused.json()["precondition"] == "resource_not_usable"
        assert "error" in refused.json()["help_message"]
        restore = {
            "name": "r",
            "project_id": PROJECT,
            "from_snapshot": {"snapshot_id": snapshot["id"]},
        }
        refused = await http.post("/volumes", json=restore)
        assert (refused.status_code, refused.json()["precondition"]) == (412, "resource_not_usable")
        # An errored volume can still be deleted.
        assert (await http.delete(f"/volumes/{volume['id']}")).status_code == 204


async def test_invalid_and_unknown_ids(target: Target) -> None:
    """Malformed ids are 400s naming the path argument; unknown ones 404 not_found."""
    missing = str(uuid.uuid4())
    async with target.client(BLOCK) as http:
        for kind, argument in (("volumes", "volume_id"), ("snapshots", "snapshot_id")):
            for method in ("GET", "PATCH", "DELETE"):
                bad = await http.request(method, f"/{kind}/nope", json={})
                assert _details(bad) == {argument: "constraint"}
                unknown = await http.request(method, f"/{kind}/{missing}", json={})
                assert unknown.status_code == 404
                assert unknown.json()["resource"] == argument.removesuffix("_id")
                assert unknown.json()["resource_id"] == missing
        body = {"volume_id": missing, "name": "s", "project_id": PROJECT}
        orphan = await http.post("/snapshots", json=body)
        assert (orphan.status_code, orphan.json()["resource"]) == (404, "volume")
        restore = {"name": "r", "project_id": PROJECT, "from_snapshot": {"snapshot_id": missing}}
        lost = await http.post("/volumes", json=restore)
        assert (lost.status_code, lost.json()["resource"]) == (404, "snapshot")


async def test_unknown_paths_and_methods(target: Target) -> None:
    """Unknown Block paths are 404s; wrong methods 405s with Allow."""
    async with target.client("") as http:
        for path in (
            f"{BLOCK}/images",
            f"{BLOCK}/volumes/{uuid.uuid4()}/attach",
            f"{BLOCK}/volumes/",
            f"{BLOCK}/volume-types/sbs_5k",
            "/block/v1/zones/",
            "/block/v1/zones/fr-par-1",
        ):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert response.json()["type"] == "not_found"
        for method, path, allow in (
            ("PUT", "/volumes", "GET, POST"),
            ("DELETE", "/snapshots", "GET, POST"),
            ("POST", f"/volumes/{uuid.uuid4()}", "GET, PATCH, DELETE"),
            ("POST", "/volume-types", "GET"),
        ):
            response = await http.request(method, BLOCK + path)
            assert response.status_code == 405, path
            assert response.headers["allow"] == allow


async def test_volume_types(target: Target) -> None:
    """Both SBS types, by name, with the fields the official SDK reads."""
    async with target.client(BLOCK) as http:
        listed = (await http.get("/volume-types")).json()
        assert listed["total_count"] == 2
        assert [t["type"] for t in listed["volume_types"]] == ["sbs_15k", "sbs_5k"]
        for kind in listed["volume_types"]:
            assert set(kind) == {"type", "pricing", "snapshot_pricing", "specs", "zone"}
            assert set(kind["pricing"]) == {"currency_code", "units", "nanos"}
            assert kind["specs"]["class"] == "sbs"
            assert kind["zone"] == "fr-par-1"
        assert listed["volume_types"][1]["specs"]["perf_iops"] == 5000
        second = (await http.get("/volume-types", params={"page": 2, "page_size": 1})).json()
        assert second == {"volume_types": listed["volume_types"][1:], "total_count": 2}
        assert _details(await http.get("/volume-types", params={"page": 0})) == {
            "page": "constraint"
        }


async def test_auth_faults_and_stats_cover_both_apis(target: Target) -> None:
    """One token, one fault list, one rate-limit bucket and one Stats for both APIs."""
    fake = target.fake
    async with target.client(BLOCK, headers={"X-Auth-Token": "wrong"}) as http:
        denied = await http.get("/volumes")
        assert (denied.status_code, denied.json()["type"]) == (401, "denied_authentication")
    fault = fake.add_fault(Fault("respond", path=r"^/block/", status=503, times=1))
    async with target.client("") as http:
        assert (await http.get(f"{BLOCK}/volumes")).status_code == 503
        assert (await http.get(f"{BLOCK}/volumes")).status_code == 200
        assert fault.hits == 1
        fake.add_fault(Fault("act_then_drop", method="POST", path="/block/"))
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(f"{BLOCK}/volumes", json=EMPTY)
        assert len(fake.block.volumes()) == 1
        fake.rate_limit, fake.rate_burst = 0.001, 2
        statuses = [
            (await http.get(f"{BLOCK}/volumes")).status_code,
            (await http.get("/instance/v1/zones/fr-par-1/volumes")).status_code,
            (await http.get(f"{BLOCK}/volume-types")).status_code,
            (await http.get("/volumes")).status_code,
        ]
    assert statuses == [200, 200, 429, 429]
    assert fake.stats.throttled == 2
    assert fake.stats.statuses == {401: 1, 503: 1, 200: 3, 429: 2}
    assert len(fake.stats.requests) == 8


async def test_apis_keep_separate_volumes(target: Target) -> None:
    """Instance volumes and Block volumes live side by side, each in its own API."""
    fake = target.fake
    fake.add_volume("local")
    fake.block.add_volume("network")
    async with target.client("") as http:
        instance = (await http.get("/instance/v1/zones/fr-par-1/volumes")).json()["volumes"]
        block = (await http.get(f"{BLOCK}/volumes")).json()["volumes"]
        # Each zone has its own volumes, as for the Instance API.
        other_zone = (await http.get("/block/v1/zones/nl-ams-1/volumes")).json()["volumes"]
    assert [v["name"] for v in instance] == ["local"]
    assert [v["name"] for v in block] == ["network"]
    assert other_zone == []


async def test_zones_keep_their_own_resources(target: Target) -> None:
    """Volumes and snapshots live in the zone of the path that created them (a snapshot in
    its volume's): another zone answers 404 for them, lists without them, and cannot
    snapshot or restore them; volume types name the path's zone."""
    ams = "/block/v1/zones/nl-ams-1"
    async with target.client("") as http:
        volume = (await http.post(f"{ams}/volumes", json=EMPTY)).json()
        assert volume["zone"] == "nl-ams-1"
        for method in ("GET", "PATCH", "DELETE"):
            missing = await http.request(method, f"{BLOCK}/volumes/{volume['id']}", json={})
            assert (missing.status_code, missing.json()["resource"]) == (404, "volume")
        assert (await http.get(f"{BLOCK}/volumes")).json()["total_count"] == 0
        body = {"volume_id": volume["id"], "name": "s", "project_id": PROJECT}
        refused = await http.post(f"{BLOCK}/snapshots", json=body)
        assert (refused.status_code, refused.json()["resource"]) == (404, "volume")
        snapshot = (await http.post(f"{ams}/snapshots", json=body)).json()
        assert snapshot["zone"] == "nl-ams-1"
        assert (await http.get(f"{BLOCK}/snapshots/{snapshot['id']}")).status_code == 404
        assert (await http.get(f"{BLOCK}/snapshots")).json()["total_count"] == 0
        listed = (await http.get(f"{ams}/snapshots", params={"volume_id": volume["id"]})).json()
        assert [s["id"] for s in listed["snapshots"]] == [snapshot["id"]]
        restore = {**EMPTY, "from_snapshot": {"snapshot_id": snapshot["id"]}}
        del restore["from_empty"]
        lost = await http.post(f"{BLOCK}/volumes", json=restore)
        assert (lost.status_code, lost.json()["resource"]) == (404, "snapshot")
        restored = await http.post(f"{ams}/volumes", json=restore)
        assert (restored.status_code, restored.json()["zone"]) == (200, "nl-ams-1")
        types = (await http.get(f"{ams}/volume-types")).json()["volume_types"]
        assert {t["zone"] for t in types} == {"nl-ams-1"}
    helper = target.fake.block.add_snapshot(volume["id"])
    assert helper["zone"] == "nl-ams-1"


async def test_transports_see_the_same_instant(fake: FakeScaleway) -> None:
    """The TCP server's thread and the in-process transport read one state machine."""
    fake.block_create_time = 3600
    with fake.serve() as server:
        async with fake.client(base_url=fake.block_base_url) as local:
            created = (await local.post("/volumes", json=EMPTY)).json()
            headers = {"X-Auth-Token": FAKE_TOKEN}
            async with httpx.AsyncClient(base_url=server.block_base_url, headers=headers) as tcp:
                remote = (await tcp.get(f"/volumes/{created['id']}")).json()
                assert remote["status"] == "creating"
                fake.block.set_volume_status(created["id"], "available")
                assert (await tcp.get(f"/volumes/{created['id']}")).json()["status"] == "available"
            assert (await local.get(f"/volumes/{created['id']}")).json()["status"] == "available"
