# ruff: noqa: RUF001  (the report is Markdown for people: its symbols are meant)
"""``run.py``'s Markdown report, and what the report says about the machine and the code."""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from _block import POLL_EVERY
from _common import TASKSET, fake_burst
from _scenarios import CLIENT_NOTES
from _targets import block_wait_bound, rate_allowed

# Columns per scenario: (metric key, header, format).
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "get": [
        ("cpu_us_per_req", "client CPU µs/req", "{:.0f}"),
        ("wall_s", "wall s", "{:.2f}"),
        ("req_per_s", "req/s", "{:.0f}"),
        ("connections", "TCP conns", "{:.0f}"),
    ],
    "concurrent": [
        ("cpu_us_per_req", "client CPU µs/req", "{:.0f}"),
        ("req_per_s", "req/s", "{:.0f}"),
        ("wall_s", "wall s", "{:.2f}"),
        ("connections", "TCP conns", "{:.0f}"),
    ],
    "bulk": [
        ("wall_s_for_n", "wall s (for all N)", "{:.2f}"),
        ("x_ideal", "× ideal", "{:.2f}"),
        ("connections", "TCP conns", "{:.0f}"),
        ("cpu_us_per_req", "client CPU µs/create", "{:.0f}"),
    ],
    "list": [
        ("wall_ms", "wall ms", "{:.0f}"),
        ("cpu_ms", "client CPU ms", "{:.0f}"),
        ("server_requests", "requests", "{:.0f}"),
    ],
    "lazy-bulk": [
        ("rss_growth_mb", "peak RSS growth MB", "{:.1f}"),
        ("wall_s", "wall s", "{:.1f}"),
        ("cpu_us_per_req", "client CPU µs/create", "{:.0f}"),
        ("connections", "TCP conns", "{:.0f}"),
    ],
    "rate-limited": [
        ("wall_s", "wall s", "{:.2f}"),
        ("x_allowed", "× rate-allowed", "{:.2f}"),
        ("throttled", "429s met", "{:.0f}"),
        ("server_requests", "requests", "{:.0f}"),
    ],
    "block-bulk": [
        ("wall_s", "wall s", "{:.3f}"),
        ("connections", "TCP conns", "{:.0f}"),
        ("cpu_us_per_req", "client CPU µs/create", "{:.0f}"),
        ("server_requests", "requests (warm-up incl.)", "{:.0f}"),
    ],
    "block-wait": [
        ("wall_s", "wall s", "{:.3f}"),
        ("x_bound", "× (ideal + settle)", "{:.2f}"),
        ("req_per_volume", "requests/volume", "{:.3f}"),
        ("polls", "poll requests", "{:.0f}"),
        ("connections", "TCP conns", "{:.0f}"),
        ("cpu_us_per_req", "client CPU µs/volume", "{:.0f}"),
    ],
}


def fmt(stat: dict[str, float] | None, spec: str) -> str:
    if stat is None:
        return "–"
    text = spec.format(stat["median"])
    if stat["min"] != stat["max"]:
        text += f" ({spec.format(stat['min'])}–{spec.format(stat['max'])})"
    return text


def scenario_title(name: str, p: dict[str, Any]) -> str:
    if name == "get":
        return f"get: {p['n']} sequential GETs of one volume"
    if name == "concurrent":
        return f"concurrent: {p['n']} GETs, {p['concurrency']} in flight (fixed worker pool)"
    if name == "bulk":
        ideal = p["n"] / p["concurrency"] * p["latency"]
        return (
            f"bulk: {p['n']} creates, {p['concurrency']} in flight, server latency "
            f"{p['latency'] * 1000:.0f} ms (ideal {ideal:.2f} s); official SDK runs "
            f"{p['sdk_n']} creates, wall scaled ×{p['n'] // p['sdk_n']}"
        )
    if name == "list":
        return f"list: {p['seed']} volumes, pages of {p['per_page']}"
    if name == "lazy-bulk":
        return (
            f"lazy-bulk: {p['n']} creates from a generator, concurrency {p['concurrency']}, "
            "zero latency; results kept (BulkResult / list of dicts)"
        )
    if name == "rate-limited":
        return (
            f"rate-limited: {p['n']} creates, server allows {p['rate']:.0f} req/s (bare 429s), "
            f"burst {fake_burst(p['rate'])}, rate-allowed wall "
            f"{rate_allowed(p):.2f} s ((N - burst) / rate); raw aiohttp retries 429 after 50 ms"
        )
    if name == "block-bulk":
        ideal = p["n"] / p["concurrency"] * p["latency"]
        return (
            f"block-bulk: {p['n']} Block volume creates, {p['concurrency']} in flight, server "
            f"latency {p['latency'] * 1000:.0f} ms (ideal {ideal:.2f} s)"
        )
    if name == "block-wait":
        return (
            f"block-wait: {p['n']} Block volume creates with wait=True, {p['concurrency']} in "
            f"flight, {p['latency'] * 1000:.0f} ms per request, {p['block_create_time']:g} s to "
            f"become available (ideal + settle {block_wait_bound(p):.2f} s); requests/volume "
            f"counts the server's responses minus the warm-up; raw aiohttp, the floor, polls "
            f"every volume not yet available once its creates are done, "
            f"{POLL_EVERY * 1000:.0f} ms after each round's answers"
        )
    return name


def code_version() -> dict[str, Any]:
    """Which scaleway_volumes code was measured: commit, and a digest of the sources as run."""
    import hashlib

    import scaleway_volumes  # the code measured (``_common.ROOT`` puts it first on the path)

    package = Path(scaleway_volumes.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    info: dict[str, Any] = {"sources_sha256": digest.hexdigest()[:12]}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(package.parent)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True)
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "scaleway_volumes"], capture_output=True
        )
        if commit.returncode == 0:
            info["commit"] = commit.stdout.decode().strip()
            info["dirty"] = bool(status.stdout.strip())
    return info


def machine_info() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for dist in (
        "scaleway-volumes",
        "httpx",
        "httpcore",
        "aiohttp",
        "httpx-aiohttp",
        "scaleway-async",
        "anyio",
        "sniffio",
        "cattrs",
        "attrs",
    ):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "code": code_version(),
        "cpu_model": model,
        "cores": os.cpu_count(),
        "pinned": bool(TASKSET and (os.cpu_count() or 1) > 1),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def render_markdown(
    info: dict[str, Any],
    params: dict[str, dict],
    stats: dict[str, dict[str, dict[str, dict[str, float]]]],
    targets: list[dict[str, Any]],
    reps: int,
    quick: bool,
) -> str:
    pk = info["packages"]
    out = [
        "# scaleway-volumes benchmark" + (" (quick)" if quick else ""),
        "",
        f"{info['date']} · {info['cpu_model']} · {info['cores']} cores · Python "
        f"{info['python']} · scaleway-volumes {pk['scaleway-volumes']} · httpx {pk['httpx']} "
        f"· aiohttp {pk['aiohttp']} · httpx-aiohttp {pk['httpx-aiohttp']} · scaleway-async "
        f"{pk['scaleway-async']}",
        "",
        "Code measured: commit "
        + str(info["code"].get("commit", "?"))
        + (" + uncommitted changes" if info["code"].get("dirty") else "")
        + f" (scaleway_volumes sources sha256 {info['code']['sources_sha256']}).",
        "",
        f"Median of {reps} interleaved run(s), (min–max). Server and client in separate "
        "processes"
        + (", pinned to cores 1 and 0." if info["pinned"] else " (not pinned).")
        + " Client CPU is the client process's `time.process_time()` around the measured "
        "section.",
        "",
    ]
    for scenario, by_client in stats.items():
        cols = COLUMNS[scenario]
        out.append(f"### {scenario_title(scenario, params[scenario])}")
        out.append("")
        out.append("| client | " + " | ".join(h for _, h, _ in cols) + " |")
        out.append("|---|" + "---|" * len(cols))
        for client, metrics in by_client.items():
            cells = [fmt(metrics.get(key), spec) for key, _, spec in cols]
            out.append(f"| {client} | " + " | ".join(cells) + " |")
        out.append("")
    if targets:
        out.append("### Targets (scaleway-volumes, ratios from this run's medians)")
        out.append("")
        out.append("| scenario | target | measured | result |")
        out.append("|---|---|---|---|")
        for t in targets:
            verdict = "PASS" if t["pass"] else "FAIL"
            out.append(f"| {t['scenario']} | {t['target']} | {t['measured']} | {verdict} |")
        out.append("")
    out.append("Clients: " + "; ".join(f"`{c}`: {n}" for c, n in CLIENT_NOTES.items()) + ".")
    out.append("")
    return "\n".join(out)
