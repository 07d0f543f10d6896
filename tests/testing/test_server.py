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
from typing import Any

import anyio
import httpx
import pytest

from scaleway_volumes.testing import (
    FAKE_ORGANIZATION,
    FAKE_TOKEN,
    FakeScaleway,
    FakeServer,
    Fault,
)
from scaleway_volumes.testing.__main__ import _fake, _parse_args, main
from scaleway_volumes.testing._server import _ServerCore

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"X-Auth-Token": FAKE_TOKEN}
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
    get = f"GET /volumes/{volume['id']} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {FAKE_TOKEN}\r\n\r\n"
    missing = "GET /volumes/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: x\r\n"
    missing += f"X-Auth-Token: {FAKE_TOKEN}\r\nConnection: close\r\n\r\n"
    raw = _exchange(server, (get + get.replace(FAKE_TOKEN, "bad") + missing).encode())
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)
    assert statuses == [b"200", b"401", b"404"]
    assert raw.count(b"Connection: close") == 1


def test_chunked_request_body(server: FakeServer, fake: FakeScaleway) -> None:
    body = json.dumps(
        {"name": "c", "size": GB, "volume_type": "l_ssd", "project": FAKE_ORGANIZATION}
    ).encode()
    chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
    head = f"POST /volumes HTTP/1.1\r\nHost: h:1\r\nX-Auth-Token: {FAKE_TOKEN}\r\n".encode()
    head += b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    raw = _exchange(server, head + chunked)
    assert raw.startswith(b"HTTP/1.1 201 Created\r\n")
    assert f"Location: http://h:1/volumes/{fake.volumes[0]['id']}".encode() in raw
    assert fake.stats.requests[0].body == body


@pytest.mark.parametrize("latency", [0.0, 0.02], ids=["inline", "deferred"])
def test_head_answer_has_no_body(server: FakeServer, fake: FakeScaleway, latency: float) -> None:
    """HEAD gets the GET's status line and headers only: the next answer on the same
    connection is read from the right bytes."""
    fake.latency = latency
    head = f"HEAD /volumes HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {FAKE_TOKEN}\r\n\r\n"
    get = head.replace("HEAD", "GET").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
    raw = _exchange(server, (head + get).encode())
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 405 ")
    assert int(re.findall(rb"Content-Length: (\d+)", first)[0]) > 0
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
    assert rest.endswith(b'{"volumes":[]}')


@pytest.mark.anyio
async def test_in_process_head_answer_has_no_body(fake: FakeScaleway) -> None:
    """In-process, HEAD answers like the TCP server: the GET's Content-Length, no body."""
    async with fake.client(base_url=fake.base_url) as http:
        head = await http.head("/nowhere")
        get = await http.get("/nowhere")
    assert (head.status_code, head.content) == (404, b"")
    assert head.headers["content-length"] == str(len(get.content)) != "0"


def _fail_posts(fake: FakeScaleway, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the fake raise (as a bug of its own would) on every POST."""
    dispatch = fake._dispatch

    def broken(request: Any, root: str) -> Any:
        if request.method == "POST":
            raise RuntimeError("boom")
        return dispatch(request, root)

    monkeypatch.setattr(fake, "_dispatch", broken)


@pytest.mark.parametrize("latency", [0.0, 0.02], ids=["inline", "deferred"])
def test_a_failing_fake_answers_500(
    server: FakeServer,
    fake: FakeScaleway,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    latency: float,
) -> None:
    """An exception inside the fake is a logged 500, not a dropped connection: the stats
    count the request and the connection stays usable."""
    _fail_posts(fake, monkeypatch)
    fake.latency = latency
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=5) as http:
        failed = http.post("/volumes", json={})
        assert failed.status_code == 500
        assert set(failed.json()) == {"type", "message"}
        assert failed.json()["type"] == "internal_error"
        assert http.get("/volumes").status_code == 200
    assert (fake.stats.in_flight, fake.stats.statuses) == (0, {500: 1, 200: 1})
    assert fake.stats.connections_opened == 1
    assert "RuntimeError: boom" in caplog.text


def test_an_unencodable_scripted_answer_is_a_500(
    server: FakeServer, fake: FakeScaleway, caplog: pytest.LogCaptureFixture
) -> None:
    """A fault header that HTTP/1.1 cannot carry fails that answer, not the connection."""
    fake.add_fault(Fault("respond", status=200, headers={"X-Note": "\u20ac"}))
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=5) as http:
        assert http.get("/volumes").status_code == 500
        assert http.get("/volumes").status_code == 200
    assert (fake.stats.in_flight, fake.stats.statuses) == (0, {500: 1, 200: 1})
    assert "UnicodeEncodeError" in caplog.text


@pytest.mark.anyio
async def test_in_process_failure_after_the_client_gave_up_is_counted(
    fake: FakeScaleway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A request given up on is still applied later; if the fake fails then, the failure
    is logged and the request leaves ``in_flight``."""
    _fail_posts(fake, monkeypatch)
    fake.latency = 0.05
    async with fake.client(base_url=fake.base_url, timeout=0.001) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/volumes", json={})
    with anyio.fail_after(5):
        # The late completion runs in a timer thread: nothing to wait on but polling.
        while fake.stats.in_flight:  # noqa: ASYNC110
            await anyio.sleep(0.01)
    assert "RuntimeError: boom" in caplog.text


def test_http10_closes_and_bad_request_line(server: FakeServer) -> None:
    raw = _exchange(server, f"GET /volumes HTTP/1.0\r\nX-Auth-Token: {FAKE_TOKEN}\r\n\r\n".encode())
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


@pytest.mark.parametrize(
    "option",
    [
        ("--rate-limit", "0"),
        ("--rate-burst", "0"),
        ("--block-create-time", "-1"),
        ("--port", "70000"),
        ("--latency", "nan"),
        ("--latency", "-0.5"),
        ("--zone", ""),
        ("--host", ""),
        # No rate can be set later in a separate process: a lone burst would be ignored.
        ("--rate-burst", "1"),
    ],
)
def test_cli_bad_values_are_usage_errors(option: tuple[str, str]) -> None:
    """A bad option value (or one that could not apply) is an argparse error naming the
    option (exit 2), not a traceback, and never a server started with it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "scaleway_volumes.testing", "--port", "0", *option]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=20)
    assert proc.returncode == 2, proc.stderr
    assert f"error: argument {option[0]}: " in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_cli_burst_applies_with_a_rate_or_a_schedule() -> None:
    """``--rate-burst`` is accepted next to ``--rate-limit`` or ``--rate-schedule`` (whose
    steps set the rate) and reaches the fake."""
    for rate in (["--rate-limit", "100"], ["--rate-schedule", "0:50"]):
        fake = _fake(_parse_args(["--rate-burst", "2", *rate]))
        assert fake.rate_burst == 2 and fake._capacity() == 2


def test_cli_start_failures_without_traceback(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port in use ends with a one-line error (exit 1); a ValueError from building the
    fake or starting the server is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as ended:
        main(["--port", str(server.port)])
    assert ended.value.code == 1
    assert f"cannot listen on 127.0.0.1:{server.port}: " in capsys.readouterr().err

    async def refuse(self: _ServerCore, host: str, port: int) -> None:
        raise ValueError("no such address")

    monkeypatch.setattr(_ServerCore, "start", refuse)
    with pytest.raises(SystemExit) as ended:
        main([])
    assert ended.value.code == 2
    assert "error: no such address" in capsys.readouterr().err

    def unbuildable(*args: Any, **kwargs: Any) -> FakeScaleway:
        raise ValueError("zone must not be empty")

    monkeypatch.setattr("scaleway_volumes.testing.__main__.FakeScaleway", unbuildable)
    with pytest.raises(SystemExit) as ended:
        main([])
    assert ended.value.code == 2
    assert "error: zone must not be empty" in capsys.readouterr().err
