"""Bulk create/delete: a fixed pool of workers, per-item results, AIMD pacing."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sized
from typing import Any, Generic, TypeVar

import anyio
import attrs

from ._client import current_gate
from ._errors import APIConnectionError, BulkOperationError, ScalewayError

__all__ = ["AIMDGate", "BulkResult", "ItemCallback", "ProgressCallback", "run_bulk"]

In = TypeVar("In")
Out = TypeVar("Out")

ProgressCallback = Callable[[int, "int | None"], object]
"""``on_progress(done, total)``: ``total`` is ``None`` when the input has no length."""
ItemCallback = Callable[[int, Any, Any], object]
"""``on_item(index, input, outcome)``: the output, or the exception, of one item."""

# Marks a slot whose item failed (its input and error are kept apart).
_FAILED: Any = object()

# Errors that belong to one item; anything else is a bug and propagates.
_ITEM_ERRORS = (ScalewayError, ValueError, TypeError)


@attrs.define
class BulkResult(Generic[In, Out]):
    """What a bulk call did, item by item, in input order.

    ``succeeded`` holds the outputs (``Volume`` for create, the id for delete),
    ``failed`` the ``(input, exception)`` pairs. ``throttled`` counts the 429s
    the call met, ``final_limit`` the in-flight limit it ended at.

    ```python
    result = await api.create_volumes(specs)
    for spec, error in result.failed:
        print(spec.name, error)
    result.raise_for_errors()
    ```
    """

    succeeded: list[Out] = attrs.field(factory=list)
    failed: list[tuple[In, BaseException]] = attrs.field(factory=list)
    throttled: int = 0
    final_limit: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.failed

    def raise_for_errors(self) -> None:
        """Raise ``BulkOperationError`` (carrying this result) if any item failed."""
        if self.failed:
            first = self.failed[0][1]
            raise BulkOperationError(
                f"{len(self.failed)} of {len(self.failed) + len(self.succeeded)} items failed; "
                f"first: {first}",
                self,
            )


class AIMDGate:
    """Paces the requests of one bulk call: additive increase, multiplicative decrease.

    The Scaleway gateway answers a bare 429 with no hint of when to come back,
    so the call finds the allowed rate itself, as TCP finds a link's capacity:
    each 429 halves the number of requests allowed in flight, or cuts it to the
    number that succeeded since the last cut if that is lower (once per round
    trip: the requests already on their way when it was cut do not cut it
    again); each success raises it by ``1/limit`` (one more per round trip). When
    even one request in flight is too many, it spaces requests out instead,
    halving the rate on a 429 and adding one request per second per success.
    """

    def __init__(self, concurrency: int) -> None:
        self.ceiling = concurrency
        self.window = float(concurrency)
        self.interval = 0.0  # seconds between request starts; 0 = not paced
        self.throttled = 0
        self._in_flight = 0
        self._next_start = 0.0
        self._last_cut = -math.inf
        self._round_ok = 0  # successes of requests started since the last cut
        self._rtt = 0.0
        self._changed = anyio.Event()
        self._waiting = 0  # tasks blocked in acquire(): only they need waking

    @property
    def limit(self) -> float:
        """Requests allowed in flight; below 1 when requests are spaced out."""
        if self.interval and self._rtt:
            return min(1.0, self._rtt / self.interval)
        return self.window

    async def acquire(self) -> float:
        """Wait for a slot (and, when paced, for its turn); return the start time."""
        while True:
            if self._in_flight < int(self.window):
                now = time.monotonic()
                delay = self._next_start - now if self.interval else 0.0
                if delay <= 0:
                    self._next_start = now + self.interval
                    self._in_flight += 1
                    return now
                await anyio.sleep(delay)
            else:
                self._waiting += 1
                try:
                    await self._changed.wait()
                finally:
                    self._waiting -= 1

    def release(self, started: float, status: int | None) -> None:
        """Account for a finished request (``status`` None: it failed without a response)."""
        self._in_flight -= 1
        now = time.monotonic()
        if status == 429:
            self.throttled += 1
            if started >= self._last_cut:
                self._last_cut = now
                if self.window > 1.0:
                    # Halve, or cut to what got through since the last cut if
                    # that is less: a burst of 429s at the start (a gateway
                    # bucket smaller than the window) then takes one cut, not six.
                    self.window = max(1.0, min(self.window / 2, float(self._round_ok)))
                else:
                    self.interval = max(2 * self.interval, 2 * self._rtt, 0.001)
                    # The next start was booked at the old pace: without this, it
                    # goes out at once, meets another 429 and halves the rate again.
                    self._next_start = now + self.interval
                self._round_ok = 0
        elif status is not None and status < 500:
            if started >= self._last_cut:
                self._round_ok += 1
            duration = now - started
            self._rtt = duration if not self._rtt else 0.8 * self._rtt + 0.2 * duration
            if self.interval:
                self.interval = 1.0 / (1.0 / self.interval + 1.0)
                if self.interval < self._rtt / 2:
                    self.interval = 0.0
            elif self.window < self.ceiling:
                self.window = min(float(self.ceiling), self.window + 1.0 / self.window)
        if self._waiting:
            changed, self._changed = self._changed, anyio.Event()
            changed.set()


# How long a cancelled bulk call may spend finding out what its in-flight items did.
SETTLE_TIMEOUT = 2.0

Settle = Callable[[], Awaitable[Any]]
"""Finds out what a cancelled item did: returns its output, or the exception to report."""


async def run_bulk(
    prepare: Callable[[In], tuple[Awaitable[Out], Settle]],
    items: Iterable[In],
    *,
    concurrency: int,
    on_progress: ProgressCallback | None = None,
    on_item: ItemCallback | None = None,
) -> BulkResult[In, Out]:
    """Run each item's job with ``concurrency`` workers pulling from one iterator.

    ``prepare(item)`` returns the item's awaitable and a ``settle`` coroutine
    function. Memory is proportional to ``concurrency`` plus the results: no
    task or coroutine is made ahead of its turn. On cancellation, each item in
    flight is settled (shielded, at most ``SETTLE_TIMEOUT`` seconds) and reported
    through ``on_item``, so the caller learns which volumes exist; then the
    cancellation propagates.
    """
    if type(concurrency) is not int or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
    if isinstance(items, (str, bytes)):
        raise TypeError("items must be an iterable of items, not a string")
    total = len(items) if isinstance(items, Sized) else None
    jobs = enumerate(items)
    # One slot per item in input order; a success keeps only its output (the
    # input is needed only to report a failure), so 100 000 items cost one
    # pointer each beyond their results.
    outputs: list[Any] = []
    failures: dict[int, tuple[In, BaseException]] = {}
    done = 0
    gate = AIMDGate(concurrency)

    def record(index: int, item: In, outcome: Any, ok: bool) -> None:
        nonlocal done
        if len(outputs) <= index:
            outputs.extend([_FAILED] * (index + 1 - len(outputs)))
        if ok:
            outputs[index] = outcome
        else:
            failures[index] = (item, outcome)
        done += 1
        if on_item is not None:
            on_item(index, item, outcome)
        if on_progress is not None:
            on_progress(done, total)

    async def worker() -> None:
        current_gate.set(gate)
        for index, item in jobs:
            try:
                job, settle = prepare(item)
                output = await job
            except _ITEM_ERRORS as exc:
                record(index, item, exc, False)
            except anyio.get_cancelled_exc_class():
                with anyio.CancelScope(shield=True):
                    settled: Any = APIConnectionError(
                        "cancelled while in flight; outcome unknown", outcome_unknown=True
                    )
                    with anyio.move_on_after(SETTLE_TIMEOUT):
                        try:
                            settled = await settle()
                        except _ITEM_ERRORS as exc:
                            # A failed lookup must not replace the cancellation
                            # (the task group would raise it as an ExceptionGroup).
                            settled.__cause__ = exc
                record(index, item, settled, not isinstance(settled, BaseException))
                raise
            else:
                record(index, item, output, True)

    workers = concurrency if total is None else min(concurrency, total)
    async with anyio.create_task_group() as tg:
        for _ in range(workers):
            tg.start_soon(worker)

    return BulkResult(
        succeeded=[output for output in outputs if output is not _FAILED],
        failed=[failures[index] for index in sorted(failures)],
        throttled=gate.throttled,
        final_limit=gate.limit,
    )
