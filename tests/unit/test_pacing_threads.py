"""The pacing's short pauses sleep in threads of its own, never the app's.

A limiter sleeps its short pauses (under ``PRECISE_BELOW``) in a worker thread.
anyio's default thread limiter (40 tokens) belongs to the host app: FastAPI and
Starlette run every sync endpoint through it. Pauses counted against it waited
for the app's work, and while the app held every token no paced request went.
Counted here: which limiter each pause used, requests sent; never time.
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
import pytest

from scaleway_volumes import TokenBucketRateLimiter


def record_limiters(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The list the ``limiter`` of every ``anyio.to_thread.run_sync()`` is appended to."""
    limiters: list[Any] = []
    real = anyio.to_thread.run_sync

    async def recording(func: Any, *args: Any, limiter: Any = None, **kwargs: Any) -> Any:
        limiters.append(limiter)
        return await real(func, *args, limiter=limiter, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    return limiters


async def send(limiter: TokenBucketRateLimiter, count: int) -> None:
    """``count`` requests through ``limiter``, each answered 200."""
    for _ in range(count):
        limiter.release(await limiter.acquire(), 200)


@pytest.mark.anyio
async def test_pauses_use_a_limiter_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 200 req/s with no burst every request waits a 5 ms pause in a thread, on
    one limiter of the event loop's that is not anyio's default one."""
    limiters = record_limiters(monkeypatch)
    await send(TokenBucketRateLimiter(200, burst=1), 5)
    await send(TokenBucketRateLimiter(200, burst=1), 5)
    default = anyio.to_thread.current_default_thread_limiter()
    assert limiters, "no pause was slept in a thread"
    assert all(lim is not None and lim is not default for lim in limiters)
    assert len({id(lim) for lim in limiters}) == 1


@pytest.mark.anyio
async def test_paced_requests_go_while_the_app_holds_every_default_thread() -> None:
    """The app's sync endpoints hold all of anyio's default tokens: paced requests
    still go (they used to wait for a token, for as long as the app's work)."""
    default = anyio.to_thread.current_default_thread_limiter()
    holders = [object() for _ in range(int(default.total_tokens))]
    for holder in holders:
        await default.acquire_on_behalf_of(holder)
    sent = 0
    limiter = TokenBucketRateLimiter(200, burst=1)
    try:
        with anyio.move_on_after(5):  # a guard against a hang only
            for _ in range(3):
                limiter.release(await limiter.acquire(), 200)
                sent += 1
    finally:
        for holder in holders:
            default.release_on_behalf_of(holder)
    assert sent == 3


@pytest.mark.anyio
async def test_pauses_never_wait_for_a_pause_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every pause thread of the loop busy (many limiters pausing at once), a
    pause uses the loop's timer instead of waiting for a thread."""
    from scaleway_volumes._pacing._sleep import PAUSE_THREADS, pause_threads

    threads = pause_threads()
    assert threads is pause_threads()
    assert threads.total_tokens == PAUSE_THREADS
    holders = [object() for _ in range(PAUSE_THREADS)]
    for holder in holders:
        await threads.acquire_on_behalf_of(holder)
    limiters = record_limiters(monkeypatch)
    try:
        with anyio.fail_after(5):  # a guard against a hang only
            await send(TokenBucketRateLimiter(200, burst=1), 3)
    finally:
        for holder in holders:
            threads.release_on_behalf_of(holder)
    assert limiters == []


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_each_event_loop_has_its_own_pause_threads(backend: str) -> None:
    """A limiter used from successive event loops (``asyncio.run()`` per job)
    gets each loop's pause threads, made in that loop."""
    from scaleway_volumes._pacing._sleep import pause_threads

    async def get() -> Any:
        return pause_threads()

    first, second = anyio.run(get, backend=backend), anyio.run(get, backend=backend)
    assert first is not second
