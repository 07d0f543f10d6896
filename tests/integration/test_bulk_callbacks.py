"""Bulk calls and the caller's own code: callbacks, inputs, cancellation, what a result counts.

A callback that raises, or a generator of specs that breaks midway, ends the
call like a cancellation (every item in flight settled and reported through
``on_item``), then its exception propagates as itself. An ``async def``
callback is refused before any request. Over an in-process transport, which
answers without ever yielding, a cancelled call still stops. With
``wait=True`` the polls' bare 429s are flow control, counted in ``throttled``.
"""

from __future__ import annotations

import functools
import gc
import warnings
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from scaleway_volumes import (
    APIConnectionError,
    AsyncBlockAPI,
    BlockVolume,
    BlockVolumeSpec,
    BulkOperationError,
    BulkResult,
    QuotaExceededError,
    ScalewayError,
    VolumeSpec,
)
from scaleway_volumes._hints import hint
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

from .block_helpers import GB, MARKER, make_block
from .conftest import ApiFactory


def specs(count: int, prefix: str = "cb") -> list[BlockVolumeSpec]:
    return [BlockVolumeSpec(f"{prefix}-{i}", size=10 * GB) for i in range(count)]


def breaking_at(count: int, at: int) -> Iterator[BlockVolumeSpec]:
    """Specs from a generator that raises ``KeyError`` when asked for item ``at``."""
    for i in range(count):
        if i == at:
            raise KeyError("the spec source broke")
        yield BlockVolumeSpec(f"gen-{i}", size=10 * GB)


class Outcomes(dict[int, object]):
    """``on_item``: each item's outcome by input index (reported once each), and its input."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[int, object] = {}

    def __call__(self, index: int, item: object, outcome: object) -> None:
        assert index not in self, f"item {index} reported twice"
        self[index] = outcome
        self.inputs[index] = item


def assert_reported(fake: FakeScaleway, outcomes: Outcomes) -> set[str]:
    """Every volume reported made exists, and every volume that exists was reported
    made, or reported as an unknown outcome carrying its marker (a create in flight
    when the call ended, whose check did not see it yet). Returns the names made."""
    made = {v["name"] for v in fake.block.volumes()}
    created = {o.name for o in outcomes.values() if isinstance(o, BlockVolume)}
    unknown = {
        getattr(outcomes.inputs[index], "name", None)
        for index, outcome in outcomes.items()
        if isinstance(outcome, ScalewayError) and outcome.outcome_unknown and outcome.marker_tag
    }
    assert created <= made <= created | unknown, (made, created, unknown)
    return made


def in_process(fake: FakeScaleway) -> tuple[httpx.AsyncClient, AsyncBlockAPI]:
    """The fake's in-process client (it answers without yielding) and an API on it."""
    http = fake.client()
    return http, AsyncBlockAPI(
        fake.token, base_url=fake.block_base_url, project=fake.organization, client=http
    )


# -- a callback or the input that raises ends the call, reported, as itself -------------


@pytest.mark.anyio
@pytest.mark.parametrize("raising", ["on_progress", "on_item"])
async def test_a_raising_callback_with_wait_still_reports_every_created_volume(
    fake: FakeScaleway, server: FakeServer, raising: str
) -> None:
    """A callback that starts raising at every call (a closed progress bar or file) ends
    the call, which still reports each volume it made through ``on_item``, the raising
    one included, then raises that callback's first exception."""
    fake.latency = 0.005
    fake.block_create_time = 0.3  # created volumes wait on the poller a while
    outcomes = Outcomes()
    raised: list[int] = []

    def on_progress(done: int, total: int | None) -> None:
        if raising == "on_progress" and done >= 3:
            raised.append(done)
            raise ValueError(f"I/O operation on closed file ({done})")

    def on_item(index: int, item: object, outcome: object) -> None:
        outcomes(index, item, outcome)
        if raising == "on_item" and len(outcomes) >= 3:
            raised.append(len(outcomes))
            raise ValueError(f"I/O operation on closed file ({len(outcomes)})")

    async with make_block(fake, server) as api:
        with pytest.raises(ValueError, match=r"closed file \(3\)"):
            await api.create_volumes(
                specs(40), concurrency=8, wait=True, on_progress=on_progress, on_item=on_item
            )
    exist = {v["name"] for v in fake.block.volumes()}
    reported = {f"cb-{i}" for i, out in outcomes.items() if isinstance(out, BlockVolume)}
    assert exist and exist <= reported, f"{len(exist - reported)} created volumes not reported"
    if raising == "on_item":
        # Every item the stopped call settles is reported, so on_item is called
        # again; on_progress counts only items that ended, and a stopped call may
        # have none left to end (the items in flight are settled, not ended).
        assert len(raised) > 1, "the callback was not called again after it raised"


@pytest.mark.anyio
@pytest.mark.parametrize("wait", [False, True])
@pytest.mark.parametrize("raising", ["on_progress", "on_item"])
async def test_a_callbacks_exception_propagates_as_itself(
    fake: FakeScaleway, server: FakeServer, wait: bool, raising: str
) -> None:
    """``except RuntimeError`` catches the callback's own exception: not an exception
    group, nor one copy per worker."""

    calls: list[object] = []

    def callback(*args: object) -> None:
        if len(calls) == 3:
            raise RuntimeError("user callback failed")
        calls.append(args)

    async with make_block(fake, server) as api:
        with pytest.raises(RuntimeError, match="user callback failed") as info:
            await api.create_volumes(specs(20), concurrency=4, wait=wait, **{raising: callback})
    assert type(info.value) is RuntimeError


@pytest.mark.anyio
async def test_a_callback_raising_while_a_cancellation_settles_items_propagates(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Cancelled from outside, the call reports its items in flight; an ``on_item``
    that raises then (the program is shutting down) is still called for every item,
    and its exception propagates rather than vanish in the cancellation."""
    fake.latency = 0.01
    outcomes = Outcomes()
    scope = anyio.CancelScope()

    def on_progress(done: int, total: int | None) -> None:
        if done == 3:
            scope.cancel()

    def on_item(index: int, item: object, outcome: object) -> None:
        outcomes(index, item, outcome)
        if scope.cancel_called:
            raise ValueError("closed")

    async def cancelled_call(api: AsyncBlockAPI) -> None:
        with scope:
            await api.create_volumes(
                specs(40), concurrency=8, on_progress=on_progress, on_item=on_item
            )

    async with make_block(fake, server) as api:
        with pytest.raises(ValueError, match="closed"):
            await cancelled_call(api)
    made = assert_reported(fake, outcomes)
    assert 3 < len(made) < 40


@pytest.mark.anyio
async def test_an_input_generator_that_raises_propagates_as_itself(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A generator of specs that raises midway: its ``KeyError`` reaches ``except
    KeyError`` once the items taken before it are settled and reported."""
    outcomes = Outcomes()
    async with make_block(fake, server) as api:
        with pytest.raises(KeyError, match="the spec source broke"):
            await api.create_volumes(breaking_at(50, 10), concurrency=4, on_item=outcomes)
    assert sorted(outcomes) == list(range(10))
    assert_reported(fake, outcomes)


@pytest.mark.anyio
async def test_an_instance_input_generator_that_raises_propagates_as_itself(
    api: ApiFactory,
) -> None:
    """The same for the Instance API's bulk create."""

    def volume_specs() -> Iterator[VolumeSpec]:
        yield VolumeSpec("first", 10 * GB)
        raise LookupError("no more specs")

    async with api() as client:
        with pytest.raises(LookupError, match="no more specs"):
            await client.create_volumes(volume_specs(), concurrency=4)


# -- callbacks are plain functions ---------------------------------------------------------


class AsyncCallable:
    async def __call__(self, *args: object) -> None:
        """An object whose ``__call__`` is a coroutine function."""


async def async_callback(*args: object) -> None:
    """A coroutine function: called by a bulk call, it would never run."""


@pytest.mark.anyio
@pytest.mark.parametrize("which", ["on_progress", "on_item"])
@pytest.mark.parametrize(
    "callback",
    [async_callback, functools.partial(async_callback, 1), AsyncCallable(), 42],
    ids=["async-def", "partial", "async-call", "not-callable"],
)
async def test_a_callback_that_is_not_a_plain_function_is_refused_before_any_request(
    fake: FakeScaleway, server: FakeServer, which: str, callback: object
) -> None:
    """An ``async def`` callback (bare, in a ``functools.partial``, as ``__call__``) would
    be called and never awaited: refused with ``TypeError``, as is a non-callable, before
    a request is sent."""
    async with make_block(fake, server) as api:
        with pytest.raises(TypeError, match=which):
            await api.create_volumes(specs(3), **{which: callback})
        with pytest.raises(TypeError, match=which):
            await api.delete_volumes(["0f0e4c4d-6c1b-4f53-9a4e-2d7f2f6f3a11"], **{which: callback})
    assert fake.stats.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("wait", [False, True])
async def test_a_callback_that_returns_an_awaitable_fails_the_call(
    fake: FakeScaleway, server: FakeServer, wait: bool
) -> None:
    """A plain function returning a coroutine (``lambda *a: notify(*a)``): the coroutine
    is closed (no "never awaited" warning) and the call fails with ``TypeError``, its
    items in flight reported first."""
    outcomes = Outcomes()

    def on_progress(done: int, total: int | None) -> Any:
        return async_callback(done, total)

    async with make_block(fake, server) as api:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with pytest.raises(TypeError, match="on_progress returned coroutine"):
                await api.create_volumes(
                    specs(10), concurrency=4, wait=wait, on_progress=on_progress, on_item=outcomes
                )
            gc.collect()
    assert_reported(fake, outcomes)


# -- over an in-process transport a cancellation still lands ------------------------------


@pytest.mark.anyio
async def test_a_call_in_a_cancelled_scope_starts_nothing_in_process(fake: FakeScaleway) -> None:
    """The fake's in-process client never yields: started inside a cancelled scope, a
    bulk call still stops at its first item rather than making every volume."""
    http, api = in_process(fake)
    async with http, api:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await api.create_volumes(specs(50), concurrency=4)
    assert scope.cancelled_caught
    assert fake.block.volumes() == []


@pytest.mark.anyio
async def test_a_call_cancelled_midway_stops_in_process(fake: FakeScaleway) -> None:
    """Cancelled from a callback at its fifth item, an in-process call makes no more
    volumes, and reports each one it made."""
    outcomes = Outcomes()
    http, api = in_process(fake)
    async with http, api:
        with anyio.CancelScope() as scope:

            def on_progress(done: int, total: int | None) -> None:
                if done == 5:
                    scope.cancel()

            await api.create_volumes(
                specs(50), concurrency=4, on_progress=on_progress, on_item=outcomes
            )
    made = assert_reported(fake, outcomes)
    assert 5 <= len(made) < 50


@pytest.mark.anyio
async def test_a_long_in_process_call_lets_other_tasks_run(fake: FakeScaleway) -> None:
    """A call of 300 creates in process lets the program's other tasks run now and
    then (so a timeout around it can fire): it does not hold the loop to the end."""
    ticks = 0
    seen: list[int] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.lowlevel.checkpoint()

    http, api = in_process(fake)
    async with http, api, anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        result = await api.create_volumes(
            specs(300), concurrency=1, on_progress=lambda done, total: seen.append(ticks)
        )
        tg.cancel_scope.cancel()
    assert result.ok and len(seen) == 300
    assert seen[-1] > seen[0], "no other task ran during the call"


# -- wait=True: the polls' bare 429s are flow control, counted --------------------------


@pytest.mark.anyio
async def test_throttled_counts_the_bare_429s_of_the_polls(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """``BulkResult.throttled`` counts the bare 429s the call's requests met, its polls
    included: like a create's, a poll's bare 429 is resent at the limiter's pace."""
    fake.add_fault(
        Fault(
            "respond",
            method="GET",
            path="/volumes$",
            status=429,
            body={"message": "rate limited", "type": "too_many_requests"},
            times=2,
        )
    )
    async with make_block(fake, server) as api:
        result = await api.create_volumes(specs(5), wait=True)
    assert result.ok
    assert fake.stats.statuses[429] == 2
    assert result.throttled == 2


# -- hint() of a BulkOperationError ------------------------------------------------------


@pytest.mark.parametrize("unknown_first", [True, False])
def test_the_hint_of_a_bulk_error_is_its_first_failed_items(unknown_first: bool) -> None:
    """docs/errors.md: a ``BulkOperationError`` gets "the hint of its first failed item",
    not the generic "may have gone through" of its own ``outcome_unknown``."""
    unknown = APIConnectionError(
        "cancelled while creating volume 'a'; it may exist",
        outcome_unknown=True,
        marker_tag=MARKER + "0123456789abcdef" * 2,
    )
    quota = QuotaExceededError(
        status_code=403, type="quotas_exceeded", message="quota(s) exceeded for this resource"
    )
    failed: list[tuple[VolumeSpec, BaseException]] = [
        (VolumeSpec("a", GB), unknown),
        (VolumeSpec("b", GB), quota),
    ]
    if not unknown_first:
        failed.reverse()
    with pytest.raises(BulkOperationError) as info:
        BulkResult(succeeded=[], failed=failed).raise_for_errors()
    assert info.value.outcome_unknown
    assert hint(info.value) == hint(failed[0][1])
