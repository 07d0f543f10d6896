"""One limiter paces every request of an API: single calls, lookups, polls, bulk, .block."""

from __future__ import annotations

import httpx
import pytest

from scaleway_volumes import (
    AdaptiveRateLimiter,
    AsyncVolumeAPI,
    BlockVolumeSpec,
    RateLimiter,
    TokenBucketRateLimiter,
    VolumeSpec,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

GB = 1_000_000_000


class CountingLimiter:
    """Wraps a limiter and counts what the pipeline asks of it."""

    def __init__(self, inner: RateLimiter) -> None:
        self.inner = inner
        self.acquired = 0
        self.statuses: list[int | None] = []

    async def acquire(self) -> object:
        self.acquired += 1
        return await self.inner.acquire()

    def release(self, permit: object, status: int | None) -> None:
        self.statuses.append(status)
        self.inner.release(permit, status)


def make_api(fake: FakeScaleway, server: FakeServer, limiter: object) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        timeout=httpx.Timeout(2.0, connect=1.0),
        rate_limiter=limiter,  # type: ignore[arg-type]
    )


async def test_every_request_of_every_kind_is_paced(fake: FakeScaleway, server: FakeServer) -> None:
    """Single calls, a marker lookup, waiter polls, bulk items and .block: all acquire."""
    limiter = CountingLimiter(TokenBucketRateLimiter(10_000, burst=100))
    fake.add_fault(Fault("act_then_drop", method="POST", times=1))  # forces a lookup
    async with make_api(fake, server, limiter) as api:
        volume = await api.create_volume(name="looked-up", size=10 * GB)
        await api.get_volume(volume)
        await api.wait_for_volume(volume)
        await api.create_volumes([VolumeSpec(name=f"v{i}", size=10 * GB) for i in range(5)])
        block = api.block
        assert block.rate_limiter is limiter
        created = await block.create_volumes(
            [BlockVolumeSpec(name=f"b{i}", size=10 * GB) for i in range(3)], wait=True
        )
        assert created.ok
        await block.delete_volumes(created.succeeded)
        await api.delete_volumes([volume])
    sent = len(fake.stats.requests)
    assert limiter.acquired == sent == len(limiter.statuses)
    assert None in limiter.statuses  # the dropped create released with no status


async def test_default_limiter_is_adaptive_and_shared(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Without rate_limiter=, each API gets an AdaptiveRateLimiter its copies share."""
    api = make_api(fake, server, None)
    assert isinstance(api.rate_limiter, AdaptiveRateLimiter)
    assert api.with_options(deadline=5).rate_limiter is api.rate_limiter
    assert api.block.rate_limiter is api.rate_limiter
    other = make_api(fake, server, None)
    assert other.rate_limiter is not api.rate_limiter
    await api.aclose()
    await other.aclose()


async def test_one_limiter_shared_by_two_apis(fake: FakeScaleway, server: FakeServer) -> None:
    """Two APIs holding the same credentials can share one limiter."""
    shared = CountingLimiter(AdaptiveRateLimiter())
    async with make_api(fake, server, shared) as first, make_api(fake, server, shared) as second:
        await first.create_volume(name="a", size=10 * GB)
        await second.list_volumes()
    assert shared.acquired == 2


def test_a_limiter_of_another_shape_is_refused() -> None:
    """rate_limiter must implement the protocol: a clear TypeError, before any request."""
    with pytest.raises(TypeError, match="RateLimiter protocol"):
        AsyncVolumeAPI("token", rate_limiter=object())  # type: ignore[arg-type]


async def test_bulk_meets_429s_as_flow_control(fake: FakeScaleway, server: FakeServer) -> None:
    """A bulk call's bare 429s are resent at the limiter's pace, reported and not failures."""
    fake.rate_limit = 200
    fake.rate_burst = 2
    limiter = CountingLimiter(AdaptiveRateLimiter())
    specs = [VolumeSpec(name=f"v{i}", size=10 * GB) for i in range(40)]
    async with make_api(fake, server, limiter) as api:
        result = await api.create_volumes(specs, concurrency=20)
    assert result.ok and len(fake.volumes) == 40
    assert result.throttled == fake.stats.throttled == limiter.statuses.count(429)
