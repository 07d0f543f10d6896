"""The README's worker pattern: an API and a limiter built at import time, one event loop per job.

Nothing a finished loop used may outlive it: not its HTTP pool, not its Redis
connection, not the loop itself; and the last loop's pool, which such a worker
never closes, is closed quietly when the API goes or the interpreter exits.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
import time
import warnings
import weakref
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import trio

from scaleway_volumes import AsyncVolumeAPI
from scaleway_volumes.testing import FakeScaleway, FakeServer
from tests.redis_server import RedisServer
from tests.waiting import eventually

redis = pytest.importorskip("redis")

from scaleway_volumes._compat import abandon_redis_pool  # noqa: E402
from scaleway_volumes.redis import RedisRateLimiter  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def readme_worker_example() -> str:
    """The README's 'In a worker' example, verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```python\n", readme.index("### In a worker")) + len("```python\n")
    return readme[start : readme.index("```", start)]


def test_readme_worker_example_exits_without_unclosed_session_errors(tmp_path: Path) -> None:
    """The example never closes its module-level API (asyncio.run per job). At
    interpreter exit aiohttp used to report the last loop's pool on stderr
    ('ERROR asyncio: Unclosed client session', 'Unclosed connector'): it is
    closed quietly instead. A subprocess, since exit is the point."""
    example = readme_worker_example()
    assert "api = AsyncVolumeAPI()" in example and "asyncio.run" in example
    setup = textwrap.dedent(
        """
        import os
        from scaleway_volumes.testing import FakeScaleway
        fake = FakeScaleway()
        server = fake.serve()
        os.environ["SCW_API_URL"] = server.root_url
        os.environ["SCW_SECRET_KEY"] = str(fake.token)
        os.environ["SCW_DEFAULT_ORGANIZATION_ID"] = fake.organization
        """
    )
    script = tmp_path / "worker.py"
    script.write_text(setup + example + "\nassert fake.volumes == []\nprint('DONE')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCW_")}
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path))  # no scw config file
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env
    )
    assert "DONE" in proc.stdout, proc.stderr
    assert "Unclosed" not in proc.stderr, proc.stderr


@pytest.mark.usefixtures("clean_collector")
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_last_loops_pool_is_closed_when_the_api_goes(
    fake: FakeScaleway, server: FakeServer, backend: str
) -> None:
    """An API used from a finished loop and never closed, then dropped: its pool's
    sockets are closed without the loop, with no ResourceWarning ('unclosed
    socket' under trio, 'Unclosed client session' from aiohttp)."""
    api = AsyncVolumeAPI(fake.token, base_url=server.base_url, organization=fake.organization)
    fake.add_volume(name="v", size=10**10)

    async def job(api: AsyncVolumeAPI) -> int:
        return len(await api.list_volumes())

    assert (trio.run(job, api) if backend == "trio" else asyncio.run(job(api))) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del api
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def make_api(fake: FakeScaleway, server: FakeServer) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(fake.token, base_url=server.base_url, organization=fake.organization)


def test_a_jobs_pool_is_closed_in_its_loop_as_asyncio_run_ends(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """asyncio.run shuts its loop down (``shutdown_asyncgens``) before closing it:
    the job's pool is closed then, in that loop, with no other loop since and the
    API still there. It used to stay open until the next job or exit, and uvloop,
    which checks at ``close()``, warned of each of its sockets ('unclosed resource
    <TCPTransport ...>')."""
    api = make_api(fake, server)
    volume = fake.add_volume(name="v", size=10**10)
    for _ in range(2):
        assert asyncio.run(api.get_volume(volume["id"])).name == "v"
        assert api._owned._pools == {}  # type: ignore[union-attr]
        trio.run(eventually, lambda: fake.stats.open_connections == 0)
    assert fake.stats.connections_opened == 2


@pytest.mark.usefixtures("clean_collector")
def test_a_job_that_closes_its_api_ends_cleanly(fake: FakeScaleway, server: FakeServer) -> None:
    """``aclose()`` at the end of the job, then the loop's shutdown: nothing is
    closed twice, nothing warns, and the next job gets a pool of its own."""
    api = make_api(fake, server)
    volume = fake.add_volume(name="v", size=10**10)

    async def job() -> str:
        name = (await api.get_volume(volume["id"])).name
        await api.aclose()
        return name

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert asyncio.run(job()) == "v"
        assert asyncio.run(job()) == "v"
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert fake.stats.connections_opened == 2
    trio.run(eventually, lambda: fake.stats.open_connections == 0)


@pytest.mark.usefixtures("clean_collector")
def test_aclose_then_closing_the_loop_leaves_nothing_pending(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """``aclose()`` ends the pool's loop-end watcher itself. Dropped unended, it had
    the loop schedule its end, and a loop closed before running again warned
    (Python 3.13: "coroutine method 'aclose' of '_closing_at_end' was never
    awaited")."""
    api = make_api(fake, server)
    volume = fake.add_volume(name="v", size=10**10)
    loop = asyncio.new_event_loop()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            loop.run_until_complete(api.get_volume(volume["id"]))
            loop.run_until_complete(api.aclose())
        finally:
            loop.close()
        gc.collect()
    assert [str(w.message) for w in caught] == []


def test_an_api_collected_while_its_loop_runs_closes_its_pool_in_it(
    fake: FakeScaleway, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An API made and dropped inside a long-lived loop, never closed: its pool is
    closed by the loop soon after. aiohttp used to report the session it found
    unclosed when collected ('Unclosed client session')."""
    volume = fake.add_volume(name="v", size=10**10)

    async def main() -> None:
        api = make_api(fake, server)
        await api.get_volume(volume["id"])
        gone = weakref.ref(api)
        del api
        gc.collect()
        assert gone() is None
        await eventually(lambda: fake.stats.open_connections == 0)
        gc.collect()

    asyncio.run(main())
    assert "Unclosed" not in caplog.text


def clients(server: RedisServer, expect: int | None = None) -> int:
    """How many connections the Redis server has, this one included: asked again
    until ``expect`` for 5 s at most, as the server sees a socket closed in its
    own time."""
    checker = redis.Redis.from_url(server.url)
    try:
        deadline = time.monotonic() + 5
        while True:
            count = len(checker.client_list())
            if count == expect or expect is None or time.monotonic() > deadline:
                return count
            time.sleep(0.01)
    finally:
        checker.close()


def run_closing(coro: Coroutine[Any, Any, None]) -> None:
    """A loop that runs ``coro`` and is closed with no shutdown (no
    ``shutdown_asyncgens``), as a hand-made loop often is."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()


@pytest.mark.usefixtures("clean_collector")
@pytest.mark.parametrize(("run", "lingering"), [(asyncio.run, 0), (run_closing, 1)])
def test_a_limiter_used_from_successive_loops_keeps_one_connection(
    redis_server: RedisServer,
    name: str,
    run: Callable[[Coroutine[Any, Any, None]], None],
    lingering: int,
) -> None:
    """docs/rate-limiting.md: a limiter created with no loop may be used from
    successive ``asyncio.run()`` loops. Each finished loop's Redis connection
    used to stay open, and the loop itself alive (a client per loop in an anyio
    RunVar, whose value refers back to the loop): four jobs, four connections.
    Now each loop's connection is closed in that loop as ``asyncio.run`` ends
    it; a loop closed without that shutdown has its connection closed when the
    next loop takes over, and the last one's stays until the limiter goes."""
    limiter = RedisRateLimiter(redis_server.url, name=name)
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def job(limiter: RedisRateLimiter) -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        for status in (429, 201, 201):
            limiter.release(await limiter.acquire(), status)

    base = clients(redis_server)
    for _ in range(4):
        run(job(limiter))
        gc.collect()
    assert limiter.shared
    assert clients(redis_server, base + lingering) == base + lingering
    # The last loop is the limiter's line's until another loop waits in it.
    assert [ref() is None for ref in loops] == [True, True, True, False]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del limiter  # its last loop has ended: closed without it
        gc.collect()
    assert clients(redis_server, base) == base
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.usefixtures("clean_collector")
def test_redis_pool_of_a_finished_loop_is_closed_without_it(redis_server: RedisServer) -> None:
    """redis/redis-py#3351: a client's connections belong to the loop that made
    them. Closing them from the next loop fails ('Event loop is closed') and
    leaves the socket open; ``abandon_redis_pool`` closes it without the loop or
    a warning, through the private names it reaches. If the first half fails,
    redis-py changed and the workaround may be obsolete; if the second, the
    private names moved."""

    def finished_client() -> tuple[object, object]:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        asyncio.run(client.ping())
        connections = list(client.connection_pool._available_connections)
        assert len(connections) == 1, "redis-py no longer keeps idle connections there"
        writer = connections[0]._writer
        assert writer is not None, "redis-py no longer keeps its stream in _writer"
        return client, writer.get_extra_info("socket")

    base = clients(redis_server)
    client, sock = finished_client()
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        asyncio.run(client.aclose())  # type: ignore[attr-defined]
    assert sock.fileno() != -1  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        del client  # left to the collector: asyncio's transport closes it, and warns
        gc.collect()
    assert clients(redis_server, base) == base

    client, sock = finished_client()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        abandon_redis_pool(client.connection_pool)  # type: ignore[attr-defined]
        del client
        gc.collect()
    assert sock.fileno() == -1  # type: ignore[attr-defined]
    assert clients(redis_server, base) == base
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
