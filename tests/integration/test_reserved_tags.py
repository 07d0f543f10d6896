"""The marker prefix is reserved: creates and updates refuse a caller's tag with it.

The models hide every tag starting with ``scaleway-volumes:create=`` (the
library's create markers), so a caller's own would vanish from ``.tags`` and
the documented ``update_volume(v, tags=[*v.tags, "x"])`` would delete it.
Listing by such a tag stays allowed: it is how a marker is looked up.
"""

from __future__ import annotations

import pytest

from scaleway_volumes import VolumeSpec
from scaleway_volumes.testing import FakeScaleway, FakeServer

from .block_helpers import GB, make_block
from .conftest import ApiFactory

pytestmark = pytest.mark.anyio

MINE = "scaleway-volumes:create=batch-7"  # the caller's own tag, not a library marker
REFUSED = "reserved for the library's create markers"


async def test_instance_create_and_update_refuse_the_reserved_prefix(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    stored = fake.add_volume(name="data", tags=["ci"])
    async with api() as client:
        with pytest.raises(ValueError, match=REFUSED):
            await client.create_volume(name="data", size=10 * GB, tags=["ci", MINE])
        with pytest.raises(ValueError, match=REFUSED):
            await client.update_volume(stored["id"], tags=["ci", MINE])
        result = await client.create_volumes(
            [VolumeSpec(name="a", size=10 * GB, tags=[MINE]), VolumeSpec(name="b", size=10 * GB)]
        )
    assert [spec.name for spec, _ in result.failed] == ["a"]
    assert isinstance(result.failed[0][1], ValueError)
    assert [v.name for v in result.succeeded] == ["b"]
    assert fake.get(stored["id"])["tags"] == ["ci"]  # type: ignore[index]
    assert sorted(v["name"] for v in fake.volumes) == ["b", "data"]


async def test_instance_documented_retag_keeps_the_callers_tags(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """Tags the caller may set are all shown, so re-tagging keeps them."""
    mine = "team:scaleway-volumes:create=7"  # the prefix, but not at the start
    async with api() as client:
        volume = await client.create_volume(name="data", size=10 * GB, tags=["ci", mine])
        assert volume.tags == ("ci", mine)
        await client.update_volume(volume, tags=[*volume.tags, "x"])
    assert fake.get(volume.id)["tags"] == ["ci", mine, "x"]  # type: ignore[index]


async def test_instance_listing_by_a_marker_tag_is_allowed(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    async with api() as client:
        volume = await client.create_volume(name="data", size=10 * GB)
        await client.create_volume(name="other", size=10 * GB)
        (marker,) = fake.get(volume.id)["tags"]  # type: ignore[index]
        found = await client.list_volumes(tags=[marker])
    assert [v.id for v in found] == [volume.id]


async def test_block_creates_and_updates_refuse_the_reserved_prefix(
    fake: FakeScaleway, server: FakeServer
) -> None:
    stored = fake.block.add_volume(name="vol", tags=["ci"])
    snapshot = fake.block.add_snapshot(stored["id"], name="snap", tags=["ci"])
    async with make_block(fake, server) as api:
        with pytest.raises(ValueError, match=REFUSED):
            await api.create_volume(name="db", size=20 * GB, tags=[MINE])
        with pytest.raises(ValueError, match=REFUSED):
            await api.update_volume(stored["id"], tags=["ci", MINE])
        with pytest.raises(ValueError, match=REFUSED):
            await api.create_snapshot(stored["id"], name="s", tags=[MINE])
        with pytest.raises(ValueError, match=REFUSED):
            await api.update_snapshot(snapshot["id"], tags=["ci", MINE])
    assert [r.method for r in fake.stats.requests] == []
    assert [v["tags"] for v in fake.block.volumes()] == [["ci"]]
    assert [s["tags"] for s in fake.block.snapshots()] == [["ci"]]


async def test_block_listing_by_a_marker_tag_is_allowed(
    fake: FakeScaleway, server: FakeServer
) -> None:
    async with make_block(fake, server) as api:
        volume = await api.create_volume(name="db", size=20 * GB)
        volume = await api.wait_for_volume(volume, until="available")
        snapshot = await api.create_snapshot(volume, name="snap")
        (volume_marker,) = fake.block.volumes()[0]["tags"]
        (snapshot_marker,) = fake.block.snapshots()[0]["tags"]
        assert [v.id for v in await api.list_volumes(tags=[volume_marker])] == [volume.id]
        assert [s.id for s in await api.list_snapshots(tags=[snapshot_marker])] == [snapshot.id]
