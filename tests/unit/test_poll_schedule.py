"""``PollSchedule`` never waits longer than its cap, whatever it has learnt.

The schedule's other decisions are tested with the poller in test_bulk_wait.py
(a module long enough already).
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import BlockVolume
from scaleway_volumes._bulk_wait import VolumePoller, _Pending
from scaleway_volumes._poll_schedule import POLL_CAP, PollSchedule
from scaleway_volumes._slots import Slots

from .helpers import block_volume

# Ages and round trips as a monotonic clock gives them. Subnormal floats are
# left out: R/8 of one rounds to zero, a delay no clock could produce.
seconds = st.floats(0, 1e6, allow_nan=False, allow_subnormal=False)
steps = st.lists(
    st.tuples(st.sampled_from(["seen_ready", "answered", "next_delay"]), seconds), max_size=30
)


def test_a_long_ready_age_does_not_delay_younger_volumes_past_the_cap() -> None:
    """One volume of the call took a minute: a younger one is still polled within the cap
    (create_volumes promises polls at most 5 s apart), not a minute after its create."""
    plan = PollSchedule()
    plan.seen_ready(60.0)
    assert plan.next_delay(0.0) == POLL_CAP
    assert plan.next_delay(57.0) == pytest.approx(3.0)  # R is near: polled at R as before
    plan.answered(0.05)
    assert plan.next_delay(0.0) == POLL_CAP


def test_backing_off_past_a_long_ready_age_stays_within_the_cap() -> None:
    """Volumes made together that take 100 s: the ones not ready at R are polled every
    5 s until twice R, not 12.5, 25 and 50 s apart."""
    plan = PollSchedule()
    plan.seen_ready(100.0)
    assert [plan.next_delay(age) for age in (100.0, 120.0, 150.0, 199.0)] == [POLL_CAP] * 4
    assert plan.next_delay(100.5) == POLL_CAP
    short = PollSchedule()
    short.seen_ready(8.0)  # R/8 = 1 s, under the cap: unchanged
    assert short.next_delay(8.0) == pytest.approx(1.0)


@given(
    st.floats(0.001, 10, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
    steps,
    seconds,
)
def test_next_delay_is_positive_and_never_past_the_cap(
    initial: float, spread: float, history: list[tuple[str, float]], age: float
) -> None:
    """Whatever polls saw (ready ages, round trips) and whatever the volume's age, the
    next poll is due after a positive delay of at most ``cap``."""
    plan = PollSchedule(initial, initial + spread)
    for step, value in [*history, ("next_delay", age)]:
        if step == "seen_ready":
            plan.seen_ready(value)
        elif step == "answered":
            plan.answered(value)
        else:
            assert 0 < plan.next_delay(value) <= plan.cap


def creating(volume_id: str | None = None, status: str = "creating") -> BlockVolume:
    return block_volume(status, volume_id)


@pytest.mark.anyio
async def test_a_ready_volume_after_a_slow_one_is_first_polled_within_the_cap(
    no_sleep: list[float],
) -> None:
    """Through the poller: a volume that took a minute teaches R = 60 s; the next one,
    available from its create on, is first polled within the cap, not 60 s later."""
    born: dict[str, float] = {}
    ready_at_once: set[str] = set()

    async def listing(ids: Sequence[str]) -> list[BlockVolume]:
        await anyio.lowlevel.checkpoint()
        now = poller._now()
        return [
            creating(i, "available" if i in ready_at_once or now - born[i] >= 60 else "creating")
            for i in ids
        ]

    async def no_get(volume_id: str) -> BlockVolume:
        raise AssertionError("every volume is listed: no single GET")

    poller = VolumePoller(listing, no_get, Slots(1))
    first_polls: list[float] = []

    async def settle(volume: BlockVolume) -> None:
        entry = poller.hand_over(volume)
        assert isinstance(entry, _Pending)
        born[entry.volume_id] = entry.created
        first_polls.append(entry.due - entry.created)
        done = anyio.Event()
        entry.on_finish(lambda *_: done.set())
        await done.wait()

    async def body() -> None:
        await settle(creating())
        assert poller._plan.ready_age >= 60.0
        fast = creating()
        ready_at_once.add(fast.id)
        await settle(fast)

    with anyio.fail_after(10):  # a hang guard only: no_sleep skips the poller's waits
        await poller.running(body)
    assert first_polls[1] <= POLL_CAP
