"""The limiters under a test's virtual clock: they pace in its time, not in real time.

Before, a limiter read ``time.monotonic()`` alone: under trio's ``MockClock`` each
pause of the loop's timer ended at once, the slot was still ahead in real time,
and it paused again, so the virtual clock ran thousands of seconds forward while
the pacing waited in real time (five requests at 2 per second: 7347 virtual
seconds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest
import trio
import trio.testing

from scaleway_volumes import AdaptiveRateLimiter, TokenBucketRateLimiter
from scaleway_volumes._pacing._sleep import PRECISE_BELOW, Sleeper, virtual_clock

Limiter = TokenBucketRateLimiter | AdaptiveRateLimiter


def _fixed() -> Limiter:
    return TokenBucketRateLimiter(2.0)


def _adaptive() -> Limiter:
    # Capped at the rate it resumes at: after ``calm`` (one second) without a 429
    # it would climb, and whether the answer at 0.9998 s of the mixed clock came
    # before or after that second decided 1.94 s or 1.84 s (a CI on 3.10).
    limiter = AdaptiveRateLimiter(max_rate=2.0)
    limiter.resume_at(2.0)  # as after a 429: paced from here
    return limiter


def _on_mock_clock(main: Callable[[], Awaitable[float]]) -> float:
    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


@pytest.mark.parametrize("make", [_fixed, _adaptive], ids=["token-bucket", "adaptive"])
def test_a_limiter_paces_in_the_virtual_time_of_trios_mock_clock(
    make: Callable[[], Limiter],
) -> None:
    """Five requests at 2 per second take two seconds of the test's clock: not
    thousands (a ``fail_after`` in the test would fire) and not none (unpaced).
    The pacing's clock is real time plus the pauses the virtual clock skipped, so
    real time gone meanwhile shortens them (once 0.29 s, in a busy CI)."""

    async def main() -> float:
        limiter = make()
        start = trio.current_time()
        with trio.fail_after(60):
            for _ in range(5):
                permit = await limiter.acquire()
                limiter.release(permit, 201)
        return trio.current_time() - start

    started = time.monotonic()
    elapsed = _on_mock_clock(main)
    real = time.monotonic() - started
    assert 1.9 - real <= elapsed <= 2.6


def test_short_pauses_take_virtual_time_too() -> None:
    """Under a virtual clock a pause shorter than ``PRECISE_BELOW`` (which a real
    clock sleeps in a thread, in real time) is the loop's timer as well."""

    async def main() -> float:
        sleeper = Sleeper()
        start = trio.current_time()
        for _ in range(100):
            await sleeper.until(sleeper.now() + PRECISE_BELOW / 2)
        return trio.current_time() - start

    assert _on_mock_clock(main) == pytest.approx(100 * PRECISE_BELOW / 2, rel=0.05)


@pytest.mark.anyio
async def test_a_real_clock_is_not_taken_for_a_virtual_one() -> None:
    """asyncio's and trio's own clocks are real: pauses in threads, and the pacing's
    clock is ``time.monotonic()``."""
    assert not virtual_clock()
    sleeper = Sleeper()
    moment = sleeper.now() + PRECISE_BELOW * 1.5
    await sleeper.until(moment)
    assert time.monotonic() >= moment
    assert sleeper.ahead == 0.0


def test_trios_mock_clock_is_virtual() -> None:
    async def main() -> bool:
        return virtual_clock()

    assert trio.run(main, clock=trio.testing.MockClock())


class _OffsetLoop(asyncio.SelectorEventLoop):
    """A real-time asyncio loop whose clock starts elsewhere: taken for virtual."""

    def time(self) -> float:
        return super().time() + 1000.0


def test_a_clock_far_from_monotonic_is_virtual_and_moved_only_by_skipped_pauses() -> None:
    """An asyncio loop's clock over a second from ``time.monotonic()`` is taken for
    a virtual one (its timer for every pause); its timers last in real time here,
    so the pacing's clock is not moved on."""

    async def main() -> tuple[bool, float]:
        sleeper = Sleeper()
        moment = sleeper.now() + 0.005
        await sleeper.until(moment)
        assert time.monotonic() >= moment
        return virtual_clock(), sleeper.ahead

    loop = _OffsetLoop()
    try:
        assert loop.run_until_complete(main()) == (True, 0.0)
    finally:
        loop.close()


def test_anyio_on_a_mock_clock_too() -> None:
    """Through anyio's trio backend (``backend_options``), as a test plugin runs it."""

    async def main() -> float:
        limiter = _fixed()
        start = anyio.current_time()
        for _ in range(3):
            permit = await limiter.acquire()
            limiter.release(permit, 201)
        return anyio.current_time() - start

    clock = trio.testing.MockClock(autojump_threshold=0)
    started = time.monotonic()
    elapsed = anyio.run(main, backend="trio", backend_options={"clock": clock})
    assert 0.9 - (time.monotonic() - started) <= elapsed <= 1.6
