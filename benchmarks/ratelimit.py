#!/usr/bin/env python
# ruff: noqa: RUF002  (the docstring is for people: its symbols are meant)
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
    python benchmarks/ratelimit.py --scenarios grid --bursts 1 --reference 0.9

Clients either drive the limiter themselves exactly as the library's request pipeline
does (``--client driver``: acquire, POST, release with the status, resend a bare 429),
or go through ``AsyncVolumeAPI(..., rate_limiter=...).create_volumes`` (``--client
library``). The report is a Markdown table on stdout plus JSON (``--json PATH``).
Internally ``ratelimit.py --worker PARAMS_JSON`` is a client process.

The rest lives in the modules beside this script, which never import it: the client
process (its limiter, the driver, the library) in ``_rl_client.py``; the fake server,
Redis and the client processes in ``_rl_procs.py``; the scenarios in
``_rl_scenarios.py``; the Markdown report in ``_rl_report.py``; what every benchmark
shares in ``_common.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The helpers beside this script, also when it is loaded by path (the tests do).
sys.path.insert(0, str(HERE))

from _rl_client import worker_main  # noqa: E402
from _rl_report import markdown  # noqa: E402
from _rl_scenarios import (  # noqa: E402
    FLEET_LIMITERS,
    FLEET_SIZES,
    scenario_drop,
    scenario_fleet,
    scenario_grid,
)


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(","))


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(","))


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"a share of the rate above 0, got {text!r}")
    return value


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
    parser.add_argument(
        "--options",
        help="JSON keyword options for AdaptiveRateLimiter (the grid's, the drop's and "
        "the in-process fleets')",
    )
    parser.add_argument(
        "--reference",
        type=_share,
        metavar="SHARE",
        help="also run each grid cell paced at a fixed SHARE x rate (e.g. 0.9): what the "
        "machine's timing allows any limiter there",
    )
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
    parser.add_argument(
        "--trace",
        help="write each grid cell's and each fleet process's limiter trace into this "
        "directory (read one with python benchmarks/_rl_trace.py FILE, a fleet's with "
        "--fleet FILE...)",
    )
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
