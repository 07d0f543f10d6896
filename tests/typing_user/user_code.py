"""What a user writes, type-checked by tests/test_public_typing.py (never imported)."""

from __future__ import annotations

import contextlib

from typing_extensions import assert_type

from scaleway_volumes import (
    AsyncBlockAPI,
    AsyncVolumeAPI,
    BlockSnapshot,
    BlockVolume,
    BlockVolumeSpec,
    BulkResult,
    Volume,
)


async def waiters(api: AsyncBlockAPI, inst: AsyncVolumeAPI, state: str) -> None:
    assert_type(await api.wait_for_volume("x"), BlockVolume)
    assert_type(await api.wait_for_volume("x", until="available"), BlockVolume)
    assert_type(await api.wait_for_volume("x", until="deleted"), None)
    # A str variable may hold "deleted": the model or None.
    assert_type(await api.wait_for_volume("x", until=state), BlockVolume | None)
    assert_type(await api.wait_for_volume("x", until={"available", "in_use"}), BlockVolume | None)
    assert_type(await api.wait_for_snapshot("x", until="available"), BlockSnapshot)
    assert_type(await api.wait_for_snapshot("x", until=state), BlockSnapshot | None)
    assert_type(await inst.wait_for_volume("x", until="available"), Volume)
    assert_type(await inst.wait_for_volume("x", until="deleted"), None)


async def iterators(api: AsyncBlockAPI, inst: AsyncVolumeAPI) -> None:
    # Closed early (trio needs it): they are async generators.
    async with contextlib.aclosing(api.iter_volumes(name="pg-")) as volumes:
        async for volume in volumes:
            assert_type(volume, BlockVolume)
            break
    async with contextlib.aclosing(api.iter_snapshots()) as snapshots:
        async for snapshot in snapshots:
            assert_type(snapshot, BlockSnapshot)
            break
    async with contextlib.aclosing(inst.iter_volumes()) as instance_volumes:
        async for instance_volume in instance_volumes:
            assert_type(instance_volume, Volume)
            break


def on_item(index: int, spec: BlockVolumeSpec, outcome: BlockVolume | BaseException) -> None:
    if isinstance(outcome, BlockVolume):
        print(index, spec.name, outcome.status)


def on_item_assuming_success(index: int, spec: BlockVolumeSpec, outcome: BlockVolume) -> None:
    print(index, spec.name, outcome.status)


async def bulk(api: AsyncBlockAPI, specs: list[BlockVolumeSpec]) -> None:
    result = await api.create_volumes(specs, on_item=on_item)
    assert_type(result, BulkResult[BlockVolumeSpec, BlockVolume])
    assert_type(result.succeeded, list[BlockVolume])
    # The outcome may be the exception: a callback that assumes the model is refused.
    await api.create_volumes(specs, on_item=on_item_assuming_success)  # type: ignore[arg-type]
