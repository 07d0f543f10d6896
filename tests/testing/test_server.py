"""The TCP server: HTTP/1.1 handling, connection management and the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway, FakeServer

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"X-Auth-Token": "fake-token"}
GB = 1_000_000_000


def _exchange(server: FakeServer, payload: bytes) -> bytes:
    """Send raw bytes, return everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_pipelined_requests_keep_order(server: FakeServer, fake: FakeScaleway) -> None:
    volume = fake.add_volume()
    fake.latency = 0.02  # forces the asynchronous path for every request
    get = f"GET /volumes/{volume['id']} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: fake-token\r\n\r\n"
    missing = "GET /volumes/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: x\r\n"
    missing += "X-Auth-Token: fake-token\r\nConnection: close\r\n\r\n"
    raw = _exchange(server, (get + get.replace("fake-token", "bad") + missing).encode())
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)
    assert statuses == [b"200", b"401", b"404"]
    assert raw.count(b"Connection: close") == 1


def test_chunked_request_body(server: FakeServer, fake: FakeScaleway) -> None:
    body = json.dumps(
        {"name": "c", "size": GB, "volume_type": "l_ssd", "project": FAKE_ORGANIZATION}
    ).encode()
    chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
    head = b"POST /volumes HTTP/1.1\r\nHost: h:1\r\nX-Auth-Token: fake-token\r\n"
    head += b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    raw = _exchange(server, head + chunked)
    assert raw.startswith(b"HTTP/1.1 201 Created\r\n")
    assert f"Location: http://h:1/volumes/{fake.volumes[0]['id']}".encode() in raw
    assert fake.stats.requests[0].body == body


def test_http10_closes_and_bad_request_line(server: FakeServer) -> None:
    raw = _exchange(server, b"GET /volumes HTTP/1.0\r\nX-Auth-Token: fake-token\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert raw.endswith(b'{"volumes":[]}')
    assert _exchange(server, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400")


@pytest.mark.anyio
async def test_drop_idle_connections(server: FakeServer, fake: FakeScaleway) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, headers=AUTH) as http:
        assert (await http.get("/volumes")).status_code == 200
        assert fake.stats.open_connections == 1
        assert server.drop_idle_connections() == 1
        assert fake.stats.open_connections == 0
        # The client notices the closed connection and opens a new one.
        assert (await http.get("/volumes")).status_code == 200
        assert fake.stats.connections_opened == 2

        fake.latency = 0.2
        async with anyio.create_task_group() as tg:
            busy = await _start_request(tg, server)
            with anyio.fail_after(3):
                # in_flight changes in the server's thread: nothing to wait on but polling.
                while fake.stats.in_flight == 0:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            # Only `http`'s connection is idle; the busy one survives.
            assert server.drop_idle_connections() == 1
        assert busy == [200]


async def _start_request(tg: anyio.abc.TaskGroup, server: FakeServer) -> list[int]:
    statuses: list[int] = []

    async def run() -> None:
        async with httpx.AsyncClient(base_url=server.base_url, headers=AUTH) as other:
            statuses.append((await other.get("/volumes")).status_code)

    tg.start_soon(run)
    return statuses


@pytest.mark.anyio
async def test_async_context_manager_and_close(fake: FakeScaleway) -> None:
    async with fake.serve() as server, httpx.AsyncClient(headers=AUTH) as http:
        assert (await http.get(server.base_url + "/volumes")).status_code == 200
        assert fake.stats.open_connections == 1
    # Closing the server also closed the client's keep-alive connection.
    assert fake.stats.open_connections == 0
    server.close()  # idempotent
    assert server.drop_idle_connections() == 0
    with pytest.raises(httpx.ConnectError):
        await httpx.AsyncClient().get(server.base_url + "/volumes")


def test_two_servers_share_one_fake(fake: FakeScaleway) -> None:
    with fake.serve() as a, fake.serve() as b:
        assert a.port != b.port
        created = httpx.post(
            a.base_url + "/volumes",
            headers=AUTH,
            json={"name": "s", "size": GB, "volume_type": "l_ssd", "project": FAKE_ORGANIZATION},
        )
        assert created.status_code == 201
        got = httpx.get(f"{b.base_url}/volumes/{created.json()['volume']['id']}", headers=AUTH)
        assert got.json() == created.json()


def test_port_in_use_raises(server: FakeServer, fake: FakeScaleway) -> None:
    with pytest.raises(OSError, match="in use"):
        fake.serve(port=server.port)


def test_cli_ready_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "scaleway_volumes.testing", "--token", "t0k", "--latency", "0"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY http://127.0.0.1:")
        _, base_url, block_base_url = line.split()
        assert base_url.endswith("/instance/v1/zones/fr-par-1")
        response = httpx.get(base_url + "/volumes", headers={"X-Auth-Token": "t0k"})
        assert response.status_code == 200
        assert response.headers["x-total-count"] == "0"
        assert block_base_url == base_url.replace("/instance/", "/block/")
        block = httpx.get(block_base_url + "/volumes", headers={"X-Auth-Token": "t0k"})
        assert block.json() == {"volumes": [], "total_count": 0}
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert stdout == ""
    assert "served 2 responses" in stderr
