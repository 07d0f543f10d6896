"""Bulk items cancelled before their request left: reported as not done, never looked up.

A bulk call cancelled while some of its items still wait for the rate limiter
(or for a slot) must not report them as "may exist" (``outcome_unknown``) nor
spend a lookup each on finding out: nothing of them reached the API.
"""

from __future__ import annotations

import anyio
import pytest

from scaleway_volumes import APIConnectionError, BlockVolumeSpec, VolumeSpec
from scaleway_volumes.testing import FakeScaleway, FakeServer

from ..waiting import cancel_once
from .block_helpers import make_block
from .conftest import ApiFactory

GB = 1_000_000_000


class Outcomes(dict[int, object]):
    """An ``on_item`` callback that keeps each item's outcome by input index."""

    def __call__(self, index: int, item: object, outcome: object) -> None:
        assert index not in self, f"item {index} reported twice"
        self[index] = outcome


class LetThrough:
    """A rate limiter that lets ``count`` requests through, then holds every other
    one until it is cancelled."""

    def __init__(self, count: int) -> None:
        self.left = count

    async def acquire(self) -> object:
        if not self.left:
            await anyio.sleep_forever()
        self.left -= 1
        return None

    def release(self, permit: object, status: int | None) -> None:
        pass


def assert_not_done(outcome: object) -> None:
    assert isinstance(outcome, APIConnectionError), outcome
    assert not outcome.outcome_unknown and outcome.marker_tag is None
    assert "before its request was sent" in str(outcome)


@pytest.mark.anyio
async def test_creates_waiting_for_the_limiter_are_reported_as_not_done(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    reported = Outcomes()
    specs = [VolumeSpec(name=f"unsent-{i}", size=10 * GB) for i in range(4)]
    async with api(rate_limiter=LetThrough(1)) as client:
        await cancel_once(
            lambda: 0 in reported,
            lambda: client.create_volumes(specs, concurrency=4, on_item=reported),
        )
    assert sorted(reported) == [0, 1, 2, 3]
    assert reported[0].name == "unsent-0"  # type: ignore[attr-defined]
    for index in (1, 2, 3):
        assert_not_done(reported[index])
    assert [r.method for r in fake.stats.requests] == ["POST"]  # no lookup
    assert [v["name"] for v in fake.volumes] == ["unsent-0"]


@pytest.mark.anyio
async def test_block_creates_waiting_for_the_limiter_are_reported_as_not_done(
    fake: FakeScaleway, server: FakeServer
) -> None:
    reported = Outcomes()
    specs = [BlockVolumeSpec(name=f"unsent-{i}", size=10 * GB) for i in range(4)]
    async with make_block(fake, server, rate_limiter=LetThrough(1)) as api:
        await cancel_once(
            lambda: 0 in reported,
            lambda: api.create_volumes(specs, concurrency=4, on_item=reported),
        )
    assert sorted(reported) == [0, 1, 2, 3]
    for index in (1, 2, 3):
        assert_not_done(reported[index])
    assert [r.method for r in fake.stats.requests] == ["POST"]  # no lookup
    assert [v["name"] for v in fake.block.volumes()] == ["unsent-0"]


@pytest.mark.anyio
async def test_deletes_waiting_for_the_limiter_leave_their_volumes_and_say_so(
    fake: FakeScaleway, server: FakeServer
) -> None:
    volumes = [fake.block.add_volume(f"kept-{i}") for i in range(4)]
    reported = Outcomes()
    async with make_block(fake, server, rate_limiter=LetThrough(1)) as api:
        await cancel_once(
            lambda: 0 in reported,
            lambda: api.delete_volumes([v["id"] for v in volumes], on_item=reported),
        )
    assert reported[0] == volumes[0]["id"]
    for index in (1, 2, 3):
        assert_not_done(reported[index])
    assert [r.method for r in fake.stats.requests] == ["DELETE"]  # no check
    assert {v["id"] for v in fake.block.volumes()} == {v["id"] for v in volumes[1:]}
