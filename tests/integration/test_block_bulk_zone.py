"""``create_volumes`` checks the zone of a ``BlockSnapshot`` given as a spec's
``from_snapshot`` before any request, as ``create_volume`` does."""

from __future__ import annotations

import attrs
import pytest

from scaleway_volumes import AsyncBlockAPI, BlockVolumeSpec
from scaleway_volumes.testing import FakeScaleway

pytestmark = pytest.mark.anyio

GB = 10**9


async def test_a_bulk_restore_from_a_snapshot_of_another_zone_is_refused_before_sending(
    no_sleep: list[float],
) -> None:
    """The spec keeps the id (``from_snapshot``) and the model's zone: the item fails with
    the ``ValueError`` naming both zones, and nothing is sent (a POST to fr-par-1 would
    answer 404, as if the snapshot did not exist). The same snapshot in its own zone
    restores."""
    fake = FakeScaleway()
    with fake.serve() as server:
        ams_url = server.block_base_url.replace("fr-par-1", "nl-ams-1")
        org = fake.organization
        async with (
            AsyncBlockAPI(fake.token, base_url=server.block_base_url, organization=org) as par,
            AsyncBlockAPI(fake.token, base_url=ams_url, organization=org) as ams,
        ):
            volume = await ams.wait_for_volume(await ams.create_volume(name="db", size=GB))
            snapshot = await ams.wait_for_snapshot(await ams.create_snapshot(volume, name="s"))
            spec = BlockVolumeSpec("bulk", from_snapshot=snapshot)
            assert spec.from_snapshot == snapshot.id
            assert spec == BlockVolumeSpec("bulk", from_snapshot=snapshot.id)
            before = len(fake.stats.requests)
            result = await par.create_volumes([spec])
            sent = fake.stats.requests[before:]
            restored = await ams.create_volumes([spec])
    ((_, error),) = result.failed
    assert isinstance(error, ValueError), repr(error)
    assert "nl-ams-1" in str(error) and "fr-par-1" in str(error)
    assert sent == []
    assert [v.zone for v in restored.succeeded] == ["nl-ams-1"]


def test_a_spec_copied_with_evolve_keeps_only_the_id() -> None:
    """``attrs.evolve`` passes ``from_snapshot`` on as the id: the copy is equal."""
    snapshot_id = "f929fe39-63f8-4be8-a80e-1e9c8ae22a76"
    spec = BlockVolumeSpec("a", from_snapshot=snapshot_id.upper())
    assert attrs.evolve(spec, name="b") == BlockVolumeSpec("b", from_snapshot=snapshot_id)
