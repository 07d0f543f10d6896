# ruff: noqa: RUF001  (the targets are read by people: their symbols are meant)
"""From one run's measurements to the report's numbers, and from their medians to PASS/FAIL."""

from __future__ import annotations

import statistics
from typing import Any

from _common import rate_floor
from _scenarios import WARM_UP_REQUESTS


def derive(scenario: str, client: str, params: dict[str, Any], r: dict[str, Any]) -> dict:
    """The numbers the report shows for one run."""
    d: dict[str, float] = {
        "wall_s": r["wall"],
        "cpu_s": r["cpu"],
        "cpu_us_per_req": r["cpu"] / r["requests"] * 1e6,
        "req_per_s": r["requests"] / r["wall"],
    }
    if "connections" in r:
        d["connections"] = r["connections"]
        d["server_requests"] = r["server_requests"]
    if scenario == "bulk":
        n = params["n"]
        scale = n / r["requests"]
        d["wall_s_for_n"] = r["wall"] * scale  # the SDK runs fewer creates: scaled
        d["x_ideal"] = d["wall_s_for_n"] / (n / params["concurrency"] * params["latency"])
    if scenario == "list":
        d["wall_ms"] = r["wall"] * 1000
        d["cpu_ms"] = r["cpu"] * 1000
    if scenario == "lazy-bulk":
        d["rss_growth_mb"] = r["rss_growth_mb"]
        d["hwm_growth_mb"] = r["hwm_growth_mb"]
    if scenario == "rate-limited":
        d["x_allowed"] = r["wall"] / rate_allowed(params)
        d["throttled"] = max(r["throttled"], r.get("server_throttled", 0))
    if scenario == "block-wait":
        d["x_bound"] = r["wall"] / block_wait_bound(params)
        if "server_requests" in r:
            measured = r["server_requests"] - WARM_UP_REQUESTS
            d["polls"] = measured - params["n"]
            d["req_per_volume"] = measured / params["n"]
    return d


def rate_allowed(p: dict[str, Any]) -> float:
    """The least wall ``rate-limited``'s limit allows: ``(n - burst) / rate`` (``rate_floor``).

    ``FakeServer`` starts the fake without ``--rate-burst``: its default bucket
    (``fake_burst``), full but for the warm-up's token, which comes back at the
    rate; counting the burst whole keeps this a floor.
    """
    return rate_floor(p["n"], p["rate"])


def block_wait_bound(p: dict[str, Any]) -> float:
    """The ideal wall of ``block-wait``: every create at full speed, then the last settles."""
    return p["n"] / p["concurrency"] * p["latency"] + p["block_create_time"]


def summarize(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def compute_targets(
    stats: dict[str, dict[str, dict[str, dict[str, float]]]], params: dict[str, dict]
) -> list[dict[str, Any]]:
    """PASS/FAIL per target, from medians of the same run."""
    targets: list[dict[str, Any]] = []
    sv = "scaleway-volumes"

    def med(scenario: str, client: str, key: str) -> float | None:
        stat = stats.get(scenario, {}).get(client, {}).get(key)
        return None if stat is None else stat["median"]

    def ratio(scenario: str, key: str, other: str, limit: float, what: str, aim: bool = False):
        a, b = med(scenario, sv, key), med(scenario, other, key)
        if a is None or b is None:
            return
        value = a / b
        targets.append(
            {
                "scenario": scenario,
                "target": f"{what} ≤ {limit:g}× {other}" + (" (aim)" if aim else ""),
                "measured": f"{value:.2f}× ({a:.4g} vs {b:.4g})",
                "pass": value <= limit,
            }
        )

    # One request path through client.send (docs/architecture.md), made lean.
    ratio("concurrent", "cpu_us_per_req", "httpx+aiohttp", 0.85, "CPU/request")
    ratio("concurrent", "cpu_us_per_req", "httpx", 0.25, "CPU/request")
    ratio("concurrent", "cpu_us_per_req", "aiohttp", 2.0, "CPU/request", aim=True)
    ratio("get", "cpu_us_per_req", "httpx+aiohttp", 1.0, "CPU/request")
    if (x := med("bulk", sv, "x_ideal")) is not None:
        p = params["bulk"]
        ideal = p["n"] / p["concurrency"] * p["latency"]
        targets.append(
            {
                "scenario": "bulk",
                "target": f"wall ≤ 1.15× ideal {ideal:.2f} s (aim)",
                "measured": f"{x:.2f}× ({med('bulk', sv, 'wall_s_for_n'):.3f} s)",
                "pass": x <= 1.15,
            }
        )
    ratio("bulk", "wall_s_for_n", "aiohttp", 1.15, "wall")
    if (c := med("bulk", sv, "connections")) is not None:
        targets.append(
            {
                "scenario": "bulk",
                "target": "TCP connections ≤ 50",
                "measured": f"{c:.0f}",
                "pass": c <= 50,
            }
        )
    a, b = med("bulk", sv, "wall_s_for_n"), med("bulk", "official-sdk", "wall_s_for_n")
    if a is not None and b is not None:
        targets.append(
            {
                "scenario": "bulk",
                "target": "≥ 25× faster than the official SDK (SDK scaled)",
                "measured": f"{b / a:.1f}× ({b:.2f} s vs {a:.3f} s)",
                "pass": b / a >= 25,
            }
        )
    ratio("list", "wall_ms", "httpx+aiohttp", 1.2, "wall")
    if (m := med("lazy-bulk", sv, "rss_growth_mb")) is not None:
        targets.append(
            {
                "scenario": "lazy-bulk",
                "target": "peak RSS growth ≤ 50 MB",
                "measured": f"{m:.1f} MB",
                "pass": m <= 50,
            }
        )
    if (w := med("rate-limited", sv, "wall_s")) is not None:
        p = params["rate-limited"]
        allowed = rate_allowed(p)
        targets.append(
            {
                "scenario": "rate-limited",
                "target": f"wall ≤ 2× rate-allowed {allowed:.2f} s",
                "measured": f"{w / allowed:.2f}× ({w:.2f} s)",
                "pass": w <= 2 * allowed,
            }
        )
    ratio("block-bulk", "wall_s", "aiohttp", 1.15, "wall")
    if (c := med("block-bulk", sv, "connections")) is not None:
        targets.append(
            {
                "scenario": "block-bulk",
                "target": "TCP connections ≤ 50",
                "measured": f"{c:.0f}",
                "pass": c <= 50,
            }
        )
    if (x := med("block-wait", sv, "x_bound")) is not None:
        bound = block_wait_bound(params["block-wait"])
        targets.append(
            {
                "scenario": "block-wait",
                "target": f"wall ≤ 1.3× (ideal + settle) {bound:.2f} s",
                "measured": f"{x:.2f}× ({med('block-wait', sv, 'wall_s'):.3f} s)",
                "pass": x <= 1.3,
            }
        )
    # Against raw aiohttp's creates plus a 10 ms poll: what this host allows.
    ratio("block-wait", "wall_s", "aiohttp", 1.15, "wall", aim=True)
    if (q := med("block-wait", sv, "req_per_volume")) is not None:
        targets.append(
            {
                "scenario": "block-wait",
                "target": "requests per volume ≤ 1.5 (creates + polls, server count)",
                "measured": f"{q:.3f}",
                "pass": q <= 1.5,
            }
        )
    return targets
