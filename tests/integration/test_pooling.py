"""One pooled client: bounded connections, reuse, lifecycle across event loops."""

from __future__ import annotations

import asyncio
import gc
import warnings

import anyio
import httpx
import pytest
import trio

from scaleway_volumes import AsyncVolumeAPI, Volume
from scaleway_volumes.testing import FakeScaleway, FakeServer

GB = 1_000_000_000


def make_api(fake: FakeScaleway, server: FakeServer, **kwargs: object) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        **kwargs,  # type: ignore[arg-type]
    )


async def gather(n: int, call: object) -> list[object]:
    results: list[object] = []

    async def one() -> None:
        results.append(await call())  # type: ignore[operator]

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return results


@pytest.mark.anyio
async def test_200_concurrent_calls_stay_within_max_connections(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """200 calls at once over a pool of 10: at most 10 connections, 10 in flight."""
    volume = fake.add_volume(name="v")
    fake.latency = 0.02
    async with make_api(fake, server, max_connections=10) as api:
        results = await gather(200, lambda: api.get_volume(volume["id"]))
    assert len(results) == 200
    assert fake.stats.connections_opened <= 10
    assert fake.stats.max_in_flight <= 10


@pytest.mark.anyio
async def test_idle_connections_are_kept_for_reuse(fake: FakeScaleway, server: FakeServer) -> None:
    """Keep-alive equals max_connections: waves of 50 creates reuse 50 connections."""
    fake.latency = 0.01
    async with make_api(fake, server, max_connections=50) as api:
        for wave in range(3):
            await gather(50, lambda w=wave: api.create_volume(name=f"w{w}", size=10 * GB))
    assert len(fake.volumes) == 150
    # httpx's default of 20 idle connections would reopen ~30 per wave.
    assert fake.stats.connections_opened <= 50


@pytest.mark.anyio
async def test_aclose_closes_owned_connections(fake: FakeScaleway, server: FakeServer) -> None:
    """aclose() closes the pool: the server sees its connections go."""
    api = make_api(fake, server)
    await gather(5, lambda: api.list_volumes())
    assert fake.stats.open_connections >= 1
    await api.aclose()
    with anyio.fail_after(3):
        while fake.stats.open_connections:  # noqa: ASYNC110 - server state, no event to wait on
            await anyio.sleep(0.01)
    # Still usable afterwards: a new pool is opened.
    assert await api.list_volumes() == []
    await api.aclose()


@pytest.mark.anyio
async def test_shared_client_bounds_every_api_on_it(fake: FakeScaleway, server: FakeServer) -> None:
    """Two APIs (say two zones) on one shared client share its pool and its bound."""
    volume = fake.add_volume(name="v")
    fake.latency = 0.02
    shared = httpx.AsyncClient(limits=httpx.Limits(max_connections=4))
    first = make_api(fake, server, client=shared)
    second = AsyncVolumeAPI(fake.token, base_url=server.base_url, client=shared)
    await gather(20, lambda: first.get_volume(volume["id"]))
    await gather(20, lambda: second.get_volume(volume["id"]))
    await first.aclose()
    await second.aclose()
    assert not shared.is_closed
    assert fake.stats.connections_opened <= 4
    await shared.aclose()


@pytest.mark.anyio
async def test_in_process_fake_needs_no_socket(fake: FakeScaleway) -> None:
    """The fake's in-process client serves the API with no TCP at all."""
    async with fake.client() as http:
        api = AsyncVolumeAPI(
            fake.token, base_url=fake.base_url, organization=fake.organization, client=http
        )
        volume = await api.create_volume(name="mem", size=10 * GB)
        assert await api.list_volumes() == [volume]
        await api.delete_volume(volume)
    assert fake.stats.connections_opened == 0
    assert fake.volumes == []


@pytest.mark.anyio
async def test_legacy_seed_api(server: FakeServer) -> None:
    """The seed's API shape (/volumes at the root, seven fields) works end to end."""
    legacy = FakeScaleway(legacy=True)
    with legacy.serve() as srv:
        async with AsyncVolumeAPI(
            legacy.token, base_url=srv.root_url, organization=legacy.organization
        ) as api:
            volume = await api.create_volume(name="volume-0-3", size=10 * GB)
            assert volume.creation_date is None and volume.tags == ()
            assert await api.get_volume(volume.id) == volume
            assert [v.id for v in await api.list_volumes()] == [volume.id]
            await api.delete_volume(volume.id)
        assert legacy.volumes == []


# -- one API, many event loops ---------------------------------------------------------------


@pytest.mark.usefixtures("clean_collector")
def test_module_level_api_across_asyncio_runs(fake: FakeScaleway, server: FakeServer) -> None:
    """An API built with no loop serves successive asyncio.run() calls, warning-free."""
    api = make_api(fake, server)

    async def job(i: int) -> Volume:
        return await api.create_volume(name=f"job-{i}", size=10 * GB)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = [asyncio.run(job(i)) for i in range(3)]
        asyncio.run(api.aclose())
        gc.collect()
    assert [v.name for v in made] == ["job-0", "job-1", "job-2"]
    assert len(fake.volumes) == 3
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_same_api_under_trio_then_asyncio(fake: FakeScaleway, server: FakeServer) -> None:
    """The same API object works under trio, then asyncio, then trio again."""
    api = make_api(fake, server)

    async def job() -> int:
        return len(await api.list_volumes())

    fake.add_volume(name="v")
    assert trio.run(job) == 1
    assert asyncio.run(job()) == 1
    assert trio.run(job) == 1


@pytest.mark.usefixtures("clean_collector")
@pytest.mark.parametrize("then", ["trio", "asyncio"])
def test_trio_pool_left_behind_is_closed(fake: FakeScaleway, server: FakeServer, then: str) -> None:
    """The pool of a finished trio.run is closed by the next loop's first call, and by
    aclose() from another loop: no socket is left to the garbage collector."""
    api = make_api(fake, server)

    async def job() -> int:
        return len(await api.list_volumes())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert trio.run(job) == 0
        assert (trio.run(job) if then == "trio" else asyncio.run(job())) == 0
        assert trio.run(job) == 0
        asyncio.run(api.aclose())  # from another loop than the pool's
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


@pytest.mark.anyio
async def test_compressed_answers_are_decoded(fake: FakeScaleway, server: FakeServer) -> None:
    """A proxy that gzips answers anyway does not break decoding."""
    import gzip
    import json as jsonlib

    from scaleway_volumes.testing import Fault

    volume = fake.add_volume(name="zipped")
    body = gzip.compress(jsonlib.dumps({"volume": volume}).encode())
    fake.add_fault(
        Fault("respond", method="GET", status=200, body=body, headers={"Content-Encoding": "gzip"})
    )
    async with make_api(fake, server) as api:
        assert (await api.get_volume(volume["id"])).name == "zipped"


@pytest.mark.anyio
async def test_requests_ask_for_identity_and_carry_no_aiohttp_defaults(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """On either event loop, the API sends its own headers and aiohttp adds none of its own."""
    async with make_api(fake, server, user_agent="tool/1") as api:
        created = await api.create_volume(name="hdr", size=10 * GB)
        await api.get_volume(created.id)
    post, get = fake.stats.requests[-2:]
    for request in (post, get):
        assert request.headers["accept-encoding"] == "identity"
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"].endswith(" tool/1")
    assert int(post.headers["content-length"]) == len(post.body) > 0
    assert "content-length" not in get.headers


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_answers_read_by_aiohttp_behave_as_read_httpx_responses(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Through ``client.send``: body, text, JSON, headers and ``elapsed`` as httpx gives them."""
    from scaleway_volumes._transport import AiohttpTransport

    volume = fake.add_volume(name="é")
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        request = httpx.Request(
            "GET",
            f"{server.base_url}/volumes/{volume['id']}",
            headers={"X-Auth-Token": fake.token, "Accept-Encoding": "identity"},
        )
        response = await client.send(request)
    assert response.json()["volume"]["name"] == "é"
    assert response.text == response.content.decode("utf-8")
    assert response.content == response.read() == await response.aread()
    assert response.headers["content-type"].startswith("application/json")
    assert response.is_closed
    assert response.elapsed.total_seconds() >= 0


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_answer_headers_are_httpx_headers_without_the_decoded_encoding(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Headers (built on first access) are aiohttp's, as ``httpx.Headers``, minus a
    ``Content-Encoding`` aiohttp already undid; they may be replaced like any
    response's."""
    import gzip

    from scaleway_volumes._transport import AiohttpTransport
    from scaleway_volumes.testing import Fault

    body = gzip.compress(b'{"zipped": true}')
    fake.add_fault(
        Fault(
            "respond",
            method="GET",
            status=200,
            body=body,
            headers={"Content-Encoding": "gzip", "X-Request-Id": "r-1"},
        )
    )
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        request = httpx.Request("GET", f"{server.base_url}/volumes", headers={"Accept": "*/*"})
        response = await client.send(request)
    assert response.json() == {"zipped": True}
    headers = response.headers
    assert isinstance(headers, httpx.Headers)
    assert headers is response.headers
    assert "content-encoding" not in headers
    assert headers["x-request-id"] == "r-1"
    response.headers = httpx.Headers({"X-Other": "1"})
    assert dict(response.headers) == {"x-other": "1"}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_answers_are_freed_without_the_garbage_collector(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """No reference cycle is left per request: a bulk call's answers never pile up for GC.

    A cycle made per request shows in every round of 20; one made once by
    something else in the process (the in-process server, an earlier test's
    leftovers finishing) does not, so the cleanest of three rounds is judged.
    """
    volume = fake.add_volume(name="freed")
    rounds: list[list[str]] = []
    async with make_api(fake, server) as api:
        await api.get_volume(volume["id"])  # the pool and the first connection
        for _ in range(3):
            gc.collect()
            gc.disable()
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                for _ in range(20):
                    await api.get_volume(volume["id"])
                gc.collect()
                rounds.append(sorted({type(item).__qualname__ for item in gc.garbage}))
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
                gc.enable()
            if not rounds[-1]:
                break
    assert rounds[-1] == [], f"garbage types in each round: {rounds}"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_busy_pool_times_out_with_no_connect_timeout() -> None:
    """``httpx.Timeout(connect=None, pool=...)`` bounds the wait for a slot of the
    aiohttp pool as httpx's own pool bounds it: a ConnectTimeout (not sent), where
    the request used to wait for the busy connection for as long as it was held."""
    from scaleway_volumes._transport import AiohttpTransport

    arrived, release = asyncio.Event(), asyncio.Event()
    served: list[bytes] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(await reader.readuntil(b"\r\n\r\n"))
        arrived.set()
        await release.wait()
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/volumes"
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=1))
    # Reads may take longer than the hang guard below: only the guard ends a hang.
    timeout = httpx.Timeout(60.0, connect=None, pool=0.05)
    async with server, httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        holder = asyncio.ensure_future(client.get(url))
        await arrived.wait()  # the only connection is busy until released
        try:
            with anyio.fail_after(10), pytest.raises(httpx.ConnectTimeout):  # 10 s: a hang guard
                await client.get(url)
        finally:
            release.set()
            response = await holder
    assert response.status_code == 204
    assert len(served) == 1  # the request that timed out never left
