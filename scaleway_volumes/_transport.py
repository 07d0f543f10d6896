"""An httpx transport over aiohttp's connection pool, for asyncio.

Why: with 64 requests in flight, httpx's own pool spends about four times the
CPU of aiohttp's per request (PERF-NOTES.md), and with keep-alive raised to the
pool size it rescans every connection for every queued request. Users keep
``httpx.AsyncClient`` as the interface; only the pool underneath changes.

Why not the ``httpx-aiohttp`` package: it maps every
``aiohttp.ClientConnectionError`` (a server that disconnects *after* reading the
request included) to ``httpx.ConnectTimeout``, which would tell our retry logic
that a create never reached the server. Here every aiohttp error maps to the
httpx error that says truthfully whether the request may have been sent:

====================================  ===========================  ==========
aiohttp                               httpx                        sent?
====================================  ===========================  ==========
ClientConnectorError (DNS, refused)   ConnectError                 no
ConnectionTimeoutError (pool/connect) ConnectTimeout               no
SocketTimeoutError, ServerTimeout     ReadTimeout                  maybe
ServerDisconnectedError               RemoteProtocolError          maybe
ClientPayloadError (truncated body)   RemoteProtocolError          yes
ClientOSError (reset mid-exchange)    ReadError                    maybe
other ClientError                     RemoteProtocolError          maybe
====================================  ===========================  ==========

Bodies are read whole inside the transport (API responses are small JSON), which
saves httpx's chunk-by-chunk stream machinery on every request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import anyio
import httpx
import yarl

__all__ = ["AiohttpTransport", "CancelSafeHTTPTransport", "Reply"]


def map_aiohttp_error(exc: BaseException) -> httpx.TransportError:
    """The httpx error that says the same thing as an aiohttp failure (see the module table)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message or "Server disconnected")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(message)
    return httpx.RemoteProtocolError(message)


class Reply:
    """A whole HTTP answer: the parts of ``httpx.Response`` the library reads."""

    __slots__ = ("content", "headers", "raw_headers", "reason_phrase", "status_code")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        reason_phrase: str,
        raw_headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        self.status_code = status_code
        self.headers = headers  # case-insensitive
        self.content = content
        self.reason_phrase = reason_phrase
        self.raw_headers = raw_headers


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` backed by one ``aiohttp.ClientSession`` (asyncio only).

    ``limits.max_connections`` bounds the pool; idle connections are kept for
    ``limits.keepalive_expiry`` seconds. The session is created on first use,
    inside the running event loop, and belongs to that loop.

    ```python
    client = httpx.AsyncClient(transport=AiohttpTransport(limits=httpx.Limits(max_connections=50)))
    api = AsyncVolumeAPI(client=client)
    ```
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._limits = limits or httpx.Limits()
        self._verify = verify
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}

    def _make_session(self) -> aiohttp.ClientSession:
        ssl_option: ssl.SSLContext | bool = self._verify
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self._limits.keepalive_expiry or 0.0,
            ssl=ssl_option,
            ttl_dns_cache=300,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            # We ask for no compression, but a proxy may compress anyway: bodies
            # reach the library decoded either way.
            auto_decompress=True,
            cookie_jar=aiohttp.DummyCookieJar(),
            # The caller sets the headers it wants; aiohttp must not add its own
            # (no Accept-Encoding: API answers are small, compressing them costs CPU).
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )
        # aiohttp silently resends a GET or DELETE once when a kept-alive
        # connection turns out closed. Our retry layer must see every failure:
        # a hidden resend of a DELETE that had in fact succeeded turns into a
        # 404 that we could no longer recognise as success.
        session._retry_connection = False
        return session

    def client_timeout(self, spec: dict[str, float | None]) -> aiohttp.ClientTimeout:
        """aiohttp's form of an httpx timeout dict (cached: callers reuse a few)."""
        key = (spec.get("pool"), spec.get("connect"), spec.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            # aiohttp's `connect` covers the wait for a pool slot plus connecting.
            pool, connect, read = key
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=None if pool is None or connect is None else pool + connect,
                sock_connect=connect,
                sock_read=read,
            )
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` over the pool and return the response with its body read."""
        try:
            data: bytes | None = request.content or None
        except httpx.RequestNotRead:
            data = (await request.aread()) or None
        reply = await self.fetch(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            data,
            self.client_timeout(request.extensions.get("timeout") or {}),
        )
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if reply.reason_phrase:
            extensions["reason_phrase"] = reply.reason_phrase.encode("ascii", "replace")
        # The body is already decoded: httpx must not decode it again.
        headers = [(k, v) for k, v in reply.raw_headers if k.lower() != b"content-encoding"]
        return httpx.Response(
            reply.status_code,
            headers=headers,
            content=reply.content,
            request=request,
            extensions=extensions,
        )

    async def fetch(
        self,
        method: str,
        url: str,
        headers: Any,
        data: bytes | None,
        limits: aiohttp.ClientTimeout,
    ) -> Reply:
        """Send one request and read the whole answer, with no httpx objects in between.

        The library's own calls take this path: an API response is small JSON,
        and building an ``httpx.Request`` and ``httpx.Response`` around it costs
        more CPU than aiohttp spends on the exchange. ``url`` must already be
        percent-encoded; ``limits`` are the timeouts. Failures are raised as
        httpx errors (see the table).
        """
        session = self._session
        if session is None or session.closed:
            session = self._session = self._make_session()
        try:
            async with session.request(
                method,
                yarl.URL(url, encoded=True),
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=limits,
            ) as resp:
                content = await resp.read()
                return Reply(
                    resp.status, resp.headers, content, resp.reason or "", resp.raw_headers
                )
        except aiohttp.ClientError as exc:
            raise map_aiohttp_error(exc) from exc
        except asyncio.TimeoutError as exc:
            raise map_aiohttp_error(exc) from exc

    async def aclose(self) -> None:
        """Close every pooled connection."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def abandon(self) -> None:
        """Forget the pool without awaiting (its event loop is gone).

        The sockets are closed without the graceful shutdown that needs the loop;
        nothing is left for the garbage collector to warn about.
        """
        session, self._session = self._session, None
        if session is None:
            return
        connector = session.connector
        # Detach first so aiohttp's __del__ does not report an unclosed session.
        session._connector = None
        if connector is not None:
            for protocols in list(connector._conns.values()):
                for proto, _ in protocols:
                    _close_dead_transport(proto.transport)
            connector._conns.clear()
            connector._closed = True


def _close_dead_transport(transport: Any) -> None:
    """Close a transport's socket when its loop is closed and cannot do it.

    ``transport.close()`` would schedule work on the dead loop and fail; closing
    the socket itself and dropping it is what the transport's own ``__del__``
    would do, minus the ResourceWarning.
    """
    sock = getattr(transport, "_sock", None)
    if sock is not None:
        sock.close()
        transport._sock = None


class _SlotReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its pool slot back when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Any) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self._stream.aclose()
        finally:
            if release is not None:
                release()


class CancelSafeHTTPTransport(httpx.AsyncBaseTransport):
    """httpx's own pool (our choice under trio), made safe to cancel and fast when busy.

    Three problems of httpcore 1.0.9's pool, and what is done about them:

    - It leaks a slot for good when a request is cancelled after the pool made
      a connection for it but before that connection was used
      (encode/httpcore#1093): after enough timeouts every request fails with
      ``PoolTimeout``. Requests here queue on our own semaphore, which
      cancellation cannot corrupt, so httpcore's queue never forms; and after
      any failure, connections that no request owns and that never connected
      are removed, as encode/httpcore#1094 proposes.
    - It rescans every connection once per connection whenever it assigns a
      request (measured: 3.4 ms of CPU per request with 50 connections busy).
      The connections are split into pools of ``SHARD`` each, so a scan is
      short; a request goes to the first pool with a free slot, which keeps
      the same warm connections in use.
    - The slot is held until the response body is closed, as httpcore does.
    """

    SHARD = 8

    def __init__(self, *, limits: httpx.Limits) -> None:
        total = limits.max_connections or 100
        sizes = [self.SHARD] * (total // self.SHARD)
        if total % self.SHARD:
            sizes.append(total % self.SHARD)
        tls = httpx.create_ssl_context()  # one context for all: each costs milliseconds
        self._shards = [
            httpx.AsyncHTTPTransport(
                verify=tls,
                limits=httpx.Limits(
                    max_connections=size,
                    max_keepalive_connections=size,
                    keepalive_expiry=limits.keepalive_expiry,
                ),
            )
            for size in sizes
        ]
        self._sizes = sizes
        self._busy = [0] * len(sizes)
        self._slots = anyio.Semaphore(total)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot (bounded by the pool timeout), then send through httpcore."""
        pool_timeout = (request.extensions.get("timeout") or {}).get("pool")
        try:
            with anyio.fail_after(pool_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("timed out waiting for a pooled connection") from None
        # A global slot is held, so some shard has room.
        index = next(i for i, busy in enumerate(self._busy) if busy < self._sizes[i])
        self._busy[index] += 1
        shard = self._shards[index]
        try:
            response = await shard.handle_async_request(request)
        except BaseException:
            self._release(index)
            _reap_orphans(shard)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _SlotReleasingStream(response.stream, lambda: self._release(index))
        return response

    def _release(self, index: int) -> None:
        self._busy[index] -= 1
        self._slots.release()

    async def aclose(self) -> None:
        """Close every pooled connection."""
        for shard in self._shards:
            await shard.aclose()


def _reap_orphans(transport: httpx.AsyncHTTPTransport) -> None:
    """Drop connections that no request owns and that never connected (httpcore#1093)."""
    pool = transport._pool
    owned = {id(status.connection) for status in pool._requests if status.connection}
    for connection in list(pool._connections):
        never_used = getattr(connection, "_connection", False) is None and not getattr(
            connection, "_connect_failed", True
        )
        if never_used and id(connection) not in owned:
            pool._connections.remove(connection)
