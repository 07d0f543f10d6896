"""The limiters as the pipeline uses them: acquire/release, order, cancellation, loops."""

from __future__ import annotations

import asyncio
import math

import anyio
import pytest
import trio

from scaleway_volumes._pacing import (
    AdaptiveRateLimiter,
    AdaptiveTuning,
    NoRateLimiter,
    RateLimiter,
    TokenBucketRateLimiter,
)
from scaleway_volumes._pacing._gate import REFILL, Gate


def test_every_limiter_is_a_rate_limiter() -> None:
    """The runtime-checkable protocol recognises the three limiters."""
    for limiter in (AdaptiveRateLimiter(), TokenBucketRateLimiter(10), NoRateLimiter()):
        assert isinstance(limiter, RateLimiter)
    assert not isinstance(object(), RateLimiter)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"min_rate": 0}, ValueError, "min_rate"),
        ({"min_rate": math.inf}, ValueError, "min_rate"),
        ({"min_rate": "1"}, TypeError, "min_rate"),
        ({"max_rate": -1.0}, ValueError, "max_rate"),
        ({"max_rate": True}, TypeError, "max_rate"),
        ({"min_rate": 5, "max_rate": 2}, ValueError, "max_rate"),
        ({"initial_window": 0}, ValueError, "initial_window"),
        ({"initial_window": 2.5}, TypeError, "initial_window"),
        ({"tuning": {"decrease": 0.5}}, TypeError, "tuning"),
    ],
)
def test_adaptive_rejects_bad_options(kwargs: dict[str, object], error: type, match: str) -> None:
    """Each bad option is a clear error naming it."""
    with pytest.raises(error, match=match):
        AdaptiveRateLimiter(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((0,), {}, ValueError, "rate"),
        ((math.nan,), {}, ValueError, "rate"),
        (("10",), {}, TypeError, "rate"),
        ((10,), {"burst": 0}, ValueError, "burst"),
        ((10,), {"burst": 1.5}, TypeError, "burst"),
    ],
)
def test_token_bucket_rejects_bad_options(
    args: tuple[object, ...], kwargs: dict[str, object], error: type, match: str
) -> None:
    """A rate that is not a positive number, or a burst that is not an int >= 1, is refused."""
    with pytest.raises(error, match=match):
        TokenBucketRateLimiter(*args, **kwargs)  # type: ignore[arg-type]


def test_release_never_raises() -> None:
    """Garbage permits and odd statuses are ignored, never raised on."""
    for limiter in (AdaptiveRateLimiter(), TokenBucketRateLimiter(10), NoRateLimiter()):
        for permit in (None, "x", object(), 1, (1.0,)):
            limiter.release(permit, 200)
            limiter.release(permit, None)


@pytest.mark.anyio
async def test_an_unthrottled_adaptive_limiter_lets_requests_through_at_once() -> None:
    """Before any 429, acquire returns at once up to the window, and it grows per success."""
    limiter = AdaptiveRateLimiter(initial_window=3)
    permits = [await limiter.acquire() for _ in range(3)]
    assert limiter.rate is None
    for permit in permits:
        limiter.release(permit, 201)
    more = [await limiter.acquire() for _ in range(6)]  # the window is 6 now
    assert len(more) == 6
    assert limiter.throttled == 0


@pytest.mark.anyio
async def test_a_full_window_waits_for_a_release() -> None:
    """With the window full, the next acquire waits until a request ends."""
    limiter = AdaptiveRateLimiter(initial_window=1)
    first = await limiter.acquire()
    got: list[object] = []

    async def second() -> None:
        got.append(await limiter.acquire())

    async with anyio.create_task_group() as tg:
        tg.start_soon(second)
        await anyio.wait_all_tasks_blocked()
        assert got == []
        limiter.release(first, 201)
    assert len(got) == 1


@pytest.mark.anyio
async def test_a_429_starts_pacing() -> None:
    """After a bare 429 the limiter paces: it reports a finite rate."""
    limiter = AdaptiveRateLimiter()
    permit = await limiter.acquire()
    limiter.release(permit, 429)
    assert limiter.rate is not None
    assert limiter.throttled == 1
    assert "throttled=1" in repr(limiter)


@pytest.mark.anyio
async def test_waiters_go_in_arrival_order() -> None:
    """Callers blocked on a token bucket are served first come, first served."""
    limiter = TokenBucketRateLimiter(200, burst=1)
    order: list[int] = []

    async def one(i: int) -> None:
        await limiter.acquire()
        order.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(one, i)
            await anyio.wait_all_tasks_blocked()
    assert order == list(range(8))


@pytest.mark.anyio
async def test_a_cancelled_acquire_takes_nothing() -> None:
    """Cancelling waiters leaves the line empty and the limiter's count unchanged."""
    limiter = AdaptiveRateLimiter(initial_window=1)
    held = await limiter.acquire()
    with anyio.move_on_after(0.05):
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(limiter.acquire)
    assert limiter._gate.waiting == 0
    assert limiter._control.in_flight == 1
    limiter.release(held, 201)
    assert limiter._control.in_flight == 0
    await limiter.acquire()  # the line is usable again


@pytest.mark.anyio
async def test_a_cancelled_head_of_line_hands_over() -> None:
    """The first in line, cancelled while it sleeps, wakes the next one."""
    limiter = TokenBucketRateLimiter(5, burst=1)
    await limiter.acquire()  # empty the bucket: the next token is 0.2 s away
    got: list[int] = []

    async def second() -> None:
        await limiter.acquire()
        got.append(2)

    head_scope = anyio.CancelScope()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_acquire_in, head_scope, limiter)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(second)
        await anyio.wait_all_tasks_blocked()
        head_scope.cancel()
    assert got == [2]
    assert limiter._gate.waiting == 0


async def _acquire_in(scope: anyio.CancelScope, limiter: TokenBucketRateLimiter) -> None:
    with scope:
        await limiter.acquire()


@pytest.mark.anyio
async def test_no_rate_limiter_never_waits() -> None:
    """NoRateLimiter returns at once, every time."""
    limiter = NoRateLimiter()
    with anyio.fail_after(1):
        for _ in range(1000):
            limiter.release(await limiter.acquire(), 429)
    assert repr(limiter) == "<NoRateLimiter>"


def test_one_limiter_serves_successive_loops_and_trio() -> None:
    """Created with no loop running, a limiter works in asyncio.run after asyncio.run,
    then under trio, even when a waiter was left behind in a loop that is gone."""
    limiter = AdaptiveRateLimiter(initial_window=1)
    bucket = TokenBucketRateLimiter(1000, burst=1)

    async def use() -> None:
        permit = await limiter.acquire()
        limiter.release(permit, 201)
        await bucket.acquire()
        await bucket.acquire()

    async def leave_a_waiter() -> None:
        while limiter._control.in_flight < limiter._control.window:
            await limiter.acquire()  # held: the window is full for the next one
        task = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)
        assert limiter._gate.waiting == 1
        del task  # the loop ends with it pending; asyncio.run cancels it

    asyncio.run(use())
    asyncio.run(leave_a_waiter())
    limiter._control.in_flight = 0  # the held requests of the dead loop
    asyncio.run(use())
    trio.run(use)


def test_a_line_left_by_a_dead_loop_is_dropped() -> None:
    """A waiter stranded in a loop that never ran its cleanup cannot block a new loop."""

    class Never:
        def reserve(self, now: float) -> float:
            return math.inf

    gate = Gate(Never())
    gate._line.append(anyio.Event.__new__(anyio.Event))  # stranded by another loop
    gate._line_loop = object()
    gate._blocked = True  # its head was waiting for the schedule when that loop died

    class Once:
        calls = 0

        def reserve(self, now: float) -> float:
            self.calls += 1
            return 0.0 if self.calls > 1 else REFILL

    refills: list[int] = []

    async def refill(waiting: int) -> None:
        refills.append(waiting)

    gate.schedule = Once()
    gate._refill = refill
    assert trio.run(gate.wait_turn) > 0
    assert refills == [1]
    assert gate.waiting == 0


def test_tuning_is_a_frozen_value() -> None:
    """The algorithm's constants are a frozen attrs class with documented defaults."""
    tuning = AdaptiveTuning()
    with pytest.raises(AttributeError):
        tuning.decrease = 0.5  # type: ignore[misc]
    limiter = AdaptiveRateLimiter(tuning=AdaptiveTuning(initial_window=2.0))
    assert limiter._control.window == 2.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"initial_window": 0.0}, ValueError, "initial_window must be a finite number >= 1"),
        ({"target": 1.0}, ValueError, "target must be between 0 and 1"),
        ({"target_one": 0.0}, ValueError, "target_one"),
        ({"step": -0.1}, ValueError, "step"),
        ({"headroom": 1.5}, ValueError, "headroom must be between 0 and 1"),
        # A cut to the whole of what got through is no cut (cut_rate: always below).
        ({"headroom": 1.0}, ValueError, r"headroom must be between 0 and 1 \(both excluded\)"),
        ({"calm": math.inf}, ValueError, "calm must be a positive, finite number"),
        ({"first_span": 10**400}, ValueError, "first_span must be a positive, finite number"),
        ({"search_time": math.nan}, ValueError, "search_time"),
        ({"catch_up": -1.0}, ValueError, "catch_up must be a finite number >= 0"),
        ({"calm_doublings": math.inf}, ValueError, "calm_doublings must be a finite number"),
        ({"sample": 0}, ValueError, "sample"),
        ({"sample": 16.0}, TypeError, "sample must be an int"),
        ({"confirm": 2.5}, TypeError, "confirm must be an int"),
        ({"gentle": True}, TypeError, "gentle must be a number"),
        ({"first_span": "0.1"}, TypeError, "first_span must be a number"),
    ],
)
def test_tuning_rejects_a_constant_out_of_range(
    kwargs: dict[str, object], error: type, match: str
) -> None:
    """A bad constant is a clear error naming it, not a limiter that later stalls
    (``initial_window=0``: the first acquire() waited forever) or divides by zero."""
    with pytest.raises(error, match=match):
        AdaptiveTuning(**kwargs)  # type: ignore[arg-type]


def test_a_line_handing_over_lets_newcomers_through_when_there_is_room() -> None:
    """With no pacing, a caller arriving while the line hands over goes at once."""

    class Room:
        def reserve(self, now: float) -> float:
            return 0.0

    gate = Gate(Room())
    gate._line.append(anyio.Event.__new__(anyio.Event))  # a waiter being handed the head
    gate._line_loop = object()
    assert trio.run(gate.wait_turn) > 0
    assert gate.waiting == 1  # it went past, without joining the line
    gate._blocked = True  # once the head waits for the schedule, the line is FIFO again
    calls: list[float] = []

    class Counting:
        def reserve(self, now: float) -> float:
            calls.append(now)
            return 0.0

    gate.schedule = Counting()
    assert trio.run(gate.wait_turn) > 0
    assert len(calls) == 1 and gate.waiting == 0  # joined a fresh line (new loop), then went
