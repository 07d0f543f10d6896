"""Each workaround in _compat still reaches what it patches: a dependency change fails here."""

from __future__ import annotations

import asyncio
import gc
import re
import warnings
from typing import Any

import aiohttp
import httpcore
import httpx
import pytest
import trio

from scaleway_volumes import _compat
from scaleway_volumes._compat import (
    abandon_session,
    close_pool_sockets,
    disable_hidden_resend,
    fast_join,
    reap_orphans,
)
from scaleway_volumes.testing import FakeScaleway

from .helpers import HTTP_MODULE_IDS, HTTP_MODULES


async def _serve_then_drop(requests: list[bytes]) -> tuple[asyncio.Server, int]:
    """A server that answers the first request, then drops the connection on the next."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            requests.append(head.split(b"\r\n", 1)[0])
            if len(requests) == 1:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
                continue
            writer.close()  # read the request, answer nothing
            return

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("disabled", [True, False])
def test_aiohttp_hidden_resend_is_switched_off(disabled: bool) -> None:
    """aio-libs/aiohttp#10790: without the switch aiohttp resends a DELETE by itself."""

    async def main() -> list[bytes]:
        requests: list[bytes] = []
        server, port = await _serve_then_drop(requests)
        async with server, aiohttp.ClientSession() as session:
            if disabled:
                disable_hidden_resend(session)
            async with session.get(f"http://127.0.0.1:{port}/a") as resp:
                await resp.read()
            with pytest.raises(aiohttp.ClientError):
                async with session.delete(f"http://127.0.0.1:{port}/b") as resp:
                    await resp.read()
        return requests

    requests = asyncio.run(main())
    deletes = [r for r in requests if r.startswith(b"DELETE")]
    # Switched off: the one DELETE we sent. Left on: aiohttp resent it (the
    # upstream behaviour this workaround exists for; if this half fails,
    # aiohttp changed and the workaround may be obsolete).
    assert len(deletes) == (1 if disabled else 2)


def test_abandoned_session_closes_its_sockets_without_the_loop() -> None:
    """A session left by a finished loop is closed without that loop and without warnings."""
    fake = FakeScaleway()
    with fake.serve() as server:  # its own thread: the connection outlives the client's loop

        async def open_one() -> aiohttp.ClientSession:
            session = aiohttp.ClientSession()
            headers = {"X-Auth-Token": str(fake.token)}
            async with session.get(f"{server.base_url}/volumes", headers=headers) as resp:
                await resp.read()
            return session

        session = asyncio.run(open_one())
        connector = session.connector
        assert connector is not None
        sockets = [
            proto.transport.get_extra_info("socket")
            for protos in connector._conns.values()
            for proto, _ in protos
        ]
        assert sockets, "aiohttp no longer keeps idle connections in connector._conns"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            abandon_session(session)
            del session
            gc.collect()
    assert connector.closed
    assert all(sock.fileno() == -1 for sock in sockets)


def test_pool_left_by_a_finished_trio_run_closes_its_sockets() -> None:
    """encode/httpcore#525: the sockets of a pool whose trio run is over are closed
    without that run and without warnings (through the private names it reaches)."""
    fake = FakeScaleway()
    with fake.serve() as server:  # its own thread: the connection outlives the trio run
        transport = httpx.AsyncHTTPTransport()

        async def open_one(transport: httpx.AsyncHTTPTransport) -> object:
            headers = {"X-Auth-Token": str(fake.token)}
            request = httpx.Request("GET", f"{server.base_url}/volumes", headers=headers)
            response = await transport.handle_async_request(request)
            await response.aread()  # the connection goes back to the pool, idle
            # The socket through public API only, to check what the workaround did.
            return response.extensions["network_stream"].get_extra_info("socket")

        sock: trio.socket.SocketType = trio.run(open_one, transport)  # type: ignore[assignment]
        assert sock.fileno() != -1, "httpcore no longer keeps the idle connection open"
        assert transport._pool.connections, "httpcore no longer keeps idle connections"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            close_pool_sockets(transport)
            del transport
            gc.collect()
    assert sock.fileno() == -1


def test_orphaned_connections_are_reaped() -> None:
    """encode/httpcore#1093: a connection made for a request that never used it is dropped."""
    transport = httpx.AsyncHTTPTransport()
    pool = transport._pool
    origin = httpcore.URL("http://127.0.0.1:9/").origin
    orphan = pool.create_connection(origin)
    pool._connections.append(orphan)
    reap_orphans(transport)
    assert pool._connections == []


@pytest.mark.parametrize("module", HTTP_MODULES, ids=HTTP_MODULE_IDS)
@pytest.mark.parametrize(
    ("path", "query"),
    [("/volumes", None), ("/volumes/f929fe39-63f8-4be8-a80e-1e9c8ae22a76", "a=1&b=%2C")],
)
def test_fast_join_equals_parsing(module: object, path: str, query: str | None) -> None:
    """The reused parsed base gives the URL that parsing the whole string gives."""
    base = module.URL("http://127.0.0.1:8080/instance/v1/zones/fr-par-1")  # type: ignore[attr-defined]
    assert hasattr(base, "_uri_reference"), "URL internals changed: fast_join falls back"
    joined = fast_join(base, path, query)
    expected = module.URL(str(base) + path + (f"?{query}" if query else ""))  # type: ignore[attr-defined]
    assert joined == expected
    assert str(joined) == str(expected)
    assert joined.raw_path == expected.raw_path


def test_our_client_takes_no_cookies_and_skips_extraction() -> None:
    """encode/httpx#2992: the replaced Cookies object is what httpx asks to extract cookies."""
    from scaleway_volumes._compat import keep_no_cookies

    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={})

    async def main() -> tuple[int, int]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            keep_no_cookies(client)
            original = type(client.cookies).extract_cookies

            def spy(self: httpx.Cookies, response: httpx.Response) -> None:
                calls.append("extract")
                original(self, response)

            type(client.cookies).extract_cookies = spy  # type: ignore[method-assign]
            try:
                await client.get("http://api.example/volumes")
                await client.get("http://api.example/volumes")
            finally:
                type(client.cookies).extract_cookies = original  # type: ignore[method-assign]
            return len(client.cookies), len(calls)

    kept, extractions = asyncio.run(main())
    # httpx still hands every answer to client.cookies (if this is 0, httpx changed
    # where it extracts cookies and the workaround may be obsolete) and nothing is kept.
    assert extractions == 2
    assert kept == 0


@pytest.mark.parametrize("name", _compat.__all__)
def test_every_workaround_names_its_upstream_issue(name: str) -> None:
    """The module's rule: each workaround says which upstream issue it works around."""
    doc = getattr(_compat, name).__doc__ or ""
    assert re.search(r"\b[\w.-]+/[\w.-]+#\d+", doc), f"{name} names no upstream issue"


@pytest.mark.parametrize("module", HTTP_MODULES, ids=HTTP_MODULE_IDS)
def test_a_request_body_left_mid_send_under_trio_warns_only_from_httpx_own_stream(
    module: Any,
) -> None:
    """encode/httpx#3686: the body stream of a request cancelled while it is written,
    left after its first chunk, is collected. httpx's own ``ByteStream`` is an async
    generator there, and trio warns of it; ours is not, and gives the same chunks.
    When httpx's stops warning, ``body_stream`` can go."""

    async def leave(stream: Any) -> None:
        chunks = stream.__aiter__()
        assert await chunks.__anext__() == b"body"

    for cls, warns in ((module.ByteStream, True), (_compat.body_stream(module), False)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trio.run(leave, cls(b"body"))
            gc.collect()
        left = [w for w in caught if "was garbage collected" in str(w.message)]
        assert bool(left) is warns, (cls, left)


@pytest.mark.anyio
@pytest.mark.parametrize("module", HTTP_MODULES, ids=HTTP_MODULE_IDS)
async def test_the_body_stream_is_a_byte_stream_with_the_same_chunks(module: Any) -> None:
    """Ours is httpx's ``ByteStream`` (its body read as before) but for ``__aiter__``."""
    stream = _compat.body_stream(module)(b"body")
    assert isinstance(stream, module.ByteStream)
    assert _compat.body_stream(module) is type(stream)
    assert list(stream) == [b"body"]
    assert [chunk async for chunk in stream] == [b"body"]
    assert [chunk async for chunk in stream] == [b"body"]  # each iteration afresh
    empty = _compat.body_stream(module)(b"")
    assert [chunk async for chunk in empty] == [b""]  # as httpx's: one empty chunk
