"""Users' tests mock the library as any httpx code: every request goes through client.send."""

from __future__ import annotations

import json
from unittest import mock

import httpx
import pytest
import respx

from scaleway_volumes import AsyncVolumeAPI, Volume

from ..conftest import BASE, ORG, TOKEN
from .helpers import HTTP_MODULE_IDS, HTTP_MODULES, volume_json

pytestmark = pytest.mark.anyio


async def test_respx_sees_the_owned_client() -> None:
    """With no client= given, respx.mock(using="httpx") intercepts every request."""
    vol = volume_json()
    async with AsyncVolumeAPI(TOKEN, organization=ORG) as api:
        with respx.mock(base_url=BASE, using="httpx") as respx_mock:
            route = respx_mock.get(f"/volumes/{vol['id']}").respond(200, json={"volume": vol})
            created = respx_mock.post("/volumes").respond(201, json={"volume": vol})
            assert (await api.get_volume(vol["id"])).id == vol["id"]
            await api.create_volume(name="v", size=10**10)
            assert route.called and created.called
            assert respx_mock.calls.last.request.headers["x-auth-token"] == TOKEN


async def test_unmocked_routes_are_refused_not_sent() -> None:
    """A request no route matches fails inside respx; nothing reaches the network."""
    async with AsyncVolumeAPI(TOKEN) as api:
        with respx.mock(base_url=BASE, using="httpx", assert_all_called=False) as respx_mock:
            respx_mock.get("/volumes").respond(200, json={"volumes": []})
            assert await api.list_volumes() == []
            with pytest.raises(Exception) as info:
                await api.get_volume("f929fe39-63f8-4be8-a80e-1e9c8ae22a76")
    assert "not mocked" in str(info.value).lower() or "respx" in type(info.value).__module__


async def test_patching_async_client_send_sees_the_owned_client() -> None:
    """patch.object(httpx.AsyncClient, "send") intercepts the library's own client too."""
    vol = volume_json()
    answer = httpx.Response(200, json={"volume": vol})
    with mock.patch.object(httpx.AsyncClient, "send", return_value=answer) as send:
        async with AsyncVolumeAPI(TOKEN) as api:
            volume = await api.get_volume(vol["id"])
    assert volume.id == vol["id"]
    (request,), kwargs = send.call_args
    assert request.url == f"{BASE}/volumes/{vol['id']}"
    assert kwargs.keys() == {"auth", "follow_redirects"}
    assert kwargs["follow_redirects"] is False
    # An auth that adds nothing: the client's own auth and URL credentials never apply.
    flow = kwargs["auth"].async_auth_flow(request)
    assert await flow.__anext__() is request
    assert "authorization" not in request.headers
    with pytest.raises(StopAsyncIteration):
        await flow.asend(answer)


@pytest.mark.parametrize("module", HTTP_MODULES, ids=HTTP_MODULE_IDS)
async def test_mock_transport_client_sees_every_request(module: object) -> None:
    """A user-passed client over MockTransport (httpx or httpx2) answers every request."""
    vol = volume_json()
    seen: list[str] = []

    def handler(request: object) -> object:
        seen.append(f"{request.method} {request.url.path}")  # type: ignore[attr-defined]
        if request.method == "GET":  # type: ignore[attr-defined]
            return module.Response(200, json={"volume": vol})  # type: ignore[attr-defined]
        return module.Response(204)  # type: ignore[attr-defined]

    transport = module.MockTransport(handler)  # type: ignore[attr-defined]
    async with module.AsyncClient(transport=transport) as client:  # type: ignore[attr-defined]
        api = AsyncVolumeAPI(TOKEN, client=client)
        assert isinstance(await api.get_volume(vol["id"]), Volume)
        await api.delete_volume(vol["id"])
    assert seen == [
        f"GET /instance/v1/zones/fr-par-1/volumes/{vol['id']}",
        f"DELETE /instance/v1/zones/fr-par-1/volumes/{vol['id']}",
    ]


@pytest.mark.parametrize("module", HTTP_MODULES, ids=HTTP_MODULE_IDS)
async def test_transport_errors_of_either_module_are_mapped(module: object) -> None:
    """A connection failure of an httpx2 client is an APIConnectionError, as for httpx."""
    from scaleway_volumes import APIConnectionError, RetryPolicy

    def handler(request: object) -> object:
        raise module.ConnectError("refused")  # type: ignore[attr-defined]

    transport = module.MockTransport(handler)  # type: ignore[attr-defined]
    async with module.AsyncClient(transport=transport) as client:  # type: ignore[attr-defined]
        api = AsyncVolumeAPI(TOKEN, client=client, retry=RetryPolicy(max_retries=0))
        with pytest.raises(APIConnectionError) as info:
            await api.get_volume(volume_json()["id"])
    assert info.value.outcome_unknown is False


def test_a_client_of_another_kind_is_refused() -> None:
    """client= takes an httpx or httpx2 AsyncClient, nothing else."""
    with pytest.raises(TypeError, match=r"httpx\.AsyncClient or an httpx2\.AsyncClient"):
        AsyncVolumeAPI(TOKEN, client=httpx.Client())


async def test_request_hooks_see_each_request_and_can_read_its_body() -> None:
    """A shared client's request hook sees every request; ``read()`` gives its body."""
    seen: list[tuple[str, object]] = []

    async def hook(request: httpx.Request) -> None:
        body = request.read()
        seen.append((request.method, json.loads(body) if body else None))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"volume": volume_json(name="hooked")})

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), event_hooks={"request": [hook]}
    )
    async with AsyncVolumeAPI(TOKEN, client=client, organization=ORG) as api:
        await api.create_volume(name="hooked", size=10**10)
    await client.aclose()
    ((method, body),) = seen
    assert method == "POST"
    assert isinstance(body, dict) and body["name"] == "hooked"
