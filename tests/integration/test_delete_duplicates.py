"""An id given twice to one ``delete_volumes(..., missing_ok=False)`` is deleted by one
item; the other finds it gone (404, or a Block volume's 409 ``deleting``) and, since
this call deleted it, counts it as deleted too. An id nobody deleted stays a failure.

The fake runs in process; ``Gate`` holds the first DELETE's answer so that the
duplicate's answer comes while the first is still in flight.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import scaleway_volumes
from scaleway_volumes import APIConnectionError, BulkResult, NotFoundError, RetryPolicy
from scaleway_volumes.testing import FakeScaleway, ManualClock

from ..waiting import eventually
from .block_helpers import MISSING
from .delete_helpers import ActThenDrop, Gate, Waits, api_of, block_status, client, volume_of

pytestmark = pytest.mark.anyio

KINDS = ["block", "instance"]


@pytest.fixture
def waits() -> Iterator[Waits]:
    """The library's waits, taking no time."""
    record = Waits()
    scaleway_volumes.set_testing(True, record=record)
    yield record
    scaleway_volumes.set_testing(False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("concurrency", [1, 2])
async def test_an_id_given_twice_is_deleted_twice(
    waits: Waits, kind: str, concurrency: int
) -> None:
    """``[v, v]`` with ``missing_ok=False``: one DELETE deleted it, both items succeed."""
    fake = FakeScaleway()
    volume = volume_of(kind, fake)
    async with client(fake) as http:
        result = await api_of(kind, fake, http).delete_volumes(
            [volume, volume], concurrency=concurrency, missing_ok=False
        )
    assert (result.succeeded, result.failed) == ([volume, volume], [])
    result.raise_for_errors()


async def test_a_duplicate_answered_before_the_first_waits_for_it(waits: Waits) -> None:
    """The duplicate's 404 comes while the first DELETE (which deleted the volume) is
    still unanswered: the duplicate waits for the first's outcome, then succeeds."""
    fake = FakeScaleway()
    volume = volume_of("block", fake)
    gate = Gate(fake)  # the fake deletes it; its 204 is held
    async with client(fake, gate) as http:
        api = api_of("block", fake, http)
        outcome: list[BulkResult[Any, str]] = []

        async def run() -> None:
            outcome.append(
                await api.delete_volumes([volume, volume], concurrency=2, missing_ok=False)
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await gate.arrived()
            await eventually(lambda: fake.stats.statuses[404] == 1)  # the duplicate's
            assert outcome == [], "the duplicate waits for the first item"
            gate.release()
    result = outcome[0]
    assert (result.succeeded, result.failed) == ([volume, volume], [])


async def test_a_duplicate_meeting_deleting_waits_for_the_first(waits: Waits) -> None:
    """A Block volume stays ``deleting``: the duplicate's DELETE meets 409
    ``transient_state`` while the first is unanswered; it is not waited out (no settle
    wait) but waits for the first item, and once that one succeeded, is done."""
    fake = FakeScaleway(clock=ManualClock(), block_delete_time=60)
    volume = volume_of("block", fake)
    gate = Gate(fake)
    async with client(fake, gate) as http:
        api = api_of("block", fake, http)
        outcome: list[BulkResult[Any, str]] = []

        async def run() -> None:
            outcome.append(
                await api.delete_volumes([volume, volume], concurrency=2, missing_ok=False)
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await gate.arrived()
            await eventually(lambda: fake.stats.statuses[409] == 1)  # the duplicate's
            assert outcome == [], "the duplicate waits for the first item"
            gate.release()
    result = outcome[0]
    assert (result.succeeded, result.failed) == ([volume, volume], [])
    assert block_status(fake, volume) == "deleting"
    assert waits == []


@pytest.mark.parametrize("kind", ["block", "instance"])
async def test_a_missing_id_given_twice_fails_twice(waits: Waits, kind: str) -> None:
    """Nobody deleted it: both items are ``NotFoundError``, even when the second
    item's 404 comes first (it waits for the first's, which is a 404 too)."""
    fake = FakeScaleway()
    gate = Gate(fake)
    async with client(fake, gate) as http:
        api = api_of(kind, fake, http)
        outcome: list[BulkResult[Any, str]] = []

        async def run() -> None:
            outcome.append(
                await api.delete_volumes([MISSING, MISSING], concurrency=2, missing_ok=False)
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await gate.arrived()
            await eventually(lambda: fake.stats.statuses[404] == 2)
            gate.release()
    result = outcome[0]
    assert result.succeeded == []
    assert [type(error) for _, error in result.failed] == [NotFoundError] * 2


@pytest.mark.parametrize("kind", ["block", "instance"])
async def test_a_duplicate_404_after_the_first_acted_then_failed_is_unknown(
    waits: Waits, kind: str
) -> None:
    """The first copy's DELETE deleted it but its answer was lost (no retries left):
    the second copy's 404 may be that DELETE's doing, so it is no ``NotFoundError``
    ("never existed") but an error whose outcome is unknown."""
    fake = FakeScaleway()
    volume = volume_of(kind, fake)
    gate = ActThenDrop(fake)
    async with client(fake, gate) as http:
        api = api_of(kind, fake, http, retry=RetryPolicy(max_retries=0))
        outcome: list[BulkResult[Any, str]] = []

        async def run() -> None:
            outcome.append(
                await api.delete_volumes([volume, volume], concurrency=2, missing_ok=False)
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await gate.arrived()
            await eventually(lambda: fake.stats.statuses[404] == 1)  # the second copy's
            gate.release()
    result = outcome[0]
    assert result.succeeded == []
    errors = [error for _, error in result.failed]
    assert [type(error) for error in errors] == [APIConnectionError, APIConnectionError]
    assert all(error.outcome_unknown for error in errors), errors
    assert "may have deleted it" in str(errors[1])
