"""Models of another zone, and ids in upper case, over loopback TCP.

A model carries the zone it lives in; its id names nothing in another zone,
where a 404 would pass for "deleted" (a waiter's ``until="deleted"``, a delete
with ``missing_ok``). So a model whose zone is not the API's is refused with a
``ValueError`` before any request, by every method that takes a model for an
id. Ids are lower-case UUIDs: one given in upper case is sent lower-case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import httpx
import pytest

from scaleway_volumes import (
    AsyncBlockAPI,
    AsyncVolumeAPI,
    BlockSnapshot,
    BlockVolume,
    Volume,
    WaitTimeoutError,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer

from .block_helpers import make_block

pytestmark = pytest.mark.anyio

AMS = "nl-ams-1"
PAR = "fr-par-1"


def sent(fake: FakeScaleway, zone: str) -> list[str]:
    """The requests sent to ``zone`` (method and path)."""
    return [f"{r.method} {r.path}" for r in fake.stats.requests if f"/zones/{zone}/" in r.path]


@attrs.define
class Zones:
    """A Block and an Instance API in fr-par-1 (the fake's own zone), and models of nl-ams-1."""

    par: AsyncBlockAPI
    par_instance: AsyncVolumeAPI
    volume: BlockVolume
    snapshot: BlockSnapshot
    instance_volume: Volume


@pytest.fixture
async def zones(fake: FakeScaleway, server: FakeServer) -> AsyncIterator[Zones]:
    """APIs of fr-par-1 and a volume, snapshot and Instance volume made in nl-ams-1."""
    ams_block = server.block_base_url.replace(PAR, AMS)
    ams_instance = server.base_url.replace(PAR, AMS)
    org = fake.organization
    async with (
        make_block(fake, server, zone=PAR) as par,
        AsyncBlockAPI(fake.token, base_url=ams_block, zone=AMS, organization=org) as ams,
        AsyncVolumeAPI(fake.token, base_url=server.base_url, organization=org) as par_instance,
        AsyncVolumeAPI(fake.token, base_url=ams_instance, zone=AMS, organization=org) as ams_i,
    ):
        volume = await ams.create_volume(name="db", size=10**10)
        snapshot = await ams.create_snapshot(volume, name="s")
        local = await ams_i.create_volume(name="local", size=10**10)
        assert (volume.zone, snapshot.zone, local.zone) == (AMS, AMS, AMS)
        yield Zones(par, par_instance, volume, snapshot, local)


BLOCK_CALLS: dict[str, Callable[[Zones], Awaitable[Any]]] = {
    "wait_for_volume deleted": lambda z: z.par.wait_for_volume(z.volume, until="deleted"),
    "wait_for_volume": lambda z: z.par.wait_for_volume(z.volume),
    "get_volume": lambda z: z.par.get_volume(z.volume),
    "update_volume": lambda z: z.par.update_volume(z.volume, name="renamed"),
    "delete_volume": lambda z: z.par.delete_volume(z.volume, missing_ok=True),
    "create_snapshot": lambda z: z.par.create_snapshot(z.volume, name="s2"),
    "list_snapshots": lambda z: z.par.list_snapshots(volume_id=z.volume),
    "create_volume from_snapshot": lambda z: z.par.create_volume(
        name="copy", from_snapshot=z.snapshot
    ),
    "wait_for_snapshot deleted": lambda z: z.par.wait_for_snapshot(z.snapshot, until="deleted"),
    "get_snapshot": lambda z: z.par.get_snapshot(z.snapshot),
    "update_snapshot": lambda z: z.par.update_snapshot(z.snapshot, name="renamed"),
    "delete_snapshot": lambda z: z.par.delete_snapshot(z.snapshot, missing_ok=True),
    "instance wait_for_volume deleted": lambda z: z.par_instance.wait_for_volume(
        z.instance_volume, until="deleted"
    ),
    "instance get_volume": lambda z: z.par_instance.get_volume(z.instance_volume),
    "instance update_volume": lambda z: z.par_instance.update_volume(
        z.instance_volume, name="renamed"
    ),
    "instance delete_volume": lambda z: z.par_instance.delete_volume(
        z.instance_volume, missing_ok=True
    ),
}


@pytest.mark.parametrize("call", BLOCK_CALLS)
async def test_a_model_of_another_zone_is_refused(
    fake: FakeScaleway, zones: Zones, no_sleep: list[float], call: str
) -> None:
    """A nl-ams-1 model given to a fr-par-1 API: ValueError naming both zones and what to
    do, and nothing sent (before, until="deleted" returned None at the 404 of fr-par-1)."""
    before = sent(fake, PAR)
    with pytest.raises(ValueError, match=f"zone '{AMS}'.*zone '{PAR}'") as info:
        await BLOCK_CALLS[call](zones)
    assert f"zone='{AMS}'" in str(info.value)
    assert sent(fake, PAR) == before
    assert [v["status"] for v in fake.block.volumes()] == ["available"], "still there"


async def test_a_block_bulk_delete_fails_the_item_of_another_zone(
    fake: FakeScaleway, zones: Zones
) -> None:
    """delete_volumes of a fr-par-1 API with a nl-ams-1 volume and missing_ok=True: that
    item fails with the ValueError (not reported deleted after fr-par-1's 404)."""
    result = await zones.par.delete_volumes([zones.volume], missing_ok=True)
    assert result.succeeded == []
    ((volume, error),) = result.failed
    assert volume is zones.volume and isinstance(error, ValueError) and AMS in str(error)
    assert not any(r.startswith("DELETE") for r in sent(fake, PAR))


async def test_an_instance_bulk_delete_fails_the_item_of_another_zone(
    fake: FakeScaleway, zones: Zones
) -> None:
    """The Instance API's delete_volumes likewise: the nl-ams-1 volume is a failed item with
    the ValueError, the fr-par-1 one of the same call is deleted."""
    here = await zones.par_instance.create_volume(name="here", size=10**10)
    result = await zones.par_instance.delete_volumes([zones.instance_volume, here])
    assert result.succeeded == [here.id]
    ((volume, error),) = result.failed
    assert volume is zones.instance_volume and isinstance(error, ValueError)
    assert [v["id"] for v in fake.volumes] == [zones.instance_volume.id], "still there"


async def test_models_of_the_apis_zone_or_of_none_are_taken(
    fake: FakeScaleway, server: FakeServer, zones: Zones, no_sleep: list[float]
) -> None:
    """A model of the API's own zone, one that names no zone (built by hand, the seed
    API's), and one given to an API whose base_url names its zone (zone= left to the
    default) are all taken."""
    stored = fake.block.add_volume("here")
    own = await zones.par.get_volume(stored["id"])
    assert own.zone == PAR
    assert (await zones.par.wait_for_volume(own)).id == own.id
    nameless = attrs.evolve(own, zone=None)
    assert (await zones.par.get_volume(nameless)).id == own.id
    ams_url = server.block_base_url.replace(PAR, AMS)
    async with AsyncBlockAPI(fake.token, base_url=ams_url) as ams:
        assert ams.zone == AMS and ams.config.zone == PAR, "base_url overrides zone"
        assert (await ams.wait_for_volume(zones.volume)).id == zones.volume.id


async def test_copies_and_the_block_sibling_refuse_too(
    fake: FakeScaleway, zones: Zones, no_sleep: list[float]
) -> None:
    """A with_options copy and AsyncVolumeAPI.block work in the same zone: they refuse a
    model of another one as well."""
    with pytest.raises(ValueError, match=AMS):
        await zones.par.with_options(deadline=5.0).wait_for_volume(zones.volume)
    with pytest.raises(ValueError, match=AMS):
        await zones.par_instance.block.wait_for_volume(zones.volume, until="deleted")
    assert sent(fake, PAR) == []


# -- ids in upper case -------------------------------------------------------------------


async def test_an_upper_case_id_is_sent_lower_case(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """An existing volume's id in upper case: until="deleted" does not take the fake's 404
    of the upper-case path for its deletion (it times out on 'available'); get, wait and
    delete reach the volume."""
    stored = fake.block.add_volume("db")
    upper = stored["id"].upper()
    async with make_block(fake, server) as api:
        with pytest.raises(WaitTimeoutError) as info:
            await api.wait_for_volume(upper, until="deleted", timeout=2)
        assert info.value.last_state == "available" and info.value.resource_id == stored["id"]
        assert (await api.get_volume(upper)).id == stored["id"]
        assert (await api.wait_for_volume(upper)).status == "available"
        await api.delete_volume(upper)
        assert await api.wait_for_volume(upper, until="deleted") is None
    assert fake.block.volumes() == []
    assert all(upper not in r.path for r in fake.stats.requests)


async def test_an_upper_case_instance_id_is_sent_lower_case(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """The Instance API likewise: an upper-case id reaches the volume, lower-case."""
    stored = fake.add_volume(name="local")
    upper = stored["id"].upper()
    async with AsyncVolumeAPI(
        fake.token, base_url=server.base_url, organization=fake.organization
    ) as api:
        assert (await api.wait_for_volume(upper)).id == stored["id"]
        result = await api.delete_volumes([upper], missing_ok=False)
    assert result.succeeded == [stored["id"]] and fake.volumes == []
    assert all(upper not in r.path for r in fake.stats.requests)


class _ReverseProxy(httpx.AsyncBaseTransport):
    """A reverse proxy in front of nl-ams-1's Block API: ``/storage/...`` is
    ``/block/v1/zones/nl-ams-1/...`` upstream (no zone in the client's URL)."""

    def __init__(self, upstream: httpx.AsyncBaseTransport) -> None:
        self.upstream = upstream

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.replace(b"/storage", b"/block/v1/zones/nl-ams-1", 1)
        request.url = request.url.copy_with(raw_path=path)
        return await self.upstream.handle_async_request(request)


async def test_a_proxy_base_url_naming_no_zone_takes_any_model(no_sleep: list[float]) -> None:
    """A base_url that names no zone (a proxy rewriting paths) may reach any zone: the
    configured zone (fr-par-1 by default) tells nothing, so the volumes this API made
    behind it, in nl-ams-1, are taken back."""
    fake = FakeScaleway(zone="nl-ams-1")
    async with (
        httpx.AsyncClient(transport=_ReverseProxy(fake.transport())) as http,
        AsyncBlockAPI(
            fake.token,
            base_url="http://proxy.internal/storage",
            project=fake.organization,
            client=http,
        ) as api,
    ):
        volume = await api.create_volume(name="db", size=10**10)
        assert volume.zone == "nl-ams-1"
        assert (await api.wait_for_volume(volume)).status == "available"
        await api.delete_volume(volume)
    assert fake.block.volumes() == []
