"""RedisRateLimiter's reports and leases at their edges, against a real redis-server."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.redis_server import RedisServer, redis_server_binary

redis = pytest.importorskip("redis")

from scaleway_volumes.redis import RedisRateLimiter  # noqa: E402

KEY = "scaleway_volumes:ratelimit:"


@pytest.fixture
def anyio_backend() -> str:
    """redis-py's client is asyncio-only."""
    return "asyncio"


def generation(server: RedisServer, name: str) -> int:
    """The shared limit's generation: it moves at each cut the fleet makes."""
    client = redis.Redis.from_url(server.url)
    try:
        return int(client.hget(KEY + name, "gen") or -1)
    finally:
        client.close()


@pytest.mark.anyio
async def test_a_busy_process_survives_the_shared_state_vanishing(
    redis_server: RedisServer, name: str
) -> None:
    """Sixty busy leases, then the hash expires (or Redis restarts empty): the next
    lease is read as usual (it once came back as '1.15e+18', which int() refused)."""
    async with RedisRateLimiter(
        redis_server.url, name=name, min_rate=1000, max_rate=1000, lease_time=0.001
    ) as limiter:
        limiter.release(await limiter.acquire(), 429)
        with anyio.fail_after(10):
            for _ in range(60):
                limiter.release(await limiter.acquire(), 200)
        client = redis.Redis.from_url(redis_server.url)
        client.delete(KEY + name)
        client.close()
        with anyio.fail_after(10):
            limiter.release(await limiter.acquire(), 200)
        assert limiter.shared


@pytest.mark.anyio
async def test_a_cancelled_report_of_a_429_is_sent_with_the_next(
    redis_server: RedisServer, name: str
) -> None:
    """The acquire() carrying a 429 to Redis is cancelled on the way (a slow Redis, a
    caller's timeout): the 429 is not lost, the next acquire() reports it."""
    async with RedisRateLimiter(redis_server.url, name=name, start_rate=50, timeout=5) as lim:
        for _ in range(3):
            lim.release(await lim.acquire(), 200)
        before = generation(redis_server, name)
        lim.release(await lim.acquire(), 429)
        client = redis.Redis.from_url(redis_server.url)
        client.execute_command("CLIENT", "PAUSE", "300", "ALL")
        client.close()
        with anyio.move_on_after(0.05) as scope:
            await lim.acquire()
        assert scope.cancelled_caught
        await anyio.sleep(0.4)  # past the pause
        with anyio.fail_after(10):
            lim.release(await lim.acquire(), 200)
        assert generation(redis_server, name) > before


@pytest.mark.anyio
async def test_callers_in_line_when_redis_fails_wait_for_the_next_try(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis goes away under ten queued callers: one try, then in-process limiting
    until ``retry_interval`` has passed (each used to try, and wait a timeout)."""
    server = RedisServer(redis_server_binary(), tmp_path)
    server.start()
    limiter = RedisRateLimiter(server.url, name=name, start_rate=50, retry_interval=60)
    failures: list[BaseException] = []
    go_local = limiter._go_local

    def counted(exc: BaseException, conn: object) -> None:
        failures.append(exc)
        go_local(exc, conn)  # type: ignore[arg-type]

    monkeypatch.setattr(limiter, "_go_local", counted)

    async def request() -> None:
        limiter.release(await limiter.acquire(), 200)

    try:
        await request()  # paced by the fleet, from 50 req/s
        server.stop()
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(request)
        assert not limiter.shared
    finally:
        await limiter.aclose()
        server.stop()
    assert len(failures) == 1, failures
