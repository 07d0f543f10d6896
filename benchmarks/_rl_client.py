"""A client process of ``ratelimit.py`` (``ratelimit.py --worker PARAMS_JSON``): its limiter
and the two ways it drives it, the reference driver and the library."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from _common import ORG, SIZE, TOKEN


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
    if params.get("trace"):
        from _rl_trace import TracingLimiter

        limiter = TracingLimiter(limiter)
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
        if params.get("trace"):
            limiter.write(params["trace"])
        return {**counts, "started": started, "ended": ended, "wall": ended - started}

    result = asyncio.run(run())
    print("RESULT " + json.dumps(result), flush=True)
