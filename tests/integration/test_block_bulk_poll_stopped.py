"""``create_volumes(wait=True)``: a poll's error that no other poll mends ends the wait of
the volumes it covered, and each fails with an error naming its volume, which exists."""

from __future__ import annotations

import pytest

from scaleway_volumes import (
    AuthenticationError,
    PermissionDeniedError,
    ResponseDecodeError,
    WaitTimeoutError,
)
from scaleway_volumes.cli._errors import not_ready, waited_id
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault, ManualClock

from .block_helpers import make_block
from .test_block_bulk import specs

pytestmark = pytest.mark.anyio


# Every batched poll (``GET /volumes?volume_ids=...``) fails with an error no poll
# mends, however the volumes fall into polls; a fault is made per test, as it
# counts how often it fired.
POLL_FAULTS = {
    "403": (
        lambda: Fault(
            "respond",
            method="GET",
            path="/volumes$",
            status=403,
            times=None,
            body={"type": "permission_denied", "message": "denied"},
        ),
        PermissionDeniedError,
    ),
    "401": (
        lambda: Fault("respond", method="GET", path="/volumes$", status=401, times=None),
        AuthenticationError,
    ),
    "unreadable": (
        lambda: Fault("malformed", method="GET", path="/volumes$", body=b"{not json", times=None),
        ResponseDecodeError,
    ),
}


@pytest.mark.parametrize("case", sorted(POLL_FAULTS))
async def test_each_volume_fails_with_its_own_error_naming_it(
    fake: FakeScaleway,
    server: FakeServer,
    no_sleep: list[float],
    case: str,
) -> None:
    """Not the poll's error shared by every item (no volume named, ``resource_id`` None):
    each item's own ``WaitTimeoutError`` with its volume's id and last state, saying it
    was created, the poll's error as ``__cause__``; the CLI reads the id for ``--json``."""
    fake.clock = ManualClock()
    fake.block_create_time = 10  # still creating when polled
    make_fault, cause = POLL_FAULTS[case]
    fake.add_fault(make_fault())
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(5), concurrency=5, wait=True)
    created = {volume["id"]: volume["name"] for volume in fake.block.volumes()}
    assert len(created) == 5 and not result.succeeded
    named: set[str] = set()
    errors = [error for _, error in result.failed]
    for spec, error in result.failed:
        assert isinstance(error, WaitTimeoutError), repr(error)
        assert created[error.resource_id] == spec.name
        assert (error.kind, error.last_state) == ("volume", "creating")
        assert error.resource_id in str(error) and "was created" in str(error)
        assert isinstance(error.__cause__, cause), repr(error.__cause__)
        assert str(error.__cause__) in str(error)
        assert waited_id(error) == error.resource_id
        # The CLI's line for the item names the poll's failure, not the time alone.
        why = not_ready(error) or ""
        assert "a poll failed" in why and str(error.__cause__) in why, why
        named.add(error.resource_id)
    assert named == set(created)
    assert len({id(error) for error in errors}) == 5, "one error per item, not one shared"
