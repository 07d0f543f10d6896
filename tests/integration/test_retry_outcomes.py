"""How a call that retried ends: what its error says about what may have happened.

Over loopback TCP against a ``FakeScaleway`` where the fake can play the scenario;
with respx where the transport's exceptions must come in an exact order (a read
timeout, then connections refused). Each test checks what the caller sees and,
where there is one, the server-side truth.
"""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest
import respx

from scaleway_volumes import (
    APIConnectionError,
    APITimeoutError,
    AsyncVolumeAPI,
    BulkOperationError,
    NoRateLimiter,
    RateLimitError,
    RetryPolicy,
    ScalewayError,
    ServerError,
    TokenBucketRateLimiter,
    VolumeSpec,
)
from scaleway_volumes._hints import hint
from scaleway_volumes._transport import TransportFailure
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault
from tests.redis_server import free_port

from ..conftest import BASE, ORG, TOKEN
from .conftest import ApiFactory

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

GB = 1_000_000_000
MARKER = "scaleway-volumes:create="
VID = str(uuid.uuid4())


def posts(fake: FakeScaleway) -> int:
    return sum(1 for r in fake.stats.requests if r.method == "POST")


def sent_marker(fake: FakeScaleway) -> str:
    """The marker tag the create carried (every POST of one create carries the same)."""
    tags = {t for r in fake.stats.requests if r.method == "POST" for t in r.json()["tags"]}
    assert len(tags) == 1 and next(iter(tags)).startswith(MARKER), tags
    return next(iter(tags))


def cause_chain(error: BaseException | None) -> list[BaseException]:
    chain = []
    while error is not None:
        chain.append(error)
        error = error.__cause__
    return chain


def respx_api(**kwargs: Any) -> AsyncVolumeAPI:
    """An API on a shared httpx client, the transport respx patches."""
    kwargs.setdefault("client", httpx.AsyncClient())
    return AsyncVolumeAPI(TOKEN, base_url=BASE, organization=ORG, **kwargs)


async def write(api: AsyncVolumeAPI, method: str, volume_id: str) -> object:
    """Create (POST), delete or update ``volume_id`` with ``api``."""
    if method == "POST":
        return await api.create_volume(name="a", size=10 * GB)
    if method == "DELETE":
        return await api.delete_volume(volume_id)
    return await api.update_volume(volume_id, name="n")


class NeverGrants:
    """A limiter (the documented protocol) slower than any deadline: it never grants."""

    async def acquire(self) -> object:
        await anyio.Event().wait()
        return None

    def release(self, permit: object, status: int | None) -> None:
        pass


# -- bare 429s in bulk calls ---------------------------------------------------------


async def test_max_retries_zero_sends_a_bulk_create_once(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """``max_retries=0`` turns retries off in a bulk call too: its first bare 429 is the
    item's RateLimitError (it was resent 50 times at the limiter's pace)."""
    fake.add_fault(Fault("respond", method="POST", status=429, times=None))
    async with api(retry=RetryPolicy(max_retries=0), rate_limiter=NoRateLimiter()) as client:
        result = await client.create_volumes([VolumeSpec("a", 10 * GB)])
    assert isinstance(result.failed[0][1], RateLimitError)
    assert posts(fake) == 1 and fake.volumes == []


async def test_bulk_create_lookup_treats_bare_429s_as_flow_control(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """After an ambiguous 502 the marker lookup meets more bare 429s than the policy's
    retries: in a bulk call they are flow control, as for the POST, so the lookup
    finds nothing and the create is resent (it failed as outcome_unknown)."""
    fake.add_fault(Fault("respond", method="POST", status=502))
    fake.add_fault(Fault("respond", method="GET", status=429, times=4))
    async with api(retry=RetryPolicy(max_retries=3), rate_limiter=NoRateLimiter()) as client:
        result = await client.create_volumes([VolumeSpec("a", 10 * GB)])
    assert result.ok, result.failed
    assert posts(fake) == 2 and [v["id"] for v in fake.volumes] == [result.succeeded[0].id]


async def test_a_throttled_lookup_keeps_its_rate_limit_error(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """A single create whose lookup is throttled past its retries ends as that
    lookup's RateLimitError (no connection failed), outcome unknown, with the marker."""
    fake.add_fault(Fault("respond", method="POST", status=502))
    fake.add_fault(Fault("respond", method="GET", status=429, times=None))
    async with api(retry=RetryPolicy(max_retries=1)) as client:
        with pytest.raises(RateLimitError) as info:
            await client.create_volume(name="a", size=10 * GB)
    error = info.value
    assert error.status_code == 429 and error.outcome_unknown
    assert error.marker_tag == sent_marker(fake) and error.marker_tag in str(error)
    assert posts(fake) == 1 and fake.volumes == []


# -- the transport's exception as __cause__ -----------------------------------------------


async def test_a_connection_error_is_caused_by_the_transports_exception() -> None:
    """docs/errors.md: the original is kept as ``__cause__``: the HTTP client's own
    exception, not the library's internal TransportFailure."""
    api = AsyncVolumeAPI(TOKEN, base_url=f"http://127.0.0.1:{free_port()}/x")
    with pytest.raises(APIConnectionError) as info:
        await api.with_options(retry=RetryPolicy(max_retries=0)).get_volume(VID)
    await api.aclose()
    cause = info.value.__cause__
    assert cause is not None and not isinstance(cause, (TransportFailure, ScalewayError))


async def test_an_unknown_create_keeps_the_timeout_in_its_cause_chain(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A create that timed out and is not visible when looked up: the chain of causes
    reaches the transport's timeout (it ended at the library's own errors)."""
    fake.add_fault(Fault("delay", method="POST", delay=2.0))  # lands long after we look
    async with AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        timeout=httpx.Timeout(0.3, connect=1.0),
    ) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.create_volume(name="a", size=10 * GB)
    assert info.value.outcome_unknown
    chain = cause_chain(info.value)
    assert not isinstance(chain[-1], (TransportFailure, ScalewayError)), chain


# -- outcome_unknown remembers earlier attempts ---------------------------------------------


@pytest.mark.parametrize("method", ["DELETE", "PATCH"])
@pytest.mark.parametrize(
    "later", [httpx.ConnectError("refused"), httpx.Response(503)], ids=["refused", "503"]
)
async def test_an_attempt_that_may_have_acted_keeps_the_outcome_unknown(
    method: str, later: Exception | httpx.Response
) -> None:
    """The first attempt timed out once sent (it may have deleted or updated); its
    retries never reach the API. The error says outcome_unknown, as the pipeline knew
    (a 404 then would have been a successful delete); a GET never does."""
    with respx.mock(base_url=BASE) as mock:
        mock.route(path__regex=f"/volumes/{VID}$").mock(
            side_effect=[httpx.ReadTimeout("slow"), later, later, later] * 2
        )
        api = respx_api(retry=RetryPolicy(max_retries=3))
        with pytest.raises(ScalewayError) as info:
            await write(api, method, VID)
        assert info.value.outcome_unknown
        assert "earlier attempt" in str(info.value)
        with pytest.raises(ScalewayError) as read:
            await api.get_volume(VID)
        assert not read.value.outcome_unknown


async def test_a_bulk_delete_says_an_item_may_have_been_deleted() -> None:
    """The item's error keeps outcome_unknown, and so does the BulkOperationError."""
    with respx.mock(base_url=BASE) as mock:
        mock.delete(f"/volumes/{VID}").mock(
            side_effect=[httpx.ReadTimeout("slow"), httpx.Response(503), httpx.Response(503)]
        )
        api = respx_api(retry=RetryPolicy(max_retries=2), rate_limiter=NoRateLimiter())
        result = await api.delete_volumes([VID])
    assert result.failed[0][1].outcome_unknown  # type: ignore[attr-defined]
    with pytest.raises(BulkOperationError) as info:
        result.raise_for_errors()
    assert info.value.outcome_unknown


# -- a deadline spent waiting for the rate limiter ----------------------------------------


@pytest.mark.parametrize("method", ["POST", "DELETE", "PATCH"])
async def test_a_deadline_spent_at_the_limiter_sent_nothing(
    fake: FakeScaleway, api: ApiFactory, method: str
) -> None:
    """The limiter held the request until the deadline: nothing left the machine, so
    the outcome is known (nothing happened) and the error says what it waited for."""
    volume = fake.add_volume(name="v")
    async with api(rate_limiter=NeverGrants(), deadline=0.05) as client:
        with anyio.fail_after(10), pytest.raises(APITimeoutError) as info:
            await write(client, method, volume["id"])
    error = info.value
    assert not error.outcome_unknown and error.marker_tag is None
    assert "waiting for the rate limiter" in str(error) and "may exist" not in str(error)
    assert "rate limiter held" in (hint(error) or "")
    assert fake.stats.requests == []


@pytest.mark.parametrize("max_retries", [0, 1])
async def test_a_delete_answered_504_may_have_acted(
    fake: FakeScaleway, server: FakeServer, max_retries: int
) -> None:
    """A 504 to a DELETE may have been acted on (the gateway may have passed it on): the
    error says so whether it is the last answer of several or the only one."""
    volume = fake.add_volume(name="v")
    fake.add_fault(Fault("respond", status=504, method="DELETE", times=None))
    api = AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        retry=RetryPolicy(max_retries=max_retries),
    )
    async with api:
        with pytest.raises(ServerError) as info:
            await api.delete_volume(volume["id"])
    assert info.value.outcome_unknown is True, str(info.value)


@pytest.mark.parametrize("call", ["delete", "create"])
async def test_attempts_refused_before_leaving_are_not_sent(call: str) -> None:
    """Every attempt refused before it left (a connect error), then the deadline passes
    while the rate limiter holds the retry: nothing reached the API, so the error is not
    ``outcome_unknown`` and says nothing was sent."""
    sent: list[httpx.Request] = []

    def refused(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise httpx.ConnectError("connection refused")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refused)) as client:
        api = AsyncVolumeAPI(
            TOKEN,
            organization=ORG,
            client=client,
            deadline=0.3,
            # The first attempt goes at once; its retry would wait a second for a token.
            rate_limiter=TokenBucketRateLimiter(1.0),
        )
        calls = {
            "delete": lambda: api.delete_volume(str(uuid.uuid4())),
            "create": lambda: api.create_volume(name="x", size=10**10),
        }
        with pytest.raises(APITimeoutError) as info:
            await calls[call]()
    assert len(sent) == 1
    assert info.value.outcome_unknown is False, str(info.value)
    assert "nothing was sent" in str(info.value)
