"""RedisRateLimiter when Redis misbehaves (hangs, drops idle connections, steps its
clock back, refuses the script) or two threads share it, against a real redis-server."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.redis_server import RedisServer, redis_server_binary
from tests.waiting import eventually

redis = pytest.importorskip("redis")

from scaleway_volumes.redis import RedisRateLimiter  # noqa: E402

KEY = "scaleway_volumes:ratelimit:"
# Every absolute time the shared hash keeps (bucket numbers aside).
TIMES = ("tat", "cut", "grown", "active", "jt", "seen")


@pytest.fixture
def anyio_backend() -> str:
    """redis-py's client is asyncio-only."""
    return "asyncio"


def admin(server: RedisServer) -> Any:
    """A synchronous client of ``server``, to change what the limiter sees."""
    return redis.Redis.from_url(server.url, decode_responses=True)


def redis_time(client: Any) -> float:
    """Redis's clock, in seconds."""
    seconds, micros = client.time()
    return float(seconds + micros / 1e6)


async def paced(limiter: RedisRateLimiter, times: int = 3) -> None:
    """``times`` requests through ``limiter``, each a success; it is shared after."""
    for _ in range(times):
        limiter.release(await limiter.acquire(), 200)
    assert limiter.shared


@pytest.mark.anyio
async def test_a_retry_against_a_hung_redis_does_not_hold_other_callers(
    tmp_path: Path, name: str
) -> None:
    """In-process limiting after an outage; Redis comes back hung (it accepts, never
    answers). The caller that tries it again waits up to ``timeout``; a caller
    arriving meanwhile is limited in-process at once. It used to line up behind
    the try and wait out its ``timeout`` too (a 0.5 s freeze every 1.5 s)."""
    server = RedisServer(redis_server_binary(), tmp_path)
    server.start()
    limiter = RedisRateLimiter(
        server.url, name=name, start_rate=50, timeout=60, retry_interval=3600
    )
    client = None
    try:
        await paced(limiter)
        server.stop()
        limiter.release(await limiter.acquire(), 429)  # reported at the next acquire
        limiter.release(await limiter.acquire(), 200)  # refused: in-process now
        assert not limiter.shared
        server.start()
        client = admin(server)
        client.execute_command("CLIENT", "PAUSE", "120000", "ALL")
        limiter._retry_at = 0.0  # the next try is due

        async def request() -> None:
            limiter.release(await limiter.acquire(), 200)

        async with anyio.create_task_group() as tg:
            tg.start_soon(request)  # tries Redis again, and waits for it
            await eventually(lambda: limiter._gate.waiting == 1)
            with anyio.fail_after(30):  # the try's own timeout is 60 s
                permit = await limiter.acquire()
            assert type(permit) is tuple  # the in-process limiter's
            assert limiter._gate.waiting == 1, "the try has ended: nothing was shown"
            limiter.release(permit, 200)
            tg.cancel_scope.cancel()
    finally:
        if client is not None:
            client.close()
        await limiter.aclose()
        server.stop()  # paused still: CLIENT UNPAUSE would wait too


@pytest.mark.anyio
async def test_an_idle_connection_closed_by_the_server_is_no_outage(
    redis_server: RedisServer, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis (its ``timeout`` setting), a proxy or a NAT closes an idle pooled
    connection, or Redis restarted: the next script call reconnects and is made
    again. It used to fail ('Connection closed by server'), and the process went
    in-process for ``retry_interval``, alone under the fleet's whole limit."""
    caplog.set_level(logging.WARNING, logger="scaleway_volumes")
    async with RedisRateLimiter(redis_server.url, name=name, start_rate=50) as limiter:
        await paced(limiter)
        client = admin(redis_server)
        try:
            assert client.client_kill_filter(_type="normal", skipme=True) >= 1
        finally:
            client.close()
        limiter.release(await limiter.acquire(), 429)  # THROTTLE at the next acquire
        limiter.release(await limiter.acquire(), 200)
        assert limiter.shared
    assert not caplog.records, caplog.text


def step_the_clock_back(
    server: RedisServer, name: str, seconds: float, fields: tuple[str, ...]
) -> None:
    """Make the stored ``fields`` ``seconds`` ahead of Redis's clock, as a clock
    stepping back that far would (all of them), or a hash of an older version that
    keeps no ``seen`` (``tat`` alone)."""
    client = admin(server)
    try:
        state = client.hgetall(KEY + name)
        moved = {f: float(state[f]) + seconds for f in fields if float(state.get(f, 0)) > 0}
        if "seen" not in fields:
            client.hdel(KEY + name, "seen")
        client.hset(KEY + name, mapping={f: repr(v) for f, v in moved.items()})
    finally:
        client.close()


@pytest.mark.parametrize("fields", [TIMES, ("tat",)], ids=["clock-step", "no-seen"])
@pytest.mark.anyio
async def test_a_schedule_ahead_of_the_redis_clock_does_not_stop_the_fleet(
    redis_server: RedisServer, name: str, fields: tuple[str, ...]
) -> None:
    """Redis's clock steps back a minute (NTP, a failover to a replica whose clock
    lags): the stored times are a minute ahead of its now. Every process used to
    wait that minute for its next lease (the schedule's ``tat``); now the schedule
    moves back with the clock (or, with no ``seen`` to tell the step, is reset:
    no booking reaches that far), and stays within its bound of Redis's now."""
    async with RedisRateLimiter(redis_server.url, name=name, start_rate=50) as limiter:
        await paced(limiter)
        step_the_clock_back(redis_server, name, 60.0, fields)
        with anyio.fail_after(30):
            await paced(limiter, 10)
        client = admin(redis_server)
        try:
            tat = float(client.hget(KEY + name, "tat"))
            assert tat - redis_time(client) < 5.0  # not the minute
        finally:
            client.close()


@pytest.mark.anyio
async def test_a_cut_is_made_after_the_redis_clock_stepped_back(
    redis_server: RedisServer, name: str
) -> None:
    """After the clock stepped back, the last cut's time was ahead of every 429's
    sending time, so no 429 made the fleet's cut until Redis's clock caught up:
    the fleet kept its rate, and its 429s, for the step's length. (The schedule
    is left as it was here: this is about the cut alone.)"""
    async with RedisRateLimiter(redis_server.url, name=name, start_rate=50) as limiter:
        await paced(limiter)
        client = admin(redis_server)
        try:
            # Holding under a plateau since a cut 10 s ago: any 429 of a request
            # sent since is a round, and makes a cut.
            fields = {"mode": "h", "plateau": 50, "k": 0, "cut": redis_time(client) - 10}
            client.hset(KEY + name, mapping=fields)
            before = int(client.hget(KEY + name, "gen"))
            step_the_clock_back(redis_server, name, 60.0, TIMES[1:])
            limiter.release(await limiter.acquire(), 429)
            limiter.release(await limiter.acquire(), 200)  # reports the 429
            assert int(client.hget(KEY + name, "gen")) == before + 1
            state = client.hgetall(KEY + name)
            now = redis_time(client)
            assert all(float(state.get(f, 0)) <= now for f in ("cut", "grown", "active"))
        finally:
            client.close()


@pytest.mark.anyio
async def test_an_error_of_redis_is_not_called_an_outage(
    redis_server: RedisServer, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis refuses the script (here the key holds another type; an ACL's NOPERM or
    maxmemory's OOM alike): the limiter still limits in-process, but the warning
    names Redis's error as such instead of calling Redis unreachable."""
    caplog.set_level(logging.WARNING, logger="scaleway_volumes")
    client = admin(redis_server)
    client.set(KEY + name, "not a hash")
    client.close()
    async with RedisRateLimiter(redis_server.url, name=name) as limiter:
        limiter.release(await limiter.acquire(), 200)
        assert not limiter.shared
    [record] = caplog.records
    message = record.getMessage()
    assert "unreachable" not in message, message
    assert "refused the limit's script (ResponseError: WRONGTYPE" in message, message


def test_a_second_thread_gets_an_error_not_a_hang(redis_server: RedisServer, name: str) -> None:
    """One limiter, two threads each running its own event loop. Thread A has a
    caller waiting for a request to end (its window is full) when thread B's caller
    must wait too: B's caller used to throw away A's line, and A's caller was never
    woken. B's caller now gets a RuntimeError (one thread at a time), A's gets its
    turn when A's request ends, and each loop's Redis client is closed."""
    limiter = RedisRateLimiter(redis_server.url, name=name, start_rate=0, initial_window=1)
    a_waits, b_done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    async def thread_a() -> None:
        first = await limiter.acquire()  # the window (1) is now full
        second = asyncio.ensure_future(limiter.acquire())
        await eventually(lambda: limiter._gate.waiting == 1)
        a_waits.set()
        await asyncio.get_running_loop().run_in_executor(None, b_done.wait, 30)
        limiter.release(first, 200)  # A's request ends: its waiter's turn
        with anyio.fail_after(30):
            limiter.release(await second, 200)
        outcome["a"] = "ok"
        await limiter.aclose()

    async def thread_b() -> None:
        with anyio.fail_after(30):
            try:
                await limiter.acquire()
            except RuntimeError as exc:
                outcome["b"] = str(exc)
        await limiter.aclose()

    def run_b() -> None:
        a_waits.wait(30)
        try:
            asyncio.run(thread_b())
        finally:
            b_done.set()

    other = threading.Thread(target=run_b, daemon=True)
    other.start()
    asyncio.run(thread_a())
    other.join(30)
    assert not other.is_alive() and outcome.get("a") == "ok", outcome
    assert "two event loops at once" in str(outcome.get("b")), outcome
    assert limiter._clients.by_loop == {}
