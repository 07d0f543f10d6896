"""An httpx transport over aiohttp's connection pool, for asyncio.

Why: with 64 requests in flight, httpx's own pool spends about four times the
CPU of aiohttp's per request (docs/performance.md), and with keep-alive raised to the
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
wait for a slot ended by ``aclose``   PoolClosedError (Connect…)   no
====================================  ===========================  ==========

The last row: closing the pool cancels the requests queued for one of its
connections, though no one cancelled their tasks; they are resent at once on
the next pool (a cancellation of the task itself stays a cancellation).
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
import yarl

from .._compat import abandon_session, disable_hidden_resend
from ._cache import Memo
from ._closed import POOL_CLOSED, PoolClosedError
from ._secret import forget_token

__all__ = ["AiohttpTransport", "map_aiohttp_error"]


def _cancel_requested() -> bool:
    """Whether someone asked to cancel the running task.

    ``Task.cancelling`` (3.11+) counts the requests. Python 3.10 keeps no such
    count: a cancellation arriving in the very loop step in which ``aclose``
    closes the pool is then taken for the pool's, and the call resends. anyio's
    cancel scopes (the library's deadline on 3.10, trio-style code) cancel
    again at the next wait, so only a bare ``Task.cancel`` landing in that
    step is lost.
    """
    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    return cancelling is not None and cancelling() > 0


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


class _ReadResponse(httpx.Response):
    """An ``httpx.Response`` whose body aiohttp has already read and decoded.

    httpx's own ``__init__`` is not run: it would build empty headers, copy the
    extensions and set up a stream, all replaced at once here (and built with
    ``content=``, push the body through httpx's chunking and decoder
    generators). The attributes it sets are set here, under the same public
    names, or answered by the properties below; a test fails if httpx's
    ``__init__`` starts setting one this class does not know.
    ``content``, ``read`` and ``aread`` hand back the bytes as they are. The
    response is closed once read (aiohttp has already released the
    connection), so httpx's close machinery has nothing to do. What nothing on
    the way of a successful create or get asks for is built on first access:
    the headers (about 3 % of a request), ``elapsed`` as a ``timedelta``, the
    extensions. Skipping httpx's ``__init__`` alone saved 15 k instructions per
    create of a bulk call, 2 % (docs/performance.md).
    """

    def __init__(
        self,
        status_code: int,
        *,
        raw_headers: tuple[tuple[bytes, bytes], ...],
        body: bytes,
        request: httpx.Request,
        reason: str,
        elapsed: float,
    ) -> None:
        self.status_code = status_code
        self.request = request
        self.next_request: httpx.Request | None = None
        self.history: list[httpx.Response] = []
        self.is_closed = False
        self.is_stream_consumed = False
        self.default_encoding: str | Callable[[bytes], str] = "utf-8"
        self.stream = httpx.ByteStream(body)
        self._built_headers: httpx.Headers | None = None
        self._raw_headers = raw_headers
        self._read_body = body
        self._reason = reason
        self._extensions: dict[str, Any] | None = None
        self._seconds = elapsed
        self._elapsed_delta: datetime.timedelta | None = None

    @property
    def headers(self) -> httpx.Headers:
        """The answer's headers (built once, on first access)."""
        headers = self._built_headers
        if headers is None:
            # httpx finds the encoding as its own pool does (ASCII, else UTF-8,
            # else Latin-1): a gateway's non-ASCII byte must not turn a typed
            # error into a UnicodeDecodeError. Built only when asked for, which a
            # successful create or get never does.
            headers = self._built_headers = httpx.Headers(self._raw_headers)
            if "Content-Encoding" in headers:
                # aiohttp decoded the body already: httpx must not decode it again.
                del headers["Content-Encoding"]
        return headers

    @headers.setter
    def headers(self, value: httpx.Headers) -> None:
        self._built_headers = value

    @property
    def extensions(self) -> dict[str, Any]:
        """httpx's response extensions: ``http_version`` and ``reason_phrase``."""
        extensions = self._extensions
        if extensions is None:
            extensions = self._extensions = {"http_version": b"HTTP/1.1"}
            if self._reason:
                extensions["reason_phrase"] = self._reason.encode("ascii", "replace")
        return extensions

    @extensions.setter
    def extensions(self, value: dict[str, Any]) -> None:
        self._extensions = value

    @property
    def http_version(self) -> str:
        """``HTTP/1.1``, as the transport has always said (httpx logs it for every answer)."""
        if self._extensions is None:
            return "HTTP/1.1"
        return super().http_version

    @property
    def reason_phrase(self) -> str:
        """The reason phrase the server sent, else the standard one for the status."""
        if self._extensions is None and self._reason:
            return self._reason
        return super().reason_phrase

    @property
    def elapsed(self) -> datetime.timedelta:
        """From sending the request to reading the whole answer, as aiohttp did both."""
        delta = self._elapsed_delta
        if delta is None:
            delta = self._elapsed_delta = datetime.timedelta(seconds=self._seconds)
        return delta

    @elapsed.setter
    def elapsed(self, value: datetime.timedelta) -> None:
        self._elapsed_delta = value

    @property
    def num_bytes_downloaded(self) -> int:
        """The body's length: it was read whole."""
        return len(self._read_body)

    @property
    def content(self) -> bytes:
        """The body, as aiohttp read and decoded it."""
        return self._read_body

    def read(self) -> bytes:
        """The body (already read)."""
        return self._read_body

    async def aread(self) -> bytes:
        """The body (already read); the response is closed, as after any complete read."""
        self.is_closed = True
        return self._read_body


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` backed by one ``aiohttp.ClientSession`` (asyncio only).

    ``limits.max_connections`` bounds the pool; idle connections are kept for
    ``limits.keepalive_expiry`` seconds. The session is created on first use,
    inside the running event loop, and belongs to that loop.

    ```python
    limits = httpx.Limits(max_connections=50)
    client = httpx.AsyncClient(transport=AiohttpTransport(limits=limits))
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
        self._timeouts: Memo[tuple[Any, ...], aiohttp.ClientTimeout] = Memo()
        # A bulk job sends the same URL and the same headers (but for the body's
        # length) many times: their aiohttp forms are derived once.
        self._urls: Memo[str, yarl.URL] = Memo()
        self._headers: Memo[tuple[tuple[bytes, bytes], ...], tuple[tuple[str, str], ...]] = Memo()

    def _make_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self._limits.keepalive_expiry or 0.0,
            ssl=self._verify,
            ttl_dns_cache=300,
        )
        # No ``skip_auto_headers``: aiohttp rebuilds that set for every request
        # (about 10 % of its own CPU). The library sends User-Agent, Accept and
        # Accept-Encoding itself, so aiohttp adds none of its defaults.
        session = aiohttp.ClientSession(
            connector=connector,
            # The library asks for no compression, but a proxy may compress
            # anyway: bodies reach the library decoded either way.
            auto_decompress=True,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        disable_hidden_resend(session)
        return session

    def _client_timeout(self, spec: dict[str, float | None]) -> aiohttp.ClientTimeout:
        """aiohttp's form of an httpx timeout dict (cached: callers reuse a few)."""
        key = (spec.get("pool"), spec.get("connect"), spec.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            # aiohttp has one budget, `connect`, for the wait for a pool slot and
            # then making a new connection (DNS, TCP, TLS); `sock_connect` bounds
            # TCP and TLS alone. httpx bounds the two phases apart, hence:
            # - pool and connect: their sum, which cuts neither phase short (a
            #   wait may overrun `pool` by what connecting leaves unused);
            # - pool alone: `pool`, or a busy pool would be waited for where httpx
            #   gives up (a new connection must then be made within it too);
            # - connect alone, or neither: no budget, as httpx waits for a slot
            #   without end (`sock_connect` still bounds connecting).
            # Running out is aiohttp's ConnectionTimeoutError: ConnectTimeout,
            # not sent, as the module table says.
            pool, connect, read = key
            if pool is None:
                budget = None
            elif connect is None:
                budget = pool
            else:
                budget = pool + connect
            timeout = self._timeouts.put(
                key,
                aiohttp.ClientTimeout(
                    total=None, connect=budget, sock_connect=connect, sock_read=read
                ),
            )
        return timeout

    def _yarl_url(self, url: str) -> yarl.URL:
        """aiohttp's form of an httpx URL."""
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = self._urls.put(url, yarl.URL(url, encoded=True))
        return parsed

    def _aiohttp_headers(self, headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
        """aiohttp's form of a request's headers (decoded as httpx decodes them)."""
        key = tuple(headers.raw)
        items = self._headers.get(key)
        if items is None:
            items = self._headers.put(key, tuple(headers.multi_items()))
        return items

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` over the pool and return the response with its body read.

        Bodies are read whole here (API answers are small JSON), which spares
        httpx's chunk-by-chunk stream machinery. Failures are raised as the
        httpx errors of the module table.
        """
        start = time.perf_counter()
        stream = request.stream
        if isinstance(stream, httpx.ByteStream):
            # The body in one piece (every request of the library): no need to
            # go through ``aread``, whose typing-module isinstance check alone
            # costs a few microseconds per request.
            data: bytes | None = b"".join(stream) or None
        else:
            data = (await request.aread()) or None
        session = self._session
        if session is None or session.closed:
            session = self._session = self._make_session()
        try:
            async with session.request(
                request.method,
                self._yarl_url(str(request.url)),
                headers=self._aiohttp_headers(request.headers),
                data=data,
                allow_redirects=False,
                timeout=self._client_timeout(request.extensions.get("timeout") or {}),
            ) as resp:
                content = await resp.read()
                status, reason, raw_headers = resp.status, resp.reason, resp.raw_headers
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            forget_token(exc)
            raise map_aiohttp_error(exc) from exc
        except asyncio.CancelledError:
            if not session.closed or _cancel_requested():
                raise
            # ``aclose`` closed this pool while the request waited for a free
            # connection or for DNS: aiohttp cancels those waits, though no one
            # cancelled this task. The request never left, and the pipeline
            # resends a request proven unsent: on the next pool.
            raise PoolClosedError(POOL_CLOSED) from None
        return _ReadResponse(
            status,
            raw_headers=raw_headers,
            body=content,
            request=request,
            reason=reason or "",
            elapsed=time.perf_counter() - start,
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def abandon(self) -> None:
        """Forget the pool without awaiting (its event loop is gone)."""
        session, self._session = self._session, None
        if session is not None:
            abandon_session(session)
