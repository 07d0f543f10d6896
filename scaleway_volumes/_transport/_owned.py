"""The API's own pooled ``httpx.AsyncClient``, made lazily in the event loop that needs it."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator

import anyio
import httpx
import sniffio

from .._compat import keep_no_cookies
from .._loop_end import watch_loop_end
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
    """A pool left behind, when its ``OwnedClient`` is collected or the interpreter exits.

    A worker running ``asyncio.run`` (or ``trio.run``) per job with an API built
    at import time never closes the last job's pool: its sockets are closed here,
    without the loop, before aiohttp would report an unclosed session. A pool
    whose loop has not ended (an asyncio loop not closed) is left alone.
    """
    if _has_ended(loop):
        transport.abandon()


class _Pool:
    """One event loop's client, with what lets go of it without that loop."""

    __slots__ = ("client", "finalizer", "loop", "transport", "watcher")

    def __init__(
        self,
        loop: object,
        client: httpx.AsyncClient,
        transport: AiohttpTransport | CancelSafeHTTPTransport,
        finalizer: weakref.finalize[..., OwnedClient],
    ) -> None:
        self.loop = loop
        self.client = client
        self.transport = transport
        self.finalizer = finalizer
        #: What closes the pool in its asyncio loop as that loop ends (``_loop_end``).
        self.watcher: AsyncGenerator[None, None] | None = None

    def abandon(self) -> None:
        """Close the sockets without the loop: only once ``_has_ended(self.loop)``."""
        self.finalizer.detach()
        self.transport.abandon()


class OwnedClient:
    """The client an API owns when the user shares none: one pool per event loop.

    A client is bound to the loop it was made in, so one API built at import
    time gets a client in each loop that uses it: successive loops (a worker
    running ``asyncio.run`` per job), or long-lived loops in several threads
    taking turns. A pool is closed without its loop only once that loop has
    ended (when a new loop shows up, or at ``aclose``): a live loop still
    watches its sockets, and closing them behind its back hands it a reused
    descriptor. On asyncio it runs on ``AiohttpTransport`` (about a quarter of
    httpx's pool's CPU per request with many in flight); under trio on httpx's
    own pool behind ``CancelSafeHTTPTransport``. Pools never closed (the last
    job's, in such a worker) are abandoned when the ``OwnedClient`` is
    collected or at interpreter exit (a ``weakref.finalize`` each), once their
    loop has ended. On asyncio a pool is closed in its loop when that loop shuts
    down (the end of ``asyncio.run``), or when the API is collected while its
    loop runs: uvloop warns of every socket still open when it closes, aiohttp
    of every session collected unclosed, and the server gets its connections
    back when the job ends.
    """

    __slots__ = ("__weakref__", "_current", "_lock", "_pools", "max_connections")

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        # The pool of the loop that called last: the per-request fast path.
        # One attribute, read once, so another thread switching it never pairs
        # one loop with another's client.
        self._current: _Pool | None = None
        # Every pool not closed yet, by loop token; pools of ended loops are
        # dropped whenever a new loop shows up, so this holds the live loops'.
        self._pools: dict[object, _Pool] = {}
        self._lock = threading.Lock()  # taken only when the loop changes

    def get(self) -> httpx.AsyncClient:
        """The client for the running event loop, made on first use in that loop."""
        loop = _loop_token()
        pool = self._current
        if pool is not None and pool.loop is loop:
            return pool.client
        return self._switch(loop)

    def _switch(self, loop: object) -> httpx.AsyncClient:
        """Another loop than the last one's: its pool, made if it has none."""
        ended: list[_Pool] = []
        with self._lock:
            pool = self._pools.get(loop)
            if pool is None:
                ended = self._take_ended()
                pool = self._pools[loop] = self._make_pool(loop)
            self._current = pool
        for old in ended:
            old.abandon()
        return pool.client

    def _take_ended(self) -> list[_Pool]:
        """Remove and return the pools whose loop has ended (called under the lock)."""
        ended = [pool for loop, pool in self._pools.items() if _has_ended(loop)]
        for pool in ended:
            del self._pools[pool.loop]
        return ended

    def _make_pool(self, loop: object) -> _Pool:
        # Keep as many idle connections as may be busy: with httpx's default of
        # 20, 50 requests in flight open a new connection for almost every
        # request (988 connections for 1000 creates; docs/performance.md).
        limits = httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections,
            keepalive_expiry=KEEPALIVE_EXPIRY,
        )
        transport: AiohttpTransport | CancelSafeHTTPTransport
        if sniffio.current_async_library() == "asyncio":
            transport = AiohttpTransport(limits=limits)
        else:
            transport = CancelSafeHTTPTransport(limits=limits)
        # anyio loads its backend on first use (about 30 ms of imports): pay it
        # with the pool, not inside the first bulk call or deadline.
        anyio.Event()
        client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
        keep_no_cookies(client)
        finalizer = weakref.finalize(self, _abandon_if_ended, transport, loop)
        pool = _Pool(loop, client, transport, finalizer)
        if isinstance(loop, asyncio.AbstractEventLoop):
            pool.watcher = watch_loop_end(
                self, lambda owned: owned._forget(loop, client), client.aclose
            )
        return pool

    def _forget(self, loop: object, client: httpx.AsyncClient) -> bool:
        """Drop ``loop``'s pool if ``client`` is still its client; whether it was (then
        the caller closes it)."""
        with self._lock:
            pool = self._pools.get(loop)
            if pool is None or pool.client is not client:
                return False
            del self._pools[loop]
            if self._current is pool:
                self._current = None
        pool.finalizer.detach()
        return True

    async def aclose(self) -> None:
        """Close the running loop's client, and the pools of loops that have ended.

        The pool of another loop still alive (another thread's) is left to that
        loop: call ``aclose()`` from it too, or it is closed when this object is
        collected or at exit, once its loop has ended.
        """
        loop = _loop_token()
        with self._lock:
            pool = self._pools.pop(loop, None)
            ended = self._take_ended()
            current = self._current
            if current is not None and current.loop not in self._pools:
                self._current = None
        for old in ended:
            old.abandon()
        if pool is not None:
            pool.finalizer.detach()
            await pool.client.aclose()
            if pool.watcher is not None:
                # Ended here (it finds the pool closed): dropped unended, it would
                # have the loop schedule its end, and a loop closed before
                # running again warns that it was never awaited.
                await pool.watcher.aclose()
