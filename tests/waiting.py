"""Waiting on the fake's state in tests: it changes in the server's thread, which has
no event to wait on, so it is polled; a busy host may pause a test for a few hundred
milliseconds, so tests wait for a state rather than for a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio


async def eventually(predicate: Callable[[], object], limit: float = 5.0) -> None:
    """Return once ``predicate()`` is true; fail after ``limit`` seconds."""
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.01)


async def cancel_once(
    predicate: Callable[[], object], call: Callable[[], Awaitable[object]]
) -> None:
    """Run ``call()`` and cancel it once ``predicate()`` is true; fail if the call
    returned rather than being cancelled."""
    returned = False

    async def run() -> None:
        nonlocal returned
        await call()
        returned = True

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await eventually(predicate)
            scope.cancel()
    assert not returned, "the call went on after it was cancelled"
