"""Waiting for one resource to reach a state: the poll loop of every ``wait_for_*``.

What a state means is decided by the pure ``_states`` (``classify``,
``normalize_until``, ``poll_delays``); this module only polls. Each poll is a
normal call of the API (it goes through the pipeline, so it is retried like
any GET and paced by the rate limiter), the first one at once, the next ones
spaced by capped exponential backoff with jitter. The waits go through
``_retry.wait``, so ``set_testing(True)`` makes a wait instant while still
counting the time it would have taken towards ``timeout``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

import anyio

from ._errors import NotFoundError, ResourceStateError, WaitTimeoutError
from ._retry import wait
from ._states import DELETED, classify, normalize_until, poll_delays
from ._validate import as_float

__all__ = ["check_wait_timeout", "gone_error", "wait_for"]

T = TypeVar("T")


def check_wait_timeout(timeout: object, label: str = "timeout") -> float:
    """A positive number of seconds (``inf`` allowed: no bound), else ``ValueError``.

    An int too large for a float is ``inf``.
    """
    # ``not > 0`` also refuses NaN, and compares a huge int without converting it.
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"{label} must be a positive number of seconds, got {timeout!r}")
    return as_float(timeout)


def gone_error(kind: str, resource_id: str) -> NotFoundError:
    """The ``NotFoundError`` for a resource seen with the status ``deleted``.

    The same as the 404 its GET would get (type, message, ``resource``,
    ``resource_id``, request), with a note saying what was seen instead.
    """
    return NotFoundError(
        "resource is not found",
        status_code=404,
        type="not_found",
        resource=kind,
        resource_id=resource_id,
        method="GET",
        path=f"/{kind}s/{resource_id}",
        note=f"The {kind} has the status {DELETED!r}: it is gone",
    )


async def wait_for(
    fetch: Callable[[], Awaitable[T]],
    state_of: Callable[[T], str],
    *,
    resource_id: str,
    kind: str,
    until: str | Iterable[str] | None,
    limit: float,
    transient: frozenset[str],
    states: frozenset[str],
    delays: Iterator[float] | None = None,
) -> T | None:
    """Poll ``fetch()`` until the resource is in a wanted state; return it (None if gone).

    ``until`` None waits for any state not in ``transient``; a state or a
    collection of ``states`` (the ones the resource can have; any other is a
    ``ValueError`` before the first poll) waits for those. ``"deleted"`` in
    ``until`` accepts a 404 and the status ``deleted``, and then returns None.
    A failure state (``error``, ``locked``) not asked for raises
    ``ResourceStateError`` at once; a 404 while waiting for anything else
    re-raises the ``NotFoundError``, and the status ``deleted`` raises the same
    (``gone_error``).
    Past ``limit`` seconds, ``WaitTimeoutError`` carries the last state seen.
    Errors of a poll itself (after the pipeline's retries) propagate.

    Time is the larger of the wall clock and the sum of the waits asked for,
    so under ``set_testing(True)`` a wait that never ends stops after the
    polls ``limit`` would have allowed, without taking that long.
    """
    wanted = normalize_until(until, states, kind=kind)
    timeout = check_wait_timeout(limit)
    schedule = delays if delays is not None else poll_delays()
    expected = sorted(wanted) if wanted is not None else ()
    last_state: str | None = None
    waited = 0.0
    start = anyio.current_time()
    # The wall-clock bound stops a poll that hangs; the loop's own check stops
    # the waits (which ``set_testing`` makes instant).
    with anyio.move_on_after(timeout):
        for delay in schedule:
            remaining = timeout - max(anyio.current_time() - start, waited)
            if remaining <= 0:
                break
            if delay > 0:
                step = min(delay, remaining)
                await wait(step)
                waited += step
                if step < delay:
                    break  # the next poll would come after the timeout
            try:
                resource = await fetch()
            except NotFoundError:
                if classify(None, until=wanted, transient=transient) == "done":
                    return None
                raise
            state = state_of(resource)
            last_state = state
            outcome = classify(state, until=wanted, transient=transient)
            if outcome == "done":
                return None if state == DELETED else resource
            if outcome == "failed":
                if state == DELETED:
                    raise gone_error(kind, resource_id)
                raise ResourceStateError(
                    state=state, resource=resource, resource_id=resource_id, expected=expected
                )
    raise WaitTimeoutError(
        resource_id=resource_id,
        last_state=last_state,
        timeout=timeout,
        expected=expected,
        kind=kind,
    )
