"""Retries as the public contract says, and the create duplicate guard (respx)."""

from __future__ import annotations

import email.utils
import json
import time
import uuid

import httpx
import pytest
import respx

from scaleway_volumes import (
    APIConnectionError,
    APITimeoutError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from scaleway_volumes._retry import parse_retry_after

from ..conftest import BASE
from .helpers import make_api, volume_json

VID = str(uuid.uuid4())
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]


def ok_volume(**kw: object) -> httpx.Response:
    return httpx.Response(200, json={"volume": volume_json(id=VID, **kw)})


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "POST"])
async def test_429_and_503_retried_for_every_method(status: int, method: str) -> None:
    """429 and 503 mean the API did not act: every method is resent."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        success = (
            httpx.Response(201, json={"volume": volume_json()})
            if method == "POST"
            else httpx.Response(204)
            if method == "DELETE"
            else ok_volume()
        )
        path = "/volumes" if method == "POST" else f"/volumes/{VID}"
        route = mock.route(method=method, path__regex=f".*{path}$").mock(
            side_effect=[httpx.Response(status), httpx.Response(status), success]
        )
        api = make_api()
        if method == "GET":
            await api.get_volume(VID)
        elif method == "PATCH":
            await api.update_volume(VID, name="x")
        elif method == "DELETE":
            await api.delete_volume(VID)
        else:
            await api.create_volume(name="v", size=10**10)
        assert route.call_count == 3


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_5xx_retried_for_get(status: int) -> None:
    """500/502/504 are retried for GET."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.get(f"/volumes/{VID}").mock(side_effect=[httpx.Response(status), ok_volume()])
        await make_api().get_volume(VID)
    assert route.call_count == 2


async def test_retries_exhausted_raise_last_error(no_sleep: list[float]) -> None:
    """After max_retries the last error surfaces; backoff grows and stays under the cap."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.get(f"/volumes/{VID}").respond(503)
        api = make_api(retry=RetryPolicy(max_retries=4, backoff_initial=1.0, backoff_max=3.0))
        with pytest.raises(ServerError):
            await api.get_volume(VID)
    assert route.call_count == 5
    assert len(no_sleep) == 4
    assert all(0 <= d <= bound for d, bound in zip(no_sleep, [1.0, 2.0, 3.0, 3.0], strict=True))


async def test_max_retries_zero_sends_once() -> None:
    """RetryPolicy(max_retries=0) turns retries off."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.get(f"/volumes/{VID}").respond(503)
        with pytest.raises(ServerError):
            await make_api(retry=RetryPolicy(max_retries=0)).get_volume(VID)
    assert route.call_count == 1


async def test_retry_after_seconds_honoured(no_sleep: list[float]) -> None:
    """Retry-After in seconds is the wait."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get(f"/volumes/{VID}").mock(
            side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), ok_volume()]
        )
        await make_api().get_volume(VID)
    assert no_sleep == [7.0]


async def test_retry_after_http_date_honoured(no_sleep: list[float]) -> None:
    """Retry-After as an HTTP date is a wait until then."""
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get(f"/volumes/{VID}").mock(
            side_effect=[httpx.Response(503, headers={"Retry-After": when}), ok_volume()]
        )
        await make_api().get_volume(VID)
    assert 17 <= no_sleep[0] <= 21


async def test_retry_after_too_long_raises_at_once(no_sleep: list[float]) -> None:
    """A Retry-After beyond max_retry_after is not waited for."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.get(f"/volumes/{VID}").respond(429, headers={"Retry-After": "3600"})
        with pytest.raises(RateLimitError) as info:
            await make_api().get_volume(VID)
    assert info.value.retry_after == 3600
    assert route.call_count == 1 and no_sleep == []


async def test_retry_after_garbage_falls_back_to_backoff(no_sleep: list[float]) -> None:
    """An unparsable Retry-After is ignored: normal backoff applies."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get(f"/volumes/{VID}").mock(
            side_effect=[httpx.Response(429, headers={"Retry-After": "soon"}), ok_volume()]
        )
        await make_api().get_volume(VID)
    assert len(no_sleep) == 1 and 0 <= no_sleep[0] <= 0.5


def test_parse_retry_after_forms() -> None:
    """Seconds, dates, past dates, garbage (a negative number is garbage, not 0)."""
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("-3") is None
    # Too many digits for a float: a delay longer than any, not garbage.
    assert parse_retry_after("9" * 400) == float("inf")
    # A four-digit year under 100 is that year (email.utils alone reads 0050 as 2050).
    now = email.utils.parsedate_to_datetime("Fri, 01 Jan 2027 00:00:00 GMT").timestamp()
    assert parse_retry_after("Sat, 01 Jan 0050 00:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("Sun Jan  1 00:00:00 0050", now=now) == 0.0
    assert parse_retry_after("Sat, 01 Jan 2028 00:00:00 GMT", now=now) == 365 * 86400


@pytest.mark.parametrize("max_retry_after", [60.0, float("inf")])
async def test_an_endless_retry_after_is_raised_at_once(
    no_sleep: list[float], max_retry_after: float
) -> None:
    """Retry-After of more digits than a float holds: raised at once, even when any
    delay is honoured (``max_retry_after=inf``), never waited for forever."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.get(f"/volumes/{VID}").respond(429, headers={"Retry-After": "9" * 400})
        api = make_api(retry=RetryPolicy(max_retry_after=max_retry_after))
        with pytest.raises(RateLimitError) as info:
            await api.get_volume(VID)
    assert info.value.retry_after == float("inf")
    assert route.call_count == 1 and no_sleep == []


async def test_bare_429_after_retries_is_rate_limit_error() -> None:
    """A 429 storm ends in RateLimitError with retry_after None."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get(f"/volumes/{VID}").respond(429)
        with pytest.raises(RateLimitError) as info:
            await make_api().get_volume(VID)
    assert info.value.retry_after is None


async def test_connect_error_retried_even_for_create() -> None:
    """A connection that never got through is resent, for POST too."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.post("/volumes").mock(
            side_effect=[
                httpx.ConnectError("refused"),
                httpx.Response(201, json={"volume": volume_json()}),
            ]
        )
        lookup = mock.get("/volumes")
        await make_api().create_volume(name="v", size=10**10)
    assert route.call_count == 2
    assert not lookup.called


async def test_connection_failure_after_retries() -> None:
    """Connection errors exhaust into APIConnectionError; timeouts into APITimeoutError."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get(f"/volumes/{VID}").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(APIConnectionError) as info:
            await make_api().get_volume(VID)
        assert not info.value.outcome_unknown
        mock.get(f"/volumes/{VID}").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(APITimeoutError):
            await make_api().get_volume(VID)


def marked(request: httpx.Request) -> str:
    tags: list[str] = json.loads(request.content)["tags"]
    return tags[-1]


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(502), httpx.Response(500), httpx.RemoteProtocolError("dropped")],
    ids=["502", "500", "dropped"],
)
async def test_ambiguous_create_that_landed_is_returned_not_resent(
    failure: httpx.Response | Exception,
) -> None:
    """After an ambiguous failure, a create that landed is found by its marker."""
    state: dict[str, str] = {}

    def create(request: httpx.Request) -> httpx.Response:
        state["marker"] = marked(request)
        if isinstance(failure, Exception):
            raise failure
        return failure

    def lookup(request: httpx.Request) -> httpx.Response:
        assert request.url.params["tags"] == state["marker"]
        older = volume_json(name="data", tags=[])
        ours = volume_json(name="data", tags=[state["marker"]])
        state["ours"] = ours["id"]
        return httpx.Response(200, json={"volumes": [older, ours]}, headers={"X-Total-Count": "2"})

    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        post = mock.post("/volumes").mock(side_effect=create)
        mock.get("/volumes").mock(side_effect=lookup)
        volume = await make_api().create_volume(name="data", size=10**10)
    assert post.call_count == 1
    assert volume.id == state["ours"]
    assert volume.tags == ()  # the marker is the library's, not shown


async def test_ambiguous_create_not_landed_is_resent_once() -> None:
    """If the lookup finds nothing, the create is resent, and only then."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        post = mock.post("/volumes").mock(
            side_effect=[httpx.Response(502), httpx.Response(201, json={"volume": volume_json()})]
        )
        older = volume_json(name="data", tags=["scaleway-volumes:create=0000"])
        lookup = mock.get("/volumes").respond(
            200, json={"volumes": [older]}, headers={"X-Total-Count": "1"}
        )
        await make_api().create_volume(name="data", size=10**10)
    assert post.call_count == 2
    assert lookup.call_count == 1
    first, second = (marked(c.request) for c in post.calls)
    assert first == second


async def test_create_read_timeout_not_found_is_outcome_unknown() -> None:
    """A create that timed out and is not visible is not resent: outcome unknown."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        post = mock.post("/volumes").mock(side_effect=httpx.ReadTimeout("slow"))
        mock.get("/volumes").respond(200, json={"volumes": []}, headers={"X-Total-Count": "0"})
        with pytest.raises(APITimeoutError) as info:
            await make_api().create_volume(name="data", size=10**10)
    assert post.call_count == 1
    err = info.value
    assert err.outcome_unknown
    assert err.marker_tag and err.marker_tag in str(err)


async def test_create_504_not_found_is_outcome_unknown() -> None:
    """A 504 on create may still land: ServerError flagged outcome_unknown, no resend."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        post = mock.post("/volumes").respond(504)
        mock.get("/volumes").respond(200, json={"volumes": []}, headers={"X-Total-Count": "0"})
        with pytest.raises(ServerError) as info:
            await make_api().create_volume(name="data", size=10**10)
    assert post.call_count == 1
    assert info.value.outcome_unknown and info.value.marker_tag


async def test_create_lookup_failing_is_outcome_unknown() -> None:
    """If the existence check itself fails, the error says the volume may exist."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        post = mock.post("/volumes").respond(502)
        mock.get("/volumes").mock(side_effect=httpx.ConnectError("down"))
        with pytest.raises(APIConnectionError) as info:
            await make_api().create_volume(name="data", size=10**10)
    assert post.call_count == 1
    assert info.value.outcome_unknown and info.value.marker_tag


async def test_create_502_every_time_ends_in_server_error() -> None:
    """Ambiguous failures that never landed exhaust into ServerError, with one lookup each."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        post = mock.post("/volumes").respond(502)
        lookup = mock.get("/volumes").respond(
            200, json={"volumes": []}, headers={"X-Total-Count": "0"}
        )
        with pytest.raises(ServerError) as info:
            await make_api(retry=RetryPolicy(max_retries=2)).create_volume(name="d", size=10**10)
    assert post.call_count == 3 and lookup.call_count == 3
    assert not info.value.outcome_unknown


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(502), httpx.RemoteProtocolError("dropped"), httpx.ReadTimeout("slow")],
    ids=["502", "dropped", "timeout"],
)
async def test_delete_404_after_ambiguous_attempt_is_success(
    failure: httpx.Response | Exception,
) -> None:
    """A DELETE that may have gone through, then meets 404 on retry, succeeded."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.delete(f"/volumes/{VID}").mock(
            side_effect=[failure, httpx.Response(404, json={"type": "unknown_resource"})]
        )
        await make_api().delete_volume(VID)
    assert route.call_count == 2


async def test_delete_404_after_503_is_still_not_found() -> None:
    """A 503 means the API did not act: a 404 after it is a real NotFoundError."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.delete(f"/volumes/{VID}").mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(404, json={"type": "unknown_resource"}),
            ]
        )
        with pytest.raises(NotFoundError):
            await make_api().delete_volume(VID)


async def test_post_4xx_not_retried() -> None:
    """A 400 is final: no resend, no lookup."""
    from scaleway_volumes import InvalidRequestError

    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        post = mock.post("/volumes").respond(400, json={"type": "invalid_request_error"})
        lookup = mock.get("/volumes")
        with pytest.raises(InvalidRequestError):
            await make_api().create_volume(name="d", size=10)
    assert post.call_count == 1 and not lookup.called
