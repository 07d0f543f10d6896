"""Waiting for one resource to reach a state: the poll loop of every ``wait_for_*``.

What a state means is decided by the pure ``_states`` (``classify``,
``normalize_until``, ``poll_delays``); this module only polls. Each poll is a
normal call of the API (``poll_get``: it goes through the pipeline, so it is
retried like any GET and paced by the rate limiter, and a bare 429 is flow
control as in a bulk call), the first one at once, the next ones spaced by
capped exponential backoff with jitter. A poll that fails in a way another
poll may not (``poll_again``) does not end a wait that has time left. The
waits go through ``_retry.wait``, so ``set_testing(True)`` makes a wait
instant while still counting the time it would have taken towards
``timeout``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

import anyio

from ._bulk import THROTTLE_BUDGET
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    NotFoundError,
    RateLimitError,
    ResourceStateError,
    ScalewayError,
    ServerError,
    WaitTimeoutError,
)
from ._pipeline import Attempts, Pipeline
from ._retry import RETRY_ANY, RETRY_IDEMPOTENT, wait
from ._states import DELETED, classify, normalize_until, poll_delays
from ._transport import Reply, TransportFailure
from ._validate import as_float

__all__ = ["check_wait_timeout", "gone_error", "poll_again", "poll_get", "wait_for"]

T = TypeVar("T")

log = logging.getLogger("scaleway_volumes")

#: How long before the timeout a wait's last poll comes (half the time left at
#: most), when the next one would come after it: the poll's own time.
LAST_POLL_LEAD = 0.5
#: Runs of failed polls one wait logs at WARNING; later ones at DEBUG: a wait
#: whose polls fail every other time (a flapping proxy) would say it every 10 s.
WARNED_RUNS = 3
# The poll errors ``poll_again`` may let pass. ``APITimeoutError`` is an
# ``APIConnectionError``.
_PASSING = (RateLimitError, ServerError, APIConnectionError)
# The 5xx answers the pipeline itself resends (a 501 answers every resend alike).
_PASSING_STATUSES = RETRY_ANY | RETRY_IDEMPOTENT


def poll_again(error: ScalewayError, answered: bool) -> bool:
    """Whether a wait that has time left polls again after a poll failed with ``error``
    (after the pipeline's own retries), rather than raising it.

    Yes for what says only that this request did not get through now: a 429,
    a 5xx the pipeline resends (500, 502, 503, 504), and once a poll of this
    wait got an answer (``answered``) a network failure or a poll's own
    timeout. Before any answer, a network failure is more likely a wrong
    ``base_url``, port or host than a blip, which the pipeline's retries have
    already waited out: raised, as by any other call. No for the rest (401,
    403, a 501, an unreadable answer, a shared client its owner closed).
    """
    if isinstance(error, RateLimitError):
        return True
    if isinstance(error, ServerError):
        return error.status_code in _PASSING_STATUSES
    if isinstance(error, APIConnectionError):
        return answered and not _lasting(error)
    return False


def _lasting(error: ScalewayError) -> bool:
    """Whether ``error`` will fail every poll alike: the shared client its owner
    closed (the pipeline's one failure that no resend can mend)."""
    cause = error.__cause__
    return isinstance(cause, TransportFailure) and cause.permanent


async def poll_get(pipeline: Pipeline, path: str) -> Reply:
    """A waiter's poll: ``GET path``, retried like any GET, and a bare 429 (no
    ``Retry-After``) resent at the rate limiter's pace without spending a retry,
    as a bulk call's polls do: under a burst of 429s, a wait slows, not fails.

    The API's ``deadline`` bounds each poll: one that passes while the API
    answers bare 429s is a ``RateLimitError`` (the API is there, throttling,
    which ``poll_again`` polls through), not the deadline's ``APITimeoutError``,
    which before any answer would end the wait as an unreachable API would.
    """
    attempts = Attempts()
    try:
        return await pipeline.call("GET", path, attempts=attempts, throttle_budget=THROTTLE_BUDGET)
    except APITimeoutError as error:
        if not attempts.throttled:
            raise
        raise RateLimitError(
            f"429: throttled: {attempts.throttled} bare 429(s) until the poll's deadline "
            f"passed ({error.message})",
            status_code=429,
            method="GET",
            path=path,
        ) from error


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
    given: T | str = "",
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
    Past ``limit`` seconds, ``WaitTimeoutError`` carries the last state seen:
    a poll's, else that of ``given`` when it is the model (not an id string),
    whose answer also counts as one from the API for ``poll_again``.

    A poll that fails in a way another may not (``poll_again``: a 429, a 500,
    502, 503 or 504, a network failure or timeout once a poll was answered;
    after the pipeline's own retries) does not end the wait: the next poll
    comes as scheduled, or after the ``Retry-After`` the error carries if
    longer (then the wait may end without polling again). A poll that would
    come after ``limit`` comes just before it instead (``LAST_POLL_LEAD``), the
    last one. If time runs out with the last poll failed,
    the ``WaitTimeoutError`` names that error and has it as ``__cause__``. Any
    other error of a poll propagates.

    Time is the larger of the wall clock and the sum of the waits asked for,
    so under ``set_testing(True)`` a wait that never ends stops after the
    polls ``limit`` would have allowed, without taking that long.
    """
    wanted = normalize_until(until, states, kind=kind)
    timeout = check_wait_timeout(limit)
    schedule = delays if delays is not None else poll_delays()
    expected = sorted(wanted) if wanted is not None else ()
    # A model the caller passed came from an answer: its state was seen, and the
    # API was reachable (a create --wait whose every poll fails still names it).
    last_state: str | None = None if isinstance(given, str) else state_of(given)
    # The error of the last poll, when it failed: the reason a wait that runs
    # out of time saw no state (or no new one).
    last_error: ScalewayError | None = None
    # The Retry-After of that error: the next poll comes no sooner.
    asked = 0.0
    # Whether the API answered this wait (a poll: a resource, a 429, a 5xx; or
    # the model given).
    answered = not isinstance(given, str)
    waited = 0.0
    warned = 0  # runs of failed polls logged at WARNING
    start = anyio.current_time()
    # The wall-clock bound stops a poll that hangs; the loop's own check stops
    # the waits (which ``set_testing`` makes instant).
    final = False
    with anyio.move_on_after(timeout):
        for scheduled in schedule:
            delay = max(scheduled, asked)
            remaining = timeout - max(anyio.current_time() - start, waited)
            if remaining <= 0 or final:
                break
            if delay >= remaining:
                if asked >= remaining:
                    # The API asked not to be polled before then: honoured, the
                    # wait ends at its timeout without polling again.
                    await wait(remaining)
                    waited += remaining
                    break
                # The next poll would come after the timeout: a last one comes
                # just before it instead, so that a state reached since the last
                # poll is not reported as never reached.
                final = True
                delay = remaining - min(LAST_POLL_LEAD, remaining / 2)
            if delay > 0:
                await wait(delay)
                waited += delay
            try:
                resource = await fetch()
            except NotFoundError:
                if classify(None, until=wanted, transient=transient) == "done":
                    return None
                raise
            except _PASSING as error:
                if not poll_again(error, answered):
                    raise
                # Said once per run of failed polls (WARNING), then at DEBUG: a
                # wait polling through a long outage would repeat it every 5 s.
                loud = last_error is None and warned < WARNED_RUNS
                warned += loud
                log.log(
                    logging.WARNING if loud else logging.DEBUG,
                    "a poll of %s %s failed (%s); polling again while the wait has time%s",
                    kind,
                    resource_id,
                    error,
                    "; the next runs of failed polls are logged at DEBUG"
                    if loud and warned == WARNED_RUNS
                    else "",
                )
                answered = answered or not isinstance(error, APIConnectionError)
                last_error = error
                asked = getattr(error, "retry_after", None) or 0.0
                continue
            answered = True
            last_error, asked = None, 0.0
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
    timed_out = WaitTimeoutError(
        resource_id=resource_id,
        last_state=last_state,
        timeout=timeout,
        expected=expected,
        kind=kind,
    )
    if last_error is None:
        raise timed_out
    raise WaitTimeoutError(
        f"{timed_out.message}; its last poll failed: {last_error}",
        resource_id=resource_id,
        last_state=last_state,
        timeout=timeout,
        expected=expected,
        kind=kind,
    ) from last_error
