"""What a waiter decides from a resource's state, and when it polls next. Pure.

``classify`` turns the state seen by one poll into ``"done"``, ``"failed"``
or ``"wait"``; ``normalize_until`` checks the user's ``until`` against the
states the resource can have;
``poll_delays`` spaces the polls. The waiters of both APIs
(``wait_for_volume``, ``wait_for_snapshot``, ``create_volumes(wait=True)``)
are a loop around these three.
"""

from __future__ import annotations

import difflib
import math
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Literal

__all__ = [
    "BLOCK_SNAPSHOT_STATES",
    "BLOCK_SNAPSHOT_TRANSIENT",
    "BLOCK_VOLUME_STATES",
    "BLOCK_VOLUME_TRANSIENT",
    "DELETED",
    "FAILURE_STATES",
    "INSTANCE_VOLUME_STATES",
    "INSTANCE_VOLUME_TRANSIENT",
    "BlockSnapshotWaitState",
    "BlockVolumeWaitState",
    "InstanceVolumeWaitState",
    "Outcome",
    "classify",
    "normalize_until",
    "poll_delays",
]

Outcome = Literal["done", "failed", "wait"]

# A resource in one of these is on its way to another state by itself.
BLOCK_VOLUME_TRANSIENT = frozenset({"creating", "deleting", "resizing", "snapshotting", "updating"})
# A snapshot's export to Object Storage ends by itself too (the official
# SDK's SNAPSHOT_TRANSIENT_STATUSES agree): waiting for "settled" waits it out.
BLOCK_SNAPSHOT_TRANSIENT = frozenset({"creating", "deleting", "exporting"})
INSTANCE_VOLUME_TRANSIENT = frozenset(
    {"snapshotting", "fetching", "saving", "attaching", "resizing", "hotsyncing"}
)
# States a resource does not leave by itself; reaching one not waited for is a failure.
FAILURE_STATES = frozenset({"error", "locked"})
# The status of a resource that is gone: the same fact as a 404, so ``until``
# holding it also accepts a 404.
DELETED = "deleted"

# Every state ``until`` may name: the status enums of Scaleway's official SDK
# (block.v1 VolumeStatus and SnapshotStatus, instance.v1 VolumeState), and
# ``deleted`` everywhere, since a 404 is that state too. A state outside these
# would never come, so the wait would only burn its timeout.
_BLOCK_SETTLED = frozenset({"available", "in_use", "error", "locked", DELETED, "unknown_status"})
BLOCK_VOLUME_STATES = BLOCK_VOLUME_TRANSIENT | _BLOCK_SETTLED
BLOCK_SNAPSHOT_STATES = BLOCK_SNAPSHOT_TRANSIENT | _BLOCK_SETTLED
INSTANCE_VOLUME_STATES = INSTANCE_VOLUME_TRANSIENT | {"available", "error", DELETED}

# The same states but ``deleted``, for the waiters' types: waiting for one of these
# returns the model, for ``deleted`` None (a test keeps them equal to the sets above).
BlockVolumeWaitState = Literal[
    "creating", "deleting", "resizing", "snapshotting", "updating",
    "available", "in_use", "error", "locked", "unknown_status",
]  # fmt: skip
BlockSnapshotWaitState = Literal[
    "creating", "deleting", "exporting", "available", "in_use", "error", "locked",
    "unknown_status",
]  # fmt: skip
InstanceVolumeWaitState = Literal[
    "snapshotting", "fetching", "saving", "attaching", "resizing", "hotsyncing",
    "available", "error",
]  # fmt: skip


def normalize_until(
    until: str | Iterable[str] | None,
    known: frozenset[str] | None = None,
    *,
    kind: str = "resource",
) -> frozenset[str] | None:
    """``until`` as a set of states, or None for "any settled state".

    A string is one state; a collection is any of its states. Raises
    ``ValueError`` naming ``until`` for an empty string or collection, an item
    that is not a non-empty string, or (given the ``known`` states of the
    ``kind`` of resource) a state it cannot have: the message names the state,
    suggests the close match if there is one, and lists the known ones. Case
    matters: the API's states are lowercase.

    ```python
    normalize_until("available")                  # frozenset({"available"})
    normalize_until(["available", "in_use"])      # frozenset({"available", "in_use"})
    normalize_until("Available", BLOCK_VOLUME_STATES, kind="volume")
    # ValueError: until: a volume has no state 'Available' (did you mean 'available'?) ...
    ```
    """
    if until is None:
        return None
    given: object = until
    if isinstance(given, str):
        items: list[object] = [given]
    elif isinstance(given, (bytes, bytearray)) or not isinstance(given, Iterable):
        raise ValueError(f"until must be a state string or a collection of them, got {until!r}")
    else:
        items = list(given)
    if not items:
        raise ValueError("until must name at least one state, got an empty collection")
    states: set[str] = set()
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError(f"until must hold non-empty state strings, got {item!r}")
        if known is not None and item not in known:
            raise ValueError(_unknown_state(item, known, kind))
        states.add(item)
    return frozenset(states)


def _unknown_state(state: str, known: frozenset[str], kind: str) -> str:
    # Lowercased first: difflib alone finds no match for "AVAILABLE".
    folded = state.strip().lower()
    matches = [folded] if folded in known else difflib.get_close_matches(folded, sorted(known), 1)
    hint = f" (did you mean {matches[0]!r}?)" if matches else ""
    return (
        f"until: a {kind} has no state {state!r}{hint}; its states are {', '.join(sorted(known))}"
    )


def classify(
    state: str | None,
    *,
    until: frozenset[str] | None,
    transient: frozenset[str],
    failures: frozenset[str] = FAILURE_STATES,
) -> Outcome:
    """What one poll means: ``"done"``, ``"failed"`` or ``"wait"`` (poll again).

    ``state`` is the resource's status, or None when it is gone (404).

    - Gone (None, or the status ``"deleted"``: the same fact): done if
      ``until`` holds ``"deleted"``, else failed (there is nothing left to
      wait for, however long).
    - ``until`` None: done on any state not in ``transient``; failed on a
      state in ``failures``.
    - ``until`` a set: done on a state in it (so ``{"error"}`` can be waited
      for); failed on a state in ``failures`` that it does not hold; wait
      otherwise.

    ```python
    classify("creating", until=None, transient=BLOCK_VOLUME_TRANSIENT)          # "wait"
    classify("available", until=None, transient=BLOCK_VOLUME_TRANSIENT)         # "done"
    classify("error", until=frozenset({"available"}), transient=...)           # "failed"
    classify(None, until=frozenset({"deleted"}), transient=...)                 # "done"
    classify("deleted", until=None, transient=...)                              # "failed"
    ```
    """
    if state is None or state == DELETED:
        return "done" if until is not None and DELETED in until else "failed"
    if until is None:
        if state in failures:
            return "failed"
        return "wait" if state in transient else "done"
    if state in until:
        return "done"
    return "failed" if state in failures else "wait"


def poll_delays(
    initial: float = 0.5,
    cap: float = 5.0,
    *,
    factor: float = 2.0,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Seconds to sleep before each poll: 0 first, then capped exponential backoff with jitter.

    The n-th delay after the first is drawn from ``[d/2, d]`` with
    ``d = min(cap, initial * factor ** (n - 1))``: half the delay is kept so
    polls, which count against the rate limiter, never bunch up near zero,
    and the other half spreads many waiters apart. Endless; the caller stops
    at its deadline. ``rng`` makes the draws reproducible in tests.

    ```python
    delays = poll_delays()
    while True:
        await anyio.sleep(min(next(delays), deadline - anyio.current_time()))
        ...poll...
    ```
    """
    for label, value in (("initial", initial), ("cap", cap), ("factor", factor)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{label} must be a number, got {type(value).__name__}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{label} must be a positive finite number, got {value!r}")
    if cap < initial:
        raise ValueError(f"cap ({cap}) must be at least initial ({initial})")
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    return _delays(float(initial), float(cap), float(factor), (rng or random.Random()).uniform)


def _delays(
    delay: float, cap: float, factor: float, draw: Callable[[float, float], float]
) -> Iterator[float]:
    yield 0.0
    while True:
        yield draw(delay / 2, delay)
        delay = min(cap, delay * factor)
