"""The batched poller of ``create_volumes(wait=True)`` and its slots, with no HTTP."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Awaitable, Sequence

import anyio
import anyio.lowlevel
import pytest
import sniffio
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import (
    BlockVolume,
    NotFoundError,
    ResourceStateError,
    ResponseDecodeError,
    ServerError,
    WaitTimeoutError,
)
from scaleway_volumes._bulk_wait import READY, VolumePoller, _Pending, loop_clock, settles
from scaleway_volumes._decode_block import (
    VolumeStatus,
    decode_block_volume_page,
    decode_block_volume_statuses,
)
from scaleway_volumes._later import Later
from scaleway_volumes._poll_schedule import (
    BATCH,
    DEFER_MAX,
    PollSchedule,
    poll_count,
    poll_delay,
)
from scaleway_volumes._slots import Slots
from scaleway_volumes._states import DELETED, FAILURE_STATES, classify

from .block_json import block_volume_json
from .helpers import block_volume

pytestmark = pytest.mark.anyio


async def wait_for(poller: VolumePoller, volume: BlockVolume) -> BlockVolume:
    """One task waiting for one volume: ``hand_over``, then the poller's verdict
    (raised if an error); cancelled, the volume is abandoned."""
    handed = poller.hand_over(volume)
    if not isinstance(handed, Later):
        return handed
    return await wait_for_later(handed)


async def wait_for_later(handed: Later) -> BlockVolume:
    """The poller's verdict on a volume handed over already (raised if an error);
    cancelled, the volume is abandoned."""
    settled = anyio.Event()
    verdict: list[BlockVolume | BaseException] = []

    def hear(key: object, outcome: BlockVolume | BaseException, ok: bool) -> None:
        verdict.append(outcome)
        settled.set()

    handed.on_finish(hear)
    try:
        await settled.wait()
    finally:
        handed.abandon()
    if isinstance(verdict[0], BaseException):
        raise verdict[0]
    return verdict[0]


volume = block_volume


class FakeList:
    """``list_by_ids``: every volume is listed with ``status``; records each request's ids."""

    def __init__(self, status: str = "available") -> None:
        self.status = status
        self.batches: list[list[str]] = []
        self.fail: Exception | None = None

    async def __call__(self, ids: Sequence[str]) -> list[BlockVolume]:
        self.batches.append(list(ids))
        await anyio.lowlevel.checkpoint()
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        return [volume(self.status, i) for i in ids]


async def no_get(volume_id: str) -> BlockVolume:
    raise AssertionError("every volume is listed: no single GET")


class JsonList:
    """``list_by_ids`` through the poll's real decoder: each volume listed with its
    scripted statuses in turn (the last one repeats), as ``GET /volumes`` bodies."""

    def __init__(self, script: dict[str, list[str]], **fields: object) -> None:
        self.script = script
        self.fields = fields
        self.bodies: list[bytes] = []
        self.decoded: list[BlockVolume | VolumeStatus] = []

    async def __call__(self, ids: Sequence[str]) -> list[BlockVolume | VolumeStatus]:
        await anyio.lowlevel.checkpoint()
        page = []
        for volume_id in ids:
            statuses = self.script[volume_id]
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            page.append(block_volume_json(id=volume_id, status=status, **self.fields))
        self.bodies.append(json.dumps({"volumes": page, "total_count": len(page)}).encode())
        items, _ = decode_block_volume_statuses(self.bodies[-1], 200, settles)
        self.decoded.extend(items)
        return items


# -- poll_count and poll_delay (pure) ---------------------------------------------------


@given(st.integers(0, 400), st.integers(0, 400), st.integers(1, 150))
def test_poll_count_takes_every_due_volume_in_full_requests(
    due: int, extra: int, batch: int
) -> None:
    """All due volumes, filled up to whole requests with others, never more than pending."""
    pending = due + extra
    count = poll_count(due, pending, batch)
    assert due <= count <= pending
    assert count == pending or count % batch == 0
    assert count - due < batch
    assert (count == 0) == (due == 0)


def test_poll_count_example() -> None:
    """Three due of 250: one request of 100 (97 of them not due yet)."""
    assert poll_count(3, 250) == BATCH


@given(
    st.floats(0, 1e6, allow_nan=False),
    st.floats(0.001, 10, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
)
def test_poll_delay_follows_the_age_within_bounds(
    age: float, initial: float, spread: float
) -> None:
    """Between half and all of the age, clamped to [initial, cap]; the draw picks within."""
    cap = initial + spread
    low = poll_delay(age, initial, cap, draw=lambda a, b: a)
    high = poll_delay(age, initial, cap, draw=lambda a, b: b)
    bound = min(cap, max(initial, age))
    assert (low, high) == (bound / 2, bound)
    assert initial / 2 <= poll_delay(age, initial, cap) <= cap


def test_poll_delay_doubles_the_age_of_a_volume_polled_when_due() -> None:
    """Polled only when due (at the top of the jitter), ages double from 0.1 s up to the cap."""
    age, ages = 0.0, []
    for _ in range(8):
        age += poll_delay(age, 0.1, 5.0, draw=lambda a, b: b)
        ages.append(round(age, 6))
    assert ages == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 11.4]


@given(
    st.sampled_from(sorted({"creating", "resizing", "updating", *READY, *FAILURE_STATES}))
    | st.text()
)
def test_settles_is_the_pollers_verdict(status: str) -> None:
    """A status settles a wait exactly when the poller would not poll it again."""
    verdict = classify(status, until=READY, transient=frozenset({"creating"}))
    assert settles(status) == (verdict != "wait")
    assert settles(status) == (status in READY | FAILURE_STATES | {DELETED})


# -- the poller -------------------------------------------------------------------------


async def test_many_volumes_polled_in_batches_of_100(no_sleep: list[float]) -> None:
    """250 waiting volumes: 3 requests (100, 100, 50), each volume once, all returned."""
    listing = FakeList()
    poller = VolumePoller(listing, no_get, Slots(4))
    volumes = [volume() for _ in range(250)]
    results: list[BlockVolume] = []

    async def body() -> None:
        async def one(v: BlockVolume) -> None:
            results.append(await wait_for(poller, v))

        async with anyio.create_task_group() as tg:
            for v in volumes:
                tg.start_soon(one, v)

    await poller.running(body)
    assert sorted(len(b) for b in listing.batches) == [50, 100, 100]
    assert sorted(i for b in listing.batches for i in b) == sorted(v.id for v in volumes)
    assert {r.status for r in results} == {"available"} and len(results) == 250


class CountingList(FakeList):
    """``FakeList`` that also records the most requests it had in flight at once."""

    def __init__(self, status: str = "available") -> None:
        super().__init__(status)
        self.in_flight = self.most_in_flight = 0

    async def __call__(self, ids: Sequence[str]) -> list[BlockVolume]:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await anyio.lowlevel.checkpoint()
            return await super().__call__(ids)
        finally:
            self.in_flight -= 1


async def test_a_round_sends_its_requests_side_by_side() -> None:
    """The 3 requests of one round of 250 due volumes are in flight together (the
    slots allow 4): the round takes one round trip, not three."""
    listing = CountingList()
    poller = VolumePoller(listing, no_get, Slots(4))
    handed = [poller.hand_over(volume()) for _ in range(250)]
    await poller._round(math.inf)  # every volume is due
    assert len(listing.batches) == 3 and listing.most_in_flight == 3
    assert all(isinstance(later, Later) and later.done for later in handed)


async def test_polls_wait_for_the_creates_in_flight() -> None:
    """A volume whose turn came while a create holds a slot is polled when that
    create gives its slot back, not before (the polls' work would slow the creates),
    and at once then (the cap, 60 s, is not what ends the wait)."""
    listing = FakeList()
    slots = Slots(2)
    poller = VolumePoller(listing, no_get, slots, initial=0.01, cap=60.0)
    events: list[str] = []

    async def body() -> BlockVolume:
        await slots.acquire()  # a create in flight
        async with anyio.create_task_group() as tg:
            verdict: list[BlockVolume] = []

            async def waiter() -> None:
                verdict.append(await wait_for(poller, volume()))
                events.append("settled")

            tg.start_soon(waiter)
            with anyio.fail_after(10):
                while not poller._deferring:  # its turn comes in 0.01 s at most
                    await anyio.lowlevel.checkpoint()
            events.append(f"released after {len(listing.batches)} polls")
            slots.release()
        return verdict[0]

    with anyio.fail_after(10):
        ready = await poller.running(body)
    assert events == ["released after 0 polls", "settled"]
    assert ready.status == "available" and len(listing.batches) == 1


def stop_the_clock(poller: VolumePoller) -> None:
    """Make ``poller``'s time stand still but for the waits it skips (``no_sleep``).

    Its clock is the later of the wall clock and where its skipped waits took it:
    an hour ahead, the wall clock plays no part, so how long the host took to run
    the test (a busy one pauses it for a few hundred milliseconds) changes no wait.
    """
    poller._virtual = anyio.current_time() + 3600.0


async def test_polls_wait_for_creates_one_second_at_most(no_sleep: list[float]) -> None:
    """Creates that never stop (a long bulk call) hold polls back by ``DEFER_MAX`` (1 s)
    at most, so its progress still moves."""
    listing = FakeList()
    slots = Slots(2)
    poller = VolumePoller(listing, no_get, slots, initial=0.1, cap=5.0)
    stop_the_clock(poller)
    await slots.acquire()  # a create in flight for the whole test
    entry = poller.hand_over(volume())
    assert isinstance(entry, _Pending)
    turn = entry.due - entry.created
    assert 0.05 <= turn <= 0.1  # the first poll of a volume: after [initial/2, initial]
    with anyio.fail_after(10):  # held back for good, the poll would never come
        ready = await poller.running(lambda: wait_for_later(entry))
    assert ready.status == "available" and len(listing.batches) == 1
    # The poller waited for the volume's turn, then ``DEFER_MAX`` more for the creates.
    first_turn, held_back = no_sleep
    assert first_turn == pytest.approx(turn) and held_back == pytest.approx(DEFER_MAX) == 1.0


async def test_polls_wait_for_creates_no_longer_than_a_deadline(
    no_sleep: list[float],
) -> None:
    """Held back by creates, a volume is still polled by its deadline, and timed out."""
    listing = FakeList("creating")
    slots = Slots(2)
    poller = VolumePoller(listing, no_get, slots, timeout=0.5, initial=0.1, cap=5.0)
    stop_the_clock(poller)
    await slots.acquire()
    entry = poller.hand_over(volume())
    assert isinstance(entry, _Pending)
    with pytest.raises(WaitTimeoutError) as caught, anyio.fail_after(10):
        await poller.running(lambda: wait_for_later(entry))
    assert caught.value.last_state == "creating" and len(listing.batches) == 1
    # Polled at the deadline, 0.5 s after the hand-over, not ``DEFER_MAX`` past its
    # turn: the wait for the creates was cut short.
    assert sum(no_sleep) == pytest.approx(entry.deadline - entry.created) == 0.5
    assert no_sleep[-1] < DEFER_MAX


async def test_settled_answer_needs_no_poll() -> None:
    """A create answered already available (or failed) is decided without a request."""
    listing = FakeList()
    poller = VolumePoller(listing, no_get, Slots(1))
    ready = volume("available")
    assert await wait_for(poller, ready) is ready
    with pytest.raises(ResourceStateError):
        await wait_for(poller, volume("error"))
    assert listing.batches == []


async def test_the_clock_is_looked_up_once_per_poller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handing volumes over reads the event loop's clock without looking the
    backend up each time (anyio's ``current_time`` does, at over ten times the read's cost)."""
    lookups: list[str] = []
    real = sniffio.current_async_library

    def counted() -> str:
        lookups.append(real())
        return lookups[-1]

    before = anyio.current_time()
    monkeypatch.setattr(sniffio, "current_async_library", counted)
    poller = VolumePoller(FakeList(), no_get, Slots(1))
    handed = [poller.hand_over(volume()) for _ in range(50)]
    assert all(isinstance(entry, _Pending) and entry.created >= before for entry in handed)
    assert len(lookups) == 1
    # The same clock as anyio's, on either backend.
    first, read, last = anyio.current_time(), loop_clock()(), anyio.current_time()
    assert first <= read <= last


async def test_passing_poll_error_is_retried_next_round(no_sleep: list[float]) -> None:
    """A 5xx on a poll keeps the volume pending; the next round sees it available."""
    listing = FakeList()
    listing.fail = ServerError("bad gateway", status_code=502)
    poller = VolumePoller(listing, no_get, Slots(1))
    result = await poller.running(lambda: wait_for(poller, volume()))
    assert result.status == "available" and len(listing.batches) == 2


async def test_a_poll_error_no_poll_mends_fails_the_volume_at_once(
    no_sleep: list[float],
) -> None:
    """A 501 answers every poll alike (the waiters' ``poll_again`` rule): the volume
    fails at once, not after polling until its deadline, with an error naming it (it
    exists) whose cause is the 501."""
    listing = FakeList()
    failure = listing.fail = ServerError("not implemented", status_code=501)
    poller = VolumePoller(listing, no_get, Slots(1))
    waited = volume()
    with pytest.raises(WaitTimeoutError) as info:
        await poller.running(lambda: wait_for(poller, waited))
    assert len(listing.batches) == 1
    assert info.value.resource_id == waited.id and info.value.__cause__ is failure


async def test_cancelled_waiter_is_no_longer_polled() -> None:
    """A worker cancelled while waiting: its volume leaves the poller's round."""
    listing = FakeList("creating")
    poller = VolumePoller(listing, no_get, Slots(1), initial=0.01, cap=0.02)
    dropped, kept = volume(), volume()

    async def body() -> None:
        async with anyio.create_task_group() as tg:
            with anyio.move_on_after(0.05):
                await wait_for(poller, dropped)
            seen = len(listing.batches)
            tg.start_soon(wait_for, poller, kept)
            await anyio.sleep(0.1)
            tg.cancel_scope.cancel()
            assert seen >= 1
            later = listing.batches[seen:]
            assert later and all(batch == [kept.id] for batch in later)

    await poller.running(body)


class WatchedSlots(Slots):
    """``Slots`` that tell when a poll starts waiting for one."""

    def __init__(self, total: int) -> None:
        super().__init__(total)
        self.poll_waits = anyio.Event()

    async def acquire(self, *, first: bool = False) -> None:
        if first and not self.free:
            self.poll_waits.set()
        await super().acquire(first=first)


async def test_volume_abandoned_while_its_poll_waits_for_a_slot_is_not_asked_for(
    no_sleep: list[float],
) -> None:
    """A round chose the volume, its worker was cancelled before the poll had a slot:
    the request leaves it out."""
    listing = FakeList()
    slots = WatchedSlots(1)
    poller = VolumePoller(listing, no_get, slots, initial=0.1, cap=1.0)
    dropped, kept = volume(), volume()

    settled: list[BlockVolume] = []

    async def body() -> None:
        await slots.acquire()  # a create in flight: the round's poll waits for it
        gone = poller.hand_over(dropped)
        assert isinstance(gone, Later)
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: _append(settled, wait_for(poller, kept)))
            await slots.poll_waits.wait()
            gone.abandon()
            slots.release()

    with anyio.fail_after(10):
        await poller.running(body)
    assert [v.id for v in settled] == [kept.id] and listing.batches == [[kept.id]]


async def _append(into: list[BlockVolume], waiting: Awaitable[BlockVolume]) -> None:
    into.append(await waiting)


async def test_bad_schedule_is_refused_at_once() -> None:
    """A poll schedule that makes no sense is a ValueError when the poller is built."""
    with pytest.raises(ValueError, match="cap"):
        VolumePoller(FakeList(), no_get, Slots(1), initial=2.0, cap=1.0)


async def test_running_reraises_the_body_error_as_itself() -> None:
    """A bug in the body is its own exception, not an exception group."""
    poller = VolumePoller(FakeList(), no_get, Slots(1))

    async def body() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await poller.running(body)


# -- Slots -------------------------------------------------------------------------------


async def test_slots_bound_the_holders() -> None:
    """Never more than ``total`` holders at once."""
    slots = Slots(3)
    holding = peak = 0

    async def hold() -> None:
        nonlocal holding, peak
        async with slots.hold():
            holding += 1
            peak = max(peak, holding)
            await anyio.sleep(0.001)
            holding -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(hold)
    assert peak == 3 and slots.free == 3


async def test_first_goes_before_earlier_waiters() -> None:
    """A ``first`` waiter is served before the others already queued."""
    slots = Slots(1)
    order: list[str] = []
    release = anyio.Event()

    async def holder() -> None:
        async with slots.hold():
            await release.wait()

    async def waiter(name: str, first: bool) -> None:
        async with slots.hold(first=first):
            order.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(holder)
        await anyio.wait_all_tasks_blocked()
        for name in ("a", "b"):
            tg.start_soon(waiter, name, False)
            await anyio.wait_all_tasks_blocked()
        tg.start_soon(waiter, "poll", True)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert order == ["poll", "a", "b"]


async def test_cancelled_queued_waiter_loses_no_slot() -> None:
    """A waiter cancelled while queued leaves the queue; the slot goes to the next one."""
    slots = Slots(1)
    scope = anyio.CancelScope()
    served: list[str] = []

    async def waiter(name: str, cancel_scope: anyio.CancelScope) -> None:
        with cancel_scope:
            async with slots.hold():
                served.append(name)

    holding = slots.hold()
    await holding.__aenter__()
    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter, "cancelled", scope)
        tg.start_soon(waiter, "next", anyio.CancelScope())
        await anyio.wait_all_tasks_blocked()
        scope.cancel()
        await anyio.wait_all_tasks_blocked()
        await holding.__aexit__(None, None, None)
    assert served == ["next"] and slots.free == 1


async def test_waiter_cancelled_as_it_is_handed_the_slot_passes_it_on() -> None:
    """Handed the slot and cancelled in the same step: the slot comes back either way."""
    slots = Slots(1)
    scope = anyio.CancelScope()

    async def waiter() -> None:
        with scope:
            async with slots.hold():
                await anyio.sleep(10)

    holding = slots.hold()
    await holding.__aenter__()
    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        await holding.__aexit__(None, None, None)  # hands the slot over, no checkpoint
        scope.cancel()  # before the waiter runs again
    assert slots.free == 1


async def test_slots_tell_when_the_last_holder_gives_its_slot_back() -> None:
    """``on_all_free`` hears the release that frees every slot, and only that one."""
    slots = Slots(2)
    heard: list[int] = []
    slots.on_all_free(lambda: heard.append(slots.free))
    await slots.acquire()
    await slots.acquire()
    assert not slots.all_free
    slots.release()
    assert heard == [] and not slots.all_free
    slots.release()
    assert heard == [2] and slots.all_free


def test_slots_total_must_be_positive() -> None:
    """Zero or a non-int total is a ValueError."""
    for total in (0, -1, 1.5):
        with pytest.raises(ValueError, match="total"):
            Slots(total)  # type: ignore[arg-type]


async def test_volumes_are_first_polled_at_the_age_one_was_seen_ready(
    no_sleep: list[float],
) -> None:
    """Once a volume is seen ready at age A, younger ones are next polled at age A."""
    listing = FakeList()
    poller = VolumePoller(listing, no_get, Slots(1), initial=0.1, cap=5.0)
    assert poller._plan.ready_age == float("inf")  # nothing learnt: the doubling schedule
    assert 0.05 <= poller._plan.next_delay(0.0) <= 0.1
    first = await poller.running(lambda: wait_for(poller, volume()))
    assert first.status == "available"
    (seen_at,) = no_sleep  # the one wait before the poll that found it ready
    learnt = poller._plan.ready_age
    assert seen_at <= learnt < seen_at + 0.05
    # A younger volume: due exactly when it reaches that age (at least initial/2 away).
    assert poller._plan.next_delay(learnt / 4) == pytest.approx(max(learnt * 3 / 4, 0.05))
    assert poller._plan.next_delay(learnt - 0.001) == pytest.approx(0.05)
    # Just past that age and not ready: polled again soon, backing off from that
    # age (an eighth of it first), not from zero.
    assert poller._plan.next_delay(learnt) == pytest.approx(learnt / 8)
    assert poller._plan.next_delay(learnt * 1.05) == pytest.approx(learnt / 8)
    assert poller._plan.next_delay(learnt * 1.5) == pytest.approx(learnt / 2)
    # Twice that age and still not ready: a slow one, back to the doubling schedule.
    assert 1.0 <= poller._plan.next_delay(2.0) <= 2.0


def test_younger_volumes_are_sent_one_round_trip_before_the_age_one_was_seen_ready() -> None:
    """R is the age at the answer; the polls of younger volumes leave the shortest
    round trip a poll took before it (half of R at most), so the API reads them at R."""
    plan = PollSchedule()
    plan.seen_ready(0.2)
    assert plan.next_delay(0.0) == pytest.approx(0.2)  # no round trip known yet
    plan.answered(0.02)
    assert plan.next_delay(0.0) == pytest.approx(0.18)
    assert plan.next_delay(0.1) == pytest.approx(0.08)
    assert plan.next_delay(0.19) == pytest.approx(0.18 / 8)  # past it: R/8 later
    plan.round_trip = 0.5  # one slow poll cannot make the polls leave before R/2
    assert plan.next_delay(0.0) == pytest.approx(0.1)


async def test_the_round_trip_is_the_shortest_a_poll_took() -> None:
    """Each answered poll offers its time from sending to answer; the shortest stays."""
    listing = FakeList("creating")
    poller = VolumePoller(listing, no_get, Slots(1))
    entry = poller.hand_over(volume())
    assert isinstance(entry, _Pending) and poller._plan.round_trip == math.inf
    await poller._poll([entry], math.inf)
    first = poller._plan.round_trip
    assert 0 <= first < math.inf
    poller._plan.round_trip = 1e-9
    await poller._poll([entry], math.inf)
    assert poller._plan.round_trip == 1e-9


def test_a_volume_polled_early_whose_turn_came_meanwhile_is_due_at_once() -> None:
    """Polled to fill a request just before its turn, and not ready: if its turn came
    while the poll was on its way, it is due at once (the next round polls it), not a
    backoff after the answer; the others are rescheduled from the answer, together."""
    poller = VolumePoller(FakeList(), no_get, Slots(1))
    poller._plan.ready_age = 0.2
    chosen_at, answered = 10.18, 10.2

    def pending(due: float) -> _Pending:
        entry = _Pending(volume(), 10.0, due, 300.0, poller._pending)
        poller._pending[entry.volume_id] = entry
        return entry

    came = pending(10.19)  # chosen to fill the request; its turn came before the answer
    still_to_come = pending(10.25)  # chosen to fill it too; its turn is still to come
    was_due = pending(10.17)  # chosen because it was due
    for entry in (came, still_to_come, was_due):
        seen = volume("creating", entry.volume_id)
        poller._judge(entry, seen, answered, early=entry.due > chosen_at)
    assert came.due == 10.19 <= answered
    backoff = answered + poller._plan.next_delay(answered - 10.0)
    assert still_to_come.due == was_due.due == pytest.approx(backoff)
    assert backoff > 10.2 and all(e.last_state == "creating" for e in (came, was_due))


async def test_mixed_poll_pages_decode_only_settled_volumes(no_sleep: list[float]) -> None:
    """Pages listing volumes creating, available and failed: the results are those of
    the full decoder, and only the settled volumes were ever decoded into models."""
    ids = [str(uuid.uuid4()) for _ in range(6)]
    script = {
        ids[0]: ["available"],
        ids[1]: ["creating", "available"],
        ids[2]: ["creating", "creating", "in_use"],
        ids[3]: ["error"],
        ids[4]: ["creating", "locked"],
        ids[5]: ["resizing", "brand_new_state", "available"],
    }
    listing = JsonList(script)
    poller = VolumePoller(listing, no_get, Slots(2))
    outcomes: dict[str, BlockVolume | ResourceStateError] = {}

    async def one(volume_id: str) -> None:
        try:
            outcomes[volume_id] = await wait_for(poller, volume("creating", volume_id))
        except ResourceStateError as error:
            outcomes[volume_id] = error

    async def body() -> None:
        async with anyio.create_task_group() as tg:
            for volume_id in ids:
                tg.start_soon(one, volume_id)

    await poller.running(body)
    models = [m for content in listing.bodies for m in decode_block_volume_page(content, 200)[0]]
    assert listing.decoded == [
        model if settles(model.status) else VolumeStatus(model.id, model.status) for model in models
    ]
    assert {type(item) for item in listing.decoded} == {BlockVolume, VolumeStatus}
    last_model = {model.id: model for model in models}  # each id's last listing settled it
    for volume_id in (ids[0], ids[1], ids[2], ids[5]):
        assert outcomes[volume_id] == last_model[volume_id]
    for volume_id, state in ((ids[3], "error"), (ids[4], "locked")):
        error = outcomes[volume_id]
        assert isinstance(error, ResourceStateError) and error.state == state
        assert error.resource == last_model[volume_id]


async def test_malformed_settled_volume_fails_its_batch_as_before(no_sleep: list[float]) -> None:
    """A poll listing a settled volume that cannot be decoded fails each volume polled
    with its own error, caused by the ``ResponseDecodeError`` the whole-page decoder
    raises for that body."""
    ids = [str(uuid.uuid4()) for _ in range(3)]
    listing = JsonList({i: ["available"] for i in ids}, size="20")
    poller = VolumePoller(listing, no_get, Slots(1))
    errors: list[Exception] = []

    async def one(volume_id: str) -> None:
        with pytest.raises(WaitTimeoutError) as info:
            await wait_for(poller, volume("creating", volume_id))
        assert info.value.resource_id == volume_id
        assert isinstance(info.value.__cause__, ResponseDecodeError)
        errors.append(info.value.__cause__)

    async def body() -> None:
        async with anyio.create_task_group() as tg:
            for volume_id in ids:
                tg.start_soon(one, volume_id)

    await poller.running(body)
    (content,) = listing.bodies
    with pytest.raises(ResponseDecodeError) as full:
        decode_block_volume_page(content, 200)
    assert len(errors) == 3 and all(error is errors[0] for error in errors)
    assert (errors[0].path, str(errors[0])) == (full.value.path, str(full.value))


async def test_hand_over_gives_a_later_the_poller_finishes(no_sleep: list[float]) -> None:
    """``hand_over``: a volume ready at once comes back as itself; one creating comes
    back as a ``Later`` the poller finishes with the verdict, no task waiting on it."""
    listing = FakeList()
    poller = VolumePoller(listing, no_get, Slots(1))
    ready = volume("available")
    assert poller.hand_over(ready) is ready
    with pytest.raises(ResourceStateError):
        poller.hand_over(volume("error"))
    # Gone as the create answered: the NotFoundError a waiter gives, not a state error.
    deleted = volume("deleted")
    with pytest.raises(NotFoundError) as gone:
        poller.hand_over(deleted)
    assert gone.value.resource_id == deleted.id
    creating = volume()
    heard: list[tuple[object, bool]] = []

    async def body() -> None:
        later = poller.hand_over(creating)
        assert isinstance(later, Later) and not later.done
        later.on_finish(lambda _, outcome, ok: heard.append((outcome, ok)))
        while not later.done:
            await anyio.lowlevel.checkpoint()

    await poller.running(body)
    ((outcome, ok),) = heard
    assert ok and isinstance(outcome, BlockVolume) and outcome.id == creating.id
    assert listing.batches == [[creating.id]]


async def test_abandoned_hand_over_is_no_longer_polled(no_sleep: list[float]) -> None:
    """A ``Later`` abandoned before its poll: the poller drops the volume."""
    listing = FakeList()
    poller = VolumePoller(listing, no_get, Slots(1))
    dropped, kept = volume(), volume()

    async def body() -> None:
        gone = poller.hand_over(dropped)
        assert isinstance(gone, Later)
        gone.abandon()
        assert (await wait_for(poller, kept)).id == kept.id

    await poller.running(body)
    assert listing.batches == [[kept.id]]
