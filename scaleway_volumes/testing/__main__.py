"""Run the fake Scaleway Volumes API in the foreground.

Prints ``READY <base_url> <block_base_url>`` on stdout once listening, serves until
SIGTERM/SIGINT, then prints a one-line summary (requests, connections, server CPU) on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
import time

from ._bucket import parse_rate_schedule
from ._core import check_zone
from ._fake import FAKE_ORGANIZATION, FAKE_TOKEN, FakeScaleway
from ._params import is_uuid
from ._server import _ServerCore


def _schedule(text: str) -> tuple[tuple[float, float], ...]:
    try:
        return parse_rate_schedule(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# argparse names the option and the value when one of these raises ArgumentTypeError.
def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def _seconds(text: str) -> float:
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text!r}")
    return value


def _positive(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text!r}")
    return value


def _integer(text: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise argparse.ArgumentTypeError(f"must be {bounds}, not {text!r}")
    return value


def _port(text: str) -> int:
    return _integer(text, 0, 65535)


def _burst(text: str) -> int:
    return _integer(text, 1)


def _host(text: str) -> str:
    if not text:
        # asyncio would listen everywhere and READY would show a URL with no host.
        raise argparse.ArgumentTypeError("must not be empty ('0.0.0.0' or '::' listens everywhere)")
    return text


def _zone(text: str) -> str:
    try:
        return check_zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _organization(text: str) -> str:
    if not is_uuid(text):
        # It is also the default project: the API refuses a project id that is no UUID.
        raise argparse.ArgumentTypeError(f"must be a UUID, not {text!r}")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scaleway_volumes.testing",
        description="Serve an in-memory fake of Scaleway's Instance volume and Block Storage APIs.",
    )
    parser.add_argument("--host", type=_host, default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=_seconds, default=0.0, help="seconds added per request")
    parser.add_argument("--rate-limit", type=_positive, default=None, help="requests per second")
    parser.add_argument("--rate-burst", type=_burst, default=None, help="token bucket capacity")
    parser.add_argument(
        "--rate-schedule",
        type=_schedule,
        default=(),
        metavar="SECONDS:RATE,...",
        help="change the rate that long after the first request, e.g. '3:50'",
    )
    parser.add_argument(
        "--token", default=FAKE_TOKEN, help=f"'' accepts any token (default: {FAKE_TOKEN})"
    )
    parser.add_argument("--zone", type=_zone, default="fr-par-1")
    parser.add_argument(
        "--organization",
        type=_organization,
        default=FAKE_ORGANIZATION,
        help="the fake's organization and default project, e.g. your profile's "
        f"default_organization_id (default: {FAKE_ORGANIZATION})",
    )
    parser.add_argument("--legacy", action="store_true", help="seed API: /volumes, 7 fields")
    for step in ("create", "resize", "snapshot", "delete"):
        parser.add_argument(f"--block-{step}-time", type=_seconds, default=0.0, metavar="SECONDS")
    return parser


def _parse_args(
    argv: list[str] | None, parser: argparse.ArgumentParser | None = None
) -> argparse.Namespace:
    parser = parser or _parser()
    args = parser.parse_args(argv)
    if args.rate_burst is not None and args.rate_limit is None and not args.rate_schedule:
        # Nothing can set a rate later in this process: the burst would be ignored.
        parser.error("argument --rate-burst: needs --rate-limit or --rate-schedule")
    return args


def _fake(args: argparse.Namespace) -> FakeScaleway:
    fake = FakeScaleway(
        args.token or None,
        zone=args.zone,
        organization=args.organization,
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
    return fake


async def _serve(
    fake: FakeScaleway, args: argparse.Namespace, parser: argparse.ArgumentParser
) -> FakeScaleway:
    core = _ServerCore(fake)
    try:
        await core.start(args.host, args.port)
    except ValueError as exc:
        parser.error(str(exc))
    except OSError as exc:
        # Not a usage error (the port may be taken), but no traceback either.
        parser.exit(1, f"{parser.prog}: cannot listen on {args.host}:{args.port}: {exc}\n")
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
    parser = _parser()
    args = _parse_args(argv, parser)
    try:
        fake = _fake(args)
    except ValueError as exc:
        parser.error(str(exc))
    cpu = time.process_time()
    fake = asyncio.run(_serve(fake, args, parser))
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
