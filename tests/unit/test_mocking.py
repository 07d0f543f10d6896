"""Users' own tests can mock the default client with respx, as with any httpx client."""

from __future__ import annotations

import httpx
import pytest
import respx

from scaleway_volumes import AsyncVolumeAPI

from ..conftest import BASE, ORG, TOKEN
from .helpers import volume_json

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("using", ["httpcore", "httpx"])
async def test_respx_sees_the_owned_client(using: str) -> None:
    """With no client= given, respx still intercepts every request (both mockers)."""
    vol = volume_json()
    async with AsyncVolumeAPI(TOKEN, organization=ORG) as api:
        with respx.mock(base_url=BASE, using=using) as mock:
            route = mock.get(f"/volumes/{vol['id']}").respond(200, json={"volume": vol})
            created = mock.post("/volumes").respond(201, json={"volume": vol})
            assert (await api.get_volume(vol["id"])).id == vol["id"]
            await api.create_volume(name="v", size=10**10)
            assert route.called and created.called
            assert mock.calls.last.request.headers["x-auth-token"] == TOKEN


async def test_unmocked_routes_are_refused_not_sent() -> None:
    """A request no route matches fails inside respx; nothing reaches the network."""
    async with AsyncVolumeAPI(TOKEN, retry=None) as api:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            mock.get("/volumes").respond(200, json={"volumes": []})
            assert await api.list_volumes() == []
            with pytest.raises(Exception) as info:
                await api.get_volume("f929fe39-63f8-4be8-a80e-1e9c8ae22a76")
    assert not isinstance(info.value, httpx.ConnectError)
