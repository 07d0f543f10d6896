"""``run_within``: one bound on a whole call, told apart from the caller's own cancellations."""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import weakref

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import _deadline
from scaleway_volumes._deadline import MIN_GRAIN, _timers, expiry_slot, grain, run_within

pytestmark = pytest.mark.anyio

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])


class Expired(Exception):
    pass


def no_call_bounded(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether no call is left under a shared timer of ``loop`` (emptied slots may stay)."""
    return all(not slot.bounds for slot in _timers(loop).slots.values())


async def sleeper(seconds: float, result: str = "done") -> str:
    await anyio.sleep(seconds)
    return result


async def test_a_call_within_its_bound_returns_its_result() -> None:
    assert await run_within(5.0, lambda: sleeper(0), Expired) == "done"
    assert await run_within(None, lambda: sleeper(0), Expired) == "done"


async def test_a_call_over_its_bound_raises_expired_from_a_timeout() -> None:
    with pytest.raises(Expired) as caught:
        await run_within(0.01, lambda: sleeper(10), Expired)
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_errors_of_the_call_pass_through() -> None:
    async def boom() -> str:
        raise KeyError("x")

    with pytest.raises(KeyError):
        await run_within(5.0, boom, Expired)


@asyncio_only
async def test_the_callers_cancellation_is_not_an_expiry() -> None:
    """A task cancelled from outside stays cancelled, and its cancel count is intact."""
    task = asyncio.ensure_future(run_within(5.0, lambda: sleeper(10), Expired))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


@asyncio_only
@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
async def test_an_outer_timeout_that_fires_first_is_the_outer_ones() -> None:
    with pytest.raises(TimeoutError) as caught:
        async with asyncio.timeout(0.01):
            await run_within(5.0, lambda: sleeper(10), Expired)
    assert not isinstance(caught.value, Expired)


@asyncio_only
@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
async def test_an_inner_expiry_leaves_an_outer_timeout_working() -> None:
    task = asyncio.current_task()
    assert task is not None
    async with asyncio.timeout(5.0):
        with pytest.raises(Expired):
            await run_within(0.01, lambda: sleeper(10), Expired)
        assert task.cancelling() == 0
        assert await run_within(5.0, lambda: sleeper(0), Expired) == "done"
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await sleeper(10)


@asyncio_only
async def test_no_timer_is_left_behind() -> None:
    """The bound's timer is cancelled when the call ends: it can never fire later."""
    for _ in range(3):
        await run_within(0.02, lambda: sleeper(0), Expired)
    if sys.version_info >= (3, 11):
        assert no_call_bounded(asyncio.get_running_loop())
    # Past every bound: a live timer would cancel this task, and the sleep would raise.
    await asyncio.sleep(0.05)


@given(
    now=st.floats(min_value=0.0, max_value=1e7, allow_nan=False),
    seconds=st.floats(min_value=1e-4, max_value=1e5, allow_nan=False),
)
def test_a_shared_timer_fires_never_early_and_at_most_a_grain_late(
    now: float, seconds: float
) -> None:
    step = grain(seconds)
    assert step == MIN_GRAIN or step <= seconds / 32
    assert math.log2(step).is_integer()
    slot = expiry_slot(now, seconds, step)
    assert now + seconds <= slot < now + seconds + step * (1 + 1e-9) + 1e-9


@asyncio_only
async def test_calls_ending_in_one_slot_share_a_timer_and_each_gets_its_verdict() -> None:
    """Of 40 calls bounded alike, those done in time return, the others expire."""
    results = await asyncio.gather(
        *(
            run_within(0.05, lambda i=i: sleeper(0 if i % 2 else 10, str(i)), Expired)
            for i in range(40)
        ),
        return_exceptions=True,
    )
    for i, result in enumerate(results):
        if i % 2:
            assert result == str(i)
        else:
            assert isinstance(result, Expired)
    loop = asyncio.get_running_loop()
    assert no_call_bounded(loop)


@asyncio_only
async def test_an_expiry_comes_no_earlier_than_the_bound() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(Expired):
        await run_within(0.03, lambda: sleeper(10), Expired)
    # The loop's clock, not a measure of speed: a shared timer never fires early.
    assert loop.time() >= start + 0.03 - 0.001


@asyncio_only
async def test_cancelling_one_call_leaves_the_others_of_its_slot_bounded() -> None:
    loop = asyncio.get_running_loop()
    victim = asyncio.ensure_future(run_within(0.05, lambda: sleeper(10), Expired))
    other = asyncio.ensure_future(run_within(0.05, lambda: sleeper(10), Expired))
    await asyncio.sleep(0)
    victim.cancel()
    with pytest.raises(asyncio.CancelledError):
        await victim
    with pytest.raises(Expired):
        await other
    assert no_call_bounded(loop)


@asyncio_only
@pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling is 3.11+")
async def test_nested_bounds_of_one_task_expire_as_the_outer_one() -> None:
    """A call bounded inside a bounded call (a lookup inside a create): when both end
    in one slot, the outer bound's error comes out and no cancellation is left over."""

    class Inner(Exception):
        pass

    task = asyncio.current_task()
    assert task is not None
    with pytest.raises(Expired):
        await run_within(0.05, lambda: run_within(0.05, lambda: sleeper(10), Inner), Expired)
    assert task.cancelling() == 0
    assert no_call_bounded(asyncio.get_running_loop())


@asyncio_only
@pytest.mark.skipif(sys.version_info < (3, 11), reason="the shared timers are 3.11+")
async def test_calls_one_after_another_reuse_their_slot() -> None:
    """Sequential calls bounded alike join one slot's timer instead of making one each."""
    loop = asyncio.get_running_loop()
    before = set(_timers(loop).slots)
    for _ in range(10):
        assert await run_within(120.0, lambda: sleeper(0), Expired) == "done"
    # Ten calls within microseconds end in one 2 s slot, or two at a boundary.
    assert 1 <= len(set(_timers(loop).slots) - before) <= 2
    assert no_call_bounded(loop)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the shared timers are 3.11+")
def test_a_finished_event_loop_is_not_kept_alive() -> None:
    """A worker running ``asyncio.run`` per job must not keep every finished loop."""

    async def bounded_call() -> None:
        assert await run_within(120.0, lambda: sleeper(0), Expired) == "done"

    gc.collect()  # what earlier tests left, so that only this test's garbage is seen
    first = asyncio.new_event_loop()
    first.run_until_complete(bounded_call())  # leaves an emptied slot, its timer pending
    first.close()
    gone = weakref.ref(first)
    del first
    asyncio.run(bounded_call())  # the next loop takes over the one-entry cache
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        gc.collect()
        # Nor do the loop's timers linger as a cycle for the collector to find.
        left = [type(o).__name__ for o in gc.garbage if type(o).__module__ == _deadline.__name__]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert gone() is None
    assert left == []
