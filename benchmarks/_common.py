"""What every benchmark client shares: credentials, sizes, the adapter base, the worker pool.

Imported by ``run.py`` and by the adapter modules beside it (``_block.py``); it
imports neither, so the benchmark modules form no import cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

TOKEN = "5f0c3a5e-7c2b-4d8e-9a41-2b1f6c9d0e11"  # UUID-shaped: the official SDK wants one
ORG = "11111111-2222-4333-8444-555555555555"  # the fake's organization
ZONE = "fr-par-1"
SIZE = 20 * 10**9
# A list call that matches nothing: what every client's warm-up asks for.
WARM_UP_NAME = "warm-up-matches-nothing"


class Adapter:
    """The HTTP work of one client: every client does the same requests."""

    throttled = 0

    async def start(self) -> None:
        """Build the client inside the running loop."""

    async def close(self) -> None:
        """Release the client."""

    async def warm_up(self) -> None:
        """One request so that imports, pools and the first connection are paid for."""
        raise NotImplementedError

    async def get(self, volume_id: str) -> Any:
        raise NotImplementedError

    async def create(self, i: int) -> Any:
        raise NotImplementedError

    async def list_all(self, per_page: int) -> list[Any]:
        raise NotImplementedError

    async def create_many(self, indices: Iterable[int], concurrency: int) -> list[Any]:
        """Create one volume per index with a fixed pool of ``concurrency`` workers."""
        results: list[Any] = []
        await worker_pool(concurrency, indices, self.create, results.append)
        return results


async def worker_pool(
    workers: int,
    items: Iterable[Any],
    job: Callable[[Any], Any],
    sink: Callable[[Any], object] | None = None,
) -> None:
    """``workers`` tasks pulling from one shared iterator (no task per item)."""
    iterator = iter(items)

    async def work() -> None:
        for item in iterator:
            out = await job(item)
            if sink is not None:
                sink(out)

    await asyncio.gather(*(work() for _ in range(workers)))
