#!/usr/bin/env python
# ruff: noqa: RUF001  (the report is Markdown for people: its symbols are meant)
"""Benchmark scaleway-volumes against raw HTTP clients and the official SDK.

Each measurement runs one client in its own process against a fresh loopback fake
(``python -m scaleway_volumes.testing``) in another process, the two pinned to
different cores when ``taskset`` exists. Repetitions are interleaved (rep 1: every
client, rep 2: every client, ...) and reported as medians with min-max.

    python benchmarks/run.py                       # full run, about 6-8 minutes
    python benchmarks/run.py --quick               # smoke run, under a minute
    python benchmarks/run.py --scenarios get,bulk --clients scaleway-volumes,aiohttp

Internally ``run.py --worker CLIENT SCENARIO BASE_URL PARAMS_JSON`` is the client
process (``BASE_URL`` is the fake's Block Storage URL for the ``block-*`` scenarios):
it prints one ``RESULT {json}`` line with its measurements. The Block clients are in
``_block.py``, what all clients share in ``_common.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import importlib.metadata
import itertools
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from _block import (
    POLL_EVERY,
    BlockAiohttpAdapter,
    BlockAiohttpWaitAdapter,
    BlockScalewayVolumesAdapter,
)
from _common import (
    ORG,
    SIZE,
    TASKSET,
    TOKEN,
    WARM_UP_NAME,
    ZONE,
    Adapter,
    FakeProcess,
    aiohttp_get_json,
    fake_burst,
    pinned,
    rate_floor,
    worker_pool,
)

HERE = Path(__file__).resolve().parent

CLIENTS = ("scaleway-volumes", "httpx+aiohttp", "httpx", "aiohttp", "official-sdk")
SCENARIOS = (
    "get",
    "concurrent",
    "bulk",
    "list",
    "lazy-bulk",
    "rate-limited",
    "block-bulk",
    "block-wait",
)
# Scenarios on the Block Storage API: their worker is given the fake's Block URL.
BLOCK_SCENARIOS = frozenset({"block-bulk", "block-wait"})
# Requests a worker makes before its measured section (its warm-up list call),
# which the server's count of responses includes.
WARM_UP_REQUESTS = 1
# The rate limiter's scenarios, run by benchmarks/ratelimit.py through the library
# (AsyncVolumeAPI(rate_limiter=...).create_volumes): the single-process grid, a
# fleet of processes, a limit that drops mid-run. Asked for by name (the full
# grid takes about 8 minutes).
RATE_SCENARIOS = {"rate-grid": "grid", "fleet": "fleet", "rate-drop": "drop"}
CLIENT_NOTES = {
    "scaleway-volumes": "AsyncVolumeAPI (block-*: AsyncBlockAPI), default settings",
    "httpx+aiohttp": "httpx.AsyncClient over httpx_aiohttp.AiohttpTransport() + json.loads",
    "httpx": "stock httpx.AsyncClient, default limits (100 conns, 20 keep-alive) + json.loads",
    "aiohttp": "raw aiohttp.ClientSession + json.loads (the practical floor)",
    "official-sdk": "scaleway-async InstanceV1API (blocking requests inside async def)",
}


# ---------------------------------------------------------------------------
# Scenario parameters
# ---------------------------------------------------------------------------


def scenario_params(name: str, quick: bool) -> dict[str, Any]:
    """What one scenario does; the same dict is handed to every worker."""
    if name == "get":
        return {"n": 1000 if quick else 5000, "latency": 0.0, "seed": 1}
    if name == "concurrent":
        return {"n": 1000 if quick else 5000, "concurrency": 64, "latency": 0.0, "seed": 1}
    if name == "bulk":
        return {
            "n": 200 if quick else 1000,
            "sdk_n": 20 if quick else 100,
            "concurrency": 50,
            "latency": 0.020,
            "seed": 0,
        }
    if name == "list":
        return {"seed": 2000 if quick else 10_000, "per_page": 100, "latency": 0.0}
    if name == "lazy-bulk":
        return {"n": 20_000 if quick else 100_000, "concurrency": 16, "latency": 0.0, "seed": 0}
    if name == "rate-limited":
        return {
            "n": 150 if quick else 300,
            "rate": 100.0,
            "concurrency": 16,
            "latency": 0.0,
            "seed": 0,
        }
    if name == "block-bulk":
        return {"n": 200 if quick else 1000, "concurrency": 50, "latency": 0.020, "seed": 0}
    if name == "block-wait":
        return {
            "n": 200 if quick else 1000,
            "concurrency": 50,
            "latency": 0.020,
            "block_create_time": 0.2,
            "seed": 0,
        }
    raise ValueError(f"unknown scenario {name!r}")


SCENARIO_CLIENTS = {
    "get": CLIENTS,
    "concurrent": CLIENTS,
    "bulk": CLIENTS,
    "list": CLIENTS,
    "lazy-bulk": ("scaleway-volumes", "aiohttp"),
    "rate-limited": ("scaleway-volumes", "aiohttp"),
    "block-bulk": ("scaleway-volumes", "aiohttp"),
    "block-wait": ("scaleway-volumes", "aiohttp"),
}


# ---------------------------------------------------------------------------
# The worker: one client, one scenario, one process
# ---------------------------------------------------------------------------


def _create_body(i: int) -> dict[str, Any]:
    """The raw clients' ``i``-th Instance create: the library's fields, without its marker tag."""
    return {
        "name": f"bench-{i}",
        "organization": ORG,
        "size": SIZE,
        "volume_type": "l_ssd",
        "tags": ["bench"],
    }


class ScalewayVolumesAdapter(Adapter):
    def __init__(self, base_url: str) -> None:
        from scaleway_volumes import AsyncVolumeAPI

        self.api = AsyncVolumeAPI(TOKEN, base_url=base_url, organization=ORG)

    async def close(self) -> None:
        await self.api.aclose()

    async def warm_up(self) -> None:
        await self.api.list_volumes(per_page=1, name=WARM_UP_NAME)

    async def get(self, volume_id: str) -> Any:
        return await self.api.get_volume(volume_id)

    async def create(self, i: int) -> Any:
        return await self.api.create_volume(name=f"bench-{i}", size=SIZE, tags=["bench"])

    async def list_all(self, per_page: int) -> list[Any]:
        return await self.api.list_volumes(per_page=per_page)

    async def create_many(self, indices: Iterable[int], concurrency: int) -> list[Any]:
        from scaleway_volumes import VolumeSpec

        specs = (VolumeSpec(name=f"bench-{i}", size=SIZE, tags=("bench",)) for i in indices)
        result = await self.api.create_volumes(specs, concurrency=concurrency)
        self.throttled = result.throttled
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} creates failed: {result.failed[0][1]}")
        return result.succeeded


class HttpxAdapter(Adapter):
    """Raw ``httpx.AsyncClient``, stock transport or httpx-aiohttp's, + ``json.loads``."""

    def __init__(self, base_url: str, *, over_aiohttp: bool) -> None:
        self.base_url = base_url
        self.over_aiohttp = over_aiohttp
        self.headers = {"X-Auth-Token": TOKEN}

    async def start(self) -> None:
        import httpx

        if self.over_aiohttp:
            from httpx_aiohttp import AiohttpTransport

            self.client = httpx.AsyncClient(transport=AiohttpTransport())
        else:
            self.client = httpx.AsyncClient()  # default limits, as a user would

    async def close(self) -> None:
        await self.client.aclose()

    async def _get_json(self, url: str, params: Any = None) -> tuple[Any, Any]:
        response = await self.client.get(url, params=params, headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        return json.loads(response.content), response.headers

    async def warm_up(self) -> None:
        params = {"name": WARM_UP_NAME, "page": "1", "per_page": "1"}
        await self._get_json(self.base_url + "/volumes", params)

    async def get(self, volume_id: str) -> Any:
        return (await self._get_json(f"{self.base_url}/volumes/{volume_id}"))[0]["volume"]

    async def create(self, i: int) -> Any:
        response = await self.client.post(
            self.base_url + "/volumes",
            content=json.dumps(_create_body(i)).encode(),
            headers={**self.headers, "Content-Type": "application/json"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST: {response.status_code}")
        return json.loads(response.content)["volume"]

    async def list_all(self, per_page: int) -> list[Any]:
        volumes: list[Any] = []
        page = 1
        while True:
            params = {"page": str(page), "per_page": str(per_page)}
            body, headers = await self._get_json(self.base_url + "/volumes", params)
            volumes.extend(body["volumes"])
            if len(volumes) >= int(headers["x-total-count"]) or not body["volumes"]:
                return volumes
            page += 1


class AiohttpAdapter(Adapter):
    """Raw ``aiohttp.ClientSession`` (default connector: 100 connections) + ``json.loads``."""

    def __init__(self, base_url: str, *, retry_429: bool = False) -> None:
        self.base_url = base_url
        self.headers = {"X-Auth-Token": TOKEN}
        self.post_headers = {**self.headers, "Content-Type": "application/json"}
        self.retry_429 = retry_429

    async def start(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def _get_json(self, url: str, params: Any = None) -> tuple[Any, Any]:
        return await aiohttp_get_json(self.session, url, params, self.headers)

    async def warm_up(self) -> None:
        params = {"name": WARM_UP_NAME, "page": "1", "per_page": "1"}
        await self._get_json(self.base_url + "/volumes", params)

    async def get(self, volume_id: str) -> Any:
        return (await self._get_json(f"{self.base_url}/volumes/{volume_id}"))[0]["volume"]

    async def create(self, i: int) -> Any:
        data = json.dumps(_create_body(i)).encode()
        while True:
            async with self.session.post(
                self.base_url + "/volumes", data=data, headers=self.post_headers
            ) as response:
                body = await response.read()
                status = response.status
            if status == 201:
                return json.loads(body)["volume"]
            if status == 429 and self.retry_429:
                # The naive baseline: no backoff, no pacing, a fixed 50 ms sleep.
                self.throttled += 1
                await asyncio.sleep(0.05)
                continue
            raise RuntimeError(f"POST: {status}")

    async def list_all(self, per_page: int) -> list[Any]:
        volumes: list[Any] = []
        page = 1
        while True:
            params = {"page": str(page), "per_page": str(per_page)}
            body, headers = await self._get_json(self.base_url + "/volumes", params)
            volumes.extend(body["volumes"])
            if len(volumes) >= int(headers["X-Total-Count"]) or not body["volumes"]:
                return volumes
            page += 1


class OfficialSDKAdapter(Adapter):
    """scaleway-async: ``async def`` methods that block on ``requests``."""

    def __init__(self, base_url: str) -> None:
        import scaleway_async
        from scaleway_async.instance.v1 import InstanceV1API, VolumeVolumeType

        root = base_url.split("/instance/v1/zones/")[0]
        client = scaleway_async.Client(
            access_key="SCWXXXXXXXXXXXXXXXXX",
            secret_key=TOKEN,
            default_organization_id=ORG,
            default_project_id=ORG,
            default_zone=ZONE,
            api_url=root,
        )
        self.api = InstanceV1API(client)
        self.l_ssd = VolumeVolumeType.L_SSD

    async def warm_up(self) -> None:
        await self.api.list_volumes(per_page=1, page=1, name=WARM_UP_NAME)

    async def get(self, volume_id: str) -> Any:
        return (await self.api.get_volume(volume_id=volume_id)).volume

    async def create(self, i: int) -> Any:
        response = await self.api.create_volume(
            name=f"bench-{i}", volume_type=self.l_ssd, size=SIZE, tags=["bench"]
        )
        return response.volume

    async def list_all(self, per_page: int) -> list[Any]:
        return await self.api.list_volumes_all(per_page=per_page)


def make_adapter(client: str, base_url: str, scenario: str) -> Adapter:
    """The client ``client`` for ``scenario``; ``base_url`` is the Block URL for block-*."""
    if scenario in BLOCK_SCENARIOS:
        if client == "scaleway-volumes":
            return BlockScalewayVolumesAdapter(base_url, wait=scenario == "block-wait")
        if client == "aiohttp":
            wait = scenario == "block-wait"
            return BlockAiohttpWaitAdapter(base_url) if wait else BlockAiohttpAdapter(base_url)
        raise ValueError(f"no {client!r} client for {scenario!r}")
    if client == "scaleway-volumes":
        return ScalewayVolumesAdapter(base_url)
    if client == "httpx+aiohttp":
        return HttpxAdapter(base_url, over_aiohttp=True)
    if client == "httpx":
        return HttpxAdapter(base_url, over_aiohttp=False)
    if client == "aiohttp":
        return AiohttpAdapter(base_url, retry_429=scenario == "rate-limited")
    if client == "official-sdk":
        return OfficialSDKAdapter(base_url)
    raise ValueError(f"unknown client {client!r}")


PROFILE_ENV = "SCALEWAY_VOLUMES_BENCH_PROFILE"


def _start_profiler() -> Any:
    """A running cProfile.Profile when the orchestrator asked for one (``--profile``)."""
    if not os.environ.get(PROFILE_ENV):
        return None
    import cProfile

    # CPU time, not wall time: waiting in epoll is not the client's cost.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    return profiler


def _vm_hwm_kb() -> int:
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


async def run_worker(client: str, scenario: str, base_url: str, params: dict[str, Any]) -> dict:
    """Run one scenario with one client; return its measurements."""
    adapter = make_adapter(client, base_url, scenario)
    await adapter.start()
    try:
        await adapter.warm_up()
        # A fresh process runs its first full garbage collection once enough
        # objects have outlived the young generations, and that pass walks every
        # object its imports made (26 ms for this package's stack, measured).
        # It comes once per process, early: without this it lands inside the
        # measured section for some clients and not others, by import size.
        gc.collect()
        out: dict[str, Any] = {}
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        hwm_before = _vm_hwm_kb()
        profiler = _start_profiler()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if scenario == "get":
            volume_id = params["volume_ids"][0]
            for _ in range(params["n"]):
                await adapter.get(volume_id)
            requests = params["n"]
        elif scenario == "concurrent":
            volume_id = params["volume_ids"][0]
            await worker_pool(
                params["concurrency"], range(params["n"]), lambda _i: adapter.get(volume_id)
            )
            requests = params["n"]
        elif scenario in ("bulk", "rate-limited", "block-bulk", "block-wait"):
            n = params["sdk_n"] if client == "official-sdk" and "sdk_n" in params else params["n"]
            created = await adapter.create_many(range(n), params["concurrency"])
            if len(created) != n:
                raise RuntimeError(f"created {len(created)} of {n}")
            requests = n
        elif scenario == "list":
            volumes = await adapter.list_all(params["per_page"])
            if len(volumes) != params["seed"]:
                raise RuntimeError(f"listed {len(volumes)} of {params['seed']} volumes")
            requests = -(-params["seed"] // params["per_page"])
        elif scenario == "lazy-bulk":
            n = params["n"]
            created = await adapter.create_many(iter(range(n)), params["concurrency"])
            if len(created) != n:
                raise RuntimeError(f"created {len(created)} of {n}")
            requests = n
            out["results_kept"] = len(created)
            del created
        else:
            raise ValueError(scenario)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(os.environ[PROFILE_ENV])
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out.update(
            wall=wall,
            cpu=cpu,
            requests=requests,
            throttled=adapter.throttled,
            rss_growth_mb=(rss_after - rss_before) / 1024,
            hwm_growth_mb=(_vm_hwm_kb() - hwm_before) / 1024,
        )
        return out
    finally:
        await adapter.close()


def worker_main(argv: list[str]) -> int:
    client, scenario, base_url, params_json = argv
    result = asyncio.run(run_worker(client, scenario, base_url, json.loads(params_json)))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# ---------------------------------------------------------------------------
# The orchestrator: servers, seeding, worker processes, statistics, report
# ---------------------------------------------------------------------------

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
            data = json.dumps(_create_body(i)).encode()
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
        argv = [sys.executable, str(Path(__file__).resolve()), "--worker", client, scenario]
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


def derive(scenario: str, client: str, params: dict[str, Any], r: dict[str, Any]) -> dict:
    """The numbers the report shows for one run."""
    d: dict[str, float] = {
        "wall_s": r["wall"],
        "cpu_s": r["cpu"],
        "cpu_us_per_req": r["cpu"] / r["requests"] * 1e6,
        "req_per_s": r["requests"] / r["wall"],
    }
    if "connections" in r:
        d["connections"] = r["connections"]
        d["server_requests"] = r["server_requests"]
    if scenario == "bulk":
        n = params["n"]
        scale = n / r["requests"]
        d["wall_s_for_n"] = r["wall"] * scale  # the SDK runs fewer creates: scaled
        d["x_ideal"] = d["wall_s_for_n"] / (n / params["concurrency"] * params["latency"])
    if scenario == "list":
        d["wall_ms"] = r["wall"] * 1000
        d["cpu_ms"] = r["cpu"] * 1000
    if scenario == "lazy-bulk":
        d["rss_growth_mb"] = r["rss_growth_mb"]
        d["hwm_growth_mb"] = r["hwm_growth_mb"]
    if scenario == "rate-limited":
        d["x_allowed"] = r["wall"] / rate_allowed(params)
        d["throttled"] = max(r["throttled"], r.get("server_throttled", 0))
    if scenario == "block-wait":
        d["x_bound"] = r["wall"] / block_wait_bound(params)
        if "server_requests" in r:
            measured = r["server_requests"] - WARM_UP_REQUESTS
            d["polls"] = measured - params["n"]
            d["req_per_volume"] = measured / params["n"]
    return d


def rate_allowed(p: dict[str, Any]) -> float:
    """The least wall ``rate-limited``'s limit allows: ``(n - burst) / rate`` (``rate_floor``).

    ``FakeServer`` starts the fake without ``--rate-burst``: its default bucket
    (``fake_burst``), full but for the warm-up's token, which comes back at the
    rate; counting the burst whole keeps this a floor.
    """
    return rate_floor(p["n"], p["rate"])


def block_wait_bound(p: dict[str, Any]) -> float:
    """The ideal wall of ``block-wait``: every create at full speed, then the last settles."""
    return p["n"] / p["concurrency"] * p["latency"] + p["block_create_time"]


# Columns per scenario: (metric key, header, format).
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "get": [
        ("cpu_us_per_req", "client CPU µs/req", "{:.0f}"),
        ("wall_s", "wall s", "{:.2f}"),
        ("req_per_s", "req/s", "{:.0f}"),
        ("connections", "TCP conns", "{:.0f}"),
    ],
    "concurrent": [
        ("cpu_us_per_req", "client CPU µs/req", "{:.0f}"),
        ("req_per_s", "req/s", "{:.0f}"),
        ("wall_s", "wall s", "{:.2f}"),
        ("connections", "TCP conns", "{:.0f}"),
    ],
    "bulk": [
        ("wall_s_for_n", "wall s (for all N)", "{:.2f}"),
        ("x_ideal", "× ideal", "{:.2f}"),
        ("connections", "TCP conns", "{:.0f}"),
        ("cpu_us_per_req", "client CPU µs/create", "{:.0f}"),
    ],
    "list": [
        ("wall_ms", "wall ms", "{:.0f}"),
        ("cpu_ms", "client CPU ms", "{:.0f}"),
        ("server_requests", "requests", "{:.0f}"),
    ],
    "lazy-bulk": [
        ("rss_growth_mb", "peak RSS growth MB", "{:.1f}"),
        ("wall_s", "wall s", "{:.1f}"),
        ("cpu_us_per_req", "client CPU µs/create", "{:.0f}"),
        ("connections", "TCP conns", "{:.0f}"),
    ],
    "rate-limited": [
        ("wall_s", "wall s", "{:.2f}"),
        ("x_allowed", "× rate-allowed", "{:.2f}"),
        ("throttled", "429s met", "{:.0f}"),
        ("server_requests", "requests", "{:.0f}"),
    ],
    "block-bulk": [
        ("wall_s", "wall s", "{:.3f}"),
        ("connections", "TCP conns", "{:.0f}"),
        ("cpu_us_per_req", "client CPU µs/create", "{:.0f}"),
        ("server_requests", "requests (warm-up incl.)", "{:.0f}"),
    ],
    "block-wait": [
        ("wall_s", "wall s", "{:.3f}"),
        ("x_bound", "× (ideal + settle)", "{:.2f}"),
        ("req_per_volume", "requests/volume", "{:.3f}"),
        ("polls", "poll requests", "{:.0f}"),
        ("connections", "TCP conns", "{:.0f}"),
        ("cpu_us_per_req", "client CPU µs/volume", "{:.0f}"),
    ],
}


def summarize(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(stat: dict[str, float] | None, spec: str) -> str:
    if stat is None:
        return "–"
    text = spec.format(stat["median"])
    if stat["min"] != stat["max"]:
        text += f" ({spec.format(stat['min'])}–{spec.format(stat['max'])})"
    return text


def scenario_title(name: str, p: dict[str, Any]) -> str:
    if name == "get":
        return f"get: {p['n']} sequential GETs of one volume"
    if name == "concurrent":
        return f"concurrent: {p['n']} GETs, {p['concurrency']} in flight (fixed worker pool)"
    if name == "bulk":
        ideal = p["n"] / p["concurrency"] * p["latency"]
        return (
            f"bulk: {p['n']} creates, {p['concurrency']} in flight, server latency "
            f"{p['latency'] * 1000:.0f} ms (ideal {ideal:.2f} s); official SDK runs "
            f"{p['sdk_n']} creates, wall scaled ×{p['n'] // p['sdk_n']}"
        )
    if name == "list":
        return f"list: {p['seed']} volumes, pages of {p['per_page']}"
    if name == "lazy-bulk":
        return (
            f"lazy-bulk: {p['n']} creates from a generator, concurrency {p['concurrency']}, "
            "zero latency; results kept (BulkResult / list of dicts)"
        )
    if name == "rate-limited":
        return (
            f"rate-limited: {p['n']} creates, server allows {p['rate']:.0f} req/s (bare 429s), "
            f"burst {fake_burst(p['rate'])}, rate-allowed wall "
            f"{rate_allowed(p):.2f} s ((N - burst) / rate); raw aiohttp retries 429 after 50 ms"
        )
    if name == "block-bulk":
        ideal = p["n"] / p["concurrency"] * p["latency"]
        return (
            f"block-bulk: {p['n']} Block volume creates, {p['concurrency']} in flight, server "
            f"latency {p['latency'] * 1000:.0f} ms (ideal {ideal:.2f} s)"
        )
    if name == "block-wait":
        return (
            f"block-wait: {p['n']} Block volume creates with wait=True, {p['concurrency']} in "
            f"flight, {p['latency'] * 1000:.0f} ms per request, {p['block_create_time']:g} s to "
            f"become available (ideal + settle {block_wait_bound(p):.2f} s); requests/volume "
            f"counts the server's responses minus the warm-up; raw aiohttp, the floor, polls "
            f"every volume not yet available once its creates are done, "
            f"{POLL_EVERY * 1000:.0f} ms after each round's answers"
        )
    return name


def compute_targets(
    stats: dict[str, dict[str, dict[str, dict[str, float]]]], params: dict[str, dict]
) -> list[dict[str, Any]]:
    """PASS/FAIL per target, from medians of the same run."""
    targets: list[dict[str, Any]] = []
    sv = "scaleway-volumes"

    def med(scenario: str, client: str, key: str) -> float | None:
        stat = stats.get(scenario, {}).get(client, {}).get(key)
        return None if stat is None else stat["median"]

    def ratio(scenario: str, key: str, other: str, limit: float, what: str, aim: bool = False):
        a, b = med(scenario, sv, key), med(scenario, other, key)
        if a is None or b is None:
            return
        value = a / b
        targets.append(
            {
                "scenario": scenario,
                "target": f"{what} ≤ {limit:g}× {other}" + (" (aim)" if aim else ""),
                "measured": f"{value:.2f}× ({a:.4g} vs {b:.4g})",
                "pass": value <= limit,
            }
        )

    # One request path through client.send (docs/architecture.md), made lean.
    ratio("concurrent", "cpu_us_per_req", "httpx+aiohttp", 0.85, "CPU/request")
    ratio("concurrent", "cpu_us_per_req", "httpx", 0.25, "CPU/request")
    ratio("concurrent", "cpu_us_per_req", "aiohttp", 2.0, "CPU/request", aim=True)
    ratio("get", "cpu_us_per_req", "httpx+aiohttp", 1.0, "CPU/request")
    if (x := med("bulk", sv, "x_ideal")) is not None:
        p = params["bulk"]
        ideal = p["n"] / p["concurrency"] * p["latency"]
        targets.append(
            {
                "scenario": "bulk",
                "target": f"wall ≤ 1.15× ideal {ideal:.2f} s (aim)",
                "measured": f"{x:.2f}× ({med('bulk', sv, 'wall_s_for_n'):.3f} s)",
                "pass": x <= 1.15,
            }
        )
    ratio("bulk", "wall_s_for_n", "aiohttp", 1.15, "wall")
    if (c := med("bulk", sv, "connections")) is not None:
        targets.append(
            {
                "scenario": "bulk",
                "target": "TCP connections ≤ 50",
                "measured": f"{c:.0f}",
                "pass": c <= 50,
            }
        )
    a, b = med("bulk", sv, "wall_s_for_n"), med("bulk", "official-sdk", "wall_s_for_n")
    if a is not None and b is not None:
        targets.append(
            {
                "scenario": "bulk",
                "target": "≥ 25× faster than the official SDK (SDK scaled)",
                "measured": f"{b / a:.1f}× ({b:.2f} s vs {a:.3f} s)",
                "pass": b / a >= 25,
            }
        )
    ratio("list", "wall_ms", "httpx+aiohttp", 1.2, "wall")
    if (m := med("lazy-bulk", sv, "rss_growth_mb")) is not None:
        targets.append(
            {
                "scenario": "lazy-bulk",
                "target": "peak RSS growth ≤ 50 MB",
                "measured": f"{m:.1f} MB",
                "pass": m <= 50,
            }
        )
    if (w := med("rate-limited", sv, "wall_s")) is not None:
        p = params["rate-limited"]
        allowed = rate_allowed(p)
        targets.append(
            {
                "scenario": "rate-limited",
                "target": f"wall ≤ 2× rate-allowed {allowed:.2f} s",
                "measured": f"{w / allowed:.2f}× ({w:.2f} s)",
                "pass": w <= 2 * allowed,
            }
        )
    ratio("block-bulk", "wall_s", "aiohttp", 1.15, "wall")
    if (c := med("block-bulk", sv, "connections")) is not None:
        targets.append(
            {
                "scenario": "block-bulk",
                "target": "TCP connections ≤ 50",
                "measured": f"{c:.0f}",
                "pass": c <= 50,
            }
        )
    if (x := med("block-wait", sv, "x_bound")) is not None:
        bound = block_wait_bound(params["block-wait"])
        targets.append(
            {
                "scenario": "block-wait",
                "target": f"wall ≤ 1.3× (ideal + settle) {bound:.2f} s",
                "measured": f"{x:.2f}× ({med('block-wait', sv, 'wall_s'):.3f} s)",
                "pass": x <= 1.3,
            }
        )
    # Against raw aiohttp's creates plus a 10 ms poll: what this host allows.
    ratio("block-wait", "wall_s", "aiohttp", 1.15, "wall", aim=True)
    if (q := med("block-wait", sv, "req_per_volume")) is not None:
        targets.append(
            {
                "scenario": "block-wait",
                "target": "requests per volume ≤ 1.5 (creates + polls, server count)",
                "measured": f"{q:.3f}",
                "pass": q <= 1.5,
            }
        )
    return targets


def code_version() -> dict[str, Any]:
    """Which scaleway_volumes code was measured: commit, and a digest of the sources as run."""
    import hashlib

    import scaleway_volumes  # the code measured (``_common.ROOT`` puts it first on the path)

    package = Path(scaleway_volumes.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    info: dict[str, Any] = {"sources_sha256": digest.hexdigest()[:12]}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(package.parent)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True)
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "scaleway_volumes"], capture_output=True
        )
        if commit.returncode == 0:
            info["commit"] = commit.stdout.decode().strip()
            info["dirty"] = bool(status.stdout.strip())
    return info


def machine_info() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for dist in (
        "scaleway-volumes",
        "httpx",
        "httpcore",
        "aiohttp",
        "httpx-aiohttp",
        "scaleway-async",
        "anyio",
        "sniffio",
        "cattrs",
        "attrs",
    ):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "code": code_version(),
        "cpu_model": model,
        "cores": os.cpu_count(),
        "pinned": bool(TASKSET and (os.cpu_count() or 1) > 1),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def render_markdown(
    info: dict[str, Any],
    params: dict[str, dict],
    stats: dict[str, dict[str, dict[str, dict[str, float]]]],
    targets: list[dict[str, Any]],
    reps: int,
    quick: bool,
) -> str:
    pk = info["packages"]
    out = [
        "# scaleway-volumes benchmark" + (" (quick)" if quick else ""),
        "",
        f"{info['date']} · {info['cpu_model']} · {info['cores']} cores · Python "
        f"{info['python']} · scaleway-volumes {pk['scaleway-volumes']} · httpx {pk['httpx']} "
        f"· aiohttp {pk['aiohttp']} · httpx-aiohttp {pk['httpx-aiohttp']} · scaleway-async "
        f"{pk['scaleway-async']}",
        "",
        "Code measured: commit "
        + str(info["code"].get("commit", "?"))
        + (" + uncommitted changes" if info["code"].get("dirty") else "")
        + f" (scaleway_volumes sources sha256 {info['code']['sources_sha256']}).",
        "",
        f"Median of {reps} interleaved run(s), (min–max). Server and client in separate "
        "processes"
        + (", pinned to cores 1 and 0." if info["pinned"] else " (not pinned).")
        + " Client CPU is the client process's `time.process_time()` around the measured "
        "section.",
        "",
    ]
    for scenario, by_client in stats.items():
        cols = COLUMNS[scenario]
        out.append(f"### {scenario_title(scenario, params[scenario])}")
        out.append("")
        out.append("| client | " + " | ".join(h for _, h, _ in cols) + " |")
        out.append("|---|" + "---|" * len(cols))
        for client, metrics in by_client.items():
            cells = [fmt(metrics.get(key), spec) for key, _, spec in cols]
            out.append(f"| {client} | " + " | ".join(cells) + " |")
        out.append("")
    if targets:
        out.append("### Targets (scaleway-volumes, ratios from this run's medians)")
        out.append("")
        out.append("| scenario | target | measured | result |")
        out.append("|---|---|---|---|")
        for t in targets:
            verdict = "PASS" if t["pass"] else "FAIL"
            out.append(f"| {t['scenario']} | {t['target']} | {t['measured']} | {verdict} |")
        out.append("")
    out.append("Clients: " + "; ".join(f"`{c}`: {n}" for c, n in CLIENT_NOTES.items()) + ".")
    out.append("")
    return "\n".join(out)


def _package_of(filename: str) -> str:
    """Which package a profiled function belongs to (by its file path)."""
    if filename == "~" or filename.startswith("<"):
        return "built-ins (C functions)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        i = parts.index("site-packages")
        if i + 1 < len(parts):
            return parts[i + 1].removesuffix(".py")
    for i, part in enumerate(parts):
        if part.startswith("python3") and i + 1 < len(parts):
            return "stdlib:" + parts[i + 1].removesuffix(".py")
    if "scaleway_volumes" in parts:
        return "scaleway_volumes"
    return "other:" + Path(filename).name


def profile_main(scenario: str, quick: bool, out_dir: Path) -> int:
    """Run scaleway-volumes once plain and once under cProfile; print where its CPU goes."""
    import pstats

    params = scenario_params(scenario, quick)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{scenario}.prof"
    plain = run_one("scaleway-volumes", scenario, params)
    profiled = run_one("scaleway-volumes", scenario, params, profile=str(path))
    requests = plain["requests"]
    per_req = plain["cpu"] / requests * 1e6  # the shares below are applied to this
    print(
        f"scaleway-volumes / {scenario}: {plain['cpu'] / requests * 1e6:.0f} µs CPU per request "
        f"unprofiled, {profiled['cpu'] / requests * 1e6:.0f} µs under cProfile; "
        f"profile saved to {path}"
    )
    st = pstats.Stats(str(path))
    raw_stats: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw_stats.values()) or 1.0
    by_package: dict[str, float] = {}
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw_stats.items():
        package = _package_of(filename)
        by_package[package] = by_package.get(package, 0.0) + tottime
        rows.append((filename, line, func, ncalls, tottime, cumtime, package))
    print("\nOwn CPU time by package (share of the profiled CPU; µs = share × unprofiled):")
    for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {seconds / total:6.1%}  {seconds / total * per_req:7.1f} µs/req  {package}")

    def show(title: str, selected: list[tuple], key: int, limit: int) -> None:
        print(f"\n{title}")
        print("   own%   cum%   calls/req  function")
        for filename, line, func, ncalls, tottime, cumtime, _pkg in sorted(
            selected, key=lambda r: -r[key]
        )[:limit]:
            where = f"{Path(filename).name}:{line}" if line else filename
            print(
                f"  {tottime / total:5.1%} {cumtime / total:6.1%} {ncalls / requests:10.1f}"
                f"  {func} ({where})"
            )

    own = [r for r in rows if r[6] == "scaleway_volumes"]
    show("scaleway_volumes functions by cumulative time:", own, 5, 20)
    show("All functions by own time:", rows, 4, 30)
    return 0


def _order(clients: list[str], rep: int) -> Iterator[str]:
    """Rotate the client order per repetition so no client always runs first."""
    shift = rep % len(clients) if clients else 0
    return itertools.chain(clients[shift:], clients[:shift])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, 1 rep (smoke)")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma list of {','.join(SCENARIOS)} and the rate limiter's "
        f"{','.join(RATE_SCENARIOS)} (run only when named)",
    )
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--reps", type=int, default=None, help="default 3 (1 with --quick)")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument(
        "--profile",
        metavar="SCENARIO",
        choices=SCENARIOS,
        help="profile scaleway-volumes on one scenario with cProfile instead of benchmarking",
    )
    args = parser.parse_args(argv)
    reps = args.reps if args.reps is not None else (1 if args.quick else 3)
    if reps < 1:
        parser.error("--reps must be >= 1")
    requested = [s for s in args.scenarios.split(",") if s]
    rate_scenarios = [RATE_SCENARIOS[s] for s in requested if s in RATE_SCENARIOS]
    scenarios = [s for s in requested if s not in RATE_SCENARIOS]
    clients = [c for c in args.clients.split(",") if c]
    for name in scenarios:
        if name not in SCENARIOS:
            known = ", ".join([*SCENARIOS, *RATE_SCENARIOS])
            parser.error(f"unknown scenario {name!r}; choose from {known}")
    for name in clients:
        if name not in CLIENTS:
            parser.error(f"unknown client {name!r}; choose from {', '.join(CLIENTS)}")

    if args.profile:
        return profile_main(args.profile, args.quick, Path(args.out))
    info = machine_info()
    params = {s: scenario_params(s, args.quick) for s in scenarios}
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    started = time.perf_counter()
    failures = 0
    for scenario in scenarios:
        chosen = [c for c in SCENARIO_CLIENTS[scenario] if c in clients]
        raw[scenario] = {c: [] for c in chosen}
        for rep in range(reps):
            for client in _order(chosen, rep):
                t0 = time.perf_counter()
                try:
                    result = run_one(client, scenario, params[scenario])
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    failures += 1
                    print(f"[{scenario} rep {rep + 1}] {client}: FAILED {exc}", file=sys.stderr)
                    continue
                raw[scenario][client].append(result)
                d = derive(scenario, client, params[scenario], result)
                print(
                    f"[{scenario} rep {rep + 1}/{reps}] {client:17s} wall {result['wall']:.3f} s"
                    f"  cpu {d['cpu_us_per_req']:.0f} µs/req"
                    f"  conns {result.get('connections', '?')}"
                    f"  ({time.perf_counter() - t0:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )

    stats: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for scenario, by_client in raw.items():
        stats[scenario] = {}
        for client, runs in by_client.items():
            if not runs:
                continue
            derived = [derive(scenario, client, params[scenario], r) for r in runs]
            stats[scenario][client] = {
                key: summarize([d[key] for d in derived]) for key in derived[0]
            }
    targets = compute_targets(stats, params)
    markdown = render_markdown(info, params, stats, targets, reps, args.quick)
    if rate_scenarios:
        rate_report, rate_ok = run_rate_scenarios(rate_scenarios, args.quick, Path(args.out))
        markdown += "\n## Rate limits (benchmarks/ratelimit.py, the library's client)\n\n"
        markdown += rate_report
        failures += 0 if rate_ok else 1
    print(markdown)

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.md").write_text(markdown)
    report = {
        "machine": info,
        "quick": args.quick,
        "reps": reps,
        "elapsed_s": time.perf_counter() - started,
        "params": params,
        "runs": raw,
        "stats": stats,
        "targets": targets,
    }
    (out_dir / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"wrote {out_dir / 'latest.md'} and {out_dir / 'latest.json'} "
        f"in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return 1 if failures else 0


def run_rate_scenarios(names: list[str], quick: bool, out_dir: Path) -> tuple[str, bool]:
    """Run benchmarks/ratelimit.py's scenarios through the library; (its Markdown, all passed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(HERE / "ratelimit.py"), "--client", "library"]
    argv += ["--scenarios", ",".join(names), "--json", str(out_dir / "ratelimit.json")]
    if quick:
        argv.append("--quick")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr)
    return done.stdout, done.returncode == 0


if __name__ == "__main__":
    sys.exit(main())
