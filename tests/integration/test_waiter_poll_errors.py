"""A waiter's polls that fail over loopback TCP: flow control, transient errors, the rest.

A bare 429 on a poll is flow control (resent at the rate limiter's pace, as a
bulk call's polls are); a poll that fails with a 429, a 5xx or a network error
after the pipeline's retries does not end a wait that has time left; any other
error does, at once. Under ``no_sleep`` the waits are recorded, not slept, and a
``CountingLimiter`` paces nothing, so ``no_sleep`` holds the retry and poll
waits alone.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from scaleway_volumes import (
    APIConnectionError,
    AsyncBlockAPI,
    AsyncVolumeAPI,
    AuthenticationError,
    BlockVolume,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    WaitTimeoutError,
)
from scaleway_volumes._waiters import LAST_POLL_LEAD
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault, ManualClock

from .block_helpers import CountingLimiter, make_block

pytestmark = pytest.mark.anyio

TOO_MANY = {"message": "too many requests", "type": "too_many_requests"}
WAITERS = ["block volume", "block snapshot", "instance volume"]


def gets(fake: FakeScaleway) -> int:
    return sum(1 for r in fake.stats.requests if r.method == "GET")


def fail_gets(fake: FakeScaleway, status: int, times: int | None, **kwargs: Any) -> None:
    """The next ``times`` GETs (None: all) answer ``status``."""
    body = TOO_MANY if status == 429 else None
    fake.add_fault(Fault("respond", method="GET", status=status, body=body, times=times, **kwargs))


class After(CountingLimiter):
    """A limiter that runs ``action`` once the ``n``-th request (1-based) has its answer."""

    def __init__(self, n: int, action: Callable[[], object]) -> None:
        super().__init__()
        self.n, self.action = n, action

    def release(self, permit: object, status: int | None) -> None:
        """Count, then act if this is the answer waited for."""
        super().release(permit, status)
        if len(self.released) == self.n:
            self.action()


async def wait_on(
    kind: str, fake: FakeScaleway, server: FakeServer, limiter: CountingLimiter, **kwargs: Any
) -> Any:
    """Wait for a fresh settled resource of ``kind`` with its waiter (``kwargs`` are its own)."""
    if kind == "instance volume":
        stored = fake.add_volume(name="local")
        async with AsyncVolumeAPI(
            fake.token,
            base_url=server.base_url,
            organization=fake.organization,
            rate_limiter=limiter,
        ) as api:
            return await api.wait_for_volume(stored["id"], **kwargs)
    volume = fake.block.add_volume("db")
    async with make_block(fake, server, rate_limiter=limiter) as block:
        if kind == "block snapshot":
            snapshot = fake.block.add_snapshot(volume["id"])
            return await block.wait_for_snapshot(snapshot["id"], **kwargs)
        return await block.wait_for_volume(volume["id"], **kwargs)


@pytest.mark.parametrize("kind", WAITERS)
async def test_a_burst_of_bare_429s_is_flow_control(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float], kind: str
) -> None:
    """Five bare 429s (more than the policy's retries) on the first poll of a wait: each
    is resent at the rate limiter's pace, spending no retry and no poll wait, and the
    wait returns the settled resource from that one poll."""
    limiter = CountingLimiter()
    fail_gets(fake, 429, 5)
    resource = await wait_on(kind, fake, server, limiter, timeout=300)
    assert resource is not None
    assert limiter.released == [429] * 5 + [200]
    assert no_sleep == [], "no retry backoff, no second poll"


async def test_a_retry_after_beyond_the_policys_is_waited_for(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A 429 asking for 61 s (more than max_retry_after, so the request gives up at once)
    while the wait has 300 s: the next poll comes 61 s later, and the wait succeeds."""
    fail_gets(fake, 429, 1, headers={"Retry-After": "61"})
    resource = await wait_on("block volume", fake, server, CountingLimiter(), timeout=300)
    assert isinstance(resource, BlockVolume) and resource.status == "available"
    assert no_sleep == [61.0] and gets(fake) == 2


async def test_a_retry_after_past_the_time_left_ends_in_a_timeout(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """Every poll asks for 61 s and 30 s are left: the wait waits out its 30 s, polls no
    more, and raises WaitTimeoutError whose cause (named in its message) is the 429."""
    fail_gets(fake, 429, None, headers={"Retry-After": "61"})
    with pytest.raises(WaitTimeoutError) as info:
        await wait_on("block volume", fake, server, CountingLimiter(), timeout=30)
    error = info.value
    assert error.last_state is None and error.timeout == 30
    assert isinstance(error.__cause__, RateLimitError) and error.__cause__.retry_after == 61
    assert "last poll failed" in str(error) and "429" in str(error)
    # The time left, less what the first poll took on the wall clock.
    assert len(no_sleep) == 1 and 29.0 < no_sleep[0] <= 30.0 and gets(fake) == 1


@pytest.mark.parametrize("status", [500, 503])
async def test_a_poll_failing_after_its_retries_is_made_again(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float], status: int
) -> None:
    """One poll's four attempts all answer a 5xx the pipeline resends: the wait does not
    end, the next poll comes as scheduled and returns the volume."""
    fail_gets(fake, status, 4)
    resource = await wait_on("block volume", fake, server, CountingLimiter(), timeout=300)
    assert isinstance(resource, BlockVolume) and resource.status == "available"
    assert gets(fake) == 5
    # Three retry backoffs of the failed poll, then one poll wait in [0.25, 0.5].
    assert len(no_sleep) == 4 and 0.25 <= no_sleep[-1] <= 0.5


@pytest.mark.parametrize("failure", ["dropped", "deadline"])
async def test_a_network_failure_once_a_poll_was_answered_is_polled_through(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float], failure: str
) -> None:
    """Once the API has answered a poll (here a 500, four times), a poll whose
    connection drops four times, or that gets no answer within the API's deadline
    (APITimeoutError), does not end the wait: the next poll returns the volume."""
    stored = fake.block.add_volume("db")
    fail_gets(fake, 500, 4)
    if failure == "dropped":
        fake.add_fault(Fault("drop", method="GET", times=4))
    else:
        fake.add_fault(Fault("delay", method="GET", delay=0.5, times=1))
    async with make_block(fake, server, deadline=0.1 if failure == "deadline" else None) as api:
        volume = await api.wait_for_volume(stored["id"], timeout=300)
    assert volume.status == "available"
    assert gets(fake) == (9 if failure == "dropped" else 6)


@pytest.mark.parametrize("failure", ["dropped", "refused"])
async def test_a_network_failure_before_any_answer_is_raised(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float], failure: str
) -> None:
    """No poll answered yet and the network fails past the pipeline's retries (a
    dropped connection; a port nothing listens on: a wrong base_url): raised at once,
    as by get_volume, not polled for the wait's 300 s."""
    stored = fake.block.add_volume("db")
    if failure == "dropped":
        fake.add_fault(Fault("drop", method="GET", times=None))
        base_url = server.block_base_url
    else:
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}/block/v1/zones/fr-par-1"
    api = AsyncBlockAPI(fake.token, base_url=base_url, organization=fake.organization)
    async with api:
        with pytest.raises(APIConnectionError) as info:
            await api.wait_for_volume(stored["id"], timeout=300)
    assert not isinstance(info.value, WaitTimeoutError)
    assert len(no_sleep) == 3, "the pipeline's three retry backoffs, no poll wait"


async def test_a_5xx_no_resend_can_mend_is_raised(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A 501 answers every poll alike (the pipeline does not resend it either): the
    first poll raises it, rather than polling for the wait's 300 s."""
    stored = fake.block.add_volume("db")
    fail_gets(fake, 501, None)
    async with make_block(fake, server) as api:
        with pytest.raises(ServerError) as info:
            await api.wait_for_volume(stored["id"], timeout=300)
    assert info.value.status_code == 501 and gets(fake) == 1 and no_sleep == []


async def test_failing_polls_until_the_timeout_keep_the_last_state(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A volume seen 'creating', then every poll fails with a 500: past the timeout,
    WaitTimeoutError carries 'creating', with the last 500 as its cause and in its text
    (not the 500 alone, raised by the second poll)."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    # Request 1 is the create, 2 the first poll: every request after it fails.
    limiter = After(2, lambda: fail_gets(fake, 500, None))
    async with make_block(
        fake, server, rate_limiter=limiter, retry=RetryPolicy(max_retries=0)
    ) as api:
        volume = await api.create_volume(name="slow", size=10**10)
        with pytest.raises(WaitTimeoutError) as info:
            await api.wait_for_volume(volume, timeout=10)
    error = info.value
    assert (error.last_state, error.timeout) == ("creating", 10)
    assert isinstance(error.__cause__, ServerError) and error.__cause__.status_code == 500
    assert "still 'creating'" in str(error) and "last poll failed" in str(error)
    assert limiter.released[2:] == [500] * (len(limiter.released) - 2)
    assert len(limiter.released) > 3, "polled again after the first 500"
    # The last poll comes just before the timeout (LAST_POLL_LEAD): at it, to the
    # float rounding of the pauses' sum (once 9.499999999999998, in CI).
    assert 10.0 - LAST_POLL_LEAD - 1e-9 <= sum(no_sleep) < 10.0


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthenticationError), (403, PermissionDeniedError)]
)
async def test_other_poll_errors_end_the_wait_at_once(
    fake: FakeScaleway,
    server: FakeServer,
    no_sleep: list[float],
    status: int,
    error: type[Exception],
) -> None:
    """A 401 or 403 will not go away by polling again: raised by the first poll."""
    fail_gets(fake, status, None)
    with pytest.raises(error):
        await wait_on("block volume", fake, server, CountingLimiter(), timeout=300)
    assert gets(fake) == 1 and no_sleep == []


async def test_a_shared_client_its_owner_closed_ends_the_wait_at_once(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A closed shared client fails every poll the same way: no poll can succeed, so
    the wait ends at once with that error, not after polling until its timeout."""
    volume = fake.block.add_volume("v")
    client = httpx.AsyncClient()
    await client.aclose()
    api = make_block(fake, server, client=client)
    with pytest.raises(APIConnectionError, match="closed by its owner"):
        await api.wait_for_volume(volume["id"], timeout=300)
    assert no_sleep == [] and fake.stats.requests == []
