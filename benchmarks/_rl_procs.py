"""The processes of ``ratelimit.py``: the fake server, Redis, the clients."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import TOKEN, FakeProcess, pinned, tree_env

# The entry script: its ``--worker`` mode is a client process (``_rl_client.py``).
SCRIPT = Path(__file__).resolve().parent / "ratelimit.py"

REDIS_SERVER = shutil.which("redis-server")

_SUMMARY = re.compile(r"served (\d+) responses on \d+ connections \((\d+) throttled\)")
_PHASE = re.compile(r"rate phase from ([\d.]+) s at \S+: (\d+) requests, (\d+) throttled")


class FakeServer:
    """The fake with a token bucket, in its own process (see ``_common.FakeProcess``)."""

    def __init__(
        self, rate: float, burst: int | None, latency: float, schedule: str | None = None
    ) -> None:
        args = ["--latency", str(latency), "--token", TOKEN, "--rate-limit", str(rate)]
        if burst is not None:
            args += ["--rate-burst", str(burst)]
        if schedule:
            args += ["--rate-schedule", schedule]
        self.process = FakeProcess(args)  # on this checkout's code (``tree_env``)
        self.base_url = self.process.urls[0]

    def stop(self) -> dict[str, Any]:
        """SIGTERM, then the server's own counts: served, throttled, and per rate phase."""
        err = self.process.stop()
        match = _SUMMARY.search(err)
        if not match:
            raise RuntimeError(f"no summary from the fake server: {err[-300:]!r}")
        phases = [
            {"after": float(a), "requests": int(r), "throttled": int(t)}
            for a, r, t in _PHASE.findall(err)
        ]
        return {"served": int(match[1]), "throttled": int(match[2]), "phases": phases}


class RedisServer:
    """A throwaway ``redis-server`` on a free loopback port, no persistence."""

    def __init__(self) -> None:
        if REDIS_SERVER is None:
            raise SystemExit("redis-server not found: apt-get install redis-server")
        self.dir = tempfile.TemporaryDirectory()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [
                *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.dir.name),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.dir.cleanup()


class Client:
    """One client process, started at once so that its imports overlap the server's start."""

    def __init__(self, params: dict[str, Any], core: int | None) -> None:
        argv = [sys.executable, str(SCRIPT), "--worker", json.dumps(params)]
        self.proc = subprocess.Popen(
            pinned(core, argv) if core is not None else argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=tree_env(),
        )

    def ready(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "READY":
            self.proc.kill()
            raise RuntimeError(f"client did not start: {line!r}")

    def go(self, base_url: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"GO {base_url}\n")
        self.proc.stdin.flush()

    def result(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.wait()
        for line in out.splitlines():
            if line.startswith("RESULT "):
                parsed: dict[str, Any] = json.loads(line[7:])
                return parsed
        raise RuntimeError(f"client failed (exit {self.proc.returncode}): {out[-500:]!r}")


def run_clients(
    server: FakeServer, params: list[dict[str, Any]], cores: list[int | None]
) -> list[dict[str, Any]]:
    """Start the clients, wait until all have imported, release them together."""
    clients = [Client(p, core) for p, core in zip(params, cores, strict=True)]
    for client in clients:
        client.ready()
    for client in clients:
        client.go(server.base_url)
    return [client.result() for client in clients]
