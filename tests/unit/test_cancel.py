"""A cancellation that arrives as a group (a trio nursery's) is still a cancellation.

Under trio, httpx's pool connects inside a nursery, so a request cancelled while
connecting raised a ``BaseExceptionGroup`` of ``Cancelled``: a bulk call then
lost the item in flight from its report (seen in CI: 15 items reported, item 7
missing).
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
import httpx
import pytest

from scaleway_volumes import AsyncVolumeAPI
from scaleway_volumes._bulk import Prepared, run_bulk
from scaleway_volumes._cancel import sole_cancellation
from scaleway_volumes._pipeline import Attempts

from ..conftest import TOKEN
from .helpers import volume_json

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

pytestmark = pytest.mark.anyio
trio_only = pytest.mark.parametrize("anyio_backend", ["trio"])


class Reports(dict[int, Any]):
    """``on_item``: each item's outcome by index; an item reported twice fails the test."""

    def __call__(self, index: int, item: object, outcome: object) -> None:
        assert index not in self, f"item {index} reported twice"
        self[index] = outcome


async def _cancellation() -> BaseException:
    """A real cancellation of the running backend (trio's has no public constructor)."""
    with anyio.CancelScope() as scope:
        scope.cancel()
        try:
            await anyio.sleep(1)
        except anyio.get_cancelled_exc_class() as exc:
            return exc
    raise AssertionError("not cancelled")  # pragma: no cover


async def test_sole_cancellation_sees_through_groups_of_cancellations_only() -> None:
    """Plain, grouped or nested: the first cancellation; anything else mixed in: None."""
    first, second = await _cancellation(), await _cancellation()
    assert sole_cancellation(first) is first
    assert sole_cancellation(BaseExceptionGroup("g", [first, second])) is first
    nested = BaseExceptionGroup("outer", [BaseExceptionGroup("inner", [first]), second])
    assert sole_cancellation(nested) is first
    assert sole_cancellation(BaseExceptionGroup("g", [first, ValueError()])) is None
    assert sole_cancellation(ExceptionGroup("g", [ValueError()])) is None
    assert sole_cancellation(ValueError()) is None
    assert sole_cancellation(KeyboardInterrupt()) is None


def _prepare_grouping(settled: list[int]) -> Any:
    """Jobs that wait until cancelled, then raise the cancellation inside a group."""

    def prepare(item: int) -> Prepared:
        async def job() -> str:
            try:
                await anyio.sleep_forever()
            except BaseException as exc:
                raise BaseExceptionGroup("as a trio nursery raises it", [exc]) from None
            raise AssertionError("unreachable")  # pragma: no cover

        async def settle() -> str:
            settled.append(item)
            return f"settled-{item}"

        attempts = Attempts()
        attempts.sends = 1  # the job stands for a request on the wire
        return job(), settle, attempts

    return prepare


async def test_bulk_item_cancelled_as_a_group_is_settled_and_reported() -> None:
    """Every item in flight is settled and reported, even if its job raised a group."""
    settled: list[int] = []
    reports = Reports()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: run_bulk(
                    _prepare_grouping(settled), range(3), concurrency=3, on_item=reports
                )
            )
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught
    assert reports == {i: f"settled-{i}" for i in range(3)}
    assert sorted(settled) == [0, 1, 2]


async def test_bulk_bug_grouped_with_a_cancellation_still_propagates() -> None:
    """A group holding a bug is a bug: it propagates, and its item is not settled."""

    def prepare(item: int) -> Prepared:
        async def job() -> str:
            raise BaseExceptionGroup("g", [await _cancellation(), KeyError(item)])

        async def settle() -> str:  # pragma: no cover - must not run
            raise AssertionError("a bug was settled")

        return job(), settle, Attempts()

    with pytest.raises(BaseExceptionGroup) as info:
        await run_bulk(prepare, [7], concurrency=1)
    assert info.value.subgroup(KeyError) is not None


class NurseryTransport(httpx.AsyncBaseTransport):
    """Hangs each DELETE inside a trio nursery, as httpx's pool does while it connects;
    answers a GET with 404 (the volume is gone)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import trio

        if request.method == "GET":
            return httpx.Response(404, json={"type": "unknown_resource", "message": "gone"})
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.sleep_forever)
            await trio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover


@trio_only
async def test_request_cancelled_in_a_trio_nursery_raises_plain_cancelled() -> None:
    """The caller of a request cancelled inside the transport's nursery sees ``Cancelled``."""
    import trio

    seen: list[BaseException] = []
    async with httpx.AsyncClient(transport=NurseryTransport()) as client:
        api = AsyncVolumeAPI(TOKEN, client=client)
        with trio.move_on_after(0.05):
            try:
                await api.delete_volume(volume_json()["id"])
            except BaseException as exc:
                seen.append(exc)
                raise
    assert len(seen) == 1 and type(seen[0]) is trio.Cancelled


@trio_only
async def test_delete_volumes_cancelled_while_connecting_reports_every_item() -> None:
    """Cancelled while each DELETE hangs in the transport's nursery: every item is
    settled (a lookup finds it gone) and reported."""
    import trio

    ids = [volume_json()["id"] for _ in range(3)]
    reports = Reports()
    async with httpx.AsyncClient(transport=NurseryTransport()) as client:
        api = AsyncVolumeAPI(TOKEN, client=client)
        with trio.move_on_after(0.05) as scope:
            await api.delete_volumes(ids, concurrency=3, on_item=reports)
    assert scope.cancelled_caught
    assert reports == dict(enumerate(ids))
