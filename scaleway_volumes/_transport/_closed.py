"""The error of a request that waited for a connection of a pool ``aclose`` closed."""

from __future__ import annotations

import httpx

__all__ = ["POOL_CLOSED", "PoolClosedError"]

#: Why a request that waited for a connection of a pool ``aclose`` closed failed.
POOL_CLOSED = "the connection pool was closed before a connection was free (not sent)"


class PoolClosedError(httpx.ConnectError):
    """A request waited for a connection of a pool that ``aclose`` closed: never sent.

    The closing was this process's own doing, not the API's or the network's:
    the pipeline resends at once, on the next pool, without a backoff. Raised by
    both owned transports: aiohttp's under asyncio, httpx's pool under trio.
    """
