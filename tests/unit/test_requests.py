"""What each method sends and how it reads the answer (respx)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import respx

from scaleway_volumes import (
    AsyncVolumeAPI,
    ConflictError,
    ResponseDecodeError,
    TransientStateError,
    Volume,
    VolumeSpec,
)

from ..conftest import BASE, ORG, TOKEN
from .helpers import make_api, volume_json

pytestmark = pytest.mark.anyio

PROJECT = "6170692e-7363-616c-6577-61792e636f6d"
SEED = "https://cp-par1.scaleway.com"


@pytest.fixture
def mock() -> respx.MockRouter:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def sent_json(mock: respx.MockRouter) -> dict[str, object]:
    return json.loads(mock.calls.last.request.content)  # type: ignore[no-any-return]


async def test_create_sends_only_set_fields(mock: respx.MockRouter) -> None:
    """The create body is the seed's four fields plus the marker tag: no nulls."""
    vol = volume_json()
    mock.post("/volumes").respond(201, json={"volume": vol})
    created = await make_api().create_volume(name="volume-0-3", size=10_000_000_000)
    body = sent_json(mock)
    assert set(body) == {"name", "organization", "size", "volume_type", "tags"}
    assert body["organization"] == ORG
    assert body["volume_type"] == "l_ssd"
    (marker,) = body["tags"]  # type: ignore[misc]
    assert marker.startswith("scaleway-volumes:create=")
    assert isinstance(created, Volume) and created.id == vol["id"]


async def test_create_with_tags_project_and_type(mock: respx.MockRouter) -> None:
    """Caller tags come first; an explicit project replaces the default organization."""
    mock.post("/volumes").respond(201, json={"volume": volume_json()})
    await make_api().create_volume(
        name="v", size=20 * 10**9, volume_type="b_ssd", project=PROJECT, tags=("db", "prod")
    )
    body = sent_json(mock)
    assert body["project"] == PROJECT and "organization" not in body
    assert body["volume_type"] == "b_ssd"
    assert body["tags"][:2] == ["db", "prod"]  # type: ignore[index]


async def test_create_uses_default_project_over_default_organization(
    mock: respx.MockRouter,
) -> None:
    """With both defaults set, the project is sent (as the official SDK does)."""
    mock.post("/volumes").respond(201, json={"volume": volume_json()})
    await make_api(project=PROJECT).create_volume(name="v", size=10**10)
    body = sent_json(mock)
    assert body["project"] == PROJECT and "organization" not in body


async def test_create_with_an_explicit_project_and_organization_sends_the_project(
    mock: respx.MockRouter,
) -> None:
    """The zoned create takes one of project or organization ("at most one could be
    set", the official SDK's docs; its ``resolve_one_of`` sends the project): both
    given, only the project is sent, and in bulk too."""
    mock.post("/volumes").respond(201, json={"volume": volume_json()})
    api = make_api()
    await api.create_volume(name="v", size=10**10, organization=ORG, project=PROJECT)
    spec = VolumeSpec(name="w", size=10**10, organization=ORG, project=PROJECT)
    (await api.create_volumes([spec])).raise_for_errors()
    for call in mock.calls:
        body = json.loads(call.request.content)
        assert body["project"] == PROJECT and "organization" not in body


async def test_create_each_call_gets_a_new_marker(mock: respx.MockRouter) -> None:
    """Two creates with the same name carry different markers."""
    mock.post("/volumes").respond(201, json={"volume": volume_json()})
    api = make_api()
    await api.create_volume(name="same", size=10**10)
    await api.create_volume(name="same", size=10**10)
    first, second = (json.loads(c.request.content)["tags"][0] for c in mock.calls)
    assert first != second


@pytest.mark.parametrize(
    "setup",
    [
        {"zone": "par1", "project": PROJECT},  # both defaults set
        {"base_url": SEED, "project": PROJECT},  # the seed's host, the zone left default
        {"zone": "par1", "call": {"project": PROJECT}},  # an explicit project
        {"zone": "par1", "organization": None, "call": {"organization": ORG}},
    ],
)
async def test_seed_create_sends_the_organization_and_no_project(
    setup: dict[str, object],
) -> None:
    """The seed API's create body is name, organization, size, volume_type (+ tags)."""
    options = {"base_url": None, **setup}
    call: dict[str, object] = options.pop("call", {})  # type: ignore[assignment]
    api = make_api(**options)
    with respx.mock(base_url=SEED) as seed:
        seed.post("/volumes").respond(201, json={"volume": volume_json()})
        await api.create_volume(name="v", size=10**10, **call)  # type: ignore[arg-type]
        body = sent_json(seed)
    assert set(body) == {"name", "organization", "size", "volume_type", "tags"}
    assert body["organization"] == ORG


async def test_seed_create_from_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCW_DEFAULT_PROJECT_ID set beside the organization is not sent to the seed API."""
    monkeypatch.setenv("SCW_DEFAULT_ZONE", "ams1")
    monkeypatch.setenv("SCW_DEFAULT_ORGANIZATION_ID", ORG)
    monkeypatch.setenv("SCW_DEFAULT_PROJECT_ID", PROJECT)
    api = AsyncVolumeAPI(TOKEN, client=httpx.AsyncClient())
    with respx.mock(base_url="https://cp-ams1.scaleway.com") as seed:
        seed.post("/volumes").respond(201, json={"volume": volume_json()})
        await api.create_volume(name="v", size=10**10)
        body = sent_json(seed)
    assert body["organization"] == ORG and "project" not in body


async def test_seed_create_without_an_organization_is_an_error_before_any_request() -> None:
    """No organization for the seed API: a ValueError saying so, for one create or in bulk."""
    api = make_api(zone="par1", base_url=None, organization=None, project=PROJECT)
    with respx.mock(base_url=SEED, assert_all_called=False) as seed:
        route = seed.post("/volumes").respond(201, json={"volume": volume_json()})
        with pytest.raises(ValueError, match=r"seed API .* needs an organization"):
            await api.create_volume(name="v", size=10**10, project=PROJECT)
        result = await api.create_volumes([VolumeSpec(name="v", size=10**10)])
    ((_, error),) = result.failed
    assert isinstance(error, ValueError) and "organization" in str(error)
    assert not route.called


async def test_a_zoned_base_url_over_a_legacy_zone_is_the_zoned_api(
    mock: respx.MockRouter,
) -> None:
    """base_url overrides the zone: a legacy zone name with a zoned URL sends the
    zoned body (project), not the seed's."""
    mock.post("/volumes").respond(201, json={"volume": volume_json()})
    await make_api(zone="par1", organization=None, project=PROJECT).create_volume(
        name="v", size=10**10
    )
    assert sent_json(mock)["project"] == PROJECT


async def test_zoned_create_without_organization_or_project_is_the_servers_call(
    mock: respx.MockRouter,
) -> None:
    """The zoned API still gets a create with neither (its 400 says what is missing)."""
    mock.post("/volumes").respond(201, json={"volume": volume_json()})
    await make_api(organization=None).create_volume(name="v", size=10**10)
    assert set(sent_json(mock)) == {"name", "size", "volume_type", "tags"}


async def test_volume_type_none_is_refused_for_one_create_and_in_bulk(
    mock: respx.MockRouter,
) -> None:
    """volume_type is a str defaulting to l_ssd: None is a ValueError, never a null."""
    api = make_api()
    with pytest.raises(ValueError, match="volume_type must be a non-empty string, got None"):
        await api.create_volume(name="v", size=10**10, volume_type=None)  # type: ignore[arg-type]
    spec = VolumeSpec(name="v", size=10**10, volume_type=None)  # type: ignore[arg-type]
    result = await api.create_volumes([spec])
    assert [(item, type(error)) for item, error in result.failed] == [(spec, ValueError)]
    assert "volume_type" in str(result.failed[0][1])
    assert not mock.calls


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"name": "", "size": 10}, ValueError),
        ({"name": 5, "size": 10}, ValueError),
        ({"name": "v", "size": "10GB"}, TypeError),
        ({"name": "v", "size": 10.0}, TypeError),
        ({"name": "v", "size": True}, TypeError),
        ({"name": "v", "size": -1}, ValueError),
        ({"name": "v", "size": 10, "tags": "prod"}, TypeError),
        ({"name": "v", "size": 10, "tags": [1]}, ValueError),
        ({"name": "v", "size": 10, "volume_type": ""}, ValueError),
        ({"name": "v", "size": 10, "volume_type": None}, ValueError),
        ({"name": "v", "size": 10, "project": 7}, ValueError),
    ],
)
async def test_create_rejects_bad_input_before_any_request(
    mock: respx.MockRouter, kwargs: dict[str, object], exc: type[Exception]
) -> None:
    """Types and shapes are checked locally: nothing is sent."""
    with pytest.raises(exc):
        await make_api().create_volume(**kwargs)  # type: ignore[arg-type]
    assert not mock.calls


async def test_unknown_volume_type_is_the_servers_call(mock: respx.MockRouter) -> None:
    """A volume type we have never heard of is sent as is."""
    mock.post("/volumes").respond(201, json={"volume": volume_json(volume_type="future_ssd")})
    volume = await make_api().create_volume(name="v", size=10**10, volume_type="future_ssd")
    assert volume.volume_type == "future_ssd"


async def test_get_accepts_id_or_volume(mock: respx.MockRouter) -> None:
    """get_volume takes an id string or a Volume."""
    vol = volume_json()
    route = mock.get(f"/volumes/{vol['id']}").respond(200, json={"volume": vol})
    api = make_api()
    volume = await api.get_volume(vol["id"])
    again = await api.get_volume(volume)
    assert volume == again and route.call_count == 2


@pytest.mark.parametrize(
    "bad", ["../servers", "a/b", "x?y", "", "f929fe39-63f8-4be8-a80e-1e9c8ae22a7", None, 5]
)
async def test_bad_ids_rejected_before_any_request(mock: respx.MockRouter, bad: object) -> None:
    """Ids that are not UUIDs never reach the network, for any method."""
    api = make_api()
    for call in (
        lambda: api.get_volume(bad),  # type: ignore[arg-type]
        lambda: api.delete_volume(bad),  # type: ignore[arg-type]
        lambda: api.update_volume(bad, name="x"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match="UUID"):
            await call()
    assert not mock.calls


async def test_update_patches_only_given_fields(mock: respx.MockRouter) -> None:
    """update_volume PATCHes exactly the fields given."""
    vol = volume_json()
    mock.patch(f"/volumes/{vol['id']}").respond(200, json={"volume": {**vol, "size": 2 * 10**10}})
    updated = await make_api().update_volume(vol["id"], size=2 * 10**10)
    assert sent_json(mock) == {"size": 2 * 10**10}
    assert updated.size == 2 * 10**10
    await make_api().update_volume(vol["id"], name="renamed", tags=[])
    assert sent_json(mock) == {"name": "renamed", "tags": []}


async def test_update_with_nothing_is_an_error(mock: respx.MockRouter) -> None:
    """An update with no field is a ValueError, not an empty PATCH."""
    with pytest.raises(ValueError, match="at least one"):
        await make_api().update_volume(str(uuid.uuid4()))
    assert not mock.calls


async def test_delete_and_missing_ok(mock: respx.MockRouter) -> None:
    """delete returns None on 204; a 404 raises unless missing_ok."""
    from scaleway_volumes import NotFoundError

    gone = str(uuid.uuid4())
    present = str(uuid.uuid4())
    mock.delete(f"/volumes/{present}").respond(204)
    mock.delete(f"/volumes/{gone}").respond(
        404, json={"type": "unknown_resource", "message": "not found"}
    )
    api = make_api()
    assert await api.delete_volume(present) is None
    with pytest.raises(NotFoundError):
        await api.delete_volume(gone)
    await api.delete_volume(gone, missing_ok=True)


def page_response(
    vols: list[dict[str, object]], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(200, json={"volumes": vols}, headers=headers or {})


async def test_list_follows_total_count_without_an_empty_page(mock: respx.MockRouter) -> None:
    """With X-Total-Count, listing stops at the total: no extra empty-page request."""
    vols = [volume_json(name=f"v{i}") for i in range(250)]
    total = {"X-Total-Count": "250"}
    route = mock.get("/volumes").mock(
        side_effect=[
            page_response(vols[:100], total),
            page_response(vols[100:200], total),
            page_response(vols[200:], total),
        ]
    )
    result = await make_api().list_volumes()
    assert [v.name for v in result] == [v["name"] for v in vols]
    assert route.call_count == 3
    pages = [dict(c.request.url.params) for c in route.calls]
    assert [p["page"] for p in pages] == ["1", "2", "3"]
    assert all(p["per_page"] == "100" for p in pages)


async def test_list_exact_multiple_of_page_size(mock: respx.MockRouter) -> None:
    """200 volumes in pages of 100 take exactly two requests."""
    vols = [volume_json() for _ in range(200)]
    total = {"X-Total-Count": "200"}
    route = mock.get("/volumes").mock(
        side_effect=[page_response(vols[:100], total), page_response(vols[100:], total)]
    )
    assert len(await make_api().list_volumes()) == 200
    assert route.call_count == 2


async def test_list_follows_link_header(mock: respx.MockRouter) -> None:
    """A Link header with rel=next means another page; without next, the end."""
    path = "/instance/v1/zones/fr-par-1/volumes"
    route = mock.get("/volumes").mock(
        side_effect=[
            page_response(
                [volume_json(), volume_json()],
                {"Link": f'<{path}?page=2&per_page=2>; rel="next", <{path}?page=2>; rel="last"'},
            ),
            page_response([volume_json()], {"Link": f'<{path}?page=1&per_page=2>; rel="first"'}),
        ]
    )
    assert len(await make_api().list_volumes(per_page=2)) == 3
    assert route.call_count == 2


async def test_list_without_hints_stops_on_short_page(mock: respx.MockRouter) -> None:
    """With no pagination headers (the seed API), a short page is the last."""
    route = mock.get("/volumes").mock(
        side_effect=[page_response([volume_json() for _ in range(3)])]
    )
    assert len(await make_api().list_volumes()) == 3
    assert route.call_count == 1


async def test_list_filters_become_query_params(mock: respx.MockRouter) -> None:
    """Filters go in the query; tags are comma-joined."""
    route = mock.get("/volumes").mock(return_value=page_response([], {"X-Total-Count": "0"}))
    await make_api().list_volumes(
        name="db",
        volume_type="b_ssd",
        organization=ORG,
        project=PROJECT,
        tags=["a", "b"],
        per_page=7,
    )
    params = dict(route.calls.last.request.url.params)
    assert params == {
        "name": "db",
        "volume_type": "b_ssd",
        "organization": ORG,
        "project": PROJECT,
        "tags": "a,b",
        "page": "1",
        "per_page": "7",
    }


@pytest.mark.parametrize("per_page", [0, 101, -5, "10"])
async def test_per_page_bounds(mock: respx.MockRouter, per_page: object) -> None:
    """per_page must be 1..100: the API's ceiling."""
    with pytest.raises(ValueError, match="per_page"):
        await make_api().list_volumes(per_page=per_page)  # type: ignore[arg-type]
    assert not mock.calls


async def test_iter_volumes_is_lazy(mock: respx.MockRouter) -> None:
    """iter_volumes fetches the next page only when the caller gets there."""
    total = {"X-Total-Count": "4"}
    route = mock.get("/volumes").mock(
        side_effect=[
            page_response([volume_json(name="a"), volume_json(name="b")], total),
            page_response([volume_json(name="c"), volume_json(name="d")], total),
        ]
    )
    seen = []
    async for volume in make_api().iter_volumes(per_page=2):
        seen.append(volume.name)
        if volume.name == "b":
            assert route.call_count == 1
    assert seen == ["a", "b", "c", "d"]
    assert route.call_count == 2


async def test_marker_tag_is_sent_but_not_shown(mock: respx.MockRouter) -> None:
    """The API stores the marker; Volume.tags shows only the caller's tags, everywhere."""

    def echo(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        return httpx.Response(201, json={"volume": volume_json(tags=sent["tags"])})

    mock.post("/volumes").mock(side_effect=echo)
    volume = await make_api().create_volume(name="v", size=10**10, tags=["db", "prod"])
    assert volume.tags == ("db", "prod")
    stored = ["db", "scaleway-volumes:create=" + "0" * 32]
    mock.get("/volumes").respond(
        200, json={"volumes": [volume_json(tags=stored)]}, headers={"X-Total-Count": "1"}
    )
    (listed,) = await make_api().list_volumes()
    assert listed.tags == ("db",)


# Nested past the interpreter's recursion limit: the standard library's parser
# raises RecursionError on it, which must end as the library's own error.
TOO_DEEP = b"[" * 100_000 + b"]" * 100_000


async def test_deeply_nested_error_body_is_still_the_typed_error(mock: respx.MockRouter) -> None:
    """A 409 whose body nests too deeply is a ConflictError, not a RecursionError."""
    vid = str(uuid.uuid4())
    route = mock.patch(f"/volumes/{vid}").respond(409, content=TOO_DEEP)
    with pytest.raises(ConflictError) as info:
        await make_api().update_volume(vid, name="x")
    assert not isinstance(info.value, TransientStateError) and route.call_count == 1


async def test_deeply_nested_answer_is_a_decode_error(mock: respx.MockRouter) -> None:
    """A 200 whose body nests too deeply is a ResponseDecodeError at the root."""
    vid = str(uuid.uuid4())
    mock.get(f"/volumes/{vid}").respond(200, content=TOO_DEEP)
    with pytest.raises(ResponseDecodeError) as info:
        await make_api().get_volume(vid)
    assert info.value.path == "$" and info.value.status_code == 200
