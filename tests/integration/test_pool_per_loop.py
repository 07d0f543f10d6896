"""One API, several event loops alive at once: one pool per loop, none closed under a live loop.

A pool's sockets used to be closed ("abandoned") whenever another loop made a
call, though the first loop was still alive and still watched them: when that
loop later got the same descriptor for a new socket, asyncio raised
``RuntimeError: File descriptor N is used by transport``. Each test counts the
connections the fake server saw: a pool kept for its loop reuses its one
connection, a pool abandoned on every switch opens a new one each time.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings

import pytest
import trio

from scaleway_volumes import AsyncVolumeAPI
from scaleway_volumes.testing import FakeScaleway, FakeServer
from tests.waiting import eventually

TURNS = 4
HANG_GUARD = 60.0  # seconds a thread may wait for its turn before the test fails


def make_api(fake: FakeScaleway, server: FakeServer) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(fake.token, base_url=server.base_url, organization=fake.organization)


def test_two_open_loops_used_in_turn_keep_their_pools(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """loop1, loop2, loop1, ...: both stay open, each keeps its pool and its connection."""
    api = make_api(fake, server)
    volume = fake.add_volume(name="v", size=10**10)
    loop1, loop2 = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        for _ in range(TURNS):
            for loop in (loop1, loop2):
                assert loop.run_until_complete(api.get_volume(volume["id"])).name == "v"
        assert fake.stats.connections_opened == 2
        # aclose() from loop2 closes loop2's pool only: loop1's goes on, on its connection.
        loop2.run_until_complete(api.aclose())
        loop1.run_until_complete(api.get_volume(volume["id"]))
        assert fake.stats.connections_opened == 2
        loop1.run_until_complete(api.aclose())
        loop1.run_until_complete(eventually(lambda: fake.stats.open_connections == 0))
    finally:
        loop1.close()
        loop2.close()


def take_turns(backend: str, api: AsyncVolumeAPI, volume_id: str) -> list[str]:
    """Two threads, each running one event loop of ``backend`` for the whole test,
    take turns with ``api`` (A's call, then B's, TURNS times; never two at once).
    What failed, by thread and turn."""
    turn = threading.Barrier(2, timeout=HANG_GUARD)
    errors: list[str] = []

    async def wait_for_turn() -> None:
        if backend == "asyncio":
            await asyncio.to_thread(turn.wait)
        else:
            await trio.to_thread.run_sync(turn.wait)

    async def play(first: bool) -> None:
        for i in range(TURNS):
            if first:
                await call(first, i)
            await wait_for_turn()
            if not first:
                await call(first, i)
            await wait_for_turn()

    async def call(first: bool, i: int) -> None:
        try:
            await api.get_volume(volume_id)
        except Exception as exc:  # recorded, not raised: the test names the call
            errors.append(f"{'A' if first else 'B'}{i}: {exc!r}")

    def thread(first: bool) -> None:
        try:
            if backend == "asyncio":
                asyncio.run(play(first))
            else:
                trio.run(play, first)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(f"{'A' if first else 'B'}: {exc!r}")
            turn.abort()

    threads = [threading.Thread(target=thread, args=(first,)) for first in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * HANG_GUARD)
    return errors


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_threads_with_a_loop_each_take_turns_with_one_api(
    fake: FakeScaleway, server: FakeServer, backend: str
) -> None:
    """Two threads, each with a long-lived loop, share one API in turn: every call
    works, and each loop keeps its pool (two connections for all the calls)."""
    api = make_api(fake, server)
    volume = fake.add_volume(name="v", size=10**10)
    assert take_turns(backend, api, volume["id"]) == []
    assert fake.stats.connections_opened == 2


@pytest.mark.usefixtures("clean_collector")
def test_successive_loops_keep_one_pool(fake: FakeScaleway, server: FakeServer) -> None:
    """asyncio.run per job, beside a loop left open: each job's pool is closed in its
    loop as that loop shuts down, the open loop's is kept, and the API holds no
    more pools than the live loops'."""
    api = make_api(fake, server)
    volume = fake.add_volume(name="v", size=10**10)
    open_loop = asyncio.new_event_loop()
    try:
        open_loop.run_until_complete(api.get_volume(volume["id"]))
        for _ in range(TURNS):
            asyncio.run(api.get_volume(volume["id"]))
            assert list(api._owned._pools) == [open_loop]  # type: ignore[union-attr]
            # This job's connection is closed: the open loop's is left.
            open_loop.run_until_complete(eventually(lambda: fake.stats.open_connections == 1))
        # The open loop's pool was kept: its connection is reused.
        opened = fake.stats.connections_opened
        open_loop.run_until_complete(api.get_volume(volume["id"]))
        assert fake.stats.connections_opened == opened
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            open_loop.run_until_complete(api.aclose())
            open_loop.run_until_complete(eventually(lambda: fake.stats.open_connections == 0))
            gc.collect()
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    finally:
        open_loop.close()


@pytest.mark.usefixtures("clean_collector")
def test_pools_of_loops_ended_since_are_closed_when_the_api_goes(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Two loops used in turn, closed, the API never closed and dropped: both pools
    are closed without their loops, with no ResourceWarning."""
    api = make_api(fake, server)
    volume = fake.add_volume(name="v", size=10**10)
    loop1, loop2 = asyncio.new_event_loop(), asyncio.new_event_loop()
    for loop in (loop1, loop2, loop1):
        loop.run_until_complete(api.get_volume(volume["id"]))
    loop1.close()
    loop2.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del api
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    asyncio.run(eventually(lambda: fake.stats.open_connections == 0))
