"""A limiter's line when two threads use it: never a caller left waiting forever.

A limiter serves one thread at a time. A caller of a second thread's event loop
that must wait while the first loop has callers in line gets a RuntimeError
(it used to throw that line away, and its callers were never woken); a request
ending in another thread wakes the line through its loop's thread-safe call.
"""

from __future__ import annotations

import asyncio
import threading

import anyio
import anyio.to_thread
import pytest

from scaleway_volumes import AdaptiveRateLimiter
from tests.waiting import eventually


@pytest.mark.parametrize(
    ("backend", "options"), [("asyncio", {"debug": True}), ("trio", {})], ids=["asyncio", "trio"]
)
def test_a_request_ending_in_another_thread_wakes_the_line(
    backend: str, options: dict[str, object]
) -> None:
    """The window is full and a caller waits for a request to end; it ends in a
    worker thread. Setting the loop's event from there failed (trio: 'must be
    called from async context'; asyncio in debug mode, where such a call is
    checked: 'Non-thread-safe operation'), after taking the waiter off its
    wait: it was never woken. asyncio out of debug mode may leave the loop
    asleep. The event loop runs in a thread of its own, so that a waiter
    never woken fails the test instead of hanging it."""
    limiter = AdaptiveRateLimiter(initial_window=1)
    outcome: dict[str, object] = {}

    def end(permit: object) -> None:
        try:
            limiter.release(permit, 200)
        except RuntimeError as exc:
            outcome["release"] = exc

    async def scenario() -> None:
        first = await limiter.acquire()
        got: list[object] = []

        async def second() -> None:
            got.append(await limiter.acquire())

        async with anyio.create_task_group() as tg:
            tg.start_soon(second)
            await eventually(lambda: limiter._gate.waiting == 1)
            await anyio.to_thread.run_sync(end, first)
            await eventually(lambda: got)
        limiter.release(got[0], 200)
        outcome["woken"] = True

    loop_thread = threading.Thread(
        target=anyio.run,
        args=(scenario,),
        kwargs={"backend": backend, "backend_options": options},
        daemon=True,  # left waiting for ever if the waiter is never woken
    )
    loop_thread.start()
    loop_thread.join(60)
    assert not loop_thread.is_alive(), f"the waiter was never woken: {outcome}"
    assert outcome == {"woken": True}


def test_a_second_threads_caller_gets_an_error_not_a_hang() -> None:
    """Thread A has a caller in line (its window is full) when thread B's caller
    must wait too. B's caller used to throw A's line away, and A's caller was
    never woken; now B's gets a RuntimeError, and A's its turn."""
    limiter = AdaptiveRateLimiter(initial_window=1)
    a_waits, b_done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    async def thread_a() -> None:
        first = await limiter.acquire()
        second = asyncio.ensure_future(limiter.acquire())
        await eventually(lambda: limiter._gate.waiting == 1)
        a_waits.set()
        await asyncio.get_running_loop().run_in_executor(None, b_done.wait, 30)
        limiter.release(first, 200)
        with anyio.fail_after(30):
            limiter.release(await second, 200)
        outcome["a"] = "ok"

    async def thread_b() -> None:
        with anyio.fail_after(30):
            try:
                await limiter.acquire()
            except RuntimeError as exc:
                outcome["b"] = str(exc)

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


def test_a_line_of_an_ended_loop_is_dropped() -> None:
    """A loop closed with a caller still in line (its task never finished): the
    next loop's callers go on, as before (only a loop still running is an error),
    and the request of the closed loop that ends now raises nothing (it raised
    'Event loop is closed', setting that loop's event)."""
    limiter = AdaptiveRateLimiter(initial_window=1)

    left: list[asyncio.Future[object]] = []

    async def leave_one_waiting() -> None:
        await limiter.acquire()
        left.append(asyncio.ensure_future(limiter.acquire()))
        await eventually(lambda: limiter._gate.waiting == 1)

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda loop, context: None)  # "Task was destroyed"
    loop.run_until_complete(leave_one_waiting())
    loop.close()

    async def next_job() -> None:
        limiter.release(0.0, 200)  # the first loop's request ends (its permit: a float)
        with anyio.fail_after(30):
            limiter.release(await limiter.acquire(), 200)

    asyncio.run(next_job())
