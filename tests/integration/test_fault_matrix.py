"""The fault matrix: what a real network and gateway do, over loopback TCP.

Each scenario asserts what the caller sees *and* the server-side truth: how many
volumes exist, that none is a duplicate, that connections were released. Every
test runs on asyncio (aiohttp-backed pool) and on trio (httpx's own pool), so
the sent/not-sent classification is checked on both transports.
"""

from __future__ import annotations

import email.utils
import socket
import time
from collections import Counter

import anyio
import httpx
import pytest

from scaleway_volumes import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncVolumeAPI,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    ServiceUnavailableError,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

from ..waiting import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

GB = 1_000_000_000
MARKER = "scaleway-volumes:create="


def make_api(fake: FakeScaleway, server: FakeServer, **kwargs: object) -> AsyncVolumeAPI:
    kwargs.setdefault("timeout", httpx.Timeout(2.0, connect=1.0))
    return AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        **kwargs,  # type: ignore[arg-type]
    )


def markers(fake: FakeScaleway) -> Counter[str]:
    return Counter(t for v in fake.volumes for t in v["tags"] if t.startswith(MARKER))


def assert_no_duplicates(fake: FakeScaleway) -> None:
    counts = markers(fake)
    assert all(n == 1 for n in counts.values()), counts


def posts(fake: FakeScaleway) -> int:
    return sum(1 for r in fake.stats.requests if r.method == "POST")


# -- connection-level failures ------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_connection_get() -> None:
    """Nothing listening: retried, then APIConnectionError that says nothing was sent."""
    api = AsyncVolumeAPI("t", base_url=f"http://127.0.0.1:{free_port()}/x")
    with pytest.raises(APIConnectionError) as info:
        await api.get_volume("f929fe39-63f8-4be8-a80e-1e9c8ae22a76")
    assert not info.value.outcome_unknown
    assert not isinstance(info.value, APITimeoutError)
    await api.aclose()


async def test_refused_connection_create_is_not_ambiguous() -> None:
    """A create that never connected is known not to exist: no lookup, clear error."""
    api = AsyncVolumeAPI("t", base_url=f"http://127.0.0.1:{free_port()}/x", organization="o")
    with pytest.raises(APIConnectionError) as info:
        await api.create_volume(name="v", size=10 * GB)
    assert not info.value.outcome_unknown
    await api.aclose()


async def test_drop_before_acting_create_resent_once(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Dropped before the API acted: the lookup finds nothing, one resend, one volume."""
    fake.add_fault(Fault("drop", method="POST"))
    async with make_api(fake, server) as api:
        volume = await api.create_volume(name="data", size=10 * GB)
    assert len(fake.volumes) == 1 and fake.volumes[0]["id"] == volume.id
    assert posts(fake) == 2
    assert_no_duplicates(fake)


@pytest.mark.parametrize("action", ["act_then_drop", "act_then_error", "truncate"])
async def test_create_acted_then_failed_returns_the_volume(
    fake: FakeScaleway, server: FakeServer, action: str
) -> None:
    """The API made the volume but the answer was lost: found, returned, never resent."""
    fake.add_fault(Fault(action, method="POST", status=502))
    async with make_api(fake, server) as api:
        volume = await api.create_volume(name="data", size=10 * GB)
    assert posts(fake) == 1
    assert [v["id"] for v in fake.volumes] == [volume.id]
    assert_no_duplicates(fake)


@pytest.mark.parametrize("action", ["act_then_drop", "act_then_error"])
async def test_older_same_named_volume_never_taken_for_ours(
    fake: FakeScaleway, server: FakeServer, action: str
) -> None:
    """With an older 'data' present, the guard returns the new volume, not the old."""
    older = fake.add_volume(name="data", size=10 * GB)
    fake.add_fault(Fault(action, method="POST", status=500))
    async with make_api(fake, server) as api:
        volume = await api.create_volume(name="data", size=10 * GB)
    assert volume.id != older["id"]
    assert {v["id"] for v in fake.volumes} == {older["id"], volume.id}
    assert posts(fake) == 1
    assert_no_duplicates(fake)


async def test_older_same_named_volume_and_drop_before_acting(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Not made + older namesake: the older one is not returned; the create is resent."""
    older = fake.add_volume(name="data", size=10 * GB)
    fake.add_fault(Fault("drop", method="POST"))
    async with make_api(fake, server) as api:
        volume = await api.create_volume(name="data", size=10 * GB)
    assert volume.id != older["id"]
    assert len(fake.volumes) == 2
    assert posts(fake) == 2


async def test_malformed_create_answer_recovers_the_volume(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A 201 whose body is garbage: the volume exists, so it is looked up, not lost."""
    fake.add_fault(Fault("malformed", method="POST"))
    async with make_api(fake, server) as api:
        volume = await api.create_volume(name="data", size=10 * GB)
    assert [v["id"] for v in fake.volumes] == [volume.id]
    assert posts(fake) == 1


# -- statuses -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_503_then_success(fake: FakeScaleway, server: FakeServer, method: str) -> None:
    """A 503 is retried for every method, creates included, with no duplicate."""
    fake.add_fault(Fault("respond", method=method, status=503, times=2))
    async with make_api(fake, server) as api:
        volume = await api.create_volume(name="data", size=10 * GB)
        assert (await api.get_volume(volume.id)).id == volume.id
    assert len(fake.volumes) == 1
    assert_no_duplicates(fake)


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("3", 3.0, 3.0),
        ("http-date:30", 26.0, 31.0),
        ("garbage", 0.0, 0.5),
    ],
    ids=["seconds", "http-date", "garbage"],
)
async def test_429_retry_after(
    fake: FakeScaleway,
    server: FakeServer,
    no_sleep: list[float],
    value: str,
    low: float,
    high: float,
) -> None:
    """Retry-After in seconds or as a date is the wait; garbage falls back to backoff."""
    if value.startswith("http-date:"):
        value = email.utils.formatdate(time.time() + int(value.split(":")[1]), usegmt=True)
    fake.add_fault(Fault("respond", method="POST", status=429, headers={"Retry-After": value}))
    async with make_api(fake, server) as api:
        await api.create_volume(name="data", size=10 * GB)
    assert len(no_sleep) == 1 and low <= no_sleep[0] <= high
    assert len(fake.volumes) == 1


async def test_429_retry_after_too_large(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A Retry-After beyond max_retry_after raises RateLimitError at once."""
    fake.add_fault(Fault("respond", status=429, headers={"Retry-After": "600"}))
    async with make_api(fake, server) as api:
        with pytest.raises(RateLimitError) as info:
            await api.list_volumes()
    assert info.value.retry_after == 600
    assert len(fake.stats.requests) == 1 and no_sleep == []


@pytest.mark.parametrize("retry_after", ["600", "1"])
async def test_503_with_retry_after_is_a_rate_limit_error_too(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float], retry_after: str
) -> None:
    """A 503 naming a delay is a RateLimitError (the contract's retry rule) and a
    ServerError (its status): at once when over max_retry_after, after retries else."""
    fake.add_fault(Fault("respond", status=503, headers={"Retry-After": retry_after}, times=None))
    async with make_api(fake, server, retry=RetryPolicy(max_retries=2)) as api:
        with pytest.raises(RateLimitError) as info:
            await api.list_volumes()
    error = info.value
    assert isinstance(error, ServerError) and isinstance(error, ServiceUnavailableError)
    assert error.status_code == 503 and error.retry_after == float(retry_after)
    attempts = 1 if retry_after == "600" else 3
    assert len(fake.stats.requests) == attempts and len(no_sleep) == attempts - 1


async def test_bare_429_storm(fake: FakeScaleway, server: FakeServer) -> None:
    """Bare 429s forever: max_retries+1 attempts, then RateLimitError; nothing created."""
    fake.add_fault(Fault("respond", status=429, times=None, body={"type": "too_many_requests"}))
    async with make_api(fake, server, retry=RetryPolicy(max_retries=2)) as api:
        with pytest.raises(RateLimitError) as info:
            await api.create_volume(name="data", size=10 * GB)
    assert info.value.retry_after is None
    assert len(fake.stats.requests) == 3
    assert fake.volumes == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_500_retried_for_get_and_delete(
    fake: FakeScaleway, server: FakeServer, method: str
) -> None:
    """A 500 on GET or DELETE is retried and succeeds."""
    volume = fake.add_volume(name="v")
    fake.add_fault(Fault("respond", method=method, status=500))
    async with make_api(fake, server) as api:
        if method == "GET":
            assert (await api.get_volume(volume["id"])).name == "v"
        else:
            await api.delete_volume(volume["id"])
            assert fake.volumes == []
    assert len(fake.stats.requests) == 2


@pytest.mark.parametrize("action", ["act_then_error", "act_then_drop"])
async def test_delete_acted_then_failed_is_success(
    fake: FakeScaleway, server: FakeServer, action: str
) -> None:
    """The DELETE went through but its answer was lost: the retry's 404 is success."""
    volume = fake.add_volume(name="v")
    fake.add_fault(Fault(action, method="DELETE", status=502))
    async with make_api(fake, server) as api:
        await api.delete_volume(volume["id"])
    assert fake.volumes == []
    assert [r.method for r in fake.stats.requests] == ["DELETE", "DELETE"]
    # The server counts a status once it has written it: maybe just after we read it.
    await eventually(lambda: fake.stats.statuses[404] == 1)


async def test_html_error_page_after_retries(fake: FakeScaleway, server: FakeServer) -> None:
    """A gateway's HTML 502 page, every time: ServerError quoting the page."""
    fake.add_fault(Fault("act_then_error", method="GET", status=502, times=None))
    async with make_api(fake, server, retry=RetryPolicy(max_retries=1)) as api:
        with pytest.raises(ServerError) as info:
            await api.list_volumes()
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in info.value.message
    assert len(fake.stats.requests) == 2


# -- timeouts -------------------------------------------------------------------


async def test_read_timeout_get_retried(fake: FakeScaleway, server: FakeServer) -> None:
    """A GET that times out once is retried and succeeds."""
    volume = fake.add_volume(name="v")
    # Answered 2 s after it arrives: a busy host that runs the client late still
    # times out first (0.3 s).
    fake.add_fault(Fault("delay", method="GET", delay=2.0))
    async with make_api(fake, server, timeout=httpx.Timeout(0.3, connect=1.0)) as api:
        assert (await api.get_volume(volume["id"])).id == volume["id"]
    assert len(fake.stats.requests) == 2


async def test_create_read_timeout_after_acting_is_found(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The create landed, then the answer was too slow: the lookup finds it."""
    fake.add_fault(Fault("act_then_delay", method="POST", delay=0.6))
    async with make_api(fake, server, timeout=httpx.Timeout(0.3, connect=1.0)) as api:
        volume = await api.create_volume(name="data", size=10 * GB)
    assert [v["id"] for v in fake.volumes] == [volume.id]
    assert posts(fake) == 1


async def test_create_read_timeout_landing_later_is_outcome_unknown(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The create lands after we gave up: we say 'unknown', never resend, no duplicate."""
    # It lands 2 s after it arrives, long after the 0.3 s read timeout and the
    # lookup that follows it, however late a busy host runs that lookup.
    fake.add_fault(Fault("delay", method="POST", delay=2.0))
    async with make_api(fake, server, timeout=httpx.Timeout(0.3, connect=1.0)) as api:
        with pytest.raises(APITimeoutError) as info:
            await api.create_volume(name="data", size=10 * GB)
        err = info.value
        assert err.outcome_unknown and err.marker_tag
        await eventually(lambda: len(fake.volumes) == 1)
        late = await api.list_volumes(tags=[err.marker_tag])
    assert len(late) == 1 and posts(fake) == 1


async def test_slow_drip_hits_the_deadline(fake: FakeScaleway, server: FakeServer) -> None:
    """A body dripped slower than any read timeout is stopped by the call deadline."""
    volume = fake.add_volume(name="v")
    fake.add_fault(Fault("slow_drip", method="GET", chunk=1, interval=0.05))
    async with make_api(fake, server, deadline=0.5) as api:
        with pytest.raises(APITimeoutError, match="deadline"):
            await api.get_volume(volume["id"])
        # The pool is not poisoned: the next call works.
        assert (await api.get_volume(volume["id"])).id == volume["id"]


async def test_slow_drip_create_deadline_is_outcome_unknown(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A create stuck in a slow body: the deadline error says the volume may exist."""
    fake.add_fault(Fault("slow_drip", method="POST", chunk=1, interval=0.05))
    async with make_api(fake, server, deadline=0.5) as api:
        with pytest.raises(APITimeoutError) as info:
            await api.create_volume(name="data", size=10 * GB)
    assert info.value.outcome_unknown and info.value.marker_tag
    assert len(fake.volumes) == 1


# -- bodies ---------------------------------------------------------------------


async def test_malformed_json_get(fake: FakeScaleway, server: FakeServer) -> None:
    """A 200 with broken JSON is a ResponseDecodeError, not a json exception."""
    volume = fake.add_volume(name="v")
    fake.add_fault(Fault("malformed", method="GET"))
    async with make_api(fake, server) as api:
        with pytest.raises(ResponseDecodeError):
            await api.get_volume(volume["id"])


async def test_truncated_get_retried(fake: FakeScaleway, server: FakeServer) -> None:
    """A body cut short (connection closed mid-body) is retried for a GET."""
    volume = fake.add_volume(name="v")
    fake.add_fault(Fault("truncate", method="GET"))
    async with make_api(fake, server) as api:
        assert (await api.get_volume(volume["id"])).id == volume["id"]
    assert len(fake.stats.requests) == 2


async def test_wrong_envelope(fake: FakeScaleway, server: FakeServer) -> None:
    """A 200 with the list envelope where one volume was due names the path."""
    volume = fake.add_volume(name="v")
    fake.add_fault(Fault("respond", method="GET", status=200, body={"volumes": []}))
    async with make_api(fake, server) as api:
        with pytest.raises(ResponseDecodeError) as info:
            await api.get_volume(volume["id"])
    assert info.value.path == "$.volume"


# -- security and connections ---------------------------------------------------


async def test_cross_origin_redirect_never_followed(fake: FakeScaleway, server: FakeServer) -> None:
    """A 302 to another origin is an APIError; the other server never sees the token."""
    other = FakeScaleway(token=None)
    with other.serve() as elsewhere:
        volume = fake.add_volume(name="v")
        target = f"{elsewhere.base_url}/volumes/{volume['id']}"
        fake.add_fault(Fault("respond", status=302, headers={"Location": target}))
        shared = httpx.AsyncClient(follow_redirects=True)
        async with make_api(fake, server, client=shared) as api:
            with pytest.raises(APIError) as info:
                await api.get_volume(volume["id"])
        await shared.aclose()
        assert info.value.status_code == 302
        assert other.stats.requests == []


async def test_keepalive_closed_between_requests(fake: FakeScaleway, server: FakeServer) -> None:
    """The server closes idle kept-alive connections: the next calls still succeed once."""
    async with make_api(fake, server) as api:
        first = await api.create_volume(name="a", size=10 * GB)
        await anyio.to_thread.run_sync(server.drop_idle_connections)
        second = await api.create_volume(name="b", size=10 * GB)
        await anyio.to_thread.run_sync(server.drop_idle_connections)
        assert (await api.get_volume(first.id)).id == first.id
    assert {v["id"] for v in fake.volumes} == {first.id, second.id}
    assert_no_duplicates(fake)


async def test_cancellation_storm_leaks_no_pool_slots(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """50 calls cancelled while the pool is contended; the next call succeeds promptly."""
    volume = fake.add_volume(name="v")
    fake.latency = 0.2
    api = make_api(fake, server, max_connections=4)
    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(api.get_volume, volume["id"])
        await anyio.sleep(0.05)
        tg.cancel_scope.cancel()
    fake.latency = 0.0
    with anyio.fail_after(5):
        results = []
        async with anyio.create_task_group() as tg:
            for _ in range(8):

                async def one() -> None:
                    results.append(await api.get_volume(volume["id"]))

                tg.start_soon(one)
    assert len(results) == 8
    await api.aclose()
    await eventually(lambda: fake.stats.open_connections == 0)


async def test_timeouts_under_contention_release_slots(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Calls that hit their deadline while queued for a slot leave the pool usable."""
    volume = fake.add_volume(name="v")
    fake.latency = 0.3
    api = make_api(fake, server, max_connections=2, deadline=0.1)
    failures = 0

    async def doomed() -> None:
        nonlocal failures
        try:
            await api.get_volume(volume["id"])
        except APITimeoutError:
            failures += 1

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(doomed)
    assert failures == 20
    fake.latency = 0.0
    with anyio.fail_after(5):
        assert (await api.with_options(deadline=5).get_volume(volume["id"])).id == volume["id"]
    await api.aclose()


# -- plain API errors over the wire --------------------------------------------------


async def test_wrong_token(fake: FakeScaleway, server: FakeServer) -> None:
    """A wrong key is AuthenticationError at once: 401 is not retried."""
    api = AsyncVolumeAPI("wrong-token", base_url=server.base_url)
    with pytest.raises(AuthenticationError) as info:
        await api.list_volumes()
    assert info.value.type == "denied_authentication"
    assert len(fake.stats.requests) == 1
    await api.aclose()


async def test_not_found_conflict_and_validation(fake: FakeScaleway, server: FakeServer) -> None:
    """404, a 412 for an attached volume, and a 400 with field errors."""
    attached = fake.add_volume(name="v")
    fake.attach(attached["id"], "web-1")
    async with make_api(fake, server) as api:
        with pytest.raises(NotFoundError):
            await api.get_volume("f929fe39-63f8-4be8-a80e-1e9c8ae22a76")
        with pytest.raises(ConflictError) as conflict:
            await api.delete_volume(attached["id"])
        assert conflict.value.status_code == 412
        with pytest.raises(InvalidRequestError) as invalid:
            await api.create_volume(name="tiny", size=1)
        assert "size" in invalid.value.fields
        with pytest.raises(InvalidRequestError):
            await api.update_volume(attached["id"], size=1 * GB)
    assert len(fake.volumes) == 1


@pytest.mark.parametrize(
    ("action", "volumes", "posts_sent"), [("act_then_drop", 1, 1), ("drop", 1, 2)]
)
async def test_seed_api_without_tags(action: str, volumes: int, posts_sent: int) -> None:
    """The seed API lists no tags: a landed create is 'outcome unknown', never resent."""
    legacy = FakeScaleway(legacy=True)
    legacy.add_fault(Fault(action, method="POST"))
    with legacy.serve() as srv:
        async with AsyncVolumeAPI(
            legacy.token, base_url=srv.root_url, organization=legacy.organization
        ) as api:
            if action == "act_then_drop":
                with pytest.raises(APIConnectionError) as info:
                    await api.create_volume(name="data", size=10 * GB)
                assert info.value.outcome_unknown and info.value.marker_tag
                assert "without tags" in str(info.value)
            else:
                await api.create_volume(name="data", size=10 * GB)
    assert len(legacy.volumes) == volumes
    assert posts(legacy) == posts_sent
