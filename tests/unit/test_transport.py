"""The aiohttp transport says truthfully whether a failed request may have been sent."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import pytest
from aiohttp.client_reqrep import ConnectionKey

from scaleway_volumes._transport import map_aiohttp_error

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


def test_trio_pool_bounds_and_shards() -> None:
    """The cancel-safe pool splits max_connections into shards of 8."""
    from scaleway_volumes._transport import CancelSafeHTTPTransport

    transport = CancelSafeHTTPTransport(limits=httpx.Limits(max_connections=20))
    assert transport._sizes == [8, 8, 4]
    assert [s._pool._max_connections for s in transport._shards] == [8, 8, 4]


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
