"""The one module that touches private names of our dependencies.

Each workaround names the upstream issue that makes it necessary, and
``tests/unit/test_compat.py`` fails when the dependency changes under it, so a
release that renames an attribute is noticed by our tests, not by our users.
Nothing else in the package may use a dependency's ``_private`` name.
"""

from __future__ import annotations

import socket
from types import ModuleType
from typing import Any

import aiohttp
import httpx

__all__ = [
    "abandon_redis_pool",
    "abandon_session",
    "body_stream",
    "close_pool_sockets",
    "disable_hidden_resend",
    "fast_join",
    "keep_no_cookies",
    "reap_orphans",
]


def disable_hidden_resend(session: aiohttp.ClientSession) -> None:
    """Stop aiohttp from silently resending a GET or DELETE on a closed keep-alive connection.

    aio-libs/aiohttp#10790: ``ClientSession._request`` retries idempotent methods
    once on ``ServerDisconnectedError``/``ClientOSError`` and offers no public
    switch (3.14). Our retry layer must see every failure: a hidden resend of a
    DELETE that had in fact succeeded turns into a 404 that could no longer be
    recognised as success.
    """
    if not hasattr(session, "_retry_connection"):  # pragma: no cover - guarded by a test
        raise RuntimeError("aiohttp.ClientSession has no _retry_connection: see _compat.py")
    session._retry_connection = False


def abandon_session(session: aiohttp.ClientSession) -> None:
    """Drop a session whose event loop is gone, closing its sockets without the loop.

    aio-libs/aiohttp#2800 (a synchronous close asked for; closed as outdated, and
    ``ClientSession.close`` is still a coroutine in 3.14):
    aiohttp can only close a session from its own running loop
    (``ClientSession.close`` is a coroutine; ``BaseConnector.close`` schedules
    transport closes on the loop, which fails on a closed one). A worker that
    runs ``asyncio.run`` per job leaves the previous loop's pool behind: close
    its sockets directly, as the transports' own ``__del__`` would, minus the
    ResourceWarning, and detach the connector so aiohttp's ``__del__`` does not
    report an unclosed session.
    """
    connector = session.connector
    session._connector = None
    if connector is None:
        return
    for protocols in list(connector._conns.values()):
        for protocol, _ in protocols:
            transport: Any = protocol.transport
            sock = getattr(transport, "_sock", None)
            if sock is not None:
                sock.close()
                transport._sock = None
    connector._conns.clear()
    connector._closed = True


def abandon_redis_pool(pool: Any) -> None:
    """Close the sockets of a redis-py asyncio pool whose event loop is gone, without it.

    redis/redis-py#3351 (closed without a fix): an asyncio client belongs to
    the loop that made its connections, and closing them is a coroutine of
    that loop (``ConnectionPool.disconnect``; once ``asyncio.run`` has returned,
    ``Connection.disconnect`` fails with "Event loop is closed" and leaves the
    socket open). A worker running ``asyncio.run`` per job with one limiter
    would keep every finished loop's connection. The connections are reached
    through the pool's private ``_available_connections`` and
    ``_in_use_connections``, each one's stream through its private ``_writer``;
    the socket is closed directly, as the transport's own ``__del__`` would,
    minus the ResourceWarnings (asyncio's private ``_sock``, as
    ``abandon_session`` does), and the connection forgets its streams, so
    redis-py's ``__del__`` reports nothing either. Its test needs a
    redis-server: ``tests/integration/test_worker_resources.py``.
    """
    connections = [
        *getattr(pool, "_available_connections", ()),
        *getattr(pool, "_in_use_connections", ()),
    ]
    for connection in connections:
        writer = getattr(connection, "_writer", None)
        if writer is None:
            continue
        connection._writer = connection._reader = None
        transport: Any = writer.transport
        ssl_protocol = getattr(transport, "_ssl_protocol", None)
        if ssl_protocol is not None:  # TLS: asyncio's transport over the socket's own
            transport._closed = True  # is_closing(): neither __del__ warns
            transport = getattr(ssl_protocol, "_transport", None)
        sock = getattr(transport, "_sock", None)
        if sock is not None:
            transport._closing = True  # is_closing(): StreamWriter.__del__ does not warn
            sock.close()
            transport._sock = None


def reap_orphans(transport: httpx.AsyncHTTPTransport) -> None:
    """Drop connections that no request owns and that never connected.

    encode/httpcore#1093: a request cancelled after the pool made a connection
    for it, but before using it, leaves that connection in the pool forever,
    holding a slot; after enough cancellations every request fails with
    ``PoolTimeout``. This is the fix encode/httpcore#1094 proposes.
    """
    pool = transport._pool
    owned = {id(status.connection) for status in pool._requests if status.connection}
    for connection in list(pool._connections):
        never_used = getattr(connection, "_connection", False) is None and not getattr(
            connection, "_connect_failed", True
        )
        if never_used and id(connection) not in owned:
            pool._connections.remove(connection)


def close_pool_sockets(transport: httpx.AsyncHTTPTransport) -> None:
    """Close the sockets of ``transport``'s pooled connections without their event loop.

    encode/httpcore#525 (open) and encode/httpx#2473: an httpcore pool belongs
    to the event loop that made its connections, and closing them is a
    coroutine of that loop (``AsyncConnectionPool.aclose``; under trio,
    ``trio.SocketStream.aclose`` needs the trio run that owns the socket).
    A worker running ``trio.run`` per job leaves the last run's pool behind,
    and its keep-alive sockets would wait for the garbage collector
    (``ResourceWarning: unclosed socket``). Each connection's socket is closed
    directly instead: the network stream is reached through the private
    ``_pool`` (httpx), ``_connection`` and ``_network_stream`` (httpcore), the
    socket through the stream's public ``get_extra_info("socket")``. Where
    those names are gone, the sockets are left to the collector, as before.
    """
    pool = getattr(transport, "_pool", None)
    for connection in list(getattr(pool, "connections", ())):
        stream = getattr(getattr(connection, "_connection", None), "_network_stream", None)
        sock = stream.get_extra_info("socket") if stream is not None else None
        # trio's socket.close() needs its run (notify_closing): take the
        # descriptor from it and close that, as the socket's own close would.
        # asyncio's socket view has no detach(); that backend is not ours here.
        if sock is not None and hasattr(sock, "detach") and sock.fileno() != -1:
            socket.close(sock.detach())


def fast_join(base: Any, path: str, query: str | None) -> Any:
    """``base`` (an ``httpx.URL``, or httpx2's) with ``path`` appended and ``query`` set.

    httpx re-validates a URL string character by character (pydantic/httpx2#1139
    measures and speeds that up; httpx 0.28 has no release with it): about 22 µs
    per request here, a tenth of the library's CPU per request. Our paths are made of
    validated ids and our queries are percent-encoded by us, so the parsed base
    is reused with a new path and query (``URL._uri_reference`` is a named
    tuple). Falls back to parsing where the private form is absent.
    """
    reference = getattr(base, "_uri_reference", None)
    if reference is None:  # pragma: no cover - guarded by a test
        return type(base)(str(base) + path + (f"?{query}" if query else ""))
    cls: Any = type(base)
    url = cls.__new__(cls)
    url._uri_reference = reference._replace(path=reference.path + path, query=query)
    return url


class _NoCookies(httpx.Cookies):
    """Cookies that never take any from an answer."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep nothing: the APIs set no cookie the library needs."""


def keep_no_cookies(client: httpx.AsyncClient) -> None:
    """Make ``client`` skip cookie extraction for every answer (our own client only).

    encode/httpx#2992 (pydantic/httpx2#801): there is no option to turn cookie
    persistence off. The documented workaround, a ``CookieJar`` whose
    ``extract_cookies`` does nothing, still lets httpx build its urllib
    compatibility request for every answer first (about 25 µs, 8 % of the
    library's CPU per request, measured at 64 in flight). Replacing the
    client's ``Cookies`` object skips that too, and no state can leak from one
    answer into the next request.
    """
    if not isinstance(getattr(client, "_cookies", None), httpx.Cookies):  # pragma: no cover
        raise RuntimeError("httpx.AsyncClient has no _cookies: see _compat.py")
    client._cookies = _NoCookies()


class _OneChunk:
    """An async iterator of one chunk: what ``ByteStream.__aiter__`` yields, minus
    the async generator."""

    __slots__ = ("_chunk",)

    def __init__(self, chunk: bytes) -> None:
        self._chunk: bytes | None = chunk

    def __aiter__(self) -> _OneChunk:
        return self

    async def __anext__(self) -> bytes:
        chunk = self._chunk
        if chunk is None:
            raise StopAsyncIteration
        self._chunk = None
        return chunk


def _aiter_once(stream: Any) -> _OneChunk:
    return _OneChunk(stream._stream)


_body_streams: dict[ModuleType, type] = {}


def body_stream(module: ModuleType) -> type:
    """A subclass of ``module.ByteStream`` (httpx's or httpx2's) whose async iteration
    is a plain iterator, not an async generator.

    encode/httpx#3686 (fix proposed in encode/httpx#3777; pydantic/httpx2#1036 for
    httpx2): ``ByteStream.__aiter__`` is an async generator. A request cancelled
    while httpcore writes its body leaves it unexhausted, and under trio its
    collection warns (``ResourceWarning: Async generator
    'httpx._content.ByteStream.__aiter__' was garbage collected ...``), wherever
    the collector runs. Still a ``ByteStream``: httpx, httpcore and our aiohttp
    transport treat its body as before. It reads ``ByteStream._stream``.
    """
    cls = _body_streams.get(module)
    if cls is None:
        base = module.ByteStream
        if "_stream" not in vars(base(b"")):  # pragma: no cover - guarded by a test
            raise RuntimeError(f"{module.__name__}.ByteStream has no _stream: see _compat.py")
        cls = type("BodyStream", (base,), {"__slots__": (), "__aiter__": _aiter_once})
        _body_streams[module] = cls
    return cls
