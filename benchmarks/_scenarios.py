"""What ``run.py`` measures: its clients, its scenarios and their parameters.

Imported by ``run.py`` and the modules beside it; it imports none of them.
"""

from __future__ import annotations

from typing import Any

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
