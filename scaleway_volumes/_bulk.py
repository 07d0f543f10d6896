"""Bulk calls: a fixed pool of workers over a lazy input, per-item results in input order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sized
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel
import attrs

from ._bulk_args import check_callback, check_concurrency, check_items, refuse_awaitable
from ._cancel import sole_cancellation, sole_interrupt
from ._errors import APIConnectionError, BulkOperationError, ScalewayError
from ._later import Later
from ._pipeline import Attempts

__all__ = [
    "THROTTLE_BUDGET",
    "BulkResult",
    "ItemCallback",
    "ProgressCallback",
    "lighten",
    "run_bulk",
]

In = TypeVar("In")
Out = TypeVar("Out")

ProgressCallback = Callable[[int, "int | None"], object]
"""``on_progress(done, total)``: ``total`` is ``None`` when the input has no length.

``done`` counts the items that reached their end; an item settled because the
call was cancelled or stopped is reported through ``on_item`` only."""
ItemCallback = Callable[[int, In, Out | BaseException], object]
"""``on_item(index, input, outcome)``: the output, or the exception, of one item
(``ItemCallback[BlockVolumeSpec, BlockVolume]``: a callback typed as if every
outcome were the output would fail on the first failed item)."""

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


def lighten(error: BaseException) -> None:
    """Drop the tracebacks of a failed item's error, of its causes and contexts.

    A failed item is a result kept until the call's caller lets it go: its
    tracebacks would keep every frame they went through, with its request
    body, response and coroutines (about 8 KB per item, measured, against
    3 KB for the error itself: a gigabyte for 100 000 failures). What failed
    is the error's class, message and attributes; an exception that is not an
    item's failure (a bug, a callback's) propagates with its traceback instead.
    """
    seen: set[int] = set()
    chain: list[BaseException | None] = [error]
    while chain:
        exc = chain.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        exc.__traceback__ = None
        chain += (exc.__cause__, exc.__context__)


# How long a cancelled bulk call may spend finding out what its in-flight items did.
SETTLE_TIMEOUT = 2.0

# How many items a worker takes between checkpoints that let other tasks run
# (it checks for a cancellation at each): what a request over an in-process
# transport, which never yields, leaves to the rest of the program.
_YIELD_EVERY = 64

Settle = Callable[[], Awaitable[Any]]
"""Finds out what a cancelled item did: returns its output, or the exception to report."""

Prepared = tuple[Awaitable[Any], Settle, Attempts]
"""What ``prepare(item)`` returns: the item's job, its settle function, its attempts."""


async def _settle_cancelled(settle: Settle) -> Any:
    """What a cancelled item did, found out shielded and within ``SETTLE_TIMEOUT``."""
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
        return settled


async def run_bulk(
    prepare: Callable[[In], Prepared],
    items: Iterable[In],
    *,
    concurrency: int,
    on_progress: ProgressCallback | None = None,
    on_item: ItemCallback[In, Out] | None = None,
    max_under_way: int | None = None,
) -> BulkResult[In, Out]:
    """Run each item's job with ``concurrency`` workers pulling from one iterator.

    ``prepare(item)`` checks the item and returns its job, a ``settle``
    coroutine function and the ``Attempts`` its requests count in. An item
    whose input ``prepare`` rejects (``ValueError``/``TypeError``) or whose job
    raises a ``ScalewayError`` is a failed item (``lighten``-ed). Memory is
    proportional to ``concurrency`` plus the results: no task or coroutine is
    made ahead of its turn. On cancellation, each item in flight is settled
    (shielded, at most ``SETTLE_TIMEOUT`` seconds) and reported through
    ``on_item``, so the caller learns which volumes exist; then the
    cancellation propagates. A ``KeyboardInterrupt`` or ``SystemExit`` (Ctrl-C
    under trio lands in whatever request runs) is met the same way, the item it
    interrupted settled too, and propagates as itself, not in an exception
    group. Each item taken is a checkpoint: a transport that answers without
    yielding (in process) still lets a cancellation land. ``on_progress``
    counts only the items that reached their end: one settled because the call
    was cancelled or stopped goes to ``on_item`` alone.

    Any other exception (from ``items`` itself, a callback, or a bug) ends the
    call the same way: the items in flight are settled and reported (the
    callbacks are still called for each), then the first such exception
    propagates as itself, even over a cancellation it met. Callbacks must be
    plain functions (``check_callback``).

    A job may end by handing its item over: it returns a ``Later``, its worker
    goes on with the next item, and the item settles (is recorded, reported)
    when the taker calls ``Later.finish``; the call returns once every item
    has settled. At most ``max_under_way`` items (default ``concurrency``) are
    taken from ``items`` and not yet settled: past that, workers pause. Items
    handed over count as in flight on cancellation: ``settle`` reports them, or
    the ``Later`` itself when it is ``self_settling``.
    """
    check_concurrency(concurrency)
    check_callback(on_progress, "on_progress")
    check_callback(on_item, "on_item")
    limit = concurrency if max_under_way is None else max_under_way
    if type(limit) is not int or limit < 1:
        raise ValueError(f"max_under_way must be an int >= 1, got {limit!r}")
    check_items(items, "items", "items")
    total = len(items) if isinstance(items, Sized) else None
    jobs = enumerate(items)
    # One slot per item in input order; a success keeps only its output (the
    # input is needed only to report a failure), so 100 000 items cost one
    # pointer each beyond their results.
    outputs: list[Any] = []
    failures: dict[int, tuple[In, BaseException]] = {}
    done = 0
    throttled = 0
    under_way = 0
    # Items handed over and not settled yet, for the cancellation's report, by
    # index: their Laters, inputs and, for the Laters not self-settling, settle
    # functions. Three dicts and no tuple per item: a call may wait for
    # thousands, each object kept is one more for the garbage collector.
    handed: dict[int, Later] = {}
    handed_items: dict[int, In] = {}
    handed_settles: dict[int, Settle] = {}
    # Set when a worker may take an item again / when the last handed item
    # settles; made only when somebody waits for it.
    room: anyio.Event | None = None
    all_settled: anyio.Event | None = None
    # The first exception that ends the call (see above), and the scope it cancels.
    stopped: Exception | None = None
    running = anyio.CancelScope()

    def stop(error: Exception) -> None:
        nonlocal stopped
        if stopped is None:
            stopped = error
            running.cancel()

    def call_back(name: str, callback: Callable[..., object], *args: Any) -> None:
        try:
            returned = callback(*args)
            if returned is not None:
                refuse_awaitable(returned, name)
        except Exception as exc:
            stop(exc)

    def record(index: int, item: In, outcome: Any, ok: bool, ended: bool = True) -> None:
        nonlocal done, under_way, room
        if len(outputs) <= index:
            outputs.extend([_FAILED] * (index + 1 - len(outputs)))
        if ok:
            outputs[index] = outcome
        else:
            lighten(outcome)
            failures[index] = (item, outcome)
        under_way -= 1
        if room is not None:
            room.set()
            room = None
        # A callback that raises ends the call, but is still called for every
        # item recorded after (each one in flight is settled and reported).
        if on_item is not None:
            call_back("on_item", on_item, index, item, outcome)
        if ended:
            done += 1
            if on_progress is not None:
                call_back("on_progress", on_progress, done, total)

    def record_settled(index: int, item: In, settled: Any) -> None:
        # What a cancelled item was found to have done: an exception is its
        # failure. Not progress: a volume still creating when a wait=True call
        # was cancelled did not become available ("3/3 done" after Ctrl-C).
        record(index, item, settled, not isinstance(settled, BaseException), False)

    def finished(index: int, outcome: Any, ok: bool) -> None:
        del handed[index]
        handed_settles.pop(index, None)
        record(index, handed_items.pop(index), outcome, ok)
        if not handed and all_settled is not None:
            all_settled.set()

    def hand_over(index: int, item: In, settle: Settle, later: Later) -> None:
        handed[index] = later
        handed_items[index] = item
        if not later.self_settling:
            handed_settles[index] = settle
        later.on_finish(finished, index)

    workers = concurrency if total is None else min(concurrency, total)
    # An input of unknown length (a generator) starts one worker, and each worker
    # that gets an item starts the next: three items at concurrency 100 000 would
    # otherwise start 100 000 tasks that find nothing.
    started = workers if total is not None else 1

    async def worker() -> None:
        nonlocal throttled, under_way, room, started
        taken = 0
        while True:
            # A cancellation lands here even when no request yields; every
            # ``_YIELD_EVERY`` items the worker also lets other tasks (and
            # expired timeouts) run.
            taken += 1
            if taken % _YIELD_EVERY:
                await anyio.lowlevel.checkpoint_if_cancelled()
            else:
                await anyio.lowlevel.checkpoint()
            while under_way >= limit:
                if room is None:
                    room = anyio.Event()
                await room.wait()
            try:
                index, item = next(jobs)
            except StopIteration:
                return
            except Exception as exc:  # the input's own failure (a generator raising)
                stop(exc)
                return
            under_way += 1
            if started < workers:
                started += 1
                tg.start_soon(worker)
            try:
                job, settle, attempts = prepare(item)
            except (ValueError, TypeError) as exc:
                record(index, item, exc, False)
                continue
            except Exception as exc:  # a bug
                stop(exc)
                return
            try:
                output = await job
            except ScalewayError as exc:
                record(index, item, exc, False)
            except BaseException as exc:
                # A cancellation (plain, or a group of them from a trio
                # nursery), or Ctrl-C raised inside the request under trio,
                # first settles the item (its create may have acted); a bug
                # ends the call.
                if sole_cancellation(exc) is None and sole_interrupt(exc) is None:
                    if isinstance(exc, Exception):
                        stop(exc)
                        return
                    raise
                if attempts.sent:
                    settled = await _settle_cancelled(settle)
                else:
                    # Still waiting for the limiter or a slot: nothing left, so
                    # there is nothing to look up and nothing "may exist".
                    settled = APIConnectionError(
                        "cancelled before its request was sent; nothing was done"
                    )
                record_settled(index, item, settled)
                raise
            else:
                if isinstance(output, Later):
                    hand_over(index, item, settle, output)
                else:
                    record(index, item, output, True)
            finally:
                throttled += attempts.throttled

    async def settle_handed() -> None:
        # Cancelled or stopped: the items handed over are in flight too. They
        # are settled side by side, so the whole takes ``SETTLE_TIMEOUT`` at most.
        async def settle_one(index: int, item: In, settle: Settle) -> None:
            record_settled(index, item, await _settle_cancelled(settle))

        left = sorted(handed.items())
        handed.clear()
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as tg:
                for index, later in left:
                    later.abandon()
                    item = handed_items.pop(index)
                    if later.self_settling:
                        record_settled(index, item, later.settled())
                    else:
                        tg.start_soon(settle_one, index, item, handed_settles.pop(index))

    interrupt: BaseException | None = None
    try:
        with running:
            async with anyio.create_task_group() as tg:
                for _ in range(started):
                    tg.start_soon(worker)
            if handed:
                all_settled = anyio.Event()
                await all_settled.wait()
    except BaseException as exc:
        await settle_handed()
        if stopped is not None:  # a callback raised too (say, while items settled): it wins
            raise stopped  # noqa: B904 - the cancellation stays its __context__
        # Ctrl-C leaves trio's nursery as a group of it (and the workers'
        # cancellations): the caller gets the KeyboardInterrupt itself.
        interrupt = sole_interrupt(exc)
        if interrupt is None or interrupt is exc:
            raise
    if interrupt is not None:
        raise interrupt  # out of the except: its context is not the group that held it
    if stopped is not None:
        await settle_handed()
        raise stopped

    return BulkResult(
        succeeded=[output for output in outputs if output is not _FAILED],
        failed=[failures[index] for index in sorted(failures)],
        throttled=throttled,
    )
