"""The fake's rate limit counts a test's virtual time too (``_rate_clock.RateClock``).

Before, its bucket refilled by real time alone: under trio's ``MockClock`` a client's
limiter paced in virtual time, each pause ended at once, and the bucket refused
nearly every paced request (20 creates at 5 req/s: 2 created, 662 429s).
"""

from __future__ import annotations

import asyncio
import time

import anyio
import pytest
import trio
import trio.testing

from scaleway_volumes import (
    AdaptiveRateLimiter,
    AsyncVolumeAPI,
    RateLimiter,
    TokenBucketRateLimiter,
    VolumeSpec,
)
from scaleway_volumes.testing import FakeScaleway
from scaleway_volumes.testing._rate_clock import RateClock


def _mock_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


def test_outside_an_event_loop_it_is_the_monotonic_clock() -> None:
    clock = RateClock()
    before = time.monotonic()
    now = clock()
    assert before <= now <= time.monotonic()


@pytest.mark.anyio
async def test_under_a_real_clock_it_is_the_monotonic_clock() -> None:
    """asyncio's and trio's own clocks are real: nothing is added, however long."""
    clock = RateClock()
    clock()
    await anyio.sleep(0.01)
    before = time.monotonic()
    now = clock()
    assert before <= now <= time.monotonic()


def test_under_trios_mock_clock_the_virtual_time_counts() -> None:
    """A pause of 100 virtual seconds moves the clock by 100 seconds and the little
    real time the pause took; the first reading adds nothing."""
    clock = RateClock()

    async def main() -> tuple[float, float, float]:
        real = time.monotonic()
        first = clock()
        await trio.sleep(100)
        return first, clock(), time.monotonic() - real

    first, second, real = trio.run(main, clock=_mock_clock())
    assert 100 <= second - first <= 100 + real


def test_another_loops_clock_adds_nothing_at_first() -> None:
    """A new run's mock clock starts elsewhere: only what each one moved counts, so
    the clock never jumps by the distance between two runs' clocks."""
    clock = RateClock()

    async def pause() -> None:
        clock()
        await trio.sleep(10)
        clock()

    later = _mock_clock()
    later.jump(1000.0)  # its time starts 1000 s after the first run's
    started = time.monotonic()
    trio.run(pause, clock=_mock_clock())
    trio.run(pause, clock=later)
    now = clock()
    real = time.monotonic() - started
    assert 20 <= now - started <= 20 + real


class _SteppedLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose clock is far from ``time.monotonic()`` (taken for a
    virtual one) and moves on when the test says so."""

    step = 0.0

    def time(self) -> float:
        return super().time() + 1000.0 + self.step


def test_under_an_asyncio_loop_on_virtual_time_its_moves_count() -> None:
    clock = RateClock()
    loop = _SteppedLoop()

    async def main() -> tuple[float, float]:
        first = clock()
        loop.step += 30.0
        return first, clock()

    try:
        first, second = loop.run_until_complete(main())
    finally:
        loop.close()
    assert 30 <= second - first < 31


async def _create(fake: FakeScaleway, limiter: RateLimiter, n: int) -> float:
    """Create ``n`` volumes through the in-process transport; the test time it took."""
    async with (
        fake.client() as http,
        AsyncVolumeAPI(
            fake.token,
            base_url=fake.base_url,
            organization=fake.organization,
            client=http,
            rate_limiter=limiter,
        ) as api,
    ):
        start = trio.current_time()
        with trio.fail_after(120):
            result = await api.create_volumes(
                [VolumeSpec(name=f"v{i}", size=10**9) for i in range(n)]
            )
        assert len(result.succeeded) == n, result.failed
        return trio.current_time() - start


def test_a_limiter_that_knows_the_limit_meets_no_429_under_a_mock_clock() -> None:
    """20 creates paced at the fake's 5 req/s: 19 intervals of 0.2 virtual seconds,
    and not one 429 (before: 2 created, 662 429s). A burst of 2: with one token, the
    real time each request takes from its slot to the bucket still varies, and a
    loaded CI met 2 429s in 22 requests, as real time would."""
    fake = FakeScaleway(rate_limit=5, rate_burst=2)
    took = trio.run(_create, fake, TokenBucketRateLimiter(5), 20, clock=_mock_clock())
    assert fake.stats.throttled == 0
    assert 3.7 <= took <= 4.5


def test_the_adaptive_limiter_learns_the_fakes_limit_under_a_mock_clock() -> None:
    """The default limiter finds 5 req/s from the 429s in virtual time as it does in
    real time (measured: 4.6-4.9 s and 29-30 429s either way)."""
    fake = FakeScaleway(rate_limit=5, rate_burst=1)
    took = trio.run(_create, fake, AdaptiveRateLimiter(), 20, clock=_mock_clock())
    assert 3.7 <= took <= 10
    assert fake.stats.throttled < 60
