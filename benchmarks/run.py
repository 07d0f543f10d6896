#!/usr/bin/env python
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
it prints one ``RESULT {json}`` line with its measurements.

The rest lives in the modules beside this script, which never import it: the
clients, scenarios and their parameters in ``_scenarios.py``; the Instance clients
in ``_adapters.py``, the Block clients in ``_block.py``, what all clients share in
``_common.py``; the client process in ``_worker.py``; one measurement (server,
seeding, worker) in ``_measure.py``; the derived numbers and the targets in
``_targets.py``; the Markdown report and the machine's and code's description in
``_report.py``; ``--profile`` in ``_profile.py``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _measure import run_one
from _profile import profile_main
from _report import machine_info, render_markdown
from _scenarios import CLIENTS, RATE_SCENARIOS, SCENARIO_CLIENTS, SCENARIOS, scenario_params
from _targets import compute_targets, derive, summarize
from _worker import worker_main

HERE = Path(__file__).resolve().parent


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
