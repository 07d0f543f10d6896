"""``run_bulk`` with jobs that hand their item over (``Later``), and ``Later`` itself; no HTTP."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest

from scaleway_volumes import APIConnectionError, NotFoundError
from scaleway_volumes._bulk import Prepared, run_bulk
from scaleway_volumes._later import Later
from scaleway_volumes._pipeline import Attempts

pytestmark = pytest.mark.anyio


class Taker:
    """Takes items over: each job returns a ``Later`` the test finishes when it likes."""

    def __init__(self) -> None:
        self.taken: dict[int, Later] = {}
        self.settled: list[int] = []

    def prepare(self, item: int) -> Prepared:
        async def job() -> Later:
            await anyio.lowlevel.checkpoint()
            later = Later()
            self.taken[item] = later
            return later

        async def settle() -> str:
            self.settled.append(item)
            return f"settled-{item}"

        return job(), settle, Attempts()


class Reports(dict[int, Any]):
    """``on_item``: each item's outcome by index; an item reported twice fails the test."""

    def __call__(self, index: int, item: object, outcome: object) -> None:
        assert index not in self, f"item {index} reported twice"
        self[index] = outcome


# -- Later --------------------------------------------------------------------------------


def test_later_calls_its_listener_once_with_the_first_outcome() -> None:
    """The listener hears the first ``finish``, once, with the key it was given with;
    later calls are ignored."""
    heard: list[tuple[object, object, bool]] = []
    later = Later()
    later.on_finish(lambda key, outcome, ok: heard.append((key, outcome, ok)), 7)
    assert not later.done
    later.finish("a")
    later.finish("b", False)
    assert heard == [(7, "a", True)] and later.done


def test_later_finished_before_anybody_listens_is_heard_at_once() -> None:
    """Finished first, listened to after: the listener is called as it is given."""
    heard: list[tuple[object, object, bool]] = []
    later = Later()
    error = NotFoundError("gone", status_code=404)
    later.finish(error, False)
    later.on_finish(lambda key, outcome, ok: heard.append((key, outcome, ok)), "k")
    assert heard == [("k", error, False)]


def test_abandoned_later_calls_nobody() -> None:
    """Abandoned: a ``finish`` after it reaches no listener."""
    heard: list[object] = []
    later = Later()
    later.on_finish(lambda _, outcome, ok: heard.append(outcome))
    later.abandon()
    later.finish("late")
    assert heard == [] and later.done


def test_later_takes_one_listener() -> None:
    """A second listener is a bug, refused at once."""
    later = Later()
    later.on_finish(lambda _, outcome, ok: None)
    with pytest.raises(RuntimeError, match="one listener"):
        later.on_finish(lambda _, outcome, ok: None)


# -- run_bulk with hand-offs --------------------------------------------------------------


async def test_handed_items_settle_when_finished_in_input_order() -> None:
    """Finished out of order: progress and ``on_item`` fire as each finishes, the result
    keeps input order, failures are failed items, and the call returns after the last."""
    taker = Taker()
    reports = Reports()
    progress: list[tuple[int, int | None]] = []
    box: list[Any] = []

    async def run() -> None:
        box.append(
            await run_bulk(
                taker.prepare,
                range(5),
                concurrency=2,
                on_item=reports,
                on_progress=lambda done, total: progress.append((done, total)),
                max_under_way=5,
            )
        )

    error = NotFoundError("gone", status_code=404)
    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await anyio.wait_all_tasks_blocked()
        assert sorted(taker.taken) == [0, 1, 2, 3, 4]  # two workers took all five
        assert reports == {} and progress == []
        for item in (3, 0, 4, 1):
            taker.taken[item].finish(f"out-{item}")
        taker.taken[2].finish(error, False)
        await anyio.wait_all_tasks_blocked()
    (result,) = box
    assert list(reports) == [3, 0, 4, 1, 2]
    assert progress == [(done, 5) for done in range(1, 6)]
    assert result.succeeded == ["out-0", "out-1", "out-3", "out-4"]
    assert result.failed == [(2, error)]


async def test_max_under_way_bounds_items_taken_and_not_settled() -> None:
    """With 3 items under way at most, the fourth is pulled only once one settles."""
    taker = Taker()
    pulled: list[int] = []

    def items() -> Any:
        for i in range(6):
            pulled.append(i)
            yield i

    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: run_bulk(taker.prepare, items(), concurrency=2, max_under_way=3))
        await anyio.wait_all_tasks_blocked()
        assert pulled == [0, 1, 2]
        taker.taken[1].finish("one")
        await anyio.wait_all_tasks_blocked()
        assert pulled == [0, 1, 2, 3]
        for later in list(taker.taken.values()):
            later.finish("x")
        await anyio.wait_all_tasks_blocked()
        for later in list(taker.taken.values()):
            later.finish("x")
    assert pulled == list(range(6))


async def test_bad_max_under_way_is_refused() -> None:
    """``max_under_way`` must be an int of at least 1."""
    with pytest.raises(ValueError, match="max_under_way"):
        await run_bulk(Taker().prepare, [1], concurrency=1, max_under_way=0)


async def test_cancelled_call_settles_the_items_handed_over() -> None:
    """Cancelled while items wait on their taker: each is settled and reported once,
    the Laters are abandoned (a finish after it reports nothing), then it propagates."""
    taker = Taker()
    reports = Reports()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: run_bulk(
                    taker.prepare, range(4), concurrency=2, on_item=reports, max_under_way=4
                )
            )
            await anyio.wait_all_tasks_blocked()
            taker.taken[1].finish("done-1")
            scope.cancel()
    assert scope.cancelled_caught
    assert reports == {0: "settled-0", 1: "done-1", 2: "settled-2", 3: "settled-3"}
    assert sorted(taker.settled) == [0, 2, 3]
    taker.taken[0].finish("too late")
    assert reports[0] == "settled-0"


class Knowing(Later):
    """A taker's Later that knows what its item did, should the call be cancelled."""

    self_settling = True

    def __init__(self, item: int) -> None:
        super().__init__()
        self.item = item

    def settled(self) -> str:
        return f"known-{self.item}"


async def test_cancelled_call_reports_what_self_settling_laters_know() -> None:
    """Cancelled while items wait on self-settling Laters: each is reported with what
    its Later knows, once, and no settle function runs for it."""
    settled: list[int] = []

    def prepare(item: int) -> Prepared:
        async def job() -> Later:
            return Knowing(item)

        async def settle() -> str:
            settled.append(item)
            return f"settled-{item}"

        return job(), settle, Attempts()

    reports = Reports()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: run_bulk(prepare, range(3), concurrency=3, on_item=reports))
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
    assert reports == {0: "known-0", 1: "known-1", 2: "known-2"}
    assert settled == []


def test_a_plain_later_does_not_settle_itself() -> None:
    """Only a self-settling Later tells what its item did."""
    assert not Later.self_settling
    with pytest.raises(NotImplementedError):
        Later().settled()


async def test_handed_item_whose_settle_fails_is_outcome_unknown() -> None:
    """A cancelled hand-off whose settle raises a library error: outcome unknown, as
    for an item cancelled in its worker."""
    lookup_failed = NotFoundError("lookup failed", status_code=404)

    def prepare(item: int) -> Prepared:
        async def job() -> Later:
            return Later()

        async def settle() -> str:
            raise lookup_failed

        return job(), settle, Attempts()

    reports = Reports()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: run_bulk(prepare, [0], concurrency=1, on_item=reports))
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
    outcome = reports[0]
    assert isinstance(outcome, APIConnectionError) and outcome.outcome_unknown
    assert outcome.__cause__ is lookup_failed


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_generator_of_a_few_items_starts_no_idle_workers() -> None:
    """An input of unknown length at a huge concurrency: a worker per item (and one
    that finds the end), not one per slot."""
    import asyncio

    loop = asyncio.get_running_loop()
    created = 0
    default = loop.get_task_factory()

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        nonlocal created
        created += 1
        if default is not None:
            return default(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    def prepare(item: int) -> Prepared:
        async def job() -> int:
            await anyio.lowlevel.checkpoint()
            return item

        async def settle() -> int:
            return item

        return job(), settle, Attempts()

    loop.set_task_factory(counting)
    try:
        result = await run_bulk(prepare, (i for i in range(3)), concurrency=10_000)
    finally:
        loop.set_task_factory(default)
    assert result.succeeded == [0, 1, 2]
    assert created <= 4
