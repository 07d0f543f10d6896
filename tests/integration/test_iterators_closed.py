"""An iterator the user closes early closes the library's own page generator with it."""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import AsyncGenerator

import pytest

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes.testing import FakeScaleway, FakeServer

pytestmark = pytest.mark.anyio


@pytest.mark.usefixtures("clean_collector")
@pytest.mark.parametrize("anyio_backend", ["trio"])
@pytest.mark.parametrize("which", ["block volumes", "block snapshots", "instance volumes"])
async def test_iterator_closed_with_aclosing_leaves_no_generator_to_the_collector(
    fake: FakeScaleway, server: FakeServer, which: str
) -> None:
    """The user stops after the first item and closes the iterator the documented
    way, ``contextlib.aclosing``. The inner ``_listing.pages`` generator is closed
    too: trio warns ('Async generator ... was garbage collected before it had been
    exhausted') about any async generator left to the garbage collector."""
    for i in range(7):
        volume = fake.block.add_volume(f"v{i}")
        fake.block.add_snapshot(volume["id"], f"s{i}")
        fake.add_volume(name=f"i{i}", size=10**10)
    block = AsyncBlockAPI(fake.token, base_url=server.block_base_url, project=fake.organization)
    inst = AsyncVolumeAPI(fake.token, base_url=server.base_url, organization=fake.organization)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with block, inst:
            source: AsyncGenerator[object, None]
            if which == "block volumes":
                source = block.iter_volumes(per_page=3)
            elif which == "block snapshots":
                source = block.iter_snapshots(per_page=3)
            else:
                source = inst.iter_volumes(per_page=3)
            async with contextlib.aclosing(source) as items:
                async for _ in items:
                    break
            gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize("which", ["block volumes", "block snapshots", "instance volumes"])
async def test_bad_arguments_are_refused_when_the_iterator_is_made(
    fake: FakeScaleway, server: FakeServer, which: str
) -> None:
    """A wrong ``per_page`` is a ValueError at the call, before any request, not at the
    first ``async for`` step wherever the iterator was handed to."""
    block = AsyncBlockAPI(fake.token, base_url=server.block_base_url, project=fake.organization)
    inst = AsyncVolumeAPI(fake.token, base_url=server.base_url, organization=fake.organization)
    make = {
        "block volumes": lambda: block.iter_volumes(per_page=0),
        "block snapshots": lambda: block.iter_snapshots(per_page=101),
        "instance volumes": lambda: inst.iter_volumes(per_page=-1),
    }[which]
    async with block, inst:
        with pytest.raises(ValueError, match="per_page"):
            make()
    assert fake.stats.requests == []
