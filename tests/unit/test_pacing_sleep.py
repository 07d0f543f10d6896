"""The pacing's sleep: until a moment, finer than the event loop's millisecond timers."""

from __future__ import annotations

import time

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._pacing._sleep import MAX_LEAD, PRECISE_BELOW, Sleeper, next_lead

leads = st.floats(0.0, MAX_LEAD)
lateness = st.floats(-0.01, 0.01)


@given(leads, lateness)
def test_the_lead_follows_the_lateness_within_its_bounds(lead: float, late: float) -> None:
    """Woken late, the thread wakes earlier next time; woken early, later; never
    before the moment by more than ``MAX_LEAD``, never after it on purpose."""
    new = next_lead(lead, late)
    assert 0.0 <= new <= MAX_LEAD
    if late > 0:
        assert new >= lead
    elif late < 0:
        assert new <= lead


@pytest.mark.anyio
@pytest.mark.parametrize("delay", [-1.0, 0.0, 0.0005, 0.003, PRECISE_BELOW + 0.005])
async def test_until_returns_at_or_after_the_moment(delay: float) -> None:
    """Past moments return at once; short pauses (a thread) and long ones (the loop's
    timer) never return before the moment."""
    sleeper = Sleeper()
    for _ in range(3):
        moment = time.monotonic() + delay
        await sleeper.until(moment)
        assert time.monotonic() >= moment
        assert 0.0 <= sleeper.lead <= MAX_LEAD


@pytest.mark.anyio
async def test_a_cancelled_sleep_leaves_and_the_sleeper_still_works() -> None:
    """Cancelled while a thread sleeps, the caller leaves (the thread finishes alone),
    and the next sleep works."""
    sleeper = Sleeper()
    with anyio.CancelScope() as scope:
        scope.cancel()
        await sleeper.until(time.monotonic() + 0.01)
    assert scope.cancelled_caught
    done: list[bool] = []

    async def sleep() -> None:
        await sleeper.until(time.monotonic() + PRECISE_BELOW * 0.9)
        done.append(True)

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleep)
        await anyio.lowlevel.checkpoint()  # it now waits for its thread
        tg.cancel_scope.cancel()
    assert done == []
    moment = time.monotonic() + 0.002
    await sleeper.until(moment)
    assert time.monotonic() >= moment
