"""Bulk calls: a fixed pool of workers over a lazy input, per-item results in input order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sized
from typing import Any, Generic, TypeVar

import anyio
import attrs

from ._errors import APIConnectionError, BulkOperationError, ScalewayError
from ._pipeline import Attempts

__all__ = [
    "THROTTLE_BUDGET",
    "BulkResult",
    "ItemCallback",
    "ProgressCallback",
    "check_concurrency",
    "run_bulk",
]

In = TypeVar("In")
Out = TypeVar("Out")

ProgressCallback = Callable[[int, "int | None"], object]
"""``on_progress(done, total)``: ``total`` is ``None`` when the input has no length."""
ItemCallback = Callable[[int, Any, Any], object]
"""``on_item(index, input, outcome)``: the output, or the exception, of one item."""

# Marks a slot whose item failed (its input and error are kept apart).
_FAILED: Any = object()

# Bare 429s one item may meet, resent at the rate limiter's pace, before they
# count as retries: in a bulk call a 429 is flow control, not a failure.
THROTTLE_BUDGET = 50


@attrs.define
class BulkResult(Generic[In, Out]):
    """What a bulk call did, item by item, in input order.

    ``succeeded`` holds the outputs (``Volume`` for create, the id for delete),
    ``failed`` the ``(input, exception)`` pairs. ``throttled`` counts the bare
    429s the call's requests met (each resent at the rate limiter's pace).

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


def check_concurrency(concurrency: object) -> int:
    """A bulk call's ``concurrency``: an int of at least 1."""
    if type(concurrency) is not int or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
    return concurrency


# How long a cancelled bulk call may spend finding out what its in-flight items did.
SETTLE_TIMEOUT = 2.0

Settle = Callable[[], Awaitable[Any]]
"""Finds out what a cancelled item did: returns its output, or the exception to report."""

Prepared = tuple[Awaitable[Any], Settle, Attempts]
"""What ``prepare(item)`` returns: the item's job, its settle function, its attempts."""


async def run_bulk(
    prepare: Callable[[In], Prepared],
    items: Iterable[In],
    *,
    concurrency: int,
    on_progress: ProgressCallback | None = None,
    on_item: ItemCallback | None = None,
) -> BulkResult[In, Out]:
    """Run each item's job with ``concurrency`` workers pulling from one iterator.

    ``prepare(item)`` checks the item and returns its job, a ``settle``
    coroutine function and the ``Attempts`` its requests count in. An item
    whose input ``prepare`` rejects (``ValueError``/``TypeError``) or whose job
    raises a ``ScalewayError`` is a failed item; any other exception is a bug
    and propagates. Memory is proportional to ``concurrency`` plus the results:
    no task or coroutine is made ahead of its turn. On cancellation, each item in
    flight is settled (shielded, at most ``SETTLE_TIMEOUT`` seconds) and reported
    through ``on_item``, so the caller learns which volumes exist; then the
    cancellation propagates.
    """
    check_concurrency(concurrency)
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
    throttled = 0

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
        nonlocal throttled
        for index, item in jobs:
            try:
                job, settle, attempts = prepare(item)
            except (ValueError, TypeError) as exc:
                record(index, item, exc, False)
                continue
            try:
                output = await job
            except ScalewayError as exc:
                record(index, item, exc, False)
            except anyio.get_cancelled_exc_class():
                with anyio.CancelScope(shield=True):
                    settled: Any = APIConnectionError(
                        "cancelled while in flight; outcome unknown", outcome_unknown=True
                    )
                    with anyio.move_on_after(SETTLE_TIMEOUT):
                        try:
                            settled = await settle()
                        except ScalewayError as exc:
                            # A failed lookup must not replace the cancellation
                            # (the task group would raise it as an ExceptionGroup).
                            settled.__cause__ = exc
                record(index, item, settled, not isinstance(settled, BaseException))
                raise
            else:
                record(index, item, output, True)
            finally:
                throttled += attempts.throttled

    workers = concurrency if total is None else min(concurrency, total)
    async with anyio.create_task_group() as tg:
        for _ in range(workers):
            tg.start_soon(worker)

    return BulkResult(
        succeeded=[output for output in outputs if output is not _FAILED],
        failed=[failures[index] for index in sorted(failures)],
        throttled=throttled,
    )
