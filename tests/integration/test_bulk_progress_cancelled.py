"""``on_progress`` counts the items that reached their end, not those a cancellation settled.

A ``create_volumes(wait=True)`` cancelled while its volumes are still creating
reports each through ``on_item`` (it exists), but none became available: a
progress bar fed by ``on_progress`` must not show them done ("3/3 done" after
Ctrl-C).
"""

from __future__ import annotations

from typing import Any

import pytest

from scaleway_volumes import AsyncBlockAPI, BlockVolume, BlockVolumeSpec
from scaleway_volumes.testing import FakeScaleway, ManualClock

from ..waiting import cancel_once

pytestmark = pytest.mark.anyio


async def test_cancelled_wait_reports_creating_volumes_but_not_as_progress() -> None:
    """Three volumes created, still creating when the call is cancelled: three
    ``on_item`` reports of the volumes, no ``on_progress`` call."""
    fake = FakeScaleway(clock=ManualClock(), block_create_time=1000)  # never available
    progress: list[tuple[int, int | None]] = []
    items: dict[int, Any] = {}

    async with fake.client(base_url=fake.block_base_url) as client:
        api = AsyncBlockAPI(
            fake.token, base_url=fake.block_base_url, project=fake.organization, client=client
        )
        specs = [BlockVolumeSpec(f"d-{i}", size=10**10) for i in range(3)]
        await cancel_once(
            lambda: len(fake.block.volumes()) == 3,
            lambda: api.create_volumes(
                specs,
                wait=True,
                on_progress=lambda done, total: progress.append((done, total)),
                on_item=lambda index, spec, outcome: items.__setitem__(index, outcome),
            ),
        )
    assert [v["status"] for v in fake.block.volumes()] == ["creating"] * 3
    assert sorted(items) == [0, 1, 2]
    assert all(isinstance(o, BlockVolume) and o.status == "creating" for o in items.values())
    assert progress == []
