"""The Markdown report of ``ratelimit.py``: one table per scenario, with its verdicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _mark(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


def fleet_setting(rows: list[dict[str, Any]]) -> str:
    """What the fleet runs had in common, read from their rows (``per row`` where they
    differ; a setting the rows do not hold is left out)."""

    def one(key: str, show: Callable[[Any], str] = str) -> str | None:
        values = {r.get(key) for r in rows}
        if values == {None}:
            return None
        return show(values.pop()) if len(values) == 1 else "per row"

    n = one("n")
    parts = [
        "N creates (per row) split evenly" if n == "per row" else f"N = {n} creates split evenly"
    ]
    if (concurrency := one("concurrency")) is not None:
        parts.append(f"concurrency {concurrency} each")
    if (rate := one("rate", "{:g}".format)) is not None:
        parts.append(f"{rate} req/s shared (burst {one('burst')})")
    if (latency := one("latency", lambda s: f"{s * 1000:g} ms")) is not None:
        parts.append(f"latency {latency}")
    return ", ".join(parts) + "; ideal (N - burst) / rate"


def markdown(report: dict[str, Any]) -> str:
    out: list[str] = []
    if report.get("grid"):
        out += [
            "### Single process (concurrency 50, bare-429 token bucket)",
            "",
            "| rate/s | latency | burst | N | wall | wall / ideal | 429s | 429 share | |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        grid = report["grid"]
        referenced = all("reference" in r for r in grid)
        if referenced:
            out[-2] += " fixed pace: wall / ideal, 429 share | |"
            out[-1] += "---:|---|"
        for r in grid:
            line = (
                f"| {r['rate']:g} | {r['latency'] * 1000:g} ms | {r['burst']} | {r['n']} "
                f"| {r['wall']:.2f} s | {r['ratio']:.2f} (≤ {r['bound']:g}) | {r['throttled']} "
                f"| {r['share']:.1%} | {_mark(r['pass'])} |"
            )
            if referenced:
                ref = r["reference"]
                line += (
                    f" {ref['pace']:g}/s: {ref['ratio']:.2f}, {ref['share']:.1%} "
                    f"| {_mark(ref['pass'])} |"
                )
            out.append(line)
        passed = sum(r["pass"] for r in grid)
        out += [
            "",
            f"{passed} of {len(grid)} cells pass. Ideal: (N - burst) / rate, "
            "the bucket starting full.",
        ]
        if referenced:
            failed = [r for r in grid if not r["pass"]]
            both = sum(not r["reference"]["pass"] for r in failed)
            out.append(
                f"Of the {len(failed)} failing, {both} fail with the fixed pace too "
                "(the machine's timing); the fixed pace passes "
                f"{sum(r['reference']['pass'] for r in grid)} of {len(grid)} cells."
            )
        out.append("")
    if report.get("fleet"):
        out += [
            f"### Fleet ({fleet_setting(report['fleet'])})",
            "",
            "| processes | limiter | N | wall | wall / ideal | 429s | 429 share "
            "| fastest | slowest | slowest/fastest | |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in report["fleet"]:
            out.append(
                f"| {r['processes']} | {r['limiter']} | {r['n']} | {r['wall']:.2f} s "
                f"| {r['ratio']:.2f} "
                f"| {r['throttled']} | {r['share']:.1%} | {r['fastest']:.2f} s "
                f"| {r['slowest']:.2f} s | {r['fairness']:.2f} | {_mark(r['pass'])} |"
            )
        out.append("")
    if report.get("drop"):
        out += [
            "### Lowered limit (concurrency 50)",
            "",
            "| limit | N | wall | requests after the drop | 429s after | share | |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for r in report["drop"]:
            out.append(
                f"| {r['before']:g} → {r['after']:g}/s at {r['drop_at']:g} s | {r['n']} "
                f"| {r['wall']:.2f} s | {r['requests_after']} | {r['throttled_after']} "
                f"| {r['share_after']:.1%} | {_mark(r['pass'])} |"
            )
        out.append("")
    return "\n".join(out)
