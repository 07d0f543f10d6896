#!/usr/bin/env python
# ruff: noqa: RUF001, RUF002  (the report is Markdown for people: its symbols are meant)
"""Benchmark the rate limiters against a bare-429 token bucket, in one process and a fleet.

The fake server (``python -m scaleway_volumes.testing --rate-limit R --rate-burst B
--latency L``) runs in its own process, each client in its own; the server counts the
429s it answered. Scenarios:

- ``grid``: one process, N creates at concurrency 50, for every rate × latency × burst;
  PASS when wall ≤ 1.2 × ideal (1.35 × where the burst is 1 behind ≥ 20 ms of latency)
  and 429s ≤ 10 % of N. The ideal is (N - burst) / rate: the bucket starts full.
- ``fleet``: 2, 4 and 8 processes (``--fleet-sizes``) with equal shares of 1000 creates
  (``--fleet-n``), started together once imported, sharing 100 req/s (the fake's default
  burst, 10); ideal (N - burst) / rate; with ``RedisRateLimiter`` (PASS: wall ≤ 1.15 × ideal,
  429s ≤ 5 %, slowest/fastest process ≤ 1.5) and with the in-process default (PASS:
  wall ≤ 1.5 × ideal, 429s ≤ 25 %).
- ``drop``: the limit drops from 200 to 50 req/s mid-run; PASS when the 429s after the
  drop are ≤ 10 % of the requests made after it.

    python benchmarks/ratelimit.py --quick                 # a few cells of each, ~1 min
    python benchmarks/ratelimit.py                         # everything, several minutes
    python benchmarks/ratelimit.py --scenarios grid --rates 100 --latencies 0.02

Clients either drive the limiter themselves exactly as the library's request pipeline
does (``--client driver``: acquire, POST, release with the status, resend a bare 429),
or go through ``AsyncVolumeAPI(..., rate_limiter=...).create_volumes`` (``--client
library``). The report is a Markdown table on stdout plus JSON (``--json PATH``).
Internally ``ratelimit.py --worker PARAMS_JSON`` is a client process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TOKEN = "5f0c3a5e-7c2b-4d8e-9a41-2b1f6c9d0e11"
ORG = "11111111-2222-4333-8444-555555555555"  # the fake's organization
SIZE = 20 * 10**9
HERE = Path(__file__).resolve().parent
# The helpers beside this script, also when it is loaded by path (the tests do).
sys.path.insert(0, str(HERE))

from _common import FakeProcess, fake_burst, pinned, rate_floor, tree_env  # noqa: E402

REDIS_SERVER = shutil.which("redis-server")

GRID_RATES = (20.0, 50.0, 100.0, 200.0, 400.0)
GRID_LATENCIES = (0.0, 0.005, 0.020, 0.100)
QUICK_CELLS = ((100.0, 0.005, 5), (400.0, 0.0, 1), (50.0, 0.100, 1), (200.0, 0.020, 20))
FLEET_SIZES = (2, 4, 8)
FLEET_CONCURRENCY = 16  # per process
FLEET_LIMITERS = ("redis", "adaptive")


# ---------------------------------------------------------------------------
# The client process
# ---------------------------------------------------------------------------


def make_limiter(spec: dict[str, Any]) -> Any:
    """The limiter a worker uses: ``{"kind": "adaptive" | "redis" | "bucket" | "none"}``."""
    from scaleway_volumes._pacing import (
        AdaptiveRateLimiter,
        AdaptiveTuning,
        NoRateLimiter,
        TokenBucketRateLimiter,
    )

    kind = spec["kind"]
    options = dict(spec.get("options", {}))
    if "tuning" in options:
        options["tuning"] = AdaptiveTuning(**options["tuning"])
    if kind == "adaptive":
        return AdaptiveRateLimiter(**options)
    if kind == "none":
        return NoRateLimiter()
    if kind == "bucket":
        return TokenBucketRateLimiter(spec["rate"], burst=spec.get("burst", 1))
    if kind == "redis":
        from scaleway_volumes.redis import RedisRateLimiter

        return RedisRateLimiter(spec["url"], name=spec["name"], **options)
    raise ValueError(f"unknown limiter kind {kind!r}")


def _body(i: int) -> bytes:
    return json.dumps(
        {"name": f"rl-{i}", "organization": ORG, "size": SIZE, "volume_type": "l_ssd"}
    ).encode()


async def drive_with_driver(
    base_url: str, limiter: Any, indices: range, concurrency: int
) -> dict[str, Any]:
    """Create one volume per index as the library's pipeline will: the reference driver.

    ``concurrency`` workers pull from one iterator; each request goes
    ``permit = await limiter.acquire()`` → POST → ``limiter.release(permit, status)``
    (in a ``finally``; status None when no answer came), and a bare 429 is sent again
    through ``acquire()``.
    """
    import aiohttp

    url = base_url + "/volumes"
    headers = {"X-Auth-Token": TOKEN, "Content-Type": "application/json"}
    counts = {"created": 0, "throttled": 0, "errors": 0}
    jobs = iter(indices)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            for i in jobs:
                body = _body(i)
                for _ in range(10_000):  # a generous budget of paced resends
                    permit = await limiter.acquire()
                    status: int | None = None
                    retry_after = None
                    try:
                        async with session.post(url, data=body) as response:
                            await response.read()
                            status = response.status
                            retry_after = response.headers.get("Retry-After")
                    except aiohttp.ClientError:
                        pass
                    finally:
                        limiter.release(permit, status)
                    if status == 429 and retry_after is None:
                        counts["throttled"] += 1
                        continue
                    counts["created" if status == 201 else "errors"] += 1
                    break

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts


async def drive_with_library(
    base_url: str, limiter: Any, indices: range, concurrency: int
) -> dict[str, Any]:
    """The same work through ``AsyncVolumeAPI(..., rate_limiter=limiter).create_volumes``."""
    from scaleway_volumes import AsyncVolumeAPI, VolumeSpec

    api = AsyncVolumeAPI(TOKEN, base_url=base_url, organization=ORG, rate_limiter=limiter)
    async with api:
        specs = (VolumeSpec(name=f"rl-{i}", size=SIZE) for i in indices)
        result = await api.create_volumes(specs, concurrency=concurrency)
    return {
        "created": len(result.succeeded),
        "throttled": result.throttled,
        "errors": len(result.failed),
    }


def worker_main(params: dict[str, Any]) -> None:
    """A client process: import, build, say READY, wait for GO (with the URL), run, report."""
    limiter = make_limiter(params["limiter"])
    drive = drive_with_library if params["client"] == "library" else drive_with_driver
    print("READY", flush=True)
    line = sys.stdin.readline().split()
    if not line or line[0] != "GO":
        raise SystemExit("no GO line on stdin")
    base_url = line[1]
    indices = range(params["first"], params["first"] + params["n"])

    async def run() -> dict[str, Any]:
        started = time.time()
        counts = await drive(base_url, limiter, indices, params["concurrency"])
        ended = time.time()
        close = getattr(limiter, "aclose", None)
        if close is not None:
            await close()
        return {**counts, "started": started, "ended": ended, "wall": ended - started}

    result = asyncio.run(run())
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------
# Processes: the fake server, Redis, the clients
# ---------------------------------------------------------------------------

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
        argv = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(params)]
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


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------


def grid_n(rate: float, minimum: int) -> int:
    """Creates per grid cell: at least ``minimum``, and three seconds' worth at high rates."""
    return max(minimum, int(rate * 3))


def grid_bound(burst: int, latency: float) -> float:
    """The allowed wall / ideal: a one-token bucket behind ≥ 20 ms jitters more."""
    return 1.35 if burst == 1 and latency >= 0.020 else 1.2


def run_grid_cell(
    rate: float, latency: float, burst: int, n: int, limiter: dict[str, Any], client: str
) -> dict[str, Any]:
    """One grid cell: one server, one client of ``n`` creates at concurrency 50."""
    params = {"n": n, "first": 0, "concurrency": 50, "limiter": limiter, "client": client}
    clients = [Client(params, 0)]
    server = FakeServer(rate, burst, latency)
    try:
        clients[0].ready()
        clients[0].go(server.base_url)
        (result,) = [c.result() for c in clients]
    finally:
        stats = server.stop()
    ideal = rate_floor(n, rate, burst)  # the fake was started with --rate-burst burst
    ratio = result["wall"] / ideal
    share = stats["throttled"] / n
    bound = grid_bound(burst, latency)
    return {
        "rate": rate,
        "latency": latency,
        "burst": burst,
        "n": n,
        "wall": result["wall"],
        "ideal": ideal,
        "ratio": ratio,
        "throttled": stats["throttled"],
        "share": share,
        "errors": result["errors"],
        "bound": bound,
        "pass": ratio <= bound and share <= 0.10 and result["errors"] == 0,
    }


def grid_cells(args: argparse.Namespace) -> Iterator[tuple[float, float, int]]:
    """The cells to run: the quick set, or rates × latencies × bursts."""
    if args.quick and not (args.rates or args.latencies or args.bursts):
        yield from QUICK_CELLS
        return
    for rate in args.rates or GRID_RATES:
        for latency in args.latencies or GRID_LATENCIES:
            bursts = args.bursts or (1, 5, max(1, int(rate / 10)))
            seen: set[int] = set()
            for burst in bursts:
                if burst not in seen:
                    seen.add(burst)
                    yield rate, latency, burst


def scenario_grid(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for rate, latency, burst in grid_cells(args):
        n = grid_n(rate, args.n)
        row = run_grid_cell(rate, latency, burst, n, limiter_spec(args), args.client)
        rows.append(row)
        print(
            f"  grid {rate:>5g}/s {latency * 1000:>4g} ms burst {burst:>3}: "
            f"{row['ratio']:.2f}× ideal, {row['throttled']} 429s ({row['share']:.1%})"
            f"{'' if row['pass'] else '  FAIL'}",
            file=sys.stderr,
            flush=True,
        )
    return rows


def limiter_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The single-process limiter: ``adaptive``, ``none`` or ``bucket:RATE[:BURST]``."""
    kind, *numbers = args.limiter.split(":")
    spec: dict[str, Any] = {"kind": kind}
    if kind == "bucket":
        spec["rate"] = float(numbers[0])
        spec["burst"] = int(numbers[1]) if len(numbers) > 1 else 1
    if args.options:
        spec["options"] = json.loads(args.options)
    return spec


def run_fleet(
    size: int,
    kind: str,
    total: int,
    rate: float,
    latency: float,
    redis_url: str | None,
    client: str,
) -> dict[str, Any]:
    """``size`` processes, ``total`` creates split evenly, one server allowing ``rate``;
    each process runs ``client`` (``library``: ``create_volumes``, or ``driver``)."""
    share = total // size
    spec: dict[str, Any] = {"kind": kind}
    if kind == "redis":
        spec.update(url=redis_url, name=f"fleet-{size}-{time.monotonic_ns()}")
    params = [
        {
            "n": share,
            "first": i * share,
            "concurrency": FLEET_CONCURRENCY,
            "limiter": spec,
            "client": client,
        }
        for i in range(size)
    ]
    server = FakeServer(rate, None, latency)  # the fake's default burst: fake_burst(rate)
    try:
        go = time.time()
        results = run_clients(server, params, [None] * size)
    finally:
        stats = server.stop()
    n = share * size
    ideal = rate_floor(n, rate)
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    walls = [r["wall"] for r in results]
    del go
    fairness = max(walls) / min(walls)
    share_429 = stats["throttled"] / n
    if kind == "redis":
        ok = wall <= 1.15 * ideal and share_429 <= 0.05 and fairness <= 1.5
    else:
        ok = wall <= 1.5 * ideal and share_429 <= 0.25
    return {
        "processes": size,
        "limiter": kind,
        "n": n,
        "concurrency": FLEET_CONCURRENCY,
        "rate": rate,
        "burst": fake_burst(rate),
        "latency": latency,
        "wall": wall,
        "ideal": ideal,
        "ratio": wall / ideal,
        "throttled": stats["throttled"],
        "share": share_429,
        "fastest": min(walls),
        "slowest": max(walls),
        "fairness": fairness,
        "errors": sum(r["errors"] for r in results),
        "pass": ok and not any(r["errors"] for r in results),
    }


def scenario_fleet(args: argparse.Namespace) -> list[dict[str, Any]]:
    redis = None
    kinds = args.fleet_limiters.split(",")
    if "redis" in kinds and not args.redis_url:
        redis = RedisServer()
    url = args.redis_url or (redis.url if redis else None)
    rows = []
    try:
        for size in (2,) if args.quick else args.fleet_sizes:
            for kind in kinds:
                row = run_fleet(
                    size, kind, args.fleet_n, 100.0, args.fleet_latency, url, args.client
                )
                rows.append(row)
                print(
                    f"  fleet {size} × {kind}: {row['ratio']:.2f}× ideal, "
                    f"{row['throttled']} 429s ({row['share']:.1%}), "
                    f"slowest/fastest {row['fairness']:.2f}{'' if row['pass'] else '  FAIL'}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if redis is not None:
            redis.stop()
    return rows


def scenario_drop(args: argparse.Namespace) -> list[dict[str, Any]]:
    """200 req/s, then 50 req/s from ``drop_after`` seconds after the first request."""
    before, after, at = 200.0, 50.0, args.drop_after
    n = int(before * at + after * args.drop_tail)
    params = {
        "n": n,
        "first": 0,
        "concurrency": 50,
        "limiter": limiter_spec(args),
        "client": args.client,
    }
    server = FakeServer(before, None, args.drop_latency, schedule=f"{at:g}:{after:g}")
    try:
        (result,) = run_clients(server, [params], [0])
    finally:
        stats = server.stop()
    phases = stats["phases"]
    late = phases[-1] if len(phases) > 1 else {"requests": 0, "throttled": 0}
    share = late["throttled"] / late["requests"] if late["requests"] else 0.0
    row = {
        "n": n,
        "before": before,
        "after": after,
        "drop_at": at,
        "wall": result["wall"],
        "requests_before": phases[0]["requests"],
        "throttled_before": phases[0]["throttled"],
        "requests_after": late["requests"],
        "throttled_after": late["throttled"],
        "share_after": share,
        "errors": result["errors"],
        "pass": share <= 0.10 and late["requests"] > 0 and result["errors"] == 0,
    }
    print(
        f"  drop {before:g} → {after:g}/s at {at:g} s: {late['throttled']} 429s of "
        f"{late['requests']} requests after it ({share:.1%}){'' if row['pass'] else '  FAIL'}",
        file=sys.stderr,
        flush=True,
    )
    return [row]


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


def fleet_setting(rows: list[dict[str, Any]]) -> str:
    """What the fleet runs had in common, read from their rows (``per row`` where they
    differ; a setting the rows do not hold is left out)."""

    def one(key: str, show: Callable[[Any], str] = str) -> str | None:
        values = {r.get(key) for r in rows}
        if values == {None}:
            return None
        return show(values.pop()) if len(values) == 1 else "per row"

    n = one("n")
    parts = [
        "N creates (per row) split evenly" if n == "per row" else f"N = {n} creates split evenly"
    ]
    if (concurrency := one("concurrency")) is not None:
        parts.append(f"concurrency {concurrency} each")
    if (rate := one("rate", "{:g}".format)) is not None:
        parts.append(f"{rate} req/s shared (burst {one('burst')})")
    if (latency := one("latency", lambda s: f"{s * 1000:g} ms")) is not None:
        parts.append(f"latency {latency}")
    return ", ".join(parts) + "; ideal (N - burst) / rate"


def markdown(report: dict[str, Any]) -> str:
    out: list[str] = []
    if report.get("grid"):
        out += [
            "### Single process (concurrency 50, bare-429 token bucket)",
            "",
            "| rate/s | latency | burst | N | wall | wall / ideal | 429s | 429 share | |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in report["grid"]:
            out.append(
                f"| {r['rate']:g} | {r['latency'] * 1000:g} ms | {r['burst']} | {r['n']} "
                f"| {r['wall']:.2f} s | {r['ratio']:.2f} (≤ {r['bound']:g}) | {r['throttled']} "
                f"| {r['share']:.1%} | {_mark(r['pass'])} |"
            )
        passed = sum(r["pass"] for r in report["grid"])
        out += [
            "",
            f"{passed} of {len(report['grid'])} cells pass. Ideal: (N - burst) / rate, "
            "the bucket starting full.",
            "",
        ]
    if report.get("fleet"):
        out += [
            f"### Fleet ({fleet_setting(report['fleet'])})",
            "",
            "| processes | limiter | N | wall | wall / ideal | 429s | 429 share "
            "| fastest | slowest | slowest/fastest | |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in report["fleet"]:
            out.append(
                f"| {r['processes']} | {r['limiter']} | {r['n']} | {r['wall']:.2f} s "
                f"| {r['ratio']:.2f} "
                f"| {r['throttled']} | {r['share']:.1%} | {r['fastest']:.2f} s "
                f"| {r['slowest']:.2f} s | {r['fairness']:.2f} | {_mark(r['pass'])} |"
            )
        out.append("")
    if report.get("drop"):
        out += [
            "### Lowered limit (concurrency 50)",
            "",
            "| limit | N | wall | requests after the drop | 429s after | share | |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for r in report["drop"]:
            out.append(
                f"| {r['before']:g} → {r['after']:g}/s at {r['drop_at']:g} s | {r['n']} "
                f"| {r['wall']:.2f} s | {r['requests_after']} | {r['throttled_after']} "
                f"| {r['share_after']:.1%} | {_mark(r['pass'])} |"
            )
        out.append("")
    return "\n".join(out)


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(","))


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(","))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the rate limiters against a bare-429 token bucket "
        "(the fake server), in one process and in a fleet of processes.",
    )
    parser.add_argument("--quick", action="store_true", help="a few cells of each scenario")
    parser.add_argument(
        "--scenarios", default="grid,fleet,drop", help="comma-separated: grid,fleet,drop"
    )
    parser.add_argument(
        "--client",
        choices=("driver", "library"),
        default="library",
        help="drive the limiter directly, or through AsyncVolumeAPI(rate_limiter=...)",
    )
    parser.add_argument("--rates", type=_floats, help="grid rates, e.g. 20,100")
    parser.add_argument("--latencies", type=_floats, help="grid latencies in seconds")
    parser.add_argument("--bursts", type=_ints, help="grid bursts (default 1,5,rate/10)")
    parser.add_argument("--n", type=int, default=300, help="minimum creates per grid cell")
    parser.add_argument(
        "--limiter",
        default="adaptive",
        help="grid and drop limiter: adaptive, none, or bucket:RATE[:BURST] (a fixed one)",
    )
    parser.add_argument("--options", help="JSON keyword options for AdaptiveRateLimiter")
    parser.add_argument("--fleet-n", type=int, default=1000, help="creates per fleet run")
    parser.add_argument("--fleet-latency", type=float, default=0.005)
    parser.add_argument(
        "--fleet-sizes", type=_ints, default=FLEET_SIZES, help="processes per fleet, e.g. 8"
    )
    parser.add_argument(
        "--fleet-limiters", default=",".join(FLEET_LIMITERS), help="redis,adaptive,none"
    )
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    parser.add_argument("--drop-after", type=float, default=3.0, help="seconds at 200/s")
    parser.add_argument("--drop-tail", type=float, default=6.0, help="seconds' worth at 50/s")
    parser.add_argument("--drop-latency", type=float, default=0.005)
    parser.add_argument("--json", help="write the JSON report to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(json.loads(args.worker))
        return 0
    scenarios = {"grid": scenario_grid, "fleet": scenario_fleet, "drop": scenario_drop}
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load": os.getloadavg(),
            "client": args.client,
        }
    }
    for name in args.scenarios.split(","):
        if name not in scenarios:
            raise SystemExit(f"unknown scenario {name!r}; choose from {', '.join(scenarios)}")
        began = time.monotonic()
        report[name] = scenarios[name](args)
        report[f"{name}_seconds"] = time.monotonic() - began
    report["machine"]["load_after"] = os.getloadavg()
    print(markdown(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    ok = all(row["pass"] for name in scenarios for row in report.get(name, []))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
