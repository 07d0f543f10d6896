"""``run_bulk``'s ``on_progress`` counts the items that reached their end; an item
settled because the call was cancelled is reported through ``on_item`` alone."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from scaleway_volumes._bulk import Prepared, run_bulk
from scaleway_volumes._pipeline import Attempts

from ..waiting import cancel_once

pytestmark = pytest.mark.anyio


async def test_run_bulk_counts_only_items_that_ended() -> None:
    """Two items end, two are in flight when the call is cancelled: ``on_progress``
    counts the two (1, 2), ``on_item`` reports all four."""
    blocked = anyio.Event()

    async def job(value: int) -> int:
        if value >= 2:
            await anyio.sleep_forever()
        return value

    async def settle() -> str:
        return "settled"

    def prepare(value: int) -> Prepared:
        attempts = Attempts()
        attempts.sends = 1  # as if its request had left: it is settled
        return job(value), settle, attempts

    progress: list[int] = []
    items: dict[int, Any] = {}

    def on_item(index: int, item: int, outcome: Any) -> None:
        items[index] = outcome
        if len(items) == 2:
            blocked.set()

    async def call() -> None:
        await run_bulk(
            prepare,
            range(4),
            concurrency=4,
            on_progress=lambda done, total: progress.append(done),
            on_item=on_item,
        )

    await cancel_once(blocked.is_set, call)
    assert items == {0: 0, 1: 1, 2: "settled", 3: "settled"}
    assert progress == [1, 2]
