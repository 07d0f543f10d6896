"""Scripted faults, rate limiting, latency and stats, over both transports."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from scaleway_volumes.testing import (
    FAKE_ORGANIZATION,
    FAKE_TOKEN,
    FakeScaleway,
    Fault,
    RecordedRequest,
)

from ..waiting import eventually

if TYPE_CHECKING:
    from .conftest import Target

pytestmark = pytest.mark.anyio

GB = 1_000_000_000
BODY = {"name": "data", "size": 20 * GB, "volume_type": "l_ssd", "project": FAKE_ORGANIZATION}


async def test_respond_skips_state_auth_and_throttling(target: Target) -> None:
    fake = target.fake
    fake.rate_limit, fake.rate_burst = 0.001, 1
    fault = fake.add_fault(
        Fault(
            "respond",
            method="post",
            status=503,
            body={"message": "busy", "type": "service_unavailable"},
            headers={"Retry-After": "7"},
            times=2,
        )
    )
    async with target.client(headers={"X-Auth-Token": "wrong"}) as http:
        for _ in range(2):
            response = await http.post("/volumes", json=BODY)
            assert response.status_code == 503
            assert response.json() == {"message": "busy", "type": "service_unavailable"}
            assert response.headers["retry-after"] == "7"
            assert response.headers["content-type"] == "application/json"
        assert (fault.hits, fault.remaining) == (2, 0)
        assert fake.stats.throttled == 0
        # Used up: the next request goes through the normal pipeline (and its auth check).
        assert (await http.post("/volumes", json=BODY)).status_code == 401
    assert fake.volumes == []


async def test_respond_with_text_body(target: Target) -> None:
    target.fake.add_fault(Fault("respond", status=500, body="oops"))
    async with target.client() as http:
        response = await http.get("/volumes")
    assert (response.status_code, response.text) == (500, "oops")


async def test_drop(target: Target) -> None:
    fake = target.fake
    fault = fake.add_fault(Fault("drop", method="POST", path=r"/volumes$"))
    async with target.client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/volumes", json=BODY)
        assert fake.volumes == []
        assert (fault.hits, fault.remaining) == (1, 0)
        assert (await http.post("/volumes", json=BODY)).status_code == 201
    assert len(fake.volumes) == 1
    assert fake.stats.statuses == {201: 1}
    assert len(fake.stats.requests) == 2


async def test_act_then_drop(target: Target) -> None:
    target.fake.add_fault(Fault("act_then_drop", method="POST"))
    async with target.client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/volumes", json=BODY)
    assert [v["name"] for v in target.fake.volumes] == ["data"]


async def test_act_then_error(target: Target) -> None:
    target.fake.add_fault(Fault("act_then_error", method="POST"))
    target.fake.add_fault(Fault("act_then_error", method="DELETE", status=504, body={"x": 1}))
    async with target.client() as http:
        response = await http.post("/volumes", json=BODY)
        assert response.status_code == 502
        assert response.headers["content-type"] == "text/html"
        assert response.text == "<html><body><h1>502 Bad Gateway</h1></body></html>"
        [volume] = target.fake.volumes
        response = await http.delete(f"/volumes/{volume['id']}")
        assert (response.status_code, response.json()) == (504, {"x": 1})
    assert target.fake.volumes == []


async def test_delay_acts_after_sleeping(target: Target) -> None:
    # A second of margin over the read timeout: on a busy 2-core machine the
    # client's loop once took over 0.15 s to notice its 0.05 s timeout.
    target.fake.add_fault(Fault("delay", method="POST", delay=1.0))
    async with target.client(timeout=httpx.Timeout(5, read=0.05)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/volumes", json=BODY)
        # The client gave up before the server acted; the server acts anyway, later.
        assert target.fake.volumes == []
        await eventually(lambda: len(target.fake.volumes) == 1)
    await eventually(lambda: target.fake.stats.in_flight == 0)


async def test_delay_then_normal_answer(target: Target) -> None:
    target.fake.add_fault(Fault("delay", delay=0.05))
    async with target.client() as http:
        start = time.monotonic()
        response = await http.get("/volumes")
        assert time.monotonic() - start >= 0.04
    assert response.status_code == 200


async def test_act_then_delay_is_the_ambiguous_case(target: Target) -> None:
    fake = target.fake
    # The answer comes 2 s after the act, far past the 0.05 s read timeout, however
    # late a busy host lets either side run.
    fake.add_fault(Fault("act_then_delay", method="POST", delay=2.0))
    async with target.client(timeout=httpx.Timeout(5, read=0.05)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/volumes", json=BODY)
        if target.kind == "inprocess":
            # The transport acts in the client's own task, before its wait times out.
            assert len(fake.volumes) == 1
        else:
            # The server's thread may get to the request after the client gave up.
            await eventually(lambda: len(fake.volumes) == 1)
            # It acted first, then delayed: the answer is still held back.
            assert fake.stats.in_flight == 1
    target.fake.add_fault(Fault("act_then_delay", delay=0.05))
    async with target.client() as http:
        assert (await http.get("/volumes")).status_code == 200


async def test_malformed(target: Target) -> None:
    target.fake.add_fault(Fault("malformed", method="POST"))
    target.fake.add_fault(Fault("malformed", method="GET", body="{oops"))
    async with target.client() as http:
        response = await http.post("/volumes", json=BODY)
        assert response.status_code == 201
        assert response.headers["content-type"] == "application/json"
        assert response.content == b'{"volume": {"id": '
        with pytest.raises(ValueError, match="Expecting"):
            response.json()
        assert (await http.get("/volumes")).content == b"{oops"
    assert len(target.fake.volumes) == 1


async def test_truncate(target: Target) -> None:
    target.fake.add_fault(Fault("truncate", method="POST"))
    async with target.client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/volumes", json=BODY)
        async with http.stream("POST", "/volumes", json=BODY) as response:
            assert response.status_code == 201
    assert len(target.fake.volumes) == 2
    target.fake.add_fault(Fault("truncate"))
    async with target.client() as http, http.stream("GET", "/volumes") as response:
        assert response.status_code == 200
        declared = int(response.headers["content-length"])
        received: list[bytes] = []

        async def read_all() -> None:
            async for piece in response.aiter_raw():
                received.append(piece)

        with pytest.raises(httpx.RemoteProtocolError):
            await read_all()
        assert len(b"".join(received)) == declared // 2


async def test_slow_drip(target: Target) -> None:
    target.fake.add_volume()
    target.fake.add_fault(Fault("slow_drip", method="GET", chunk=100, interval=0.02))
    async with target.client() as http:
        start = time.monotonic()
        response = await http.get("/volumes")
        assert time.monotonic() - start >= 0.05
        assert response.json()["volumes"] == target.fake.volumes
        target.fake.add_fault(Fault("slow_drip", chunk=10, interval=0.2))
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/volumes", timeout=httpx.Timeout(5, read=0.05))


async def test_fault_matching(target: Target) -> None:
    fake = target.fake
    volume = fake.add_volume()
    by_body = fake.add_fault(Fault("respond", status=418, body_contains='"name":"tea"', times=None))
    by_path = fake.add_fault(Fault("respond", status=409, path=r"/volumes/[0-9a-f-]+$"))
    shadowed = fake.add_fault(Fault("respond", status=410, path=r"/volumes/"))
    async with target.client() as http:
        for _ in range(3):
            tea = await http.post("/volumes", content=b'{"name":"tea"}')
            assert tea.status_code == 418
        assert (await http.post("/volumes", json=BODY)).status_code == 201
        assert (await http.get(f"/volumes/{volume['id']}")).status_code == 409
        assert (await http.get(f"/volumes/{volume['id']}")).status_code == 410
        assert (await http.get(f"/volumes/{volume['id']}")).status_code == 200
    assert (by_body.hits, by_body.remaining) == (3, None)
    assert (by_path.hits, shadowed.hits) == (1, 1)
    assert fake.faults == [by_body, by_path, shadowed]
    fake.clear_faults()
    assert fake.faults == []
    with pytest.raises(ValueError, match="unknown fault action"):
        Fault("explode")


async def test_rate_limit(target: Target) -> None:
    fake = target.fake
    fake.rate_limit, fake.rate_burst = 0.01, 3
    async with target.client() as http:
        statuses = [(await http.get("/volumes")).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        throttled = await http.get("/volumes")
        assert throttled.json() == {"message": "rate limit exceeded", "type": "too_many_requests"}
        assert "retry-after" not in throttled.headers
        assert fake.stats.throttled == 3
        assert fake.stats.statuses == {200: 3, 429: 3}
        assert len(fake.stats.requests) == 6
        # At 0.5/s with the default burst of 1: one request per 2 s passes, so the
        # next one, however late a busy host sends it, is throttled.
        fake.rate_limit, fake.rate_burst = 0.5, None
        assert (await http.get("/volumes")).status_code == 200
        assert (await http.get("/volumes")).status_code == 429
        # The bucket refills: at 10/s, a request 0.15 s after the last token was
        # taken (0.1 s of refill) passes again.
        fake.rate_limit = 10
        assert (await http.get("/volumes")).status_code == 200
        await anyio.sleep(0.15)
        assert (await http.get("/volumes")).status_code == 200
        fake.rate_limit = None
        assert all([(await http.get("/volumes")).status_code == 200 for _ in range(5)])


async def test_latency_overlaps_and_counts_in_flight(target: Target) -> None:
    fake = target.fake
    # Long enough that the five requests (over TCP, five connections to open) are
    # all received before the first answer, even on a busy host.
    fake.latency = 0.5
    results: list[int] = []
    async with target.client() as http:

        async def one() -> None:
            results.append((await http.get("/volumes")).status_code)

        start = time.monotonic()
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(one)
        elapsed = time.monotonic() - start
    assert results == [200] * 5
    # The latency overlaps: all five requests were in flight at once.
    assert fake.stats.max_in_flight == 5
    assert fake.stats.in_flight == 0
    assert elapsed >= 0.45


async def test_requests_are_recorded(target: Target) -> None:
    fake = target.fake
    async with target.client(headers={"X-Custom": "yes"}) as http:
        await http.post("/volumes", json=BODY)
        await http.get("/volumes", params={"name": "da", "per_page": 5})
    post, get = fake.stats.requests
    assert isinstance(post, RecordedRequest)
    assert (post.method, post.query) == ("POST", "")
    assert post.path == "/instance/v1/zones/fr-par-1/volumes"
    assert post.json() == BODY
    assert post.headers["x-custom"] == "yes"
    assert post.headers["x-auth-token"] == FAKE_TOKEN
    assert post.headers["content-type"] == "application/json"
    assert post.transport == target.kind
    assert (get.method, get.query, get.body) == ("GET", "name=da&per_page=5", b"")
    assert fake.stats.statuses == {201: 1, 200: 1}
    fake.stats.reset()
    assert (fake.stats.requests, fake.stats.statuses, fake.stats.max_in_flight) == ([], {}, 0)


async def test_reset_clears_everything(target: Target) -> None:
    fake = target.fake
    fake.add_volume()
    fake.add_fault(Fault("drop"))
    async with target.client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/volumes")
    fake.reset()
    assert (fake.volumes, fake.faults, fake.stats.requests) == ([], [], [])
    async with target.client() as http:
        assert (await http.get("/volumes")).status_code == 200


async def test_tcp_connection_stats(server: Any, fake: FakeScaleway) -> None:
    headers = {"X-Auth-Token": FAKE_TOKEN}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
        for _ in range(3):
            assert (await http.get("/volumes")).status_code == 200
        assert fake.stats.connections_opened == 1
        assert fake.stats.open_connections == 1
    await eventually(lambda: fake.stats.open_connections == 0)
    async with (
        httpx.AsyncClient(base_url=server.base_url, headers=headers) as a,
        httpx.AsyncClient(base_url=server.base_url, headers=headers) as b,
    ):
        await a.get("/volumes")
        await b.get("/volumes")
        assert fake.stats.open_connections == 2
    assert fake.stats.connections_opened == 3


def test_rate_burst_default() -> None:
    fake = FakeScaleway(rate_limit=100)
    assert fake.rate_burst is None
    assert fake._capacity() == 10
    fake.rate_limit = 5
    assert fake._capacity() == 1
    with pytest.raises(ValueError, match="positive"):
        fake.rate_limit = 0
