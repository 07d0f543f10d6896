"""A host app sharing its own httpx or httpx2 ``AsyncClient`` (``client=``), over loopback TCP.

The library sends through the host's client, so everything the host set on it
runs on our requests: its class (a subclass), its transport (httpx-aiohttp's),
its event hooks, its lifecycle. Each test shows one of these still gives the
library's typed errors and its never-duplicate guarantee.
"""

from __future__ import annotations

import json
from functools import partial
from types import ModuleType

import httpx
import httpx_aiohttp
import pytest

from scaleway_volumes import APIConnectionError, AsyncVolumeAPI, NotFoundError
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

from ..unit.helpers import HTTP_MODULE_IDS, HTTP_MODULES

pytestmark = pytest.mark.anyio

GB = 1_000_000_000
MISSING = "00000000-0000-4000-8000-000000000000"
by_module = pytest.mark.parametrize("module", HTTP_MODULES, ids=HTTP_MODULE_IDS)


def make_api(fake: FakeScaleway, server: FakeServer, client: object) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(
        fake.token, base_url=server.base_url, organization=fake.organization, client=client
    )


async def raise_on_4xx_5xx(response: httpx.Response) -> None:
    """httpx's documented event hook: every error status raises ``HTTPStatusError``."""
    response.raise_for_status()


@by_module
async def test_a_subclass_of_async_client_is_accepted(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """An app's own subclass of ``AsyncClient`` (as SDKs ship) is a client like its base."""

    class AppClient(module.AsyncClient):  # type: ignore[name-defined,misc]
        pass

    fake.add_volume(name="v")
    async with AppClient() as client:
        volumes = await make_api(fake, server, client).list_volumes()
    assert [v.name for v in volumes] == ["v"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_httpx_aiohttp_client_is_accepted(fake: FakeScaleway, server: FakeServer) -> None:
    """httpx-aiohttp's ``HttpxAiohttpClient`` (an ``httpx.AsyncClient`` subclass) works."""
    fake.add_volume(name="v")
    async with httpx_aiohttp.HttpxAiohttpClient() as client:
        volumes = await make_api(fake, server, client).list_volumes()
    assert [v.name for v in volumes] == ["v"]


@by_module
async def test_a_raise_for_status_hook_gives_typed_errors(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """A response hook raising ``HTTPStatusError`` leaves the answer to the library: a 404
    is a ``NotFoundError``, and ``missing_ok`` still makes a missing delete a success."""
    async with module.AsyncClient(event_hooks={"response": [raise_on_4xx_5xx]}) as client:
        api = make_api(fake, server, client)
        with pytest.raises(NotFoundError):
            await api.get_volume(MISSING)
        await api.delete_volume(MISSING, missing_ok=True)


@by_module
@pytest.mark.usefixtures("no_sleep")
async def test_a_raise_for_status_hook_leaves_retries_to_the_library(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """A 503 the hook raised for is retried like any 503; the call then succeeds."""
    fake.add_volume(name="v")
    fake.add_fault(Fault("respond", status=503, method="GET"))
    async with module.AsyncClient(event_hooks={"response": [raise_on_4xx_5xx]}) as client:
        volumes = await make_api(fake, server, client).list_volumes()
    assert [v.name for v in volumes] == ["v"]
    assert len(fake.stats.requests) == 2


@by_module
async def test_a_hook_that_read_the_answer_keeps_the_apis_error(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """When the hook read the body before raising, the error has the API's own details."""

    async def read_then_raise(response: httpx.Response) -> None:
        await response.aread()
        response.raise_for_status()

    async with module.AsyncClient(event_hooks={"response": [read_then_raise]}) as client:
        with pytest.raises(NotFoundError) as info:
            await make_api(fake, server, client).get_volume(MISSING)
    assert info.value.resource_id == MISSING


@by_module
async def test_a_request_hook_can_read_the_body(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """``request.content`` works in a hook, as on every request the app builds itself."""
    bodies: list[bytes] = []

    async def log_body(request: httpx.Request) -> None:
        bodies.append(request.content)

    async with module.AsyncClient(event_hooks={"request": [log_body]}) as client:
        api = make_api(fake, server, client)
        assert await api.list_volumes() == []
        await api.create_volume(name="x", size=10 * GB)
    assert bodies[0] == b""
    assert json.loads(bodies[1])["name"] == "x"
    assert [r.body for r in fake.stats.requests[:2]] == bodies


@by_module
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_client_its_owner_closed_is_a_library_error(
    fake: FakeScaleway, server: FakeServer, module: ModuleType, method: str, no_sleep: list[float]
) -> None:
    """The host closed its client first (shutdown order): an ``APIConnectionError`` that
    says so, at once (no retry), and certain that nothing was sent."""
    client = module.AsyncClient()
    api = make_api(fake, server, client)
    await client.aclose()
    call = (
        api.list_volumes if method == "GET" else partial(api.create_volume, name="x", size=10 * GB)
    )
    with pytest.raises(APIConnectionError, match="closed by its owner") as info:
        await call()
    assert info.value.outcome_unknown is False
    assert no_sleep == []
    assert fake.stats.requests == []


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.usefixtures("no_sleep")
async def test_a_create_through_httpx_aiohttp_is_never_duplicated(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """httpx-aiohttp says ``ConnectTimeout`` (never sent) for a connection the server
    dropped after acting: the create is looked up, not resent blindly."""
    fake.add_fault(Fault("act_then_drop", method="POST"))
    transport = httpx_aiohttp.AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        volume = await make_api(fake, server, client).create_volume(name="data", size=10 * GB)
    assert [v["id"] for v in fake.volumes] == [volume.id]


@by_module
async def test_hooks_never_see_the_token_in_a_repr(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """A hook logging ``request.headers`` prints the token masked (httpx masks only
    ``Authorization``); the API still gets it, and a header a hook adds stays on its request."""
    reprs: list[str] = []

    async def log_request(request: httpx.Request) -> None:
        reprs.append(repr(request.headers))
        request.headers[f"x-trace-{len(reprs)}"] = "1"

    async def log_response(response: httpx.Response) -> None:
        reprs.append(repr(response.request.headers))

    hooks = {"request": [log_request], "response": [log_response]}
    async with module.AsyncClient(event_hooks=hooks) as client:
        api = make_api(fake, server, client)
        await api.list_volumes()
        await api.list_volumes()
    assert len(reprs) == 4
    token = fake.token
    assert token is not None
    assert all(token not in text and "[secure]" in text for text in reprs)
    traces = [sorted(h for h in r.headers if h.startswith("x-trace")) for r in fake.stats.requests]
    assert traces == [["x-trace-1"], ["x-trace-3"]]
