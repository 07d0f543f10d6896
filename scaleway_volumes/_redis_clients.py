"""The Redis client of each event loop a ``RedisRateLimiter`` is used from.

redis-py's asyncio client belongs to the loop that made it, so a limiter used
from successive loops (``asyncio.run()`` per job) keeps one per loop: closed in
that loop as it shuts down (``_loop_end``), and otherwise (a loop closed without
that shutdown) without it, once the loop is closed, when the next loop takes
over or the limiter goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from ._compat import abandon_redis_pool
from ._loop_end import watch_loop_end
from ._pacing._lua import LEASE, THROTTLE

__all__ = ["Connection", "LoopClients"]


class Connection:
    """The redis-py client of one event loop, with its scripts."""

    __slots__ = ("client", "lease", "throttle", "watcher")

    def __init__(self, client: Any) -> None:
        self.client = client
        self.lease = client.register_script(LEASE)
        self.throttle = client.register_script(THROTTLE)
        #: What closes the client in its loop as that loop ends (``_loop_end``).
        self.watcher: AsyncGenerator[None, None] | None = None


class LoopClients:
    """The Redis client of each event loop using the limiter: one, unless threads
    share it (each thread's loop has its own, none is dropped while open)."""

    __slots__ = ("__weakref__", "by_loop")

    def __init__(self) -> None:
        self.by_loop: dict[asyncio.AbstractEventLoop, Connection] = {}

    def add(self, loop: asyncio.AbstractEventLoop, client: Any) -> Connection:
        """Keep ``client`` as the running ``loop``'s, closed in that loop as it ends
        (``asyncio.run``), not left to the next."""
        conn = self.by_loop[loop] = Connection(client)
        conn.watcher = watch_loop_end(
            self, lambda clients: clients.forget(loop, client), client.aclose
        )
        return conn

    def forget(self, loop: asyncio.AbstractEventLoop, client: Any) -> bool:
        """Drop ``loop``'s connection if ``client`` is still its client; whether it
        was (then the caller closes it)."""
        conn = self.by_loop.get(loop)
        if conn is None or conn.client is not client:
            return False
        del self.by_loop[loop]
        return True

    async def close(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close the running ``loop``'s client, if it has one."""
        conn = self.by_loop.pop(loop, None)
        if conn is not None:
            await conn.client.aclose()
            if conn.watcher is not None:
                # Ended here (it finds the client closed), as the owned HTTP pool's
                # (``_transport._owned``): dropped unended, a loop closed before
                # running again warns that its end was never awaited.
                await conn.watcher.aclose()

    def abandon(self) -> None:
        """Close the sockets of the clients whose loop is closed, without it (a loop
        still running, another thread's, keeps its client)."""
        for loop, conn in list(self.by_loop.items()):
            if loop.is_closed() and self.by_loop.pop(loop, None) is conn:
                abandon_redis_pool(conn.client.connection_pool)
