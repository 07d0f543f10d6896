"""The API's own pooled ``httpx.AsyncClient``, made lazily in the event loop that needs it."""

from __future__ import annotations

import asyncio
import weakref

import anyio
import httpx
import sniffio

from .._compat import keep_no_cookies
from ._aiohttp import AiohttpTransport
from ._trio import CancelSafeHTTPTransport

__all__ = ["OwnedClient"]

# Below the 60 s idle timeout common to load balancers, so we rarely reuse a
# connection the other side is about to close.
KEEPALIVE_EXPIRY = 30.0


def _loop_token() -> object:
    """An object that identifies the running event loop (cheap: called per request)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        import trio

        return trio.lowlevel.current_trio_token()


def _has_ended(loop: object) -> bool:
    """Whether the event loop ``loop`` (a ``_loop_token``) is over: closed, or its trio run done.

    Only then may its pool's sockets be closed without it: a live loop still
    watches them, and would be handed a reused descriptor.
    """
    if isinstance(loop, asyncio.AbstractEventLoop):
        return loop.is_closed()
    try:
        loop.run_sync_soon(_nothing)  # type: ignore[attr-defined]  # a trio.lowlevel.TrioToken
    except RuntimeError:  # trio.RunFinishedError
        return True
    return False


def _nothing() -> None:
    """What ``_has_ended`` asks a live trio run to do."""


def _abandon_if_ended(transport: AiohttpTransport | CancelSafeHTTPTransport, loop: object) -> None:
    """The last pool, when its ``OwnedClient`` is collected or the interpreter exits.

    A worker running ``asyncio.run`` (or ``trio.run``) per job with an API built
    at import time never closes the last job's pool: its sockets are closed here,
    without the loop, before aiohttp would report an unclosed session. A pool
    whose loop has not ended (an asyncio loop not closed) is left alone.
    """
    if _has_ended(loop):
        transport.abandon()


class OwnedClient:
    """The client an API owns when the user shares none.

    A client is bound to the loop it was made in, so one API built at import
    time (a worker running ``asyncio.run`` per job) gets a new client in each new
    loop, and the old one's sockets are closed without its loop. On asyncio it
    runs on ``AiohttpTransport`` (about a quarter of httpx's pool's CPU per
    request with many in flight); under trio on httpx's own pool behind
    ``CancelSafeHTTPTransport``. The last loop's pool, never closed in such a
    worker, is abandoned the same way when the ``OwnedClient`` is collected or
    at interpreter exit (a ``weakref.finalize``), once its loop has ended.
    """

    __slots__ = ("__weakref__", "_client", "_finalizer", "_loop", "_transport", "max_connections")

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self._client: httpx.AsyncClient | None = None
        self._transport: httpx.AsyncBaseTransport | None = None
        self._loop: object | None = None
        # Abandons the current pool when this object is collected, or at exit.
        self._finalizer: weakref.finalize[..., OwnedClient] | None = None

    def get(self) -> httpx.AsyncClient:
        """The client for the running event loop, made on first use in that loop."""
        loop = _loop_token()
        client = self._client
        if client is None or self._loop is not loop:
            self._abandon()
            client = self._client = self._make_client()
            self._loop = loop
            if isinstance(self._transport, (AiohttpTransport, CancelSafeHTTPTransport)):
                self._finalizer = weakref.finalize(self, _abandon_if_ended, self._transport, loop)
        return client

    def _make_client(self) -> httpx.AsyncClient:
        # Keep as many idle connections as may be busy: with httpx's default of
        # 20, 50 requests in flight open a new connection for almost every
        # request (988 connections for 1000 creates; docs/performance.md).
        limits = httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections,
            keepalive_expiry=KEEPALIVE_EXPIRY,
        )
        if sniffio.current_async_library() == "asyncio":
            self._transport = AiohttpTransport(limits=limits)
        else:
            self._transport = CancelSafeHTTPTransport(limits=limits)
        # anyio loads its backend on first use (about 30 ms of imports): pay it
        # with the pool, not inside the first bulk call or deadline.
        anyio.Event()
        client = httpx.AsyncClient(
            transport=self._transport, follow_redirects=False, trust_env=False
        )
        keep_no_cookies(client)
        return client

    def _abandon(self) -> None:
        # The pool's loop is gone (or not running here): its sockets are closed
        # without it, or they would wait for the garbage collector.
        if self._finalizer is not None:
            self._finalizer.detach()
        if isinstance(self._transport, (AiohttpTransport, CancelSafeHTTPTransport)):
            self._transport.abandon()
        self._client = self._transport = self._loop = self._finalizer = None

    async def aclose(self) -> None:
        """Close the client if it belongs to the running loop; forget it otherwise."""
        client, loop = self._client, self._loop
        if client is None:
            return
        if loop is _loop_token():
            if self._finalizer is not None:
                self._finalizer.detach()
            self._client = self._transport = self._loop = self._finalizer = None
            await client.aclose()
        else:
            self._abandon()
