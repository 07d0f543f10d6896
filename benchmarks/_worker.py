"""The client process: one client, one scenario (``run.py --worker``).

``worker_main`` runs the scenario and prints one ``RESULT {json}`` line with its
measurements; ``_measure.run_one`` starts it and reads that line.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import time
from typing import Any

from _adapters import make_adapter
from _common import worker_pool

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
