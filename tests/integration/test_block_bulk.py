"""Block bulk calls over loopback TCP: create with and without wait, delete, failures, bounds.

The request counts come from the fake's own record of what it received.
"""

from __future__ import annotations

import collections
import functools
import gc
import types
from collections.abc import Iterator

import anyio
import httpx
import pytest

from scaleway_volumes import (
    APIConnectionError,
    AsyncBlockAPI,
    BlockVolume,
    BlockVolumeSpec,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    QuotaExceededError,
    ResourceStateError,
    WaitTimeoutError,
)
from scaleway_volumes._block_bulk import _BulkCreate
from scaleway_volumes._pipeline import Attempts
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault, ManualClock

from ..waiting import cancel_once, eventually
from .block_helpers import (
    GB,
    MISSING,
    assert_one_per_marker,
    is_marker_lookup,
    make_block,
    query,
    requests,
)

pytestmark = pytest.mark.anyio


def specs(count: int, prefix: str = "bulk") -> list[BlockVolumeSpec]:
    return [BlockVolumeSpec(f"{prefix}-{i}", size=10 * GB) for i in range(count)]


def polls(fake: FakeScaleway) -> list[list[str]]:
    """The volume_ids of each batched poll the fake received."""
    return [query(r)["volume_ids"] for r in requests(fake, "GET") if "volume_ids" in query(r)]


class Outcomes(dict[int, object]):
    """``on_item``: each item's outcome by input index."""

    def __call__(self, index: int, item: object, outcome: object) -> None:
        assert index not in self, f"item {index} reported twice"
        self[index] = outcome


async def all_polled(fake: FakeScaleway, ids: set[str]) -> None:
    """Until the poller has asked about every one of ``ids`` (each was handed to it)."""
    await eventually(lambda: ids <= {i for batch in polls(fake) for i in batch})


async def all_created(fake: FakeScaleway, count: int) -> None:
    """Until the fake holds ``count`` volumes."""
    await eventually(lambda: len(fake.block.volumes()) >= count)


async def test_create_volumes_without_wait(fake: FakeScaleway, server: FakeServer) -> None:
    """One POST per volume, results in input order as answered (creating), no poll."""
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(30), concurrency=8)
    assert result.ok and [v.name for v in result.succeeded] == [f"bulk-{i}" for i in range(30)]
    assert {v.status for v in result.succeeded} == {"creating"}
    assert len(fake.stats.requests) == 30 == len(requests(fake, "POST"))
    assert_one_per_marker(fake.block.volumes())


async def test_wait_polls_many_volumes_per_request(fake: FakeScaleway, server: FakeServer) -> None:
    """wait=True: every volume available, polled in batches of at most 100 ids."""
    count = 250
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(count), concurrency=25, wait=True)
    assert result.ok and {v.status for v in result.succeeded} == {"available"}
    assert [v.name for v in result.succeeded] == [f"bulk-{i}" for i in range(count)]
    batches = polls(fake)
    assert batches and max(len(ids) for ids in batches) <= 100
    assert {v.id for v in result.succeeded} <= {i for ids in batches for i in ids}
    assert len(fake.stats.requests) <= 1.5 * count
    assert all(q["page_size"] == ["100"] for q in map(query, requests(fake, "GET")))


async def test_wait_costs_at_most_one_and_a_half_requests_per_volume(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """c=50, 20 ms per request, 200 ms to become available: polls add under 0.5 per volume."""
    fake.latency = 0.02
    fake.block_create_time = 0.2
    count = 300
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(count), concurrency=50, wait=True)
    assert result.ok and {v.status for v in result.succeeded} == {"available"}
    assert len(requests(fake, "POST")) == count
    assert len(fake.stats.requests) <= 1.5 * count, len(fake.stats.requests)
    assert fake.stats.max_in_flight <= 50


async def test_progress_counts_settled_items_and_failures_are_items(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """error and locked volumes are failed items (ResourceStateError); progress waits for them."""
    clock = ManualClock()
    fake.clock = clock
    fake.block_create_time = 10
    progress: list[tuple[int, int | None]] = []
    result_box: list[object] = []
    async with make_block(fake, server) as api:

        async def run() -> None:
            result_box.append(
                await api.create_volumes(
                    specs(6),
                    concurrency=3,
                    wait=True,
                    on_progress=lambda done, total: progress.append((done, total)),
                )
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await all_created(fake, 6)
            assert progress == [], "created is not settled"
            by_name = {v["name"]: v["id"] for v in fake.block.volumes()}
            fake.block.set_volume_status(by_name["bulk-1"], "error")
            fake.block.set_volume_status(by_name["bulk-4"], "locked")
            clock.advance(10)
    (result,) = result_box
    assert [v.name for v in result.succeeded] == ["bulk-0", "bulk-2", "bulk-3", "bulk-5"]
    assert [(spec.name, type(err)) for spec, err in result.failed] == [
        ("bulk-1", ResourceStateError),
        ("bulk-4", ResourceStateError),
    ]
    assert [err.state for _, err in result.failed] == ["error", "locked"]  # type: ignore[attr-defined]
    assert isinstance(result.failed[0][1].resource, BlockVolume)  # type: ignore[attr-defined]
    assert progress[-1] == (6, 6) and len(progress) == 6


async def test_volume_deleted_while_waiting_is_a_failed_item(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Missing from the batched listing: asked for alone, 404, NotFoundError item."""
    clock = ManualClock()
    fake.clock = clock
    fake.block_create_time = 10
    result_box: list[object] = []
    async with make_block(fake, server) as api:

        async def run() -> None:
            result_box.append(await api.create_volumes(specs(3), wait=True))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await all_created(fake, 3)
            (doomed,) = [v["id"] for v in fake.block.volumes() if v["name"] == "bulk-1"]
            fake.block.set_volume_status(doomed, "deleted")
            clock.advance(10)
    (result,) = result_box
    assert [spec.name for spec, _ in result.failed] == ["bulk-1"]  # type: ignore[attr-defined]
    assert isinstance(result.failed[0][1], NotFoundError)  # type: ignore[attr-defined]
    assert len(result.succeeded) == 2  # type: ignore[attr-defined]


async def test_wait_timeout_is_a_failed_item_with_the_last_state(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """Never available: WaitTimeoutError per item after wait_timeout, still few polls."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(4), wait=True, wait_timeout=3.0)
        with pytest.raises(ValueError, match="wait_timeout"):
            await api.create_volumes(specs(1), wait=True, wait_timeout=0)
    assert result.succeeded == [] and len(result.failed) == 4
    for _, error in result.failed:
        assert isinstance(error, WaitTimeoutError) and error.last_state == "creating"
    # One volume alone: polls at ages growing 1.5x to 2x from 0.05 s, so at most 12
    # within 3 s; four volumes share those requests instead of making four times as many.
    assert len(polls(fake)) <= 16
    assert len(fake.block.volumes()) == 4


async def test_poll_refused_fails_the_items(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A poll answered 403 will not improve: each item polled fails at once, with an
    error naming its volume (which exists), caused by the 403."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    fake.add_fault(Fault("respond", method="GET", status=403, times=None))
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(3), wait=True)
    assert [type(err) for _, err in result.failed] == [WaitTimeoutError] * 3
    assert all(isinstance(err.__cause__, PermissionDeniedError) for _, err in result.failed)
    assert {err.resource_id for _, err in result.failed} == {v["id"] for v in fake.block.volumes()}
    assert sorted(i for ids in polls(fake) for i in ids) == sorted(
        v["id"] for v in fake.block.volumes()
    ), "each volume polled once"


async def test_a_failing_poll_is_tried_again(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A poll that fails after its retries (502s) is made again at the next round."""
    fake.add_fault(Fault("respond", method="GET", status=502, times=4))
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(5), wait=True)
    assert result.ok and {v.status for v in result.succeeded} == {"available"}
    assert fake.stats.statuses[502] == 4  # one poll and its 3 retries, given up, then again
    assert len(polls(fake)) >= 5


async def test_create_failures_with_wait(fake: FakeScaleway, server: FakeServer) -> None:
    """A create refused (quota) is a failed item; the others are waited for."""
    fake.block_quota_volumes = 3
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(5), concurrency=1, wait=True)
    assert [v.name for v in result.succeeded] == ["bulk-0", "bulk-1", "bulk-2"]
    assert [type(err) for _, err in result.failed] == [QuotaExceededError] * 2


async def test_concurrency_bounds_creates_and_polls_together(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """With wait, requests in flight (creates and polls) never exceed concurrency."""
    fake.latency = 0.01
    fake.block_create_time = 0.05
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(60), concurrency=4, wait=True)
    assert result.ok
    assert fake.stats.max_in_flight <= 4
    assert polls(fake)


async def test_lazy_input_is_pulled_a_bounded_way_ahead(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """While volumes are not available, creates stop at a bound proportional to concurrency."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    pulled = 0

    def endless() -> Iterator[BlockVolumeSpec]:
        nonlocal pulled
        while True:
            pulled += 1
            yield BlockVolumeSpec(f"lazy-{pulled}", size=GB)

    async with make_block(fake, server) as api:
        with anyio.move_on_after(1.0):
            await api.create_volumes(endless(), concurrency=2, wait=True)
        assert len(fake.block.volumes()) == 42  # 2 x 21 items under way, all waiting
        assert pulled <= 43


async def test_cancelled_wait_reports_every_created_volume(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Cancelled while waiting: each item reported with its volume; nothing keeps running."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    reported = Outcomes()
    async with make_block(fake, server) as api:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    await api.create_volumes(specs(8), concurrency=4, wait=True, on_item=reported)

                tg.start_soon(run)
                await all_created(fake, 8)
                scope.cancel()
        count = len(fake.stats.requests)
        await anyio.sleep(0.5)  # a stray poller would poll by now
        assert len(fake.stats.requests) == count
        assert (await api.list_volumes()) != []
    stored = {v["id"] for v in fake.block.volumes()}
    assert sorted(reported) == list(range(8))
    assert all(isinstance(v, BlockVolume) for v in reported.values())
    assert {v.id for v in reported.values()} == stored  # type: ignore[attr-defined]


async def test_cancelled_mid_create_finds_the_volume_by_marker(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Cancelled while the create is in flight: the settle looks the marker up."""
    # The answer is held back 5 s (within the read timeout): the create is still in
    # flight at the cancel, however late a busy host lets the test cancel.
    fake.add_fault(Fault("act_then_delay", method="POST", delay=5.0))
    reported = Outcomes()
    async with make_block(fake, server, timeout=httpx.Timeout(10.0, connect=1.0)) as api:
        # Cancelled once made, its answer not sent yet.
        await cancel_once(
            lambda: len(fake.block.volumes()) == 1,
            lambda: api.create_volumes(specs(1), wait=True, on_item=reported),
        )
    (volume,) = fake.block.volumes()
    assert isinstance(reported[0], BlockVolume) and reported[0].id == volume["id"]
    assert sum(1 for r in fake.stats.requests if is_marker_lookup(r)) == 1


async def test_cancelled_mid_create_lookup_takes_bare_429s_as_flow_control(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """The settle's marker lookup meets the gateway's limit like the creates: its bare
    429s are resent at the limiter's pace, not spent as retries (3), so the volume
    is found, not reported "may exist"."""
    fake.add_fault(Fault("act_then_delay", method="POST", delay=5.0))
    fake.add_fault(Fault("respond", method="GET", status=429, body=b"", times=5))
    reported = Outcomes()
    async with make_block(fake, server, timeout=httpx.Timeout(10.0, connect=1.0)) as api:
        await cancel_once(
            lambda: len(fake.block.volumes()) == 1,
            lambda: api.create_volumes(specs(1), on_item=reported),
        )
    (volume,) = fake.block.volumes()
    assert isinstance(reported[0], BlockVolume) and reported[0].id == volume["id"]
    assert sum(1 for r in fake.stats.requests if is_marker_lookup(r)) == 6


async def test_cancelled_with_volumes_waiting_and_one_mid_create(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Cancelled while created volumes wait on the poller and one create hangs: each
    waiting one is reported with its volume, the hanging one is found by its marker."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    fake.add_fault(Fault("act_then_delay", method="POST", body_contains="bulk-5", delay=2.0))
    reported = Outcomes()
    async with make_block(fake, server) as api:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    await api.create_volumes(specs(6), concurrency=2, wait=True, on_item=reported)

                tg.start_soon(run)
                await all_created(fake, 6)
                # Cancel once the five answered creates wait on the poller: an
                # answer still on its way would be one more create in flight.
                waiting = {v["id"] for v in fake.block.volumes() if v["name"] != "bulk-5"}
                await all_polled(fake, waiting)
                scope.cancel()
    stored = {v["id"] for v in fake.block.volumes()}
    assert sorted(reported) == list(range(6))
    assert all(isinstance(v, BlockVolume) for v in reported.values())
    assert {v.id for v in reported.values()} == stored  # type: ignore[attr-defined]
    assert reported[5].name == "bulk-5"  # type: ignore[attr-defined]
    assert sum(1 for r in fake.stats.requests if is_marker_lookup(r)) == 1


async def test_volumes_waiting_keep_no_object_of_their_own_but_a_few(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """While created volumes wait to become available, the call keeps no closure,
    bound method, attempt record or create object per volume (the poller's entry
    alone says what to report if the call is cancelled): each object kept is one
    more for the garbage collector to go through, again and again, while the
    creates run."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    count = 200

    def kept() -> collections.Counter[str]:
        """Partials, attempt records, creates, and bound methods by their function's name."""
        gc.collect()
        return collections.Counter(
            o.__func__.__qualname__ if isinstance(o, types.MethodType) else type(o).__name__
            for o in gc.get_objects()
            if isinstance(o, (functools.partial, types.MethodType, Attempts, _BulkCreate))
        )

    async with make_block(fake, server) as api:
        before = kept()
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: api.create_volumes(specs(count), concurrency=10, wait=True))
                await all_created(fake, count)
                await all_polled(fake, {v["id"] for v in fake.block.volumes()})
                during = kept()
                scope.cancel()
    # The connections' own (a few per connection) are not the volumes'.
    per_volume = {
        kind: n - before[kind] for kind, n in during.items() if n - before[kind] >= count / 2
    }
    assert per_volume == {}


async def test_bad_bulk_input(fake: FakeScaleway, server: FakeServer) -> None:
    """Bad concurrency and a string are refused at once; a non-spec item is a failed item."""
    async with make_block(fake, server) as api:
        for wait in (False, True):
            with pytest.raises(ValueError, match="concurrency"):
                await api.create_volumes(specs(1), concurrency=0, wait=wait)
            with pytest.raises(TypeError):
                await api.create_volumes("spec", wait=wait)  # type: ignore[arg-type]
            result = await api.create_volumes(
                [specs(1)[0], "x"],  # type: ignore[list-item]
                wait=wait,
            )
            assert [type(err) for _, err in result.failed] == [TypeError]
        with pytest.raises(ValueError, match="concurrency"):
            await api.delete_volumes([MISSING], concurrency=-1)
    assert len(requests(fake, "POST")) == 2


async def test_delete_volumes(fake: FakeScaleway, server: FakeServer) -> None:
    """Ids and models; missing is fine by default; in use and bad ids are failed items."""
    kept = fake.block.add_volume("attached")
    fake.block.add_reference(kept["id"])
    doomed = [fake.block.add_volume(f"d{i}")["id"] for i in range(3)]
    async with make_block(fake, server) as api:
        model = await api.get_volume(doomed[0])
        result = await api.delete_volumes(
            [model, doomed[1], doomed[2], MISSING, kept["id"], "bad/id"], concurrency=3
        )
        strict = await api.delete_volumes([MISSING], missing_ok=False)
    assert result.succeeded == [*doomed, MISSING]
    assert [type(err) for _, err in result.failed] == [PreconditionFailedError, ValueError]
    assert [type(err) for _, err in strict.failed] == [NotFoundError]
    assert [v["id"] for v in fake.block.volumes()] == [kept["id"]]


async def test_cancelled_delete_reports_what_is_gone(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A delete cancelled in flight is checked: gone is success, else outcome unknown."""
    gone = fake.block.add_volume("gone")
    kept = fake.block.add_volume("kept")
    # Both answers are held back 5 s (within the read timeout), ``kept`` deleted only
    # then: both deletes are still in flight at the cancel and at the settle's checks,
    # however late a busy host lets the test cancel.
    fake.add_fault(Fault("act_then_delay", method="DELETE", path=gone["id"], delay=5.0))
    fake.add_fault(Fault("delay", method="DELETE", path=kept["id"], delay=5.0))
    reported = Outcomes()
    async with make_block(fake, server, timeout=httpx.Timeout(10.0, connect=1.0)) as api:
        # Cancelled once the fake has both deletes, and has acted on ``gone``'s.
        await cancel_once(
            lambda: (
                len(requests(fake, "DELETE")) == 2
                and gone["id"] not in {v["id"] for v in fake.block.volumes()}
            ),
            lambda: api.delete_volumes([gone["id"], kept["id"]], on_item=reported),
        )
    assert reported[0] == gone["id"]
    assert isinstance(reported[1], APIConnectionError) and reported[1].outcome_unknown


@pytest.mark.anyio
async def test_cancelled_delete_check_takes_bare_429s_as_flow_control(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """The settle's check of a cancelled delete meets the gateway's limit like the
    DELETEs: its bare 429s are resent at the limiter's pace, not spent as retries (3),
    so a delete that landed is reported done, not "may still take effect"."""
    gone = fake.block.add_volume("gone")
    fake.add_fault(Fault("act_then_delay", method="DELETE", path=gone["id"], delay=5.0))
    fake.add_fault(Fault("respond", method="GET", status=429, body=b"", times=5))
    reported = Outcomes()
    async with make_block(fake, server, timeout=httpx.Timeout(10.0, connect=1.0)) as api:
        await cancel_once(
            lambda: fake.block.volumes() == [],
            lambda: api.delete_volumes([gone["id"]], on_item=reported),
        )
    assert reported == {0: gone["id"]}
    assert len(requests(fake, "GET")) == 6


@pytest.mark.anyio
async def test_cancelled_delete_of_a_volume_now_deleting_is_done(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The API took the DELETE (the volume is ``deleting``, as Block volumes stay a
    while), then the call was cancelled before the answer: reported deleted."""
    fake.block_delete_time = 60.0
    going = fake.block.add_volume("going")
    fake.add_fault(Fault("act_then_delay", method="DELETE", path=going["id"], delay=5.0))
    reported = Outcomes()
    async with make_block(fake, server, timeout=httpx.Timeout(10.0, connect=1.0)) as api:
        await cancel_once(
            lambda: [v["status"] for v in fake.block.volumes()] == ["deleting"],
            lambda: api.delete_volumes([going["id"]], on_item=reported),
        )
    assert reported == {0: going["id"]}


def test_api_type_is_exported() -> None:
    """AsyncBlockAPI is the public name of the Block client."""
    assert AsyncBlockAPI.__module__ == "scaleway_volumes._block"
