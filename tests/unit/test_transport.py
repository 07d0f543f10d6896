"""The aiohttp transport says truthfully whether a failed request may have been sent."""

from __future__ import annotations

import asyncio
import datetime

import aiohttp
import httpx
import pytest
from aiohttp.client_reqrep import ConnectionKey

from scaleway_volumes._transport import map_aiohttp_error
from scaleway_volumes._transport._aiohttp import _ReadResponse

KEY = ConnectionKey("h", 80, False, True, None, None, None)
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (aiohttp.ClientConnectorError(KEY, OSError(111, "refused")), httpx.ConnectError),
        (aiohttp.ConnectionTimeoutError("pool or connect"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError("read"), httpx.ReadTimeout),
        (asyncio.TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("truncated"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.ClientError("anything else"), httpx.RemoteProtocolError),
    ],
)
def test_mapping(exc: BaseException, expected: type[httpx.TransportError]) -> None:
    """Each aiohttp failure maps to the httpx error with the same 'sent?' meaning."""
    mapped = map_aiohttp_error(exc)
    assert type(mapped) is expected


def test_server_disconnect_is_never_reported_as_not_sent() -> None:
    """Unlike httpx-aiohttp 0.2.0, a disconnect after sending is not a ConnectTimeout."""
    assert not isinstance(map_aiohttp_error(aiohttp.ServerDisconnectedError()), NOT_SENT)
    assert not isinstance(map_aiohttp_error(aiohttp.ClientOSError()), NOT_SENT)


def test_pool_and_connect_timeouts_map_to_aiohttps_budgets() -> None:
    """aiohttp bounds the wait for a slot and the connecting together (``connect``):
    each httpx combination of ``pool`` and ``connect`` gets a budget that never waits
    for a slot longer than httpx would give up (and ``sock_connect`` = ``connect``)."""
    from scaleway_volumes._transport import AiohttpTransport

    transport = AiohttpTransport()
    expected = {
        (0.2, None): (0.2, None),  # a pool timeout alone still bounds the wait
        (0.2, 1.0): (1.2, 1.0),
        (None, 1.0): (None, 1.0),  # httpx waits for a slot for ever
        (None, None): (None, None),
    }
    for (pool, connect), budgets in expected.items():
        spec = {"pool": pool, "connect": connect, "read": 3.0, "write": 4.0}
        timeout = transport._client_timeout(spec)
        assert (timeout.connect, timeout.sock_connect) == budgets, (pool, connect)
        assert (timeout.total, timeout.sock_read) == (None, 3.0)


def test_trio_pool_bounds_and_shards() -> None:
    """The cancel-safe pool splits max_connections into shards of 8."""
    from scaleway_volumes._transport import CancelSafeHTTPTransport

    transport = CancelSafeHTTPTransport(limits=httpx.Limits(max_connections=20))
    assert transport._sizes == [8, 8, 4]
    assert transport._shards == [None, None, None]  # made when first used
    made = [transport._make_shard(i) for i in range(3)]
    assert transport._shards == made
    assert [s._pool._max_connections for s in made] == [8, 8, 4]


def test_trio_pool_of_a_huge_size_builds_nothing_up_front() -> None:
    """A pool sized for a million connections makes no transport before it is used."""
    from scaleway_volumes._transport import CancelSafeHTTPTransport

    transport = CancelSafeHTTPTransport(limits=httpx.Limits(max_connections=1_000_000))
    assert len(transport._shards) == 125_000
    assert not any(transport._shards)


@pytest.mark.parametrize(
    ("method", "body", "query"),
    [
        ("GET", None, None),
        ("GET", None, "page=2&per_page=100"),
        ("DELETE", None, None),
        ("POST", b'{"name": "v"}', None),
        ("PATCH", b"{}", None),
        ("POST", None, None),
        ("PUT", None, None),
    ],
)
def test_requests_carry_the_headers_httpx_would_give(
    method: str, body: bytes | None, query: str | None
) -> None:
    """Built from a stream, a request has the Host and content headers ``content=`` gives."""
    from scaleway_volumes._transport import ClientSender

    ours = [("X-Auth-Token", "t"), ("User-Agent", "ua"), ("Accept", "application/json")]
    base = "https://api.example.com:8443/block/v1"
    sender = ClientSender(lambda: None, httpx, base, ours)
    built = sender._build(method, "/volumes", query, body, {"read": 1.0})
    extra = [("Content-Type", "application/json")] if body is not None else []
    url = base + "/volumes" + (f"?{query}" if query else "")
    expected = httpx.Request(method, url, headers=[*ours, *extra], content=body)
    assert built.headers.raw == expected.headers.raw
    assert built.url == expected.url
    assert built.read() == expected.content == (body or b"")
    assert built.extensions["timeout"] == {"read": 1.0}


def test_remembered_headers_and_urls_follow_each_request() -> None:
    """Headers kept per body length and URLs per path never leak into another request."""
    from scaleway_volumes._transport import ClientSender

    sender = ClientSender(lambda: None, httpx, "https://api.example.com/v1", [("A", "1")])
    for body, path, query in [
        (b"{}", "/volumes", None),
        (b'{"a": 1}', "/volumes", None),
        (b"{}", "/volumes", "page=2"),
        (b"[1]", "/snapshots", None),
    ]:
        built = sender._build("POST", path, query, body, {})
        assert built.headers["content-length"] == str(len(body))
        assert built.read() == body
        assert str(built.url) == "https://api.example.com/v1" + path + (
            f"?{query}" if query else ""
        )


def test_memo_forgets_everything_when_full() -> None:
    from scaleway_volumes._transport._cache import Memo

    memo: Memo[int, str] = Memo(size=2)
    assert memo.put(1, "a") == "a" and memo.get(1) == "a"
    memo.put(2, "b")
    memo.put(3, "c")
    assert len(memo) == 1
    assert memo.get(1) is None and memo.get(3) == "c"


def _read_response(reason: str = "Created") -> _ReadResponse:
    request = httpx.Request("POST", "http://127.0.0.1/volumes")
    raw = ((b"Content-Type", b"application/json"), (b"X-Request-Id", b"r-1"))
    return _ReadResponse(
        201, raw_headers=raw, body=b'{"a": 1}', request=request, reason=reason, elapsed=0.25
    )


@pytest.mark.parametrize("value", [b"caf\xe9", "café".encode(), b"r-1"])
def test_read_response_headers_decode_as_httpx_does(value: bytes) -> None:
    """A header byte that is not ASCII (a gateway's Latin-1 or UTF-8) reads as httpx's
    own pool reads it, never as a UnicodeDecodeError in place of the typed error."""
    request = httpx.Request("GET", "http://127.0.0.1/volumes")
    raw = ((b"X-Request-Id", value),)
    ours = _ReadResponse(404, raw_headers=raw, body=b"{}", request=request, reason="", elapsed=0)
    stock = httpx.Response(404, headers=list(raw), request=request)
    assert ours.headers["x-request-id"] == stock.headers["x-request-id"]


def test_read_response_sets_what_httpx_response_init_sets() -> None:
    """httpx's ``__init__`` is skipped: every attribute it sets must be set here too, or
    answered by a property of ours. A new httpx attribute fails here, not in use."""
    request = httpx.Request("POST", "http://127.0.0.1/volumes")
    stock = httpx.Response(201, stream=httpx.ByteStream(b"{}"), request=request)
    ours = _read_response()
    properties = {
        name for name, value in vars(_ReadResponse).items() if isinstance(value, property)
    }
    # httpx keeps some values under a private name behind a public property.
    unknown = [
        name
        for name in vars(stock)
        if name not in vars(ours) and name not in properties and name.lstrip("_") not in properties
    ]
    assert unknown == []


def test_read_response_reads_as_an_httpx_response() -> None:
    """What the lazily built parts give equals what httpx's own response gives."""
    ours = _read_response()
    assert (ours.status_code, ours.reason_phrase, ours.http_version) == (201, "Created", "HTTP/1.1")
    assert ours.extensions == {"http_version": b"HTTP/1.1", "reason_phrase": b"Created"}
    assert ours.headers["x-request-id"] == "r-1"
    assert ours.json() == {"a": 1} and ours.text == '{"a": 1}'
    assert ours.elapsed == datetime.timedelta(seconds=0.25)
    assert ours.num_bytes_downloaded == len(ours.content) == 8
    assert ours.url == httpx.URL("http://127.0.0.1/volumes")
    assert (ours.history, ours.next_request, ours.is_stream_consumed) == ([], None, False)
    ours.elapsed = datetime.timedelta(seconds=1)
    assert ours.elapsed.total_seconds() == 1
    unnamed = _read_response(reason="")
    assert unnamed.reason_phrase == "Created"  # the standard phrase, as httpx gives it
    assert unnamed.extensions == {"http_version": b"HTTP/1.1"}
    replaced = _read_response()
    replaced.extensions = {"http_version": b"HTTP/1.0", "reason_phrase": b"Made"}
    assert (replaced.http_version, replaced.reason_phrase) == ("HTTP/1.0", "Made")


def test_trio_pools_share_one_tls_context() -> None:
    """Every trio pool of the process uses one TLS context: building one loads the
    CA bundle (tens of milliseconds inside the loop), which a worker running one
    ``trio.run()`` per job paid on each job's first request."""
    from scaleway_volumes._transport import CancelSafeHTTPTransport

    limits = httpx.Limits(max_connections=8)
    first = CancelSafeHTTPTransport(limits=limits)
    second = CancelSafeHTTPTransport(limits=limits)
    assert first._tls is second._tls
