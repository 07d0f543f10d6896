"""Run the fake Scaleway Volumes API in the foreground.

Prints ``READY <base_url> <block_base_url>`` on stdout once listening, serves until
SIGTERM/SIGINT, then prints a one-line summary (requests, connections, server CPU) on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

from ._bucket import parse_rate_schedule
from ._fake import FakeScaleway
from ._server import _ServerCore


def _schedule(text: str) -> tuple[tuple[float, float], ...]:
    try:
        return parse_rate_schedule(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scaleway_volumes.testing",
        description="Serve an in-memory fake of the Scaleway Instance Volumes API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second")
    parser.add_argument("--rate-burst", type=int, default=None, help="token bucket capacity")
    parser.add_argument(
        "--rate-schedule",
        type=_schedule,
        default=(),
        metavar="SECONDS:RATE,...",
        help="change the rate that long after the first request, e.g. '3:50'",
    )
    parser.add_argument("--token", default="fake-token", help="'' accepts any token")
    parser.add_argument("--zone", default="fr-par-1")
    parser.add_argument("--legacy", action="store_true", help="seed API: /volumes, 7 fields")
    for step in ("create", "resize", "snapshot", "delete"):
        parser.add_argument(f"--block-{step}-time", type=float, default=0.0, metavar="SECONDS")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> FakeScaleway:
    fake = FakeScaleway(
        args.token or None,
        zone=args.zone,
        legacy=args.legacy,
        latency=args.latency,
        rate_limit=args.rate_limit,
        rate_burst=args.rate_burst,
        block_create_time=args.block_create_time,
        block_resize_time=args.block_resize_time,
        block_snapshot_time=args.block_snapshot_time,
        block_delete_time=args.block_delete_time,
    )
    fake.rate_schedule = args.rate_schedule
    # Nobody can read the recorded requests of a separate process; don't pay for them.
    fake.record_requests = False
    core = _ServerCore(fake)
    await core.start(args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {core.base_url()} {core.block_base_url()}", flush=True)
    await stop.wait()
    await core.stop()
    return fake


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m scaleway_volumes.testing``; returns the exit status."""
    args = _parse_args(argv)
    cpu = time.process_time()
    fake = asyncio.run(_serve(args))
    cpu = time.process_time() - cpu
    served = sum(fake.stats.statuses.values())
    per_request = f", {cpu / served * 1e6:.1f} us CPU/response" if served else ""
    print(
        f"served {served} responses on {fake.stats.connections_opened} connections "
        f"({fake.stats.throttled} throttled) in {cpu:.3f} s CPU{per_request}",
        file=sys.stderr,
    )
    if args.rate_schedule:
        for phase in fake.rate_phases():
            rate = "unlimited" if phase.rate is None else f"{phase.rate:g}/s"
            print(
                f"rate phase from {phase.after:g} s at {rate}: "
                f"{phase.requests} requests, {phase.throttled} throttled",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
