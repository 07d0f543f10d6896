"""``aclose()`` while other calls wait for a pooled connection: they go on, on a new pool."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Awaitable, Callable

import anyio
import pytest

from scaleway_volumes import AsyncVolumeAPI, Volume
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault
from tests.waiting import eventually


def closer_of(api: AsyncVolumeAPI, closer: str) -> Callable[[], Awaitable[None]]:
    """The ``aclose`` of ``api`` itself, of a copy, or of ``.block``: all share one pool."""
    target = {"api": api, "copy": api.with_options(deadline=5), "block": api.block}[closer]
    return target.aclose


@pytest.mark.usefixtures("clean_collector")
@pytest.mark.anyio
@pytest.mark.parametrize("closer", ["api", "copy", "block"])
async def test_calls_queued_for_a_connection_are_resent_on_a_new_pool(
    fake: FakeScaleway,
    server: FakeServer,
    no_sleep: list[float],
    closer: str,
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
) -> None:
    """One connection, held by a slow answer; a second call queued for it. ``aclose()`` of
    an API sharing the pool ends neither call with a cancellation no one asked for
    (aiohttp cancels the queued wait): both get their volume, the promised "later call
    opens a new pool". The queued call is resent at once: nothing was wrong with the API,
    so it waits no backoff (the retry log names each backoff and its cause)."""
    caplog.set_level(logging.INFO, logger="scaleway_volumes")
    volume = fake.add_volume(name="v")
    api = AsyncVolumeAPI(
        fake.token, base_url=server.base_url, organization=fake.organization, max_connections=1
    )
    results: dict[str, object] = {}

    async def get(role: str) -> None:
        try:
            results[role] = await api.get_volume(volume["id"])
        except BaseException as exc:  # recorded, not raised: the test names the call
            results[role] = exc

    try:
        await api.get_volume(volume["id"])  # the one connection, open and idle
        fake.add_fault(Fault("delay", method="GET", delay=60))  # holds the next answer
        async with anyio.create_task_group() as tg:
            tg.start_soon(get, "busy")
            await eventually(lambda: fake.stats.in_flight == 1)
            tg.start_soon(get, "queued")
            await anyio.wait_all_tasks_blocked()  # queued for the busy connection
            await closer_of(api, closer)()
    finally:
        fake.reset()  # forget the held answer
        await api.aclose()
    assert isinstance(results["queued"], Volume), repr(results["queued"])
    # The held request's connection was closed under it: a GET, resent.
    assert isinstance(results["busy"], Volume), repr(results["busy"])
    backoffs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert not [m for m in backoffs if "pool was closed" in m], backoffs
    # No socket outlives the pools: under trio the queued call once went through
    # the closed pool, and the connection it opened there was left to the
    # collector (a ResourceWarning in whichever test collected it).
    gc.collect()
    assert [str(w.message) for w in recwarn if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 has no Task.cancelling")
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_cancelled_call_stays_cancelled_when_the_pool_closes_in_the_same_step(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """The queued call's task is cancelled and ``aclose()`` closes the pool in the same
    loop step: the call is cancelled, not resent as a wait the closing ended. (A bare
    ``Task.cancel``, which nothing delivers again, unlike a cancel scope.)"""
    volume = fake.add_volume(name="v")
    api = AsyncVolumeAPI(
        fake.token, base_url=server.base_url, organization=fake.organization, max_connections=1
    )
    try:
        await api.get_volume(volume["id"])
        fake.add_fault(Fault("delay", method="GET", delay=60))
        busy = asyncio.ensure_future(api.get_volume(volume["id"]))
        await eventually(lambda: fake.stats.in_flight == 1)
        queued = asyncio.ensure_future(api.get_volume(volume["id"]))
        await anyio.wait_all_tasks_blocked()
        queued.cancel()  # no await before aclose: both land in the same step
        await api.aclose()
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert isinstance(await busy, Volume)
    finally:
        fake.reset()
        await api.aclose()
