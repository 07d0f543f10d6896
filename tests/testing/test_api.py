"""The fake's API behaviour, over both transports and both path shapes."""

from __future__ import annotations

import math
import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway

if TYPE_CHECKING:
    from .conftest import Target

ZONED = "/instance/v1/zones/fr-par-1"

pytestmark = pytest.mark.anyio

GB = 1_000_000_000
BODY = {"name": "data", "size": 20 * GB, "volume_type": "l_ssd", "project": FAKE_ORGANIZATION}
FULL_FIELDS = {
    "id",
    "name",
    "size",
    "volume_type",
    "organization",
    "project",
    "export_uri",
    "server",
    "state",
    "tags",
    "zone",
    "creation_date",
    "modification_date",
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


async def test_crud_round_trip(target: Target, prefix: str) -> None:
    async with target.client(prefix) as http:
        created = await http.post("/volumes", json={**BODY, "tags": ["a", "b"]})
        assert created.status_code == 201
        assert created.headers["content-type"] == "application/json"
        assert "date" in created.headers
        volume = created.json()["volume"]
        assert set(volume) == FULL_FIELDS
        assert str(uuid.UUID(volume["id"])) == volume["id"]
        assert volume["name"] == "data"
        assert volume["size"] == 20 * GB
        assert volume["tags"] == ["a", "b"]
        assert volume["organization"] == volume["project"] == FAKE_ORGANIZATION
        assert volume["server"] is None
        assert volume["export_uri"] is None
        assert volume["state"] == "available"
        assert volume["zone"] == "fr-par-1"
        assert ISO.match(volume["creation_date"])
        assert volume["creation_date"] == volume["modification_date"]
        assert created.headers["location"] == f"{target.root}{prefix}/volumes/{volume['id']}"

        got = await http.get(f"/volumes/{volume['id']}")
        assert got.status_code == 200
        assert got.json() == {"volume": volume}

        patched = await http.patch(f"/volumes/{volume['id']}", json={"name": "renamed", "tags": []})
        assert patched.status_code == 200
        new = patched.json()["volume"]
        assert (new["name"], new["size"], new["tags"]) == ("renamed", 20 * GB, [])
        assert datetime.fromisoformat(new["modification_date"]) > datetime.fromisoformat(
            new["creation_date"]
        )
        assert target.fake.get(volume["id"]) == new

        deleted = await http.delete(f"/volumes/{volume['id']}")
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert target.fake.volumes == []
        again = await http.get(f"/volumes/{volume['id']}")
        assert again.status_code == 404


async def test_both_shapes_share_state(target: Target) -> None:
    """The seed's paths reach the volumes of the fake's own zone, and only those."""
    async with target.client("") as seed, target.client(ZONED) as zoned:
        volume = (await seed.post("/volumes", json=BODY)).json()["volume"]
        assert volume["zone"] == "fr-par-1"
        assert (await zoned.get(f"/volumes/{volume['id']}")).json()["volume"] == volume
        other = await zoned.get(f"{target.root}/instance/v1/zones/nl-ams-1/volumes")
        assert other.json()["volumes"] == []


async def test_zones_keep_their_own_volumes(target: Target) -> None:
    """A volume lives in the zone of the path that created it: listed, read, changed and
    deleted there only; another zone (and the seed's paths) answers 404."""
    amsterdam = f"{target.root}/instance/v1/zones/nl-ams-1"
    async with target.client("") as seed, target.client(ZONED) as paris:
        made = await paris.post(f"{amsterdam}/volumes", json=BODY)
        volume = made.json()["volume"]
        assert volume["zone"] == "nl-ams-1"
        assert made.headers["location"] == f"{amsterdam}/volumes/{volume['id']}"
        for http, url in ((paris, f"/volumes/{volume['id']}"), (seed, f"/volumes/{volume['id']}")):
            for method in ("GET", "PATCH", "DELETE"):
                missing = await http.request(method, url, json={"name": "x"})
                assert (missing.status_code, missing.json()["type"]) == (404, "unknown_resource")
        assert (await paris.get("/volumes")).json()["volumes"] == []
        assert (await seed.get("/volumes")).json()["volumes"] == []
        listed = (await paris.get(f"{amsterdam}/volumes")).json()["volumes"]
        assert [v["id"] for v in listed] == [volume["id"]]
        renamed = await paris.patch(f"{amsterdam}/volumes/{volume['id']}", json={"name": "a"})
        assert renamed.json()["volume"]["name"] == "a"
        assert (await paris.delete(f"{amsterdam}/volumes/{volume['id']}")).status_code == 204


async def test_organization_only_sets_project(target: Target) -> None:
    org = str(uuid.uuid4())
    body = {"name": "o", "size": GB, "volume_type": "l_ssd", "organization": org}
    async with target.client() as http:
        volume = (await http.post("/volumes", json=body)).json()["volume"]
    assert volume["organization"] == volume["project"] == org


async def test_project_only_keeps_the_fake_organization(target: Target) -> None:
    """A body naming only a project (what the official SDK sends) makes a volume of the
    fake's organization, which owns the project: a list by both finds it."""
    project = str(uuid.uuid4())
    body = {"name": "p", "size": GB, "volume_type": "l_ssd", "project": project}
    async with target.client() as http:
        volume = (await http.post("/volumes", json=body)).json()["volume"]
        assert (volume["organization"], volume["project"]) == (FAKE_ORGANIZATION, project)
        params = {"organization": FAKE_ORGANIZATION, "project": project}
        listed = (await http.get("/volumes", params=params)).json()["volumes"]
    assert [v["id"] for v in listed] == [volume["id"]]


async def test_volume_types_catalogue(target: Target) -> None:
    """``products/volumes`` lists l_ssd and scratch in the real shape, counted in
    X-Total-Count, with the sizes the fake accepts; the seed API has no such path."""
    async with target.client() as http:
        response = await http.get("/products/volumes")
        assert response.status_code == 200
        assert response.headers["x-total-count"] == "2"
        constraints = {"min": GB, "max": 10_000 * GB}
        assert response.json() == {
            "volumes": {
                "l_ssd": {
                    "display_name": "Local SSD",
                    "capabilities": {"snapshot": True},
                    "constraints": constraints,
                },
                "scratch": {
                    "display_name": "Scratch",
                    "capabilities": {"snapshot": False},
                    "constraints": constraints,
                },
            }
        }
        assert set(_fields(await http.get("/products/volumes", params={"per_page": 0}))) == {
            "per_page"
        }
        wrong = await http.post("/products/volumes", json={})
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")
    async with target.client("") as seed:
        assert (await seed.get("/products/volumes")).status_code == 404


def _fields(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400
    data = response.json()
    assert data["type"] == "invalid_request_error"
    assert data["message"] == "Validation Error"
    return dict(data["fields"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": 3}, "name"),
        ({"size": None}, "size"),
        ({"size": "10"}, "size"),
        ({"size": True}, "size"),
        ({"size": 1.5e10}, "size"),
        ({"size": GB - 1}, "size"),
        ({"size": 10_000_000_000_001}, "size"),
        ({"volume_type": "nvme"}, "volume_type"),
        ({"volume_type": ["l_ssd"]}, "volume_type"),
        ({"volume_type": {"l_ssd": 1}}, "volume_type"),
        ({"project": None}, "project"),
        ({"project": "not-a-uuid"}, "project"),
        ({"organization": 12}, "organization"),
        ({"tags": "a,b"}, "tags"),
        ({"tags": ["a", 1]}, "tags"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_create_validation(target: Target, change: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    async with target.client() as http:
        response = await http.post("/volumes", json=body)
    assert field in _fields(response)
    assert target.fake.volumes == []


async def test_create_limits_accepted_and_nulls_ignored(target: Target) -> None:
    async with target.client() as http:
        low = await http.post("/volumes", json={**BODY, "size": GB, "base_snapshot": None})
        high = await http.post("/volumes", json={**BODY, "size": 10_000_000_000_000})
    assert (low.status_code, high.status_code) == (201, 201)


async def test_create_rejects_non_object_bodies(target: Target) -> None:
    async with target.client() as http:
        for content in (b"[1]", b"not json", b""):
            response = await http.post("/volumes", content=content)
            assert response.status_code == 400
            assert response.json()["type"] == "invalid_request_error"


async def test_create_collects_every_error(target: Target) -> None:
    async with target.client() as http:
        response = await http.post("/volumes", json={"size": 1, "volume_type": 5})
    assert set(_fields(response)) == {"name", "size", "volume_type", "project"}


async def test_create_without_volume_type_makes_l_ssd(target: Target, prefix: str) -> None:
    """The official SDK leaves volume_type out unless given: the API's default is l_ssd."""
    async with target.client(prefix) as http:
        for body in (
            {**BODY, "volume_type": None},
            {k: v for k, v in BODY.items() if k != "volume_type"},
        ):
            created = await http.post("/volumes", json=body)
            assert created.status_code == 201, created.text
            assert created.json()["volume"]["volume_type"] == "l_ssd"
    assert [v["volume_type"] for v in target.fake.volumes] == ["l_ssd", "l_ssd"]


async def test_update_validation(target: Target) -> None:
    volume = target.fake.add_volume(size=20 * GB)
    async with target.client() as http:
        url = f"/volumes/{volume['id']}"
        assert "size" in _fields(await http.patch(url, json={"size": 10 * GB}))
        assert "name" in _fields(await http.patch(url, json={"name": ""}))
        assert "tags" in _fields(await http.patch(url, json={"tags": [1]}))
        assert "volume_type" in _fields(await http.patch(url, json={"volume_type": "b_ssd"}))
        assert (await http.patch(url, content=b"[]")).status_code == 400
        missing = await http.patch(f"/volumes/{uuid.uuid4()}", json={"name": "n"})
        assert missing.status_code == 404
    assert target.fake.get(volume["id"]) == volume


async def test_unknown_and_invalid_ids(target: Target, prefix: str) -> None:
    missing = str(uuid.uuid4())
    async with target.client(prefix) as http:
        for method in ("GET", "DELETE"):
            response = await http.request(method, f"/volumes/{missing}")
            assert response.status_code == 404
            assert response.json() == {
                "type": "unknown_resource",
                "message": f'"{missing}" not found',
                "resource": "instance_volume",
                "resource_id": missing,
            }
        invalid = await http.get("/volumes/nope")
        assert invalid.status_code == 400
        assert invalid.json()["type"] == "invalid_request_error"


async def test_delete_attached_volume_is_refused(target: Target) -> None:
    volume = target.fake.add_volume(server="web-1")
    assert volume["server"]["name"] == "web-1"
    async with target.client() as http:
        response = await http.delete(f"/volumes/{volume['id']}")
        assert response.status_code == 412
        assert response.json() == {
            "type": "precondition_failed",
            "precondition": "resource_still_in_use",
            "message": "resource is still in use",
            "help_message": "detach the volume from its server first",
        }
        target.fake.detach(volume["id"])
        assert (await http.delete(f"/volumes/{volume['id']}")).status_code == 204


async def test_auth(target: Target) -> None:
    denied = {
        "type": "denied_authentication",
        "message": "authentication is denied",
        "method": "api_key",
        "reason": "invalid_argument",
    }
    async with target.client(headers={"X-Auth-Token": "wrong"}) as http:
        response = await http.get("/volumes")
        assert response.status_code == 401
        assert response.json() == denied
        assert response.headers["content-type"] == "application/json"
    async with target.client(headers={"X-Auth-Token": ""}) as http:
        assert (await http.post("/volumes", json=BODY)).status_code == 401
    assert target.fake.volumes == []
    target.fake.token = None
    async with target.client(headers={"X-Auth-Token": "anything"}) as http:
        assert (await http.get("/volumes")).status_code == 200
    async with target.client(headers={"X-Auth-Token": ""}) as http:
        assert (await http.get("/volumes")).status_code == 401


async def test_unknown_paths_and_methods(target: Target) -> None:
    async with target.client("") as http:
        for path in ("/servers", "/instance/v1/zones/fr-par-1/images", "/volumes/a/b", "/"):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert response.json()["type"] == "not_found"
        wrong = await http.put("/volumes", json={})
        assert wrong.status_code == 405
        assert wrong.headers["content-type"] == "application/json"
        assert (await http.post(f"/volumes/{uuid.uuid4()}", json={})).status_code == 405


def _links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', header)}


async def test_pagination(target: Target, prefix: str) -> None:
    ids = [target.fake.add_volume(name=f"v{i}")["id"] for i in range(7)]
    async with target.client(prefix) as http:
        first = await http.get("/volumes", params={"per_page": 3})
        assert first.json() == {"volumes": target.fake.volumes[:3]}
        assert first.headers["x-total-count"] == "7"
        assert _links(first.headers["link"]) == {
            "next": f"{prefix}/volumes?page=2&per_page=3",
            "last": f"{prefix}/volumes?page=3&per_page=3",
        }
        middle = await http.get("/volumes", params={"per_page": 3, "page": 2, "name": "v"})
        assert [v["id"] for v in middle.json()["volumes"]] == ids[3:6]
        assert _links(middle.headers["link"]) == {
            "first": f"{prefix}/volumes?name=v&page=1&per_page=3",
            "previous": f"{prefix}/volumes?name=v&page=1&per_page=3",
            "next": f"{prefix}/volumes?name=v&page=3&per_page=3",
            "last": f"{prefix}/volumes?name=v&page=3&per_page=3",
        }
        last = await http.get("/volumes", params={"per_page": 3, "page": 3})
        assert [v["id"] for v in last.json()["volumes"]] == ids[6:]
        assert set(_links(last.headers["link"])) == {"first", "previous"}
        past = await http.get("/volumes", params={"per_page": 3, "page": 9})
        assert past.status_code == 200
        assert past.json() == {"volumes": []}
        assert past.headers["x-total-count"] == "7"
        default = await http.get("/volumes")
        assert len(default.json()["volumes"]) == 7
        assert "link" not in default.headers
        # Following "next" links visits every volume once, in creation order.
        seen: list[str] = []
        url: str | None = f"{target.root}{prefix}/volumes?per_page=2"
        while url:
            page = await http.get(url)
            seen += [v["id"] for v in page.json()["volumes"]]
            nxt = _links(page.headers.get("link", "")).get("next")
            url = f"{target.root}{nxt}" if nxt else None
        assert seen == ids


@pytest.mark.parametrize(
    "params",
    [{"per_page": 101}, {"per_page": 0}, {"per_page": "x"}, {"page": 0}, {"page": "two"}],
)
async def test_bad_pagination_params(target: Target, params: dict[str, Any]) -> None:
    async with target.client() as http:
        response = await http.get("/volumes", params=params)
    assert set(_fields(response)) == set(params)


async def test_filters(target: Target) -> None:
    fake = target.fake
    other_project = str(uuid.uuid4())
    a = fake.add_volume(name="db-main", volume_type="b_ssd", tags=["prod", "db"])
    b = fake.add_volume(name="db-replica", tags=["db"], project=other_project)
    c = fake.add_volume(name="cache", volume_type="b_ssd", tags=["prod"])
    cases = [
        ({"name": "db"}, [a, b]),
        ({"name": "replica"}, [b]),
        ({"volume_type": "b_ssd"}, [a, c]),
        ({"volume_type": "b"}, []),
        ({"project": other_project}, [b]),
        ({"organization": FAKE_ORGANIZATION}, [a, b, c]),
        ({"tags": "prod"}, [a, c]),
        ({"tags": "prod,db"}, [a]),
        ({"tags": "db", "name": "main", "volume_type": "b_ssd"}, [a]),
    ]
    async with target.client() as http:
        for params, expected in cases:
            response = await http.get("/volumes", params=params)
            assert response.json()["volumes"] == expected, params
            assert response.headers["x-total-count"] == str(len(expected))


async def test_legacy_rendering(target: Target, prefix: str) -> None:
    fake = target.fake
    fake.legacy = True
    seeded = fake.add_volume(tags=["t"], server="srv")
    legacy_fields = {"export_uri", "id", "name", "organization", "server", "size", "volume_type"}
    async with target.client(prefix) as http:
        created = (await http.post("/volumes", json=BODY)).json()["volume"]
        assert set(created) == legacy_fields
        # The seed API's list takes no filter: both volumes, though only one has the tag.
        listed = (await http.get("/volumes", params={"tags": "t"})).json()["volumes"]
        assert [set(v) for v in listed] == [legacy_fields, legacy_fields]
        assert {v["id"] for v in listed} == {seeded["id"], created["id"]}
        assert [v["server"] for v in listed if v["id"] == seeded["id"]] == [seeded["server"]]
        one = (await http.get(f"/volumes/{created['id']}")).json()["volume"]
        assert one == created
    # The stored state keeps every field.
    assert set(fake.volumes[1]) == FULL_FIELDS


def test_base_urls() -> None:
    assert FakeScaleway().base_url == "http://fake.scaleway.invalid/instance/v1/zones/fr-par-1"
    assert FakeScaleway(legacy=True).base_url == "http://fake.scaleway.invalid"
    fake = FakeScaleway(zone="nl-ams-1", legacy=False)
    with fake.serve() as server:
        assert server.root_url == f"http://127.0.0.1:{server.port}"
        assert server.base_url == f"{server.root_url}/instance/v1/zones/nl-ams-1"
    fake.legacy = True
    with fake.serve() as server:
        assert server.base_url == server.root_url


def test_direct_state_helpers() -> None:
    fake = FakeScaleway(organization="00000000-0000-4000-8000-000000000000")
    volume = fake.add_volume(name="n", size=2 * GB, volume_type="scratch", tags=("x",))
    assert volume["organization"] == volume["project"] == fake.organization
    assert (volume["size"], volume["volume_type"], volume["tags"]) == (2 * GB, "scratch", ["x"])
    custom = fake.add_volume(id="9c1cfd3f-8a3c-45e5-a8e8-a1b2a9d0d0d0", state="error")
    assert fake.get(custom["id"]) == custom
    assert custom["state"] == "error"
    fake.attach(volume["id"], "db-1")
    attached = fake.get(volume["id"])
    assert attached is not None
    assert attached["server"]["name"] == "db-1"
    fake.detach(volume["id"])
    assert fake.get(volume["id"])["server"] is None  # type: ignore[index]
    with pytest.raises(KeyError):
        fake.attach(str(uuid.uuid4()))
    with pytest.raises(TypeError):
        fake.add_volume(colour="red")
    # Snapshots are copies: mutating them does not change the fake.
    fake.volumes[0]["name"] = "changed"
    assert fake.volumes[0]["name"] == "n"
    assert [v["id"] for v in fake.volumes] == [volume["id"], custom["id"]]
    assert fake.get(str(uuid.uuid4())) is None
    fake.reset()
    assert fake.volumes == []


@pytest.mark.parametrize("token", ["fake-token", None])
async def test_transport_for_user_built_clients(token: str | None) -> None:
    fake = FakeScaleway(token)
    async with fake.client() as default:
        assert (await default.get("/volumes")).status_code == 200
    transport = fake.transport()
    async with httpx.AsyncClient(transport=transport, base_url=fake.base_url) as bare:
        assert (await bare.get("/volumes")).status_code == 401
        authed = await bare.get("/volumes", headers={"X-Auth-Token": token or "whatever"})
        assert authed.status_code == 200
    assert {r.transport for r in fake.stats.requests} == {"inprocess"}


@pytest.mark.parametrize("volume_type", ["b_ssd", "sbs_volume"])
async def test_network_volume_creates_are_refused(
    target: Target, prefix: str, volume_type: str
) -> None:
    """Since 2025 the Instance API refuses network volumes and points to Block Storage."""
    async with target.client(prefix) as http:
        response = await http.post("/volumes", json={**BODY, "volume_type": volume_type})
        assert response.status_code == 400
        body = response.json()
        assert (body["type"], body["message"]) == ("invalid_arguments", "invalid argument(s)")
        [detail] = body["details"]
        assert (detail["argument_name"], detail["reason"]) == ("volume_type", "constraint")
        assert volume_type in detail["help_message"]
        assert "Block Storage" in detail["help_message"]
        # Malformed bodies still get the older validation answer first.
        invalid = await http.post("/volumes", json={**BODY, "size": 1, "volume_type": volume_type})
        assert "size" in _fields(invalid)
        for allowed in ("l_ssd", "scratch"):
            ok = await http.post("/volumes", json={**BODY, "volume_type": allowed})
            assert ok.status_code == 201
    assert [v["volume_type"] for v in target.fake.volumes] == ["l_ssd", "scratch"]
    # Volumes made before the change still exist and are still served.
    legacy = target.fake.add_volume(volume_type=volume_type)
    async with target.client(prefix) as http:
        got = await http.get(f"/volumes/{legacy['id']}")
    assert got.json()["volume"]["volume_type"] == volume_type


@pytest.mark.parametrize(
    ("value", "error"),
    [(-0.1, ValueError), (math.nan, ValueError), (math.inf, ValueError), ("0.1", TypeError)],
)
def test_latency_is_checked_like_the_other_times(value: object, error: type) -> None:
    """A NaN or negative latency was taken and broke the answers' timing later."""
    with pytest.raises(error, match="latency"):
        FakeScaleway(latency=value)  # type: ignore[arg-type]
    fake = FakeScaleway()
    with pytest.raises(error, match="latency"):
        fake.latency = value  # type: ignore[assignment]
    assert fake.latency == 0.0


@pytest.mark.parametrize("volume_type", ["l_ssd", "scratch"])
async def test_only_b_ssd_volumes_grow(target: Target, prefix: str, volume_type: str) -> None:
    """As Scaleway's SDKs document the Instance update: "only b_ssd volume growing is
    supported". A local volume's size change is a 400 naming the field; a b_ssd
    volume made before 2025 grows."""
    local = target.fake.add_volume(name="local", size=20 * GB, volume_type=volume_type)
    network = target.fake.add_volume(name="network", size=20 * GB, volume_type="b_ssd")
    async with target.client(prefix) as http:
        refused = await http.patch(f"/volumes/{local['id']}", json={"size": 30 * GB})
        assert refused.status_code == 400
        assert refused.json()["fields"] == {"size": ["only b_ssd volumes can grow"]}
        same = await http.patch(f"/volumes/{local['id']}", json={"size": 20 * GB})
        assert same.status_code == 200
        grown = await http.patch(f"/volumes/{network['id']}", json={"size": 30 * GB})
        assert grown.status_code == 200 and grown.json()["volume"]["size"] == 30 * GB
    assert target.fake.get(local["id"])["size"] == 20 * GB
