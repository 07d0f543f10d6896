"""A bulk call given no iterable (None, one spec, one model, one id) says which argument
and what it takes, before any request.

Before, the message named ``items`` (no such argument) for a string, and for None or
a lone spec was Python's bare "object is not iterable".
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, BlockVolumeSpec, VolumeSpec
from scaleway_volumes._bulk_args import check_items
from scaleway_volumes.testing import FakeScaleway

from .helpers import block_volume

pytestmark = pytest.mark.anyio

VOLUME_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def apis(fake: FakeScaleway) -> AsyncIterator[tuple[AsyncBlockAPI, AsyncVolumeAPI]]:
    """A Block and an Instance API on the in-process fake."""
    async with fake.client() as http:
        common: dict[str, Any] = {"client": http, "organization": fake.organization}
        yield (
            AsyncBlockAPI(fake.token, base_url=fake.block_base_url, environ={}, **common),
            AsyncVolumeAPI(fake.token, base_url=fake.base_url, environ={}, **common),
        )


def _cases(
    block: AsyncBlockAPI, instance: AsyncVolumeAPI
) -> list[tuple[Callable[[], Awaitable[object]], str]]:
    block_specs = "specs must be an iterable of BlockVolumeSpec items"
    block_volumes = "volumes must be an iterable of volume ids or BlockVolumes"
    specs = "specs must be an iterable of VolumeSpec items"
    volumes = "volumes must be an iterable of volume ids or Volumes"
    lone = BlockVolumeSpec("v", size=10**10)
    return [
        (lambda: block.create_volumes(None), f"{block_specs}, got NoneType"),  # type: ignore[arg-type]
        (
            lambda: block.create_volumes(lone),  # type: ignore[arg-type]
            f"{block_specs}, got BlockVolumeSpec (wrap one in a list)",
        ),
        (
            lambda: block.create_volumes(lone, wait=True),  # type: ignore[arg-type]
            f"{block_specs}, got BlockVolumeSpec (wrap one in a list)",
        ),
        (
            lambda: block.delete_volumes(VOLUME_ID),
            f"{block_volumes}, not a single string (wrap one in a list)",
        ),
        (
            lambda: block.delete_volumes(block_volume(volume_id=VOLUME_ID)),  # type: ignore[arg-type]
            f"{block_volumes}, got BlockVolume (wrap one in a list)",
        ),
        (lambda: block.delete_volumes(None), f"{block_volumes}, got NoneType"),  # type: ignore[arg-type]
        (
            lambda: instance.create_volumes(VolumeSpec("v", 10**10)),  # type: ignore[arg-type]
            f"{specs}, got VolumeSpec (wrap one in a list)",
        ),
        (
            lambda: instance.create_volumes("spec"),  # type: ignore[arg-type]
            f"{specs}, not a single string (wrap one in a list)",
        ),
        (lambda: instance.delete_volumes(None), f"{volumes}, got NoneType"),  # type: ignore[arg-type]
        (
            lambda: instance.delete_volumes(VOLUME_ID),
            f"{volumes}, not a single string (wrap one in a list)",
        ),
    ]


async def test_bulk_calls_name_their_argument(
    fake: FakeScaleway, apis: tuple[AsyncBlockAPI, AsyncVolumeAPI]
) -> None:
    """Each bulk call's TypeError names its own argument and what it takes; no request."""
    for call, message in _cases(*apis):
        with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
            await call()
    assert fake.stats.requests == []


class _Indexable:
    """An old-style iterable: ``__getitem__`` until ``IndexError``, no ``__iter__``."""

    def __getitem__(self, index: int) -> str:
        if index:
            raise IndexError(index)
        return VOLUME_ID


class _CountedIterable:
    """An iterable that counts the iterators asked of it."""

    def __init__(self) -> None:
        self.iterations = 0

    def __iter__(self) -> Any:
        self.iterations += 1
        return iter([VOLUME_ID])


def test_check_items_takes_every_iterable_and_iterates_none() -> None:
    """Generators, old-style iterables and custom ones pass; none is iterated by the check."""
    counted = _CountedIterable()
    empty: list[str] = []
    accepted: list[object] = [[], (), iter(empty), (i for i in empty), _Indexable(), counted]
    for items in accepted:
        check_items(items, "volumes", "ids")
    assert counted.iterations == 0
