"""``AsyncVolumeAPI.block``: the same configuration, pool and rate limiter, over loopback TCP."""

from __future__ import annotations

import httpx
import pytest

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, RetryPolicy
from scaleway_volumes._block import block_url_for
from scaleway_volumes.testing import FakeScaleway, FakeServer

from .block_helpers import GB, MARKER, CountingLimiter, requests

TOKEN = "11111111-2222-3333-4444-555555555555"
PROJECT = "6170692e-7363-616c-6577-61792e636f6d"


def instance_api(fake: FakeScaleway, server: FakeServer, **kwargs: object) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        **kwargs,  # type: ignore[arg-type]
    )


def test_block_is_cached_and_copies_the_configuration() -> None:
    """Same object each time; token, zone, defaults, options and marker setting carried over."""
    retry = RetryPolicy(max_retries=1)
    api = AsyncVolumeAPI(
        TOKEN,
        zone="nl-ams-1",
        project=PROJECT,
        organization=PROJECT,
        timeout=7.0,
        retry=retry,
        deadline=9.0,
        create_marker=False,
        user_agent="tool/1",
    )
    block = api.block
    assert isinstance(block, AsyncBlockAPI) and api.block is block
    assert block.base_url == "https://api.scaleway.com/block/v1/zones/nl-ams-1"
    assert (block.zone, block.project, block.organization) == ("nl-ams-1", PROJECT, PROJECT)
    assert (block.retry, block.deadline) == (retry, 9.0)
    assert block.config is api.config
    assert block._new_marker() is None  # create_marker=False carried over
    assert "token=***" in repr(block) and TOKEN not in repr(block)


def test_with_options_copy_has_its_own_block() -> None:
    """A with_options copy gets a Block API with its options; the original keeps its own."""
    api = AsyncVolumeAPI(TOKEN)
    quick = api.with_options(deadline=3.0)
    assert quick.block is not api.block and quick.block is quick.block
    assert (quick.block.deadline, api.block.deadline) == (3.0, api.deadline)
    assert api.block.rate_limiter is quick.block.rate_limiter is api.rate_limiter


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (
            "http://127.0.0.1:8080/instance/v1/zones/fr-par-2",
            "http://127.0.0.1:8080/block/v1/zones/fr-par-2",
        ),
        (
            "https://proxy.example/p/instance/v1/zones/pl-waw-1/",
            "https://proxy.example/p/block/v1/zones/pl-waw-1",
        ),
        (
            "http://instance/instance/v1/zones/fr-par-1",
            "http://instance/block/v1/zones/fr-par-1",
        ),
    ],
)
def test_explicit_instance_base_url_is_translated(base_url: str, expected: str) -> None:
    """An explicit Instance base_url gets /instance/v1/ replaced by /block/v1/."""
    assert AsyncVolumeAPI(TOKEN, base_url=base_url).block.base_url == expected


def test_api_url_from_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCW_API_URL applies to the Block URL as to the Instance one."""
    monkeypatch.setenv("SCW_API_URL", "http://127.0.0.1:9999")
    api = AsyncVolumeAPI(TOKEN, zone="fr-par-3")
    assert api.block.base_url == "http://127.0.0.1:9999/block/v1/zones/fr-par-3"
    assert block_url_for(api.block) == api.block.base_url


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "http://127.0.0.1:8080/volumes-api"}, "AsyncBlockAPI"),
        ({"zone": "par1"}, "legacy zone"),
        # A host named "instance" is no path to translate: the Block API must not
        # send the token to a host named "block".
        ({"base_url": "http://instance/v1/zones/fr-par-1"}, "AsyncBlockAPI"),
    ],
)
def test_no_block_url_is_a_clear_error(kwargs: dict[str, str], message: str) -> None:
    """A base_url with nothing to translate, or a legacy zone: ValueError saying what to do."""
    api = AsyncVolumeAPI(TOKEN, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        api.block  # noqa: B018


def test_a_legacy_zone_from_the_environment_is_named_as_such(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the legacy zone came from is in the message, as for every zone error."""
    monkeypatch.setenv("SCW_DEFAULT_ZONE", "par1")
    monkeypatch.setenv("SCW_CONFIG_PATH", "/nonexistent/scw.yaml")
    with pytest.raises(ValueError, match=r"'par1' \(from environment SCW_DEFAULT_ZONE\)"):
        AsyncBlockAPI(TOKEN)
    with pytest.raises(ValueError, match=r"'par1' \(from argument zone\)"):
        AsyncBlockAPI(TOKEN, zone="par1")


@pytest.mark.anyio
async def test_block_shares_the_owned_pool(fake: FakeScaleway, server: FakeServer) -> None:
    """Instance and Block calls in turn reuse one keep-alive connection of one pool."""
    async with instance_api(fake, server) as api:
        stored = fake.block.add_volume("db")
        for _ in range(3):
            await api.list_volumes()
            await api.block.get_volume(stored["id"])
        assert fake.stats.connections_opened == 1
        await api.block.aclose()  # closes the shared pool: the next call of either reopens
        await api.list_volumes()
        await api.block.list_volumes()
    assert fake.stats.connections_opened == 2


@pytest.mark.anyio
async def test_block_uses_a_shared_client(fake: FakeScaleway, server: FakeServer) -> None:
    """With client=, Block requests go through that client's send (its hooks see them)."""
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
        api = instance_api(fake, server, client=http)
        await api.block.list_volumes()
        await api.aclose()
        assert not http.is_closed
    assert seen == ["/block/v1/zones/fr-par-1/volumes"]


@pytest.mark.anyio
async def test_block_shares_the_rate_limiter(fake: FakeScaleway, server: FakeServer) -> None:
    """Every Block request, the create's marker check included, is paced by the same limiter."""
    limiter = CountingLimiter()
    async with instance_api(fake, server, rate_limiter=limiter) as api:
        assert api.block.rate_limiter is limiter
        await api.list_volumes()
        volume = await api.block.create_volume(name="db", size=GB)
        await api.block.wait_for_volume(volume)
    assert limiter.acquired == len(fake.stats.requests) == 3
    assert limiter.released == [200, 200, 200]


@pytest.mark.anyio
async def test_block_requests_carry_the_user_agent_and_token(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The Block API of an Instance API sends the same token, user agent and marker tags."""
    async with instance_api(fake, server, user_agent="tool/1") as api:
        await api.block.create_volume(name="db", size=GB)
    (post,) = requests(fake, "POST")
    assert post.headers["x-auth-token"] == fake.token
    assert post.headers["user-agent"].endswith(" tool/1")
    assert any(tag.startswith(MARKER) for tag in post.json()["tags"])
