"""``max_rate`` holds from the first request; ``initial_window`` holds with a ``tuning``."""

from __future__ import annotations

import itertools
import math

import anyio
import pytest

from scaleway_volumes import AdaptiveRateLimiter, AdaptiveTuning
from scaleway_volumes._pacing._control import UNTHROTTLED, AdaptiveControl

pytestmark = pytest.mark.anyio


def test_max_rate_paces_before_the_first_429() -> None:
    """``max_rate``: "requests per second it never goes above". Before any 429 the
    requests are spaced at it (one token: no burst), not sent as fast as they come."""
    control = AdaptiveControl(max_rate=5.0)
    assert control.reserve(100.0) == 0.0
    assert control.reserve(100.0) == pytest.approx(0.2)  # a fifth of a second later
    assert control.reserve(100.1) == pytest.approx(0.1)
    assert control.reserve(100.2) == 0.0
    assert control.reserve(100.3) == pytest.approx(0.1)
    assert control.mode == UNTHROTTLED
    # Asked for every 10 ms for two seconds, each answered at once: 5 per second.
    control = AdaptiveControl(max_rate=5.0)
    sent = []
    for now in (t / 100 for t in range(200)):
        if control.reserve(now) == 0.0:
            sent.append(now)
            control.release(now, 200, now)
    assert len(sent) == 10
    assert all(b - a >= 0.2 - 1e-9 for a, b in itertools.pairwise(sent))


def test_no_max_rate_paces_nothing_before_the_first_429() -> None:
    """The default: only the window holds requests back (and it grows per success)."""
    control = AdaptiveControl()
    assert [control.reserve(0.0) for _ in range(6)] == [0.0] * 6
    assert control.reserve(0.0) == math.inf  # the initial window, not a pace
    control.release(0.0, 200, 0.01)
    assert control.reserve(0.01) == control.reserve(0.01) == 0.0


async def test_a_capped_limiter_holds_the_second_request() -> None:
    """Through the limiter: ``rate`` says the cap, and a second request at once waits."""
    limiter = AdaptiveRateLimiter(max_rate=0.5)  # one request per two seconds
    assert limiter.rate == 0.5
    assert AdaptiveRateLimiter().rate is None
    first = await limiter.acquire()
    got: list[object] = []
    async with anyio.create_task_group() as tg:

        async def second() -> None:
            got.append(await limiter.acquire())

        tg.start_soon(second)
        await anyio.wait_all_tasks_blocked()
        assert got == []  # held by the pace, though nothing is in flight
        limiter.release(first, 200)
        await anyio.wait_all_tasks_blocked()
        assert got == []  # a release does not end the pace
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("tuning", [AdaptiveTuning(target=0.02), AdaptiveTuning()])
async def test_initial_window_is_kept_when_tuning_is_given(tuning: AdaptiveTuning) -> None:
    """``initial_window=1`` with a ``tuning``: one request in flight, not the tuning's 6."""
    limiter = AdaptiveRateLimiter(initial_window=1, tuning=tuning)
    first = await limiter.acquire()
    got: list[object] = []
    async with anyio.create_task_group() as tg:

        async def second() -> None:
            got.append(await limiter.acquire())

        tg.start_soon(second)
        await anyio.wait_all_tasks_blocked()
        assert got == []  # the window of one is full
        limiter.release(first, 200)
        await anyio.wait_all_tasks_blocked()
        assert len(got) == 1  # the release let it through
    limiter.release(got[0], 200)


def test_initial_window_not_given_keeps_the_tunings() -> None:
    """Not given: the tuning's ``initial_window`` (or 6 without a tuning) holds."""
    control = AdaptiveRateLimiter(tuning=AdaptiveTuning(initial_window=2.0))._control
    assert [control.reserve(0.0) for _ in range(3)] == [0.0, 0.0, math.inf]
    control = AdaptiveRateLimiter(
        initial_window=3, tuning=AdaptiveTuning(initial_window=9.0)
    )._control
    assert [control.reserve(0.0) for _ in range(4)] == [0.0, 0.0, 0.0, math.inf]
    control = AdaptiveRateLimiter()._control
    assert [control.reserve(0.0) for _ in range(7)] == [0.0] * 6 + [math.inf]
