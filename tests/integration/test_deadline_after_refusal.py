"""A deadline that passes after every attempt sent was refused is no unknown outcome.

The attempt was answered (a bare 429, a 503: the API did nothing) and the next
one was still held by the rate limiter when the deadline passed: nothing can
have acted, so the error is not ``outcome_unknown`` and says what happened. An
attempt in flight when the deadline passes, or an earlier one that may have
acted (a 5xx to a DELETE, an ambiguous create), still makes it unknown.
"""

from __future__ import annotations

import anyio
import pytest

from scaleway_volumes import APITimeoutError, AsyncVolumeAPI, NoRateLimiter
from scaleway_volumes.testing import FakeScaleway, Fault
from tests.integration.conftest import ApiFactory

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

GB = 1_000_000_000
HELD = "the next was waiting for the rate limiter"


class SlowAfterFirst:
    """A limiter that lets the first request go and holds every later one (as one
    that has just slowed down after a 429)."""

    def __init__(self) -> None:
        self.calls = 0

    async def acquire(self) -> object:
        self.calls += 1
        if self.calls > 1:
            await anyio.sleep_forever()
        return None

    def release(self, permit: object, status: int | None) -> None:
        pass


async def write(api: AsyncVolumeAPI, method: str, volume_id: str) -> object:
    if method == "POST":
        return await api.create_volume(name="refused", size=10 * GB)
    if method == "DELETE":
        return await api.delete_volume(volume_id)
    return await api.update_volume(volume_id, name="renamed")


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("method", ["POST", "DELETE", "PATCH"])
async def test_refused_then_held_by_the_limiter_is_not_outcome_unknown(
    fake: FakeScaleway, api: ApiFactory, method: str, status: int
) -> None:
    """The only attempt sent was refused; the resend waited for the limiter until the
    deadline: nothing was created, deleted or changed, and the error says so."""
    volume = fake.add_volume(name="keep")
    fake.add_fault(Fault("respond", method=method, status=status, times=1))
    async with api(rate_limiter=SlowAfterFirst(), deadline=0.3) as client:
        with anyio.fail_after(10), pytest.raises(APITimeoutError) as info:
            await write(client, method, volume["id"])
    error = info.value
    message = str(error)
    assert error.outcome_unknown is False, message
    assert error.marker_tag is None
    assert f"1 attempt(s) sent, the last answered {status}; {HELD}" in message, message
    assert "may exist" not in message
    if method == "POST":
        assert "it was not created" in message, message
    else:
        assert message.startswith("no success within the 0.3 s deadline"), message
    assert [v["name"] for v in fake.volumes] == ["keep"]


async def test_a_delete_answered_500_then_held_stays_unknown(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """A 500 to a DELETE may have been acted on: the deadline after it is unknown."""
    volume = fake.add_volume(name="keep")
    fake.add_fault(Fault("respond", method="DELETE", status=500, times=1))
    async with api(rate_limiter=SlowAfterFirst(), deadline=0.3) as client:
        with anyio.fail_after(10), pytest.raises(APITimeoutError) as info:
            await client.delete_volume(volume["id"])
    assert info.value.outcome_unknown is True, str(info.value)
    assert "the last answered 500" in str(info.value)


async def test_an_ambiguous_create_then_held_stays_unknown(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """A create answered 500 may have made the volume: its lookup held by the limiter
    until the deadline leaves it unknown, with the marker tag to look for."""
    fake.add_fault(Fault("act_then_error", method="POST", status=500, times=1))
    async with api(rate_limiter=SlowAfterFirst(), deadline=0.3) as client:
        with anyio.fail_after(10), pytest.raises(APITimeoutError) as info:
            await client.create_volume(name="made", size=10 * GB)
    error = info.value
    assert error.outcome_unknown is True, str(error)
    assert error.marker_tag is not None and "may exist" in str(error)
    assert len(fake.volumes) == 1  # it was made: "not created" would have been a lie


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_a_deadline_passing_in_flight_stays_unknown(
    fake: FakeScaleway, api: ApiFactory, method: str
) -> None:
    """An attempt in flight when the deadline passes may have acted (the send is cut
    off, not answered), after an earlier 429 too."""
    volume = fake.add_volume(name="keep")
    fake.add_fault(Fault("respond", method=method, status=429, times=1))
    fake.add_fault(Fault("respond", method=method, status=200, delay=5.0, times=1))
    async with api(rate_limiter=NoRateLimiter(), deadline=0.3) as client:
        with anyio.fail_after(10), pytest.raises(APITimeoutError) as info:
            await write(client, method, volume["id"])
    message = str(info.value)
    assert info.value.outcome_unknown is True, message
    assert "(2 attempt(s) sent)" in message and "answered" not in message, message
