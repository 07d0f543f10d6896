"""``BulkResult.throttled`` counts the bare 429s of a create's marker lookups too.

A create whose answer was lost is looked up by its marker tag before anything
else; those lookups go through the pipeline like the creates, a bare 429 resent
at the rate limiter's pace, and the result's ``throttled`` counts "the bare 429s
the call's requests met": the lookups' included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, BlockVolumeSpec, VolumeSpec
from scaleway_volumes.testing import FakeScaleway, Fault

pytestmark = pytest.mark.anyio

GB = 10**9


def instance(
    fake: FakeScaleway, client: Any
) -> tuple[AsyncVolumeAPI, list[Any], Callable[[], int]]:
    api = AsyncVolumeAPI(
        fake.token, base_url=fake.base_url, organization=fake.organization, client=client
    )
    specs = [VolumeSpec(name=f"v-{i}", size=10 * GB) for i in range(10)]
    return api, specs, lambda: len(fake.volumes)


def block(fake: FakeScaleway, client: Any) -> tuple[AsyncBlockAPI, list[Any], Callable[[], int]]:
    api = AsyncBlockAPI(
        fake.token, base_url=fake.block_base_url, project=fake.organization, client=client
    )
    specs = [BlockVolumeSpec(f"v-{i}", size=10 * GB) for i in range(10)]
    return api, specs, lambda: len(fake.block.volumes())


@pytest.mark.parametrize("make", [instance, block], ids=["instance", "block"])
async def test_lookup_429s_count_in_throttled(
    fake: FakeScaleway, no_sleep: list[float], make: Any
) -> None:
    """Three creates made but their answers lost, and the first four lookups after them
    met a bare 429: ``throttled`` is 4, as many as the fake answered."""
    fake.add_fault(Fault("act_then_drop", method="POST", times=3))
    fake.add_fault(
        Fault(
            "respond",
            method="GET",
            path="/volumes$",
            status=429,
            times=4,
            body={"message": "rate limited"},
        )
    )
    base_url = fake.block_base_url if make is block else fake.base_url
    async with fake.client(base_url=base_url) as client:
        api, specs, made = make(fake, client)
        async with api:
            result = await api.create_volumes(specs, concurrency=1)
    assert result.ok and made() == 10, result.failed
    assert fake.stats.statuses.get(429, 0) == 4
    assert result.throttled == 4
