"""Closing a connection pool in its own asyncio loop when that loop shuts down.

asyncio has no hook for a loop's end but one: ``loop.shutdown_asyncgens()``,
which ``asyncio.run``, ``asyncio.Runner`` and ``uvloop.run`` call once the
loop's tasks are done and before they close it, closes every async generator
first iterated in the loop (the loop's first-iteration hook registers them). A
watcher is such a generator, waiting at its ``yield``: closed then, it closes
its pool in the loop, while the loop can still await. Dropped while the loop
runs (its owner collected), it is closed by the loop in a task of its own, and
closes the pool too. A loop closed without that shutdown (``run_until_complete``
then ``close()``) never closes it: its owner then closes the pool without the
loop, as before.

Without it a job's pool stayed open until the next job or exit: under uvloop,
which checks at ``close()``, each ``asyncio.run()`` ended with a
``ResourceWarning: unclosed resource <TCPTransport ...>`` per connection.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

__all__ = ["watch_loop_end"]

T = TypeVar("T")


async def _closing_at_end(
    owner: weakref.ref[T], forget: Callable[[T], bool], close: Callable[[], Awaitable[None]]
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        # The owner may have closed the pool meanwhile (``forget`` says no), or
        # be gone with it (then nobody else will close it).
        held = owner()
        if held is None or forget(held):
            await close()


def watch_loop_end(
    owner: T, forget: Callable[[T], bool], close: Callable[[], Awaitable[None]]
) -> AsyncGenerator[None, None]:
    """Await ``close()`` in the running asyncio loop when it shuts down, unless
    ``forget(owner)`` (called first, in the loop) says the pool is no longer
    ``owner``'s to close; at once if ``owner`` is gone.

    Returns the watcher: keep it with the pool (dropped while the loop runs, it
    closes the pool soon after). ``owner`` is held weakly, so that the watcher
    keeps it alive no more than the pool does; ``forget`` and ``close`` are held
    strongly, and must not refer to ``owner``.
    """
    watcher = _closing_at_end(weakref.ref(owner), forget, close)
    try:
        # Its first step, taken now, registers it with the loop and stops at the
        # yield: nothing before it awaits.
        watcher.asend(None).send(None)
    except StopIteration:
        return watcher
    raise RuntimeError("a loop-end watcher awaited before its yield")  # pragma: no cover
