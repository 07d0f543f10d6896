"""What every benchmark client shares: credentials, sizes, the adapter base, the worker pool.

Imported by ``run.py``, ``ratelimit.py`` and the modules beside them; it imports
none of them, so the benchmark modules form no import cycle.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# The checkout these benchmarks belong to: its ``scaleway_volumes`` is the code
# measured, in this process and in every process started here, whatever is
# installed (a worktree of another commit measures that commit).
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "5f0c3a5e-7c2b-4d8e-9a41-2b1f6c9d0e11"  # UUID-shaped: the official SDK wants one
ORG = "11111111-2222-4333-8444-555555555555"  # the fake's organization
ZONE = "fr-par-1"
SIZE = 20 * 10**9
# A list call that matches nothing: what every client's warm-up asks for.
WARM_UP_NAME = "warm-up-matches-nothing"


def fake_burst(rate: float, burst: int | None = None) -> int:
    """Tokens the fake's bucket holds when started with ``--rate-limit rate [--rate-burst burst]``.

    Without ``--rate-burst`` that is the fake's default, ``max(1, int(rate / 10))``.
    """
    return burst if burst is not None else max(1, int(rate / 10))


def rate_floor(n: int, rate: float, burst: int | None = None) -> float:
    """The least wall time in which the fake's bucket can accept ``n`` requests.

    The bucket starts full, so its ``burst`` tokens (``fake_burst``) go at once and
    the rest at ``rate``: ``(n - burst) / rate``. No client can beat it; a run
    that the burst covers whole is given one token's time, to stay a ratio.
    """
    return max(n - fake_burst(rate, burst), 1) / rate


class Adapter:
    """The HTTP work of one client: every client does the same requests."""

    throttled = 0

    async def start(self) -> None:
        """Build the client inside the running loop."""

    async def close(self) -> None:
        """Release the client."""

    async def warm_up(self) -> None:
        """One request so that imports, pools and the first connection are paid for."""
        raise NotImplementedError

    async def get(self, volume_id: str) -> Any:
        raise NotImplementedError

    async def create(self, i: int) -> Any:
        raise NotImplementedError

    async def list_all(self, per_page: int) -> list[Any]:
        raise NotImplementedError

    async def create_many(self, indices: Iterable[int], concurrency: int) -> list[Any]:
        """Create one volume per index with a fixed pool of ``concurrency`` workers."""
        results: list[Any] = []
        await worker_pool(concurrency, indices, self.create, results.append)
        return results


async def aiohttp_get_json(session: Any, url: str, params: Any, headers: Any) -> tuple[Any, Any]:
    """GET ``url`` with a raw ``aiohttp.ClientSession``: the parsed 200 body and its headers."""
    async with session.get(url, params=params, headers=headers) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status} {body[:200]!r}")
        return json.loads(body), response.headers


async def worker_pool(
    workers: int,
    items: Iterable[Any],
    job: Callable[[Any], Any],
    sink: Callable[[Any], object] | None = None,
) -> None:
    """``workers`` tasks pulling from one shared iterator (no task per item)."""
    iterator = iter(items)

    async def work() -> None:
        for item in iterator:
            out = await job(item)
            if sink is not None:
                sink(out)

    await asyncio.gather(*(work() for _ in range(workers)))


TASKSET = shutil.which("taskset")


def pinned(core: int, argv: list[str]) -> list[str]:
    """``argv`` run on CPU ``core`` (when ``taskset`` exists and there are two cores)."""
    if TASKSET and (os.cpu_count() or 1) > 1:
        return [TASKSET, "-c", str(core), *argv]
    return argv


def tree_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (by default this process's) with ``ROOT`` first on ``PYTHONPATH``."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class FakeProcess:
    """``python -m scaleway_volumes.testing ARGS`` in its own process, pinned to core 1.

    ``urls`` are the base URLs of its ``READY`` line (Instance, then Block);
    ``stop()`` ends it and returns what it wrote to stderr (its summary).
    """

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        argv = [sys.executable, "-m", "scaleway_volumes.testing", "--port", "0", *args]
        # stderr goes to a file: an unread pipe would block a server that logs a lot.
        self.err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in _stderr)
        self.proc = subprocess.Popen(
            pinned(1, argv), stdout=subprocess.PIPE, stderr=self.err, text=True, env=tree_env(env)
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        fields = line.split()
        if len(fields) < 2 or fields[0] != "READY":  # READY <base_url> <block_base_url>
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"fake server did not start: {line!r} {self._stderr()}")
        self.urls = fields[1:]

    def _stderr(self) -> str:
        self.err.seek(0)
        text = self.err.read()
        self.err.close()
        return text

    def stop(self) -> str:
        """SIGTERM (SIGKILL after 30 s); return the server's stderr."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self._stderr()
