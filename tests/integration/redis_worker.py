"""A worker process for the Redis limiter tests: counts the permits it gets.

``python -m tests.integration.redis_worker '{"url": U, "name": N, "rate": R, "seconds": S}'``
prints ``READY``, waits for ``GO`` on stdin, takes permits for ``seconds`` (releasing
each with no status, so the shared rate stays where it is) and prints
``RESULT {"count": N, "shared": bool}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from scaleway_volumes.redis import RedisRateLimiter


async def count(params: dict[str, object]) -> dict[str, object]:
    rate = float(params["rate"])  # type: ignore[arg-type]
    limiter = RedisRateLimiter(
        str(params["url"]), name=str(params["name"]), min_rate=rate, max_rate=rate
    )
    async with limiter:
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        end = time.monotonic() + float(params["seconds"])  # type: ignore[arg-type]
        taken = 0
        while time.monotonic() < end:
            permit = await limiter.acquire()
            limiter.release(permit, None)
            taken += 1
        return {"count": taken, "shared": limiter.shared}


if __name__ == "__main__":
    result = asyncio.run(count(json.loads(sys.argv[1])))
    print("RESULT " + json.dumps(result), flush=True)
