"""httpx's own pool made safe to cancel and fast when busy: our transport under trio.

aiohttp is asyncio-only, so under trio the owned client runs on httpx's pool,
behind the fixes described in ``CancelSafeHTTPTransport``.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Callable

import anyio
import httpx

from .._compat import close_pool_sockets, reap_orphans
from ._closed import POOL_CLOSED, PoolClosedError

__all__ = ["CancelSafeHTTPTransport"]


class _SlotReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its pool slot back when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

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


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The one client TLS context of the process's trio pools.

    Building one loads certifi's CA bundle: 26-47 ms inside the running loop,
    measured, which a worker running one ``trio.run()`` per job paid on each
    job's first request. A client context holds no per-connection state and is
    shared by every connection of httpx's pools already.
    """
    return httpx.create_ssl_context()


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

    After ``aclose`` it sends nothing: a request that waited for a slot then, or
    comes later, raises ``PoolClosedError`` (never sent: the pipeline resends it
    at once on the next pool). httpcore's closed pool would open a connection
    for it that no one closes again (traced: a socket left to the collector,
    whose ``ResourceWarning`` then surfaced in a later test).
    """

    SHARD = 8

    def __init__(self, *, limits: httpx.Limits) -> None:
        total = limits.max_connections or 100
        sizes = [self.SHARD] * (total // self.SHARD)
        if total % self.SHARD:
            sizes.append(total % self.SHARD)
        self._tls = _tls_context()
        self._keepalive_expiry = limits.keepalive_expiry
        # Made when first used: a pool sized for a hundred thousand connections
        # must not build twelve thousand transports before its first request.
        self._shards: list[httpx.AsyncHTTPTransport | None] = [None] * len(sizes)
        self._sizes = sizes
        self._busy = [0] * len(sizes)
        self._slots = anyio.Semaphore(total)
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot (bounded by the pool timeout), then send through httpcore."""
        pool_timeout = (request.extensions.get("timeout") or {}).get("pool")
        try:
            with anyio.fail_after(pool_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("timed out waiting for a pooled connection") from None
        if self._closed:
            self._slots.release()
            raise PoolClosedError(POOL_CLOSED)
        # A global slot is held, so some shard has room.
        index = next(i for i, busy in enumerate(self._busy) if busy < self._sizes[i])
        self._busy[index] += 1
        shard = self._shards[index] or self._make_shard(index)
        try:
            response = await shard.handle_async_request(request)
        except BaseException:
            self._release(index)
            reap_orphans(shard)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _SlotReleasingStream(response.stream, lambda: self._release(index))
        return response

    def _make_shard(self, index: int) -> httpx.AsyncHTTPTransport:
        size = self._sizes[index]
        shard = self._shards[index] = httpx.AsyncHTTPTransport(
            verify=self._tls,
            limits=httpx.Limits(
                max_connections=size,
                max_keepalive_connections=size,
                keepalive_expiry=self._keepalive_expiry,
            ),
        )
        return shard

    def _release(self, index: int) -> None:
        self._busy[index] -= 1
        self._slots.release()

    async def aclose(self) -> None:
        """Close every pooled connection; later requests raise ``PoolClosedError``."""
        self._closed = True
        for shard in self._shards:
            if shard is not None:
                await shard.aclose()

    def abandon(self) -> None:
        """Close every pooled connection's socket without awaiting (its trio run is over)."""
        for shard in self._shards:
            if shard is not None:
                close_pool_sockets(shard)
