"""Configuration: token, zone, base URL, defaults from the environment."""

from __future__ import annotations

import httpx
import pytest
import respx

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, RetryPolicy

from ..conftest import ORG, TOKEN
from .helpers import make_api, volume_json

pytestmark = pytest.mark.anyio


def test_token_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCW_SECRET_KEY supplies the token."""
    monkeypatch.setenv("SCW_SECRET_KEY", TOKEN)
    assert AsyncVolumeAPI()._token == TOKEN


def test_missing_token_is_value_error() -> None:
    """No token at all is a ValueError that says where to put one."""
    with pytest.raises(ValueError, match="SCW_SECRET_KEY"):
        AsyncVolumeAPI()


@pytest.mark.parametrize("token", ["a b", "tok\r\nX-Evil: 1", "é"])
def test_token_with_bad_characters_rejected(token: str) -> None:
    """A token that could break or inject a header is refused."""
    with pytest.raises(ValueError, match="printable ASCII"):
        AsyncVolumeAPI(token)


@pytest.mark.parametrize(
    ("zone", "url"),
    [
        (None, "https://api.scaleway.com/instance/v1/zones/fr-par-1"),
        ("nl-ams-1", "https://api.scaleway.com/instance/v1/zones/nl-ams-1"),
        ("pl-waw-3", "https://api.scaleway.com/instance/v1/zones/pl-waw-3"),
        ("par1", "https://cp-par1.scaleway.com"),
        ("ams1", "https://cp-ams1.scaleway.com"),
    ],
)
def test_zone_to_base_url(zone: str | None, url: str) -> None:
    """Zones map to the Instance API, legacy zones to the seed's hosts."""
    assert AsyncVolumeAPI(TOKEN, zone=zone).base_url == url


def test_zone_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCW_DEFAULT_ZONE picks the zone."""
    monkeypatch.setenv("SCW_DEFAULT_ZONE", "fr-par-2")
    api = AsyncVolumeAPI(TOKEN)
    assert api.zone == "fr-par-2"
    assert api.base_url.endswith("/zones/fr-par-2")


def test_api_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCW_API_URL replaces the API host, as in the official tools."""
    monkeypatch.setenv("SCW_API_URL", "http://127.0.0.1:9/")
    assert AsyncVolumeAPI(TOKEN).base_url == "http://127.0.0.1:9/instance/v1/zones/fr-par-1"


@pytest.mark.parametrize("api", [AsyncVolumeAPI, AsyncBlockAPI])
def test_zone_is_the_one_base_url_reaches(api: type[AsyncVolumeAPI | AsyncBlockAPI]) -> None:
    """The contract: base_url overrides zone, and api.zone reads the resolved zone. A
    base_url that names no zone (a proxy) leaves the configured one."""
    kind = "instance" if api is AsyncVolumeAPI else "block"
    ams = api(TOKEN, zone="fr-par-2", base_url=f"https://x.test/{kind}/v1/zones/nl-ams-1")
    assert ams.zone == "nl-ams-1" and ams.config.zone == "fr-par-2"
    assert api(TOKEN, zone="fr-par-2", base_url="http://proxy.test:8080/").zone == "fr-par-2"
    assert api(TOKEN, zone="pl-waw-1").zone == "pl-waw-1"


def test_block_sibling_zone_follows_the_instance_base_url() -> None:
    """AsyncVolumeAPI.block reaches the zone its Instance base_url names, and says so."""
    api = AsyncVolumeAPI(TOKEN, base_url="https://x.test/instance/v1/zones/nl-ams-1")
    assert api.zone == api.block.zone == "nl-ams-1"


@pytest.mark.parametrize("zone", ["mars-1", "FR-PAR-1", "fr-par-1/../x", ""])
def test_unknown_zone_rejected(zone: str) -> None:
    """A zone that is not zone-shaped is a ValueError, not a strange URL."""
    if zone == "":
        # Empty means "not given": the default applies.
        assert AsyncVolumeAPI(TOKEN, zone=zone).zone == "fr-par-1"
        return
    with pytest.raises(ValueError, match="unknown zone"):
        AsyncVolumeAPI(TOKEN, zone=zone)


@pytest.mark.parametrize("base_url", ["ftp://x/y", "not a url", "http://h/p?x=1", "/relative/path"])
def test_bad_base_url_rejected(base_url: str) -> None:
    """base_url must be an absolute http(s) URL without query."""
    with pytest.raises(ValueError, match="base_url"):
        AsyncVolumeAPI(TOKEN, base_url=base_url)


@pytest.mark.parametrize("api", [AsyncVolumeAPI, AsyncBlockAPI])
@pytest.mark.usefixtures("scw_settings_everywhere")
def test_an_empty_environ_reads_no_variable_and_no_config_file(
    api: type[AsyncVolumeAPI | AsyncBlockAPI],
) -> None:
    """``environ={}``: the arguments and the defaults alone, whatever the machine has set up."""
    with pytest.raises(ValueError, match="config file"):
        api(TOKEN)
    hermetic = api(TOKEN, environ={})
    assert (hermetic.zone, hermetic.project) == ("fr-par-1", None)
    assert hermetic.config.sources["zone"] == "default"
    with pytest.raises(ValueError, match="SCW_SECRET_KEY"):
        api(environ={})
    assert api(environ={"SCW_SECRET_KEY": TOKEN, "SCW_DEFAULT_ZONE": "pl-waw-2"}).zone == "pl-waw-2"


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"max_connections": 0}, ValueError),
        ({"deadline": 0}, ValueError),
        ({"retry": 3}, TypeError),
        ({"timeout": "5"}, TypeError),
        ({"client": object()}, TypeError),
        # A line break would be a header injection every request then fails on.
        ({"user_agent": "app/1\r\nX-Evil: 1"}, ValueError),
        ({"user_agent": "café/1"}, ValueError),
        ({"user_agent": 123}, TypeError),
        ({"environ": [("SCW_SECRET_KEY", TOKEN)]}, TypeError),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, object], exc: type[Exception]) -> None:
    """Nonsense settings fail at construction, not at the first request."""
    with pytest.raises(exc, match=next(iter(kwargs)) if "user_agent" in kwargs else None):
        AsyncVolumeAPI(TOKEN, **kwargs)  # type: ignore[arg-type]


def test_retry_policy_validates() -> None:
    """RetryPolicy refuses negative values and turns off with max_retries=0."""
    assert RetryPolicy(max_retries=0).max_retries == 0
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(backoff_initial=-0.1)


def test_token_never_in_repr_or_str() -> None:
    """The secret appears in no repr of the API or its pieces."""
    api = make_api()
    for text in (repr(api), str(api), repr(api._owned), repr(api._pipeline)):
        assert TOKEN not in text


async def test_base_url_path_prefix_kept() -> None:
    """A base_url with a path prefix keeps it; paths are appended."""
    base = "http://127.0.0.1:8080/some/prefix/instance/v1/zones/fr-par-1"
    vol = volume_json()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{base}/volumes/{vol['id']}").respond(200, json={"volume": vol})
        api = make_api(base_url=base + "/")
        await api.get_volume(vol["id"])
    assert route.called


async def test_every_request_has_auth_agent_and_json_headers() -> None:
    """X-Auth-Token, User-Agent scaleway-volumes/<v> and JSON content type are sent."""
    vol = volume_json()
    with respx.mock(base_url="https://api.scaleway.com/instance/v1/zones/fr-par-1") as mock:
        mock.post("/volumes").respond(201, json={"volume": vol})
        api = make_api(user_agent="my-app/2.0")
        await api.create_volume(name="v", size=10**10)
        request = mock.calls.last.request
    assert request.headers["x-auth-token"] == TOKEN
    assert request.headers["user-agent"].startswith("scaleway-volumes/")
    assert request.headers["user-agent"].endswith(" my-app/2.0")
    assert request.headers["content-type"] == "application/json"


async def test_shared_client_not_closed_and_its_headers_not_leaked() -> None:
    """A shared client stays open after aclose, and its own headers are not sent."""
    vol = volume_json()
    shared = httpx.AsyncClient(headers={"Authorization": "Bearer host-app-secret"})
    with respx.mock(base_url="https://api.scaleway.com/instance/v1/zones/fr-par-1") as mock:
        mock.get(f"/volumes/{vol['id']}").respond(200, json={"volume": vol})
        async with AsyncVolumeAPI(TOKEN, client=shared, organization=ORG) as api:
            await api.get_volume(vol["id"])
        assert "authorization" not in mock.calls.last.request.headers
    assert not shared.is_closed
    await shared.aclose()


async def test_aclose_idempotent_and_api_reusable() -> None:
    """aclose twice is fine; the API opens a new pool on next use."""
    api = AsyncVolumeAPI(TOKEN)
    await api.aclose()
    await api.aclose()


async def test_with_options_copies_settings_and_shares_pool() -> None:
    """with_options changes only what it is given."""
    api = make_api()
    other = api.with_options(deadline=5.0, retry=RetryPolicy(max_retries=0))
    assert other.deadline == 5.0
    assert other.retry.max_retries == 0
    assert api.retry.max_retries == 3
    assert other._owned is api._owned
    assert other.rate_limiter is api.rate_limiter
    assert other.with_options(deadline=None).deadline is None
    with pytest.raises(ValueError):
        api.with_options(deadline=-1)


async def test_a_shared_clients_auth_and_url_credentials_are_never_applied() -> None:
    """Only the API token authenticates: a host app's client auth stays with the host app,
    and a base_url with credentials is refused (they would only show in repr and logs)."""
    with pytest.raises(ValueError, match="must not hold credentials"):
        AsyncVolumeAPI(TOKEN, base_url="https://u:p@api.example.com/v1")
    vol = volume_json()
    shared = httpx.AsyncClient(auth=("host-user", "host-secret"))
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.get(url__regex=r".*/volumes/.*").respond(200, json={"volume": vol})
        async with AsyncVolumeAPI(
            TOKEN, client=shared, organization=ORG, base_url="https://api.example.com/v1"
        ) as api:
            await api.get_volume(vol["id"])
        request = mock.calls.last.request
    assert "authorization" not in request.headers
    assert request.headers["x-auth-token"] == TOKEN
    await shared.aclose()
