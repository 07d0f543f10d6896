"""A shared ``client=`` at the seam: token masking for its transport, a client of an
earlier event loop, trio's and anyio's stream errors, and a picklable cause."""

from __future__ import annotations

import asyncio
import copy
import gc
import pickle

import anyio
import httpx
import pytest
import trio

from scaleway_volumes import APIConnectionError, AsyncBlockAPI, BlockVolumeSpec
from scaleway_volumes.testing import FakeScaleway, FakeServer

GB = 10**9
MISSING = "11111111-1111-4111-8111-111111111111"
TOKEN = "5ec2e7ab-dead-4bee-8f00-c0ffee5ec2e7"


def make_api(fake: FakeScaleway, base_url: str, client: httpx.AsyncClient) -> AsyncBlockAPI:
    return AsyncBlockAPI(fake.token, base_url=base_url, project=fake.organization, client=client)


class LoggingTransport(httpx.AsyncBaseTransport):
    """An app's 'log what we send' transport, with no event hooks on the client."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.logged: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.logged.append(repr(request.headers))
        return await self.inner.handle_async_request(request)


@pytest.mark.anyio
async def test_a_shared_clients_transport_never_sees_the_token_in_a_repr() -> None:
    fake = FakeScaleway(token=TOKEN)
    transport = LoggingTransport(fake.transport())
    async with httpx.AsyncClient(transport=transport) as client:
        await make_api(fake, fake.block_base_url, client).list_volumes()
    assert transport.logged
    assert not [line for line in transport.logged if TOKEN in line]


def test_a_shared_client_of_an_earlier_loop_creates_once(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """httpx writes the second loop's create on the first loop's connection, then
    fails with a bare RuntimeError: the create is found by its marker, made once."""
    # The client is made at import time by the host, and used per asyncio.run.
    held = [make_api(fake, server.block_base_url, httpx.AsyncClient())]

    async def bulk(prefix: str) -> object:
        return await held[0].create_volumes([BlockVolumeSpec(f"{prefix}-0", size=10 * GB)])

    asyncio.run(bulk("a"))
    result = asyncio.run(bulk("b"))
    made = {v["id"] for v in fake.block.volumes() if v["name"] == "b-0"}
    assert len(made) == 1
    assert {v.id for v in result.succeeded} == made  # type: ignore[attr-defined]
    # The host's client keeps connections of two closed loops, which nothing can
    # close any more (its aclose on a third loop raises "Event loop is closed"):
    # collected here, where their warnings belong, not in a later test.
    with pytest.warns(ResourceWarning, match="unclosed"):
        collect(held)


def collect(held: list[AsyncBlockAPI]) -> None:
    """Drop the last references to what ``held`` holds, and run the collector."""
    held.clear()
    gc.collect()


class ActsThenFails(httpx.AsyncBaseTransport):
    """An app's transport: the request reaches the API, then the stream breaks."""

    def __init__(self, fake: FakeScaleway, error: Exception, method: str) -> None:
        self.inner = fake.transport()
        self.error, self.method, self.armed = error, method, True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.armed and request.method == self.method:
            self.armed = False
            await response.aread()
            raise self.error
        return response


STREAM_ERRORS = {
    "trio.BrokenResourceError": lambda: trio.BrokenResourceError("reset"),
    "trio.TooSlowError": trio.TooSlowError,
    "anyio.BrokenResourceError": anyio.BrokenResourceError,
    "anyio.ClosedResourceError": anyio.ClosedResourceError,
    "anyio.EndOfStream": anyio.EndOfStream,
}


@pytest.mark.anyio
@pytest.mark.parametrize("error", list(STREAM_ERRORS))
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_stream_errors_of_trio_and_anyio_may_have_been_sent(
    error: str, method: str, no_sleep: list[float]
) -> None:
    fake = FakeScaleway()
    transport = ActsThenFails(fake, STREAM_ERRORS[error](), method)
    async with httpx.AsyncClient(transport=transport) as client:
        api = make_api(fake, fake.block_base_url, client)
        volume = await api.create_volume(name="db", size=10 * GB)
        assert [v.id for v in await api.list_volumes()] == [volume.id]
    assert [v["id"] for v in fake.block.volumes()] == [volume.id]


@pytest.mark.anyio
async def test_a_closed_shared_clients_error_cause_pickles_and_copies() -> None:
    fake = FakeScaleway()
    client = fake.client()
    api = make_api(fake, fake.block_base_url, client)
    await client.aclose()
    with pytest.raises(APIConnectionError) as info:
        await api.get_volume(MISSING)
    cause = info.value.__cause__
    assert cause is not None
    for clone in (pickle.loads(pickle.dumps(cause)), copy.copy(cause), copy.deepcopy(cause)):
        assert type(clone) is type(cause) and str(clone) == str(cause)
        assert vars(clone) == vars(cause)
