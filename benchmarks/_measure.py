"""One measurement: a fresh fake server, seeded, and one client process (``run_one``)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from _adapters import create_body
from _common import TOKEN, FakeProcess, pinned, worker_pool
from _scenarios import BLOCK_SCENARIOS
from _worker import PROFILE_ENV

# The entry script: its ``--worker`` mode is the client process (``_worker.py``).
RUN = Path(__file__).resolve().parent / "run.py"

_SUMMARY = re.compile(
    r"served (\d+) responses on (\d+) connections \((\d+) throttled\) in ([\d.]+) s CPU"
)


class FakeServer:
    """The fake in its own process, pinned to core 1 (see ``_common.FakeProcess``).

    ``block_create_time``: seconds a Block volume stays ``creating``. ``base_url``
    and ``block_base_url`` are the Instance and Block APIs it serves.
    """

    def __init__(
        self, latency: float, rate_limit: float | None, block_create_time: float = 0.0
    ) -> None:
        args = ["--latency", str(latency), "--token", TOKEN]
        if rate_limit is not None:
            args += ["--rate-limit", str(rate_limit)]
        if block_create_time:
            args += ["--block-create-time", str(block_create_time)]
        self.process = FakeProcess(args)
        self.base_url, self.block_base_url = self.process.urls[:2]

    def stop(self) -> dict[str, Any]:
        """SIGTERM, then the server's own counts from its summary line."""
        err = self.process.stop()
        match = _SUMMARY.search(err)
        if not match:
            return {"summary": err.strip()[-300:]}
        served, conns, throttled, cpu = match.groups()
        return {
            "served": int(served),
            "connections": int(conns),
            "throttled": int(throttled),
            "server_cpu": float(cpu),
        }


async def _seed(base_url: str, count: int) -> tuple[list[str], int, int]:
    """Create ``count`` volumes through the API; return (ids, requests, connections opened)."""
    import aiohttp

    opened = 0

    async def on_conn(*_args: Any) -> None:
        nonlocal opened
        opened += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_conn)
    ids: list[str] = []
    connector = aiohttp.TCPConnector(limit=8)
    headers = {"X-Auth-Token": TOKEN, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, trace_configs=[trace]) as session:

        async def create(i: int) -> None:
            data = json.dumps(create_body(i)).encode()
            async with session.post(base_url + "/volumes", data=data, headers=headers) as resp:
                body = await resp.read()
                if resp.status != 201:
                    raise RuntimeError(f"seeding failed: {resp.status} {body[:200]!r}")
                ids.append(json.loads(body)["volume"]["id"])

        await worker_pool(16, range(count), create)
    return ids, count, opened


def run_one(
    client: str, scenario: str, params: dict[str, Any], profile: str | None = None
) -> dict[str, Any]:
    """Fresh server, seed, one worker process; the worker's result plus the server's counts.

    ``profile``: a path; the worker runs its measured section under cProfile and saves there.
    """
    server = FakeServer(params["latency"], params.get("rate"), params.get("block_create_time", 0))
    try:
        ids, seed_requests, seed_conns = asyncio.run(_seed(server.base_url, params["seed"]))
        worker_params = {**params, "volume_ids": ids[:1]}
        url = server.block_base_url if scenario in BLOCK_SCENARIOS else server.base_url
        argv = [sys.executable, str(RUN), "--worker", client, scenario]
        argv += [url, json.dumps(worker_params)]
        proc = subprocess.run(
            pinned(0, argv),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env={**os.environ, PROFILE_ENV: profile or ""},
        )
    finally:
        stats = server.stop()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"worker {client}/{scenario} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    result = json.loads(lines[-1][len("RESULT ") :])
    if "connections" in stats:
        result["connections"] = stats["connections"] - seed_conns
        result["server_requests"] = stats["served"] - seed_requests
        result["server_throttled"] = stats["throttled"]
        result["server_cpu"] = stats["server_cpu"]
    return result
