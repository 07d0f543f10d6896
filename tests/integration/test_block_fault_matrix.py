"""No duplicate Block volume or snapshot, whatever the network does, over loopback TCP.

Each scenario runs for volume creates and for snapshot creates, on asyncio and
trio, and checks the server's truth: how many resources exist, that each
carries its own marker, how many POSTs and marker lookups were sent.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from scaleway_volumes import (
    APIConnectionError,
    APITimeoutError,
    AsyncBlockAPI,
    ResponseDecodeError,
    RetryPolicy,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

from ..waiting import eventually
from .block_helpers import (
    GB,
    MARKER,
    assert_one_per_marker,
    is_marker_lookup,
    make_block,
    requests,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

KINDS = ["volumes", "snapshots"]


class Target:
    """One kind of create: how to make it, and what the fake holds of that kind."""

    def __init__(self, fake: FakeScaleway, kind: str) -> None:
        self.fake = fake
        self.kind = kind
        self.source = fake.block.add_volume("source", 10 * GB)["id"] if kind == "snapshots" else ""
        self.path = f"/{kind}$"

    async def create(self, api: AsyncBlockAPI, name: str = "data") -> Any:
        if self.kind == "volumes":
            return await api.create_volume(name=name, size=10 * GB)
        return await api.create_snapshot(self.source, name=name)

    async def listed(self, api: AsyncBlockAPI, tag: str) -> list[Any]:
        if self.kind == "volumes":
            return await api.list_volumes(tags=[tag])
        return await api.list_snapshots(tags=[tag])

    def stored(self) -> list[dict[str, Any]]:
        if self.kind == "volumes":
            return [v for v in self.fake.block.volumes() if v["id"] != self.source]
        return self.fake.block.snapshots()

    def add_older(self, name: str) -> str:
        """An older resource with the same name, made without a marker."""
        if self.kind == "volumes":
            return str(self.fake.block.add_volume(name)["id"])
        return str(self.fake.block.add_snapshot(self.source, name)["id"])

    def posts(self) -> int:
        return len(requests(self.fake, "POST", self.kind))

    def lookups(self) -> int:
        return sum(1 for r in requests(self.fake, "GET", self.kind) if is_marker_lookup(r))


@pytest.fixture(params=KINDS)
def target(fake: FakeScaleway, request: pytest.FixtureRequest) -> Target:
    """Volume creates, then snapshot creates."""
    return Target(fake, request.param)


async def test_drop_before_acting_is_resent_once(
    fake: FakeScaleway, server: FakeServer, target: Target
) -> None:
    """Dropped before the API acted: the marker lookup finds nothing; one resend, one made."""
    fake.add_fault(Fault("drop", method="POST", path=target.path))
    async with make_block(fake, server) as api:
        made = await target.create(api)
    assert [r["id"] for r in target.stored()] == [made.id]
    assert (target.posts(), target.lookups()) == (2, 1)
    assert_one_per_marker(target.stored())


@pytest.mark.parametrize("action", ["act_then_drop", "act_then_error", "truncate"])
async def test_acted_then_failed_returns_what_was_made(
    fake: FakeScaleway, server: FakeServer, target: Target, action: str
) -> None:
    """Made, then the answer was lost (drop, 502, truncated body): found, never resent."""
    fake.add_fault(Fault(action, method="POST", path=target.path, status=502))
    async with make_block(fake, server) as api:
        made = await target.create(api)
    assert [r["id"] for r in target.stored()] == [made.id]
    assert target.posts() == 1 and target.lookups() == 1
    assert_one_per_marker(target.stored())


async def test_older_namesake_is_never_taken_for_ours(
    fake: FakeScaleway, server: FakeServer, target: Target
) -> None:
    """With an older 'data' present, a 502 after acting returns the new one."""
    older = target.add_older("data")
    fake.add_fault(Fault("act_then_error", method="POST", path=target.path, status=502))
    async with make_block(fake, server) as api:
        made = await target.create(api)
    assert made.id != older
    assert {r["id"] for r in target.stored()} == {older, made.id}
    assert target.posts() == 1


async def test_read_timeout_after_acting_is_found(
    fake: FakeScaleway, server: FakeServer, target: Target
) -> None:
    """Made, then the answer came too late for the read timeout: the lookup finds it."""
    fake.add_fault(Fault("act_then_delay", method="POST", path=target.path, delay=0.6))
    async with make_block(fake, server, timeout=httpx.Timeout(0.3, connect=1.0)) as api:
        made = await target.create(api)
    assert [r["id"] for r in target.stored()] == [made.id]
    assert target.posts() == 1


async def test_read_timeout_landing_later_is_outcome_unknown(
    fake: FakeScaleway, server: FakeServer, target: Target
) -> None:
    """The create lands after we gave up: 'unknown' with the marker, never resent."""
    # It lands 2 s after it arrives, long after the 0.3 s read timeout and the
    # lookup that follows it, however late a busy host runs that lookup.
    fake.add_fault(Fault("delay", method="POST", path=target.path, delay=2.0))
    async with make_block(fake, server, timeout=httpx.Timeout(0.3, connect=1.0)) as api:
        with pytest.raises(APITimeoutError) as info:
            await target.create(api)
        error = info.value
        assert error.outcome_unknown and error.marker_tag and error.marker_tag.startswith(MARKER)
        await eventually(target.stored)
        late = await target.listed(api, error.marker_tag)
    assert [r.id for r in late] == [r["id"] for r in target.stored()]
    assert target.posts() == 1


async def test_malformed_answer_is_recovered_by_lookup(
    fake: FakeScaleway, server: FakeServer, target: Target
) -> None:
    """A 200 whose body is not JSON: it was made, so it is found, not reported lost."""
    fake.add_fault(Fault("malformed", method="POST", path=target.path, body=b"<html>"))
    async with make_block(fake, server) as api:
        made = await target.create(api)
    assert [r["id"] for r in target.stored()] == [made.id]
    assert target.posts() == 1 and target.lookups() == 1


async def test_malformed_answer_and_failed_lookup_is_outcome_unknown(
    fake: FakeScaleway, server: FakeServer, target: Target
) -> None:
    """Made, answered with garbage, and the lookup fails: unknown, with the tag to look for."""
    fake.add_fault(Fault("malformed", method="POST", path=target.path, body=b"<html>"))
    fake.add_fault(Fault("respond", method="GET", path=target.path, status=500, times=None))
    async with make_block(fake, server, retry=RetryPolicy(max_retries=0)) as api:
        with pytest.raises(ResponseDecodeError) as info:
            await target.create(api)
        error = info.value
        assert error.outcome_unknown and error.marker_tag and error.marker_tag.startswith(MARKER)
        fake.clear_faults()
        found = await target.listed(api, error.marker_tag)
    assert [r.id for r in found] == [r["id"] for r in target.stored()]
    assert target.posts() == 1


async def test_503_is_retried_without_duplicate(
    fake: FakeScaleway, server: FakeServer, target: Target
) -> None:
    """A 503 means not acted: the create is resent, one resource."""
    fake.add_fault(Fault("respond", method="POST", path=target.path, status=503, times=2))
    async with make_block(fake, server) as api:
        await target.create(api)
    assert len(target.stored()) == 1 and target.posts() == 3 and target.lookups() == 0


async def test_without_marker_an_ambiguous_failure_is_unknown(
    fake: FakeScaleway, server: FakeServer, target: Target
) -> None:
    """create_marker=False: nothing to look up, so 'unknown' instead of a resend."""
    fake.add_fault(Fault("act_then_drop", method="POST", path=target.path))
    async with make_block(fake, server, create_marker=False) as api:
        with pytest.raises(APIConnectionError) as info:
            await target.create(api)
    assert info.value.outcome_unknown and info.value.marker_tag is None
    assert len(target.stored()) == 1 and target.posts() == 1 and target.lookups() == 0
    assert not any(t.startswith(MARKER) for r in target.stored() for t in r["tags"])
