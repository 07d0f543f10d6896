# ruff: noqa: RUF001, RUF002  (the progress lines are for people: their symbols are meant)
"""The scenarios of ``ratelimit.py``: the single-process grid, the fleet, the lowered limit."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

from _common import fake_burst, rate_floor
from _rl_procs import Client, FakeServer, RedisServer, run_clients

GRID_RATES = (20.0, 50.0, 100.0, 200.0, 400.0)
GRID_LATENCIES = (0.0, 0.005, 0.020, 0.100)
QUICK_CELLS = ((100.0, 0.005, 5), (400.0, 0.0, 1), (50.0, 0.100, 1), (200.0, 0.020, 20))
FLEET_SIZES = (2, 4, 8)
FLEET_CONCURRENCY = 16  # per process
FLEET_LIMITERS = ("redis", "adaptive")


def grid_n(rate: float, minimum: int) -> int:
    """Creates per grid cell: at least ``minimum``, and three seconds' worth at high rates."""
    return max(minimum, int(rate * 3))


def grid_bound(burst: int, latency: float) -> float:
    """The allowed wall / ideal: a one-token bucket behind ≥ 20 ms jitters more."""
    return 1.35 if burst == 1 and latency >= 0.020 else 1.2


def run_grid_cell(
    rate: float,
    latency: float,
    burst: int,
    n: int,
    limiter: dict[str, Any],
    client: str,
    trace: str | None = None,
) -> dict[str, Any]:
    """One grid cell: one server, one client of ``n`` creates at concurrency 50
    (its limiter traced into ``trace``, a file, when given)."""
    params = {"n": n, "first": 0, "concurrency": 50, "limiter": limiter, "client": client}
    if trace is not None:
        params["trace"] = trace
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
        trace = None
        if args.trace:
            trace = f"{args.trace}/grid-{rate:g}-{latency * 1000:g}ms-{burst}.json"
        row = run_grid_cell(rate, latency, burst, n, limiter_spec(args), args.client, trace)
        line = (
            f"  grid {rate:>5g}/s {latency * 1000:>4g} ms burst {burst:>3}: "
            f"{row['ratio']:.2f}× ideal, {row['throttled']} 429s ({row['share']:.1%})"
            f"{'' if row['pass'] else '  FAIL'}"
        )
        if args.reference:
            row["reference"] = reference_cell(rate, latency, burst, n, args)
            ref = row["reference"]
            line += (
                f"; fixed {ref['pace']:g}/s: {ref['ratio']:.2f}×, {ref['share']:.1%}"
                f"{'' if ref['pass'] else ' FAIL'}"
            )
        rows.append(row)
        print(line, file=sys.stderr, flush=True)
    return rows


def reference_cell(
    rate: float, latency: float, burst: int, n: int, args: argparse.Namespace
) -> dict[str, Any]:
    """The same cell paced at a fixed ``args.reference`` × ``rate`` (one token, no
    burst), run right after it: what this machine's timing lets any limiter do
    there, to tell a noisy machine from a limiter that falls short."""
    pace = rate * args.reference
    spec = {"kind": "bucket", "rate": pace, "burst": 1}
    ref = run_grid_cell(rate, latency, burst, n, spec, args.client)
    return {"pace": pace, "ratio": ref["ratio"], "share": ref["share"], "pass": ref["pass"]}


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
    options: dict[str, Any] | None = None,
    trace: str | None = None,
) -> dict[str, Any]:
    """``size`` processes, ``total`` creates split evenly, one server allowing ``rate``;
    each process runs ``client`` (``library``: ``create_volumes``, or ``driver``).
    ``options`` go to an in-process ``adaptive`` limiter; with ``trace`` (a directory)
    each process writes its limiter's trace there (``fleet-SIZE-KIND-I.json``)."""
    share = total // size
    spec: dict[str, Any] = {"kind": kind}
    if kind == "redis":
        spec.update(url=redis_url, name=f"fleet-{size}-{time.monotonic_ns()}")
    if kind == "adaptive" and options:
        spec["options"] = options
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
    if trace is not None:
        for i, param in enumerate(params):
            param["trace"] = f"{trace}/fleet-{size}-{kind}-{i}.json"
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
                    size,
                    kind,
                    args.fleet_n,
                    100.0,
                    args.fleet_latency,
                    url,
                    args.client,
                    json.loads(args.options) if args.options else None,
                    args.trace,
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
