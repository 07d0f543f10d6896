"""The benchmark harness runs (a smoke run: it measures nothing here, it must not rot)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def run_quick(tmp_path: Path, scenarios: str, clients: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--quick",
            "--scenarios",
            scenarios,
            "--clients",
            clients,
            "--reps",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/NAME.py imported as a module (its siblings importable, as when run)."""
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name.lstrip('_')}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench_run(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/run.py imported as a module (its siblings importable, as when run)."""
    return load("run", monkeypatch)


@pytest.mark.slow
def test_quick_benchmark_runs(tmp_path: Path) -> None:
    """`benchmarks/run.py --quick` exits 0 and writes its table and JSON."""
    done = run_quick(tmp_path, "get", "scaleway-volumes,aiohttp")
    assert done.returncode == 0, done.stderr[-2000:]
    table = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert "| scaleway-volumes |" in table
    assert (tmp_path / "latest.json").is_file()


@pytest.mark.slow
def test_quick_block_scenarios_run(tmp_path: Path) -> None:
    """block-bulk and block-wait run in quick mode: each create reaches the server once."""
    done = run_quick(tmp_path, "block-bulk,block-wait", "scaleway-volumes,aiohttp")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    n = report["params"]["block-bulk"]["n"]
    runs = report["runs"]
    # Server truth: n creates plus the warm-up list, for the library and raw aiohttp alike.
    assert runs["block-bulk"]["scaleway-volumes"][0]["server_requests"] == n + 1
    assert runs["block-bulk"]["aiohttp"][0]["server_requests"] == n + 1
    assert list(runs["block-wait"]) == ["scaleway-volumes", "aiohttp"]
    for client in ("scaleway-volumes", "aiohttp"):
        polls = report["stats"]["block-wait"][client]["polls"]["median"]
        assert polls >= 1  # volumes took 0.2 s to settle: both had to poll
    rows = {(t["scenario"], t["target"].split(" ")[0]) for t in report["targets"]}
    assert {("block-bulk", "wall"), ("block-bulk", "TCP"), ("block-wait", "wall")} <= rows
    assert ("block-wait", "requests") in rows
    aims = [t["target"] for t in report["targets"] if t["scenario"] == "block-wait"]
    assert any(target.endswith(" aiohttp (aim)") for target in aims)
    table = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert "### block-bulk: " in table and "### block-wait: " in table


@pytest.mark.slow
def test_fake_server_serves_block_with_a_create_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """FakeServer reads the Block URL and passes --block-create-time: a new volume is creating."""
    common = load("_common", monkeypatch)
    server = load("_measure", monkeypatch).FakeServer(0.0, None, block_create_time=30.0)
    try:
        assert server.block_base_url.endswith("/block/v1/zones/fr-par-1")
        body = json.dumps(
            {"name": "b", "project_id": common.ORG, "from_empty": {"size": 10**10}}
        ).encode()
        headers = {"X-Auth-Token": common.TOKEN, "Content-Type": "application/json"}
        url = server.block_base_url + "/volumes"
        request = urllib.request.Request(url, data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            volume_id = json.loads(response.read())["id"]
        get = urllib.request.Request(f"{url}/{volume_id}", headers=headers)
        with urllib.request.urlopen(get, timeout=10) as response:
            assert json.loads(response.read())["status"] == "creating"
    finally:
        stats = server.stop()
    assert stats["served"] == 2


def test_block_wait_counts_requests_per_volume_without_the_warm_up(bench_run: ModuleType) -> None:
    """derive() subtracts the warm-up from the server's count; the targets judge the medians."""
    params = bench_run.scenario_params("block-wait", quick=False)
    n = params["n"]
    result: dict[str, Any] = {"wall": 0.7, "cpu": 0.2, "requests": n}
    result.update(server_requests=n + 1 + 30, connections=50)
    derived = bench_run.derive("block-wait", "scaleway-volumes", params, result)
    assert derived["polls"] == 30
    assert derived["req_per_volume"] == (n + 30) / n
    ideal = n / params["concurrency"] * params["latency"] + params["block_create_time"]
    assert derived["x_bound"] == pytest.approx(0.7 / ideal)

    def stats_of(d: dict[str, float]) -> dict[str, Any]:
        return {
            "block-wait": {"scaleway-volumes": {k: bench_run.summarize([v]) for k, v in d.items()}}
        }

    verdicts = {
        t["target"].split(" ")[0]: t["pass"]
        for t in bench_run.compute_targets(stats_of(derived), {"block-wait": params})
    }
    assert verdicts == {"wall": True, "requests": True}  # 0.7 s is 1.17x the 0.6 s ideal
    slow = bench_run.derive("block-wait", "scaleway-volumes", params, {**result, "wall": 2.0})
    chatty = {**slow, "req_per_volume": 1.6}
    verdicts = {
        t["target"].split(" ")[0]: t["pass"]
        for t in bench_run.compute_targets(stats_of(chatty), {"block-wait": params})
    }
    assert verdicts == {"wall": False, "requests": False}


def test_block_bulk_wall_target_compares_with_raw_aiohttp(bench_run: ModuleType) -> None:
    """block-bulk passes at wall <= 1.15x raw aiohttp's and <= 50 connections, fails past them."""
    params = {"block-bulk": bench_run.scenario_params("block-bulk", quick=False)}

    def verdicts(ours: float, conns: int) -> dict[str, bool]:
        stats = {
            "block-bulk": {
                "scaleway-volumes": {
                    "wall_s": bench_run.summarize([ours]),
                    "connections": bench_run.summarize([conns]),
                },
                "aiohttp": {"wall_s": bench_run.summarize([1.0])},
            }
        }
        return {
            t["target"].split(" ")[0]: t["pass"] for t in bench_run.compute_targets(stats, params)
        }

    assert verdicts(1.15, 50) == {"wall": True, "TCP": True}
    assert verdicts(1.16, 51) == {"wall": False, "TCP": False}
