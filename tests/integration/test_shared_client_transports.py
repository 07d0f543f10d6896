"""A host app's shared client whose transport is not httpx's own, over loopback TCP.

An app wraps its client's transport (to log, record, or inject faults) or uses
httpx-aiohttp's: such a transport may raise what is not an httpx error (the
socket's ``OSError``, an aiohttp error) and may read ``request.content``. The
library's promises hold through it: only ``ScalewayError`` subclasses leave a
call, a request that may have been sent is retried (a create is looked up by
its marker first, never duplicated), and the request's body can be read.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from types import ModuleType
from typing import Any

import anyio
import anyio.abc
import httpx_aiohttp
import pytest

from scaleway_volumes import (
    APIConnectionError,
    APITimeoutError,
    AsyncVolumeAPI,
    RetryPolicy,
    VolumeSpec,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer

from ..unit.helpers import HTTP_MODULE_IDS, HTTP_MODULES

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

GB = 1_000_000_000
MISSING = "00000000-0000-4000-8000-000000000000"
by_module = pytest.mark.parametrize("module", HTTP_MODULES, ids=HTTP_MODULE_IDS)


def make_api(
    fake: FakeScaleway, server: FakeServer, client: object, **kwargs: Any
) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        client=client,
        **kwargs,
    )


def failing_transport(
    module: ModuleType, fail: Callable[[Any], BaseException | None], *, act_first: bool = False
) -> Any:
    """An app's transport over the package's own: ``fail(request)`` gives the exception
    to raise for a request (None: send it), raised after the API acted when ``act_first``."""

    class AppTransport(module.AsyncBaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            self.inner = module.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            exc = fail(request)
            if exc is None:
                return await self.inner.handle_async_request(request)
            if act_first:
                response = await self.inner.handle_async_request(request)
                await response.aread()
            raise exc

        async def aclose(self) -> None:
            await self.inner.aclose()

    return AppTransport()


def reset_on(method: str, *nth: int) -> Callable[[Any], BaseException | None]:
    """A connection reset for the ``nth`` requests (1-based) of ``method``."""
    seen: list[str] = []

    def fail(request: Any) -> BaseException | None:
        if request.method != method:
            return None
        seen.append(method)
        return ConnectionResetError(104, "Connection reset by peer") if len(seen) in nth else None

    return fail


@by_module
async def test_a_connection_reset_by_an_apps_transport_is_retried(
    fake: FakeScaleway, server: FakeServer, module: ModuleType, no_sleep: list[float]
) -> None:
    """A GET whose connection the app's transport says was reset is retried like any
    dropped connection, and the call succeeds."""
    fake.add_volume(name="v")
    transport = failing_transport(module, reset_on("GET", 1))
    async with module.AsyncClient(transport=transport) as client:
        volumes = await make_api(fake, server, client).list_volumes()
    assert [v.name for v in volumes] == ["v"]
    assert len(no_sleep) == 1


@by_module
@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionResetError(104, "Connection reset by peer"), APIConnectionError),
        (ssl.SSLError(1, "[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC]"), APIConnectionError),
        (OSError(113, "No route to host"), APIConnectionError),
        (TimeoutError("read timed out"), APITimeoutError),
    ],
    ids=["reset", "ssl", "oserror", "timeout"],
)
async def test_an_apps_transport_failing_every_time_gives_a_library_error(
    fake: FakeScaleway,
    server: FakeServer,
    module: ModuleType,
    no_sleep: list[float],
    error: OSError,
    expected: type[APIConnectionError],
) -> None:
    """What a socket raises through the app's transport ends, after the retries, as the
    library's error for a request with no answer, the original as its ``__cause__``."""
    transport = failing_transport(module, lambda request: error)
    async with module.AsyncClient(transport=transport) as client:
        api = make_api(fake, server, client, retry=RetryPolicy(max_retries=2))
        with pytest.raises(expected) as info:
            await api.get_volume(MISSING)
    assert type(info.value) is expected
    assert info.value.__cause__ is error
    assert len(no_sleep) == 2


@by_module
async def test_a_create_reset_after_the_api_acted_is_not_made_twice(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """The API made the volume, then the app's transport said the connection was reset:
    the create is looked up by its marker and found, not resent."""
    transport = failing_transport(module, reset_on("POST", 1), act_first=True)
    async with module.AsyncClient(transport=transport) as client:
        volume = await make_api(fake, server, client).create_volume(name="x", size=10 * GB)
    assert [v["id"] for v in fake.volumes] == [volume.id]
    assert [r.method for r in fake.stats.requests] == ["POST", "GET"]


@by_module
async def test_a_bulk_create_keeps_every_id_through_a_reset(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """One reset after the API acted, in a bulk create of 8: the call returns every
    volume, each made once (it used to end the call with a bare ``ConnectionResetError``
    and lose the ids of the volumes already made)."""
    transport = failing_transport(module, reset_on("POST", 3), act_first=True)
    async with module.AsyncClient(transport=transport) as client:
        specs = [VolumeSpec(f"v{i}", 10 * GB) for i in range(8)]
        result = await make_api(fake, server, client).create_volumes(specs, concurrency=2)
    assert result.failed == []
    assert sorted(v.name for v in result.succeeded) == [f"v{i}" for i in range(8)]
    assert sorted(v["id"] for v in fake.volumes) == sorted(v.id for v in result.succeeded)


@by_module
async def test_a_hooks_own_error_still_propagates(
    fake: FakeScaleway, server: FakeServer, module: ModuleType, no_sleep: list[float]
) -> None:
    """An app's hook raising its own ``RuntimeError`` is the app's business: it leaves
    the call as itself, at once (docs/errors.md)."""

    async def refuse(request: Any) -> None:
        raise RuntimeError("the app's own hook")

    async with module.AsyncClient(event_hooks={"request": [refuse]}) as client:
        with pytest.raises(RuntimeError, match="the app's own hook"):
            await make_api(fake, server, client).list_volumes()
    assert no_sleep == []


async def answer_a_bad_status_line(stream: anyio.abc.ByteStream) -> None:
    async with stream:
        await stream.receive()
        await stream.send(b"HTTP/1.1 2000 WAT\r\nContent-Length: 2\r\n\r\n{}")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_aiohttp_error_through_httpx_aiohttp_is_a_library_error(
    no_sleep: list[float],
) -> None:
    """httpx-aiohttp lets aiohttp's ``ClientResponseError`` (a malformed status line)
    through as itself: it is an ``APIConnectionError`` after the retries, as stock httpx
    gives for the same answer, and the error kept as its cause does not show the token."""
    token = "11111111-2222-3333-4444-555555555555"
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    base = f"http://127.0.0.1:{port}/instance/v1/zones/fr-par-1"
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, answer_a_bad_status_line)
        async with httpx_aiohttp.HttpxAiohttpClient() as client:
            api = AsyncVolumeAPI(token, base_url=base, client=client)
            with pytest.raises(APIConnectionError) as info:
                await api.get_volume(MISSING)
        tg.cancel_scope.cancel()
    cause = info.value.__cause__
    assert type(cause).__module__.startswith("aiohttp")
    assert len(no_sleep) == 3
    assert token not in repr(cause)


def recording_transport(module: ModuleType, bodies: list[bytes]) -> Any:
    """An app's recording transport: it logs ``request.content`` of every request."""

    class Recording(module.AsyncBaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            self.inner = module.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            bodies.append(request.content)
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    return Recording()


@by_module
async def test_a_transport_can_read_the_request_body(
    fake: FakeScaleway, server: FakeServer, module: ModuleType, no_sleep: list[float]
) -> None:
    """``request.content`` works in the client's transport, as on every request the app
    builds itself, with no event hooks on the client (it used to fail every request
    with ``RequestNotRead``, and a create as one that "may exist")."""
    bodies: list[bytes] = []
    async with module.AsyncClient(transport=recording_transport(module, bodies)) as client:
        own = await client.get(f"{server.base_url}/volumes", headers={"X-Auth-Token": fake.token})
        assert own.status_code == 200
        api = make_api(fake, server, client)
        assert await api.list_volumes() == []
        volume = await api.create_volume(name="x", size=10 * GB)
    assert json.loads(bodies[2])["name"] == "x"
    assert [r.body for r in fake.stats.requests] == bodies
    assert [v["id"] for v in fake.volumes] == [volume.id]
    assert no_sleep == []


@by_module
async def test_a_mounted_transport_can_read_the_request_body(
    fake: FakeScaleway, server: FakeServer, module: ModuleType
) -> None:
    """The same through a mount (``mounts={"http://": ...}``), as an app routes one host."""
    bodies: list[bytes] = []
    mounts = {"http://": recording_transport(module, bodies)}
    async with module.AsyncClient(mounts=mounts) as client:
        await make_api(fake, server, client).create_volume(name="x", size=10 * GB)
    assert [json.loads(body)["name"] for body in bodies] == ["x"]
