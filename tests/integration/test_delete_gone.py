"""A DELETE that finds its resource already on its way out (409 ``transient_state`` in
``deleting``) is done as a 404 would be, with no wait; a cancelled bulk delete whose
check finds the resource gone says so only when that is this call's doing.

The fake runs in process; every wait of the library moves the fake's clock by its
length (``Waits``), so a Block deletion lasting 300 s stays ``deleting`` throughout
unless the library waits that long.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

import scaleway_volumes
from scaleway_volumes import APIConnectionError, TransientStateError
from scaleway_volumes.testing import FakeScaleway, Fault, ManualClock

from .block_helpers import MISSING
from .delete_helpers import Gate, Outcomes, Waits, api_of, block_status, client, volume_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> ManualClock:
    """The fake's clock."""
    return ManualClock()


@pytest.fixture
def waits(clock: ManualClock) -> Iterator[Waits]:
    """The library's waits, taking no time but moving ``clock``."""
    record = Waits(clock)
    scaleway_volumes.set_testing(True, record=record)
    yield record
    scaleway_volumes.set_testing(False)


def deletes(fake: FakeScaleway) -> int:
    """How many DELETEs the fake received."""
    return sum(r.method == "DELETE" for r in fake.stats.requests)


async def test_bulk_delete_accepted_then_dropped_is_deleted(
    clock: ManualClock, waits: Waits
) -> None:
    """The API took a DELETE and the answer was lost: its resend meets 409 ``deleting``,
    which is the first attempt's doing. Not waited on (the volume leaves ``deleting``
    only by vanishing, 300 s later), not a failed item."""
    fake = FakeScaleway(clock=clock, block_delete_time=300)
    ids = [fake.block.add_volume(f"v{i}")["id"] for i in range(3)]
    fake.add_fault(Fault("act_then_drop", method="DELETE", path="^/block/", times=1))
    async with client(fake) as http:
        result = await api_of("block", fake, http).delete_volumes(ids, missing_ok=False)
    assert (result.succeeded, result.failed) == (ids, [])
    assert [block_status(fake, i) for i in ids] == ["deleting"] * 3
    assert deletes(fake) == 4, "one resend, after the drop"
    assert len(waits) == 1, "the resend's backoff, no wait for the volume to settle"


@pytest.mark.parametrize("kind", ["volume", "snapshot"])
async def test_single_delete_accepted_then_502_is_deleted(
    clock: ManualClock, waits: Waits, kind: str
) -> None:
    """``delete_volume``/``delete_snapshot`` (``missing_ok=False``): a 502 after the API
    acted, then 409 ``deleting`` to the retry: it returns, at once."""
    fake = FakeScaleway(clock=clock, block_delete_time=300)
    volume = fake.block.add_volume("v")["id"]
    target = volume if kind == "volume" else fake.block.add_snapshot(volume, "s")["id"]
    fake.add_fault(Fault("act_then_error", method="DELETE", path="^/block/", status=502))
    async with client(fake) as http:
        api = api_of("block", fake, http)
        if kind == "volume":
            await api.delete_volume(target)
        else:
            await api.delete_snapshot(target)
    assert deletes(fake) == 2
    assert fake.stats.statuses[409] == 1
    assert len(waits) == 1


@pytest.mark.parametrize("missing_ok", [True, False])
async def test_second_teardown_pass_over_deleting_volumes(
    clock: ManualClock, waits: Waits, missing_ok: bool
) -> None:
    """A second pass over volumes the first left ``deleting``: with ``missing_ok`` they
    are deleted (one DELETE each, no wait). Without, a volume this call did not delete
    is somebody else's deletion: ``TransientStateError`` at once, not waited for."""
    fake = FakeScaleway(clock=clock, block_delete_time=300)
    volume = fake.block.add_volume("v")["id"]
    async with client(fake) as http:
        api = api_of("block", fake, http)
        await api.delete_volume(volume)  # accepted: ``deleting`` for 300 s
        before = deletes(fake)
        if missing_ok:
            result = await api.delete_volumes([volume])
            assert (result.succeeded, result.failed) == ([volume], [])
            assert deletes(fake) - before == 1
            assert waits == []
            await api.delete_volume(volume, missing_ok=True)
            assert deletes(fake) - before == 2
            assert waits == []
            return
        with pytest.raises(TransientStateError) as info:
            await api.delete_volume(volume)
        assert info.value.current_state == "deleting"
        result = await api.delete_volumes([volume], missing_ok=False)
        assert [type(error) for _, error in result.failed] == [TransientStateError]
    assert deletes(fake) - before == 2
    assert waits == []


@pytest.mark.parametrize("kind", ["block", "instance"])
async def test_cancelled_strict_delete_of_a_missing_id_is_unknown(kind: str) -> None:
    """``missing_ok=False``, an id that never existed, the call cancelled while its
    DELETE is in flight: the check's 404 cannot tell this call's deletion from none,
    so the item is an error with ``outcome_unknown``, not deleted."""
    fake = FakeScaleway()
    gate = Gate(fake, act=False)  # the DELETE never reaches the fake
    reported = Outcomes()
    async with client(fake, gate) as http:
        api = api_of(kind, fake, http)
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    lambda: api.delete_volumes([MISSING], missing_ok=False, on_item=reported)
                )
                await gate.arrived()
                scope.cancel()
    error = reported[0]
    assert isinstance(error, APIConnectionError) and error.outcome_unknown, reported
    assert "whether this call deleted it is unknown" in str(error)


@pytest.mark.parametrize("kind", ["block", "instance"])
async def test_cancelled_lenient_delete_of_a_missing_id_is_deleted(kind: str) -> None:
    """With ``missing_ok`` (the default) the same 404 is success, as before."""
    fake = FakeScaleway()
    gate = Gate(fake, act=False)
    reported = Outcomes()
    async with client(fake, gate) as http:
        api = api_of(kind, fake, http)
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: api.delete_volumes([MISSING], on_item=reported))
                await gate.arrived()
                scope.cancel()
    assert reported == {0: MISSING}


async def test_cancelled_strict_delete_of_a_duplicate_already_deleted_is_deleted() -> None:
    """``missing_ok=False``: an id given twice, cancelled while the second DELETE is in
    flight after the first deleted it: this call deleted it, so both are success."""
    fake = FakeScaleway()
    volume = volume_of("block", fake)
    gate = Gate(fake, act=False, skip=1)  # the first DELETE goes through, the second is held
    reported = Outcomes()
    async with client(fake, gate) as http:
        api = api_of("block", fake, http)
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    lambda: api.delete_volumes(
                        [volume, volume], concurrency=1, missing_ok=False, on_item=reported
                    )
                )
                await gate.arrived()
                scope.cancel()
    assert reported == {0: volume, 1: volume}


async def test_cancelled_strict_delete_of_a_volume_someone_else_is_deleting(
    clock: ManualClock, waits: Waits
) -> None:
    """``missing_ok=False`` over a volume someone else already set ``deleting``: its
    DELETE's answer (409 ``deleting``) is held and the call cancelled. The check finds it
    ``deleting``, which may be this call's doing or the other's: unknown, not deleted."""
    fake = FakeScaleway(clock=clock, block_delete_time=300)
    volume = fake.block.add_volume("v")["id"]
    async with client(fake) as http:
        await api_of("block", fake, http).delete_volume(volume)  # someone else's
    gate = Gate(fake)
    reported = Outcomes()
    async with client(fake, gate) as http:
        api = api_of("block", fake, http)
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    lambda: api.delete_volumes([volume], missing_ok=False, on_item=reported)
                )
                await gate.arrived()
                scope.cancel()
    assert fake.stats.statuses[409] == 1
    outcome = reported[0]
    assert isinstance(outcome, APIConnectionError) and outcome.outcome_unknown, outcome
    assert "deleting" in str(outcome)
