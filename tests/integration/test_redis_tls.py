"""RedisRateLimiter over TLS (``rediss://``): SSL contexts are not rebuilt in the loop.

redis-py builds an SSL context (``ssl.create_default_context()``, loading the system
CA store: tens of milliseconds, inside the event loop) for each connection it makes.
The limiter used to throw its client away at each failed try, so while Redis was
down every worker stalled its loop that long every ``retry_interval``. Counted
here: SSL contexts built, never time. The TLS server is a redis-server started
here with a certificate openssl makes; without openssl that test skips (even
where ``SCALEWAY_VOLUMES_REQUIRE_REDIS=1`` makes the other Redis tests mandatory).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.redis_server import REQUIRE_ENV, free_port, redis_server_binary

pytest.importorskip("redis")

from scaleway_volumes.redis import RedisRateLimiter


@pytest.fixture
def anyio_backend() -> str:
    """redis-py's client is asyncio-only."""
    return "asyncio"


def count_contexts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The list every ``ssl.create_default_context()`` is appended to."""
    made: list[int] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    return made


class TlsRedisServer:
    """``redis-server`` serving TLS only on 127.0.0.1:``port``; stop and start at will."""

    def __init__(self, binary: str, directory: Path, cert: Path, key: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.cert = cert
        self.key = key
        self.port = free_port()
        # A self-signed certificate: the client does not check it.
        self.url = f"rediss://127.0.0.1:{self.port}/0?ssl_cert_reqs=none"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers a PING over TLS."""
        self.proc = subprocess.Popen(
            [
                *(self.binary, "--port", "0", "--tls-port", str(self.port)),
                *("--bind", "127.0.0.1", "--tls-auth-clients", "no"),
                *("--tls-cert-file", str(self.cert), "--tls-key-file", str(self.key)),
                *("--tls-ca-cert-file", str(self.cert)),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as raw,
                context.wrap_socket(raw) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.02)
        self.stop()
        reason = "redis-server did not serve TLS (built without TLS support?)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)

    def stop(self) -> None:
        """Stop the server (its data goes with it)."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[TlsRedisServer]:
    """A TLS redis-server of this test's own, started (a skip without openssl)."""
    binary = redis_server_binary()
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not found: it makes the TLS test's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    server = TlsRedisServer(binary, tmp_path, cert, key)
    server.start()
    yield server
    server.stop()


@pytest.mark.anyio
async def test_tries_while_redis_is_unreachable_build_one_ssl_context(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Five tries at an unreachable ``rediss://`` Redis reuse one client, whose
    connection built its SSL context once (a new client per try built one each)."""
    caplog.set_level(logging.CRITICAL, logger="scaleway_volumes")
    made = count_contexts(monkeypatch)
    limiter = RedisRateLimiter(
        f"rediss://127.0.0.1:{free_port()}/0", retry_interval=0.01, timeout=0.2
    )
    failures: list[BaseException] = []
    go_local = limiter._go_local

    def counted(exc: BaseException, conn: Any) -> None:
        failures.append(exc)
        go_local(exc, conn)

    monkeypatch.setattr(limiter, "_go_local", counted)
    try:
        for _ in range(5):
            limiter.release(await limiter.acquire(), 200)
            await anyio.sleep(0.03)  # past retry_interval: the next acquire tries again
    finally:
        await limiter.aclose()
    assert len(failures) == 5
    assert len(made) == 1


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_tls_redis_down_then_back_builds_no_new_ssl_context(
    tls_redis: TlsRedisServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Shared over TLS; Redis stops (in-process, retrying); it starts again: shared
    again, through the same connection and its one SSL context."""
    caplog.set_level(logging.CRITICAL, logger="scaleway_volumes")
    made = count_contexts(monkeypatch)
    limiter = RedisRateLimiter(tls_redis.url, name="tls", retry_interval=0.05, timeout=0.5)
    try:
        with anyio.fail_after(10):
            for _ in range(5):
                limiter.release(await limiter.acquire(), 201)
        assert limiter.shared
        tls_redis.stop()
        for _ in range(10):
            limiter.release(await limiter.acquire(), 201)
            await anyio.sleep(0.06)  # past retry_interval: each acquire tries again
        assert not limiter.shared
        tls_redis.start()
        with anyio.fail_after(10):
            while not limiter.shared:
                limiter.release(await limiter.acquire(), 201)
                await anyio.sleep(0.01)
    finally:
        await limiter.aclose()
    assert len(made) == 1
