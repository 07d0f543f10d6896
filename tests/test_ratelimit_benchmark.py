"""The rate-limit benchmark's harness (it measures nothing here: it must not rot)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "ratelimit.py"


def load(name: str = "ratelimit") -> ModuleType:
    """The script by path (it puts benchmarks/ on the path), or ``name``, a module beside it."""
    spec = importlib.util.spec_from_file_location("ratelimit_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module if name == "ratelimit" else importlib.import_module(name)


def test_help_runs() -> None:
    """``benchmarks/ratelimit.py --help`` exits 0 and names the scenarios."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "--scenarios" in done.stdout and "--client" in done.stdout


def test_grid_cells_bounds_and_sizes() -> None:
    """The full grid has 5 x 4 x 3 cells (bursts 1, 5, rate/10), 56 distinct ones (at
    50/s, rate/10 is 5), with the bounds and sizes of the issue."""
    bench, scenarios = load(), load("_rl_scenarios")
    args = bench.parse_args([])
    cells = list(scenarios.grid_cells(args))
    assert len(cells) == 56
    assert (20.0, 0.0, 2) in cells and (400.0, 0.1, 40) in cells
    assert scenarios.grid_bound(1, 0.02) == 1.35
    assert scenarios.grid_bound(1, 0.005) == scenarios.grid_bound(5, 0.1) == 1.2
    assert scenarios.grid_n(20, 300) == 300 and scenarios.grid_n(400, 300) == 1200
    quick = list(scenarios.grid_cells(bench.parse_args(["--quick"])))
    assert 0 < len(quick) < 10


def test_markdown_report() -> None:
    """Each scenario renders a table with its verdicts."""
    bench = load()
    report = {
        "grid": [
            {"rate": 100.0, "latency": 0.005, "burst": 5, "n": 300, "wall": 3.1, "ratio": 1.03,
             "bound": 1.2, "throttled": 9, "share": 0.03, "pass": True},
        ],
        "fleet": [
            {"processes": 2, "limiter": "redis", "n": 1000, "concurrency": 16, "rate": 100.0,
             "burst": 10, "latency": 0.005, "wall": 10.1, "ratio": 1.01, "throttled": 20,
             "share": 0.02, "fastest": 10.0, "slowest": 10.1, "fairness": 1.01, "pass": True},
        ],
        "drop": [
            {"before": 200.0, "after": 50.0, "drop_at": 3.0, "n": 900, "wall": 8.5,
             "requests_after": 300, "throttled_after": 40, "share_after": 0.133, "pass": False},
        ],
    }  # fmt: skip
    text = bench.markdown(report)
    assert "| 100 | 5 ms | 5 | 300 | 3.10 s | 1.03 (≤ 1.2) | 9 | 3.0% | PASS |" in text
    assert "| 2 | redis |" in text and "**FAIL**" in text
    assert "1 of 1 cells pass." in text


def test_markdown_report_with_a_fixed_pace_beside() -> None:
    """``--reference``: each cell's fixed-pace run in two more columns, and how many
    failing cells failed with it too (the machine's timing, not the limiter)."""
    bench = load()

    def cell(rate: float, ok: bool, ref_ok: bool) -> dict[str, Any]:
        reference = {"pace": rate * 0.9, "ratio": 1.25, "share": 0.02, "pass": ref_ok}
        return {"rate": rate, "latency": 0.0, "burst": 1, "n": 300, "wall": 3.9, "ratio": 1.3,
                "bound": 1.2, "throttled": 9, "share": 0.03, "pass": ok,
                "reference": reference}  # fmt: skip

    text = bench.markdown({"grid": [cell(100.0, False, True), cell(400.0, False, False)]})
    assert "| 429 share | | fixed pace: wall / ideal, 429 share | |" in text
    assert "| 3.0% | **FAIL** | 90/s: 1.25, 2.0% | PASS |" in text
    assert "| 3.0% | **FAIL** | 360/s: 1.25, 2.0% | **FAIL** |" in text
    assert "Of the 2 failing, 1 fail with the fixed pace too" in text
    assert "the fixed pace passes 1 of 2 cells." in text


def test_reference_runs_each_cell_again_at_a_fixed_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each grid cell runs twice: with the chosen limiter, then one token at SHARE x rate."""
    bench, scenarios = load(), load("_rl_scenarios")
    runs: list[dict[str, Any]] = []

    def run_grid_cell(
        rate: float, latency: float, burst: int, n: int, limiter: dict[str, Any], *rest: object
    ) -> dict[str, Any]:
        runs.append(limiter)
        return {"ratio": 1.1, "share": 0.01, "pass": True, "throttled": 3}

    monkeypatch.setattr(scenarios, "run_grid_cell", run_grid_cell)
    args = bench.parse_args(
        ["--rates", "200", "--latencies", "0", "--bursts", "1", "--reference", "0.9"]
    )
    rows = scenarios.scenario_grid(args)
    assert runs == [{"kind": "adaptive"}, {"kind": "bucket", "rate": 180.0, "burst": 1}]
    assert rows[0]["reference"] == {"pace": 180.0, "ratio": 1.1, "share": 0.01, "pass": True}
    plain = bench.parse_args(["--rates", "200", "--latencies", "0", "--bursts", "1"])
    assert "reference" not in scenarios.scenario_grid(plain)[0]


@pytest.mark.parametrize("share", ["0", "-1", "inf", "nan"])
def test_reference_must_be_a_positive_share(share: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A fixed pace of no rate (or of an infinite one) is refused with a usage error."""
    with pytest.raises(SystemExit):
        load().parse_args(["--reference", share])
    assert "a share of the rate above 0" in capsys.readouterr().err


def test_library_client_creates_through_the_api() -> None:
    """``--client library`` drives AsyncVolumeAPI(rate_limiter=...).create_volumes."""
    import anyio

    from scaleway_volumes import AdaptiveRateLimiter
    from scaleway_volumes.testing import FakeScaleway

    client = load("_rl_client")
    fake = FakeScaleway(client.TOKEN, organization=client.ORG)
    with fake.serve() as server:
        counts = anyio.run(
            client.drive_with_library, server.base_url, AdaptiveRateLimiter(), range(7), 3
        )
    assert counts == {"created": 7, "throttled": 0, "errors": 0}
    assert len(fake.volumes) == 7


def _stub_fleet(monkeypatch: pytest.MonkeyPatch, scenarios: ModuleType) -> list[dict[str, Any]]:
    """No server and no processes in ``scenarios``' fleets: each process's parameters
    are collected in the returned list, and each reports a one-second run."""
    seen: list[dict[str, Any]] = []

    class Server:
        base_url = "http://stub"

        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def stop(self) -> dict[str, object]:
            return {"served": 100, "throttled": 0, "phases": []}

    def run_clients(server: object, params: list[dict[str, Any]], cores: object) -> list[Any]:
        seen.extend(params)
        return [{"started": 0.0, "ended": 1.0, "wall": 1.0, "errors": 0} for _ in params]

    monkeypatch.setattr(scenarios, "FakeServer", Server)
    monkeypatch.setattr(scenarios, "run_clients", run_clients)
    return seen


def test_fleet_processes_run_the_chosen_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fleet process runs ``--client`` (the library by default: its
    ``create_volumes``), not always the reference driver."""
    bench, scenarios = load(), load("_rl_scenarios")
    seen = _stub_fleet(monkeypatch, scenarios)
    for client in ("library", "driver"):
        seen.clear()
        args = bench.parse_args(
            ["--client", client, "--scenarios", "fleet", "--fleet-limiters", "adaptive"]
        )
        scenarios.scenario_fleet(args)
        assert seen and {p["client"] for p in seen} == {client}
    assert bench.parse_args([]).client == "library"


def test_a_traced_cell_records_every_request(tmp_path: Path) -> None:
    """``--trace``: each paced request's send and answer, and a summary that counts them."""
    import json

    import anyio

    from scaleway_volumes import AdaptiveRateLimiter
    from scaleway_volumes.testing import FakeScaleway

    client, tracing = load("_rl_client"), load("_rl_trace")
    fake = FakeScaleway(client.TOKEN, organization=client.ORG)
    limiter = tracing.TracingLimiter(AdaptiveRateLimiter())
    with fake.serve() as server:
        counts = anyio.run(client.drive_with_library, server.base_url, limiter, range(7), 3)
    assert counts == {"created": 7, "throttled": 0, "errors": 0}
    path = tmp_path / "cell.json"
    limiter.write(str(path))
    events = json.loads(path.read_text())["events"]
    assert [event[2] for event in events] == [201] * 7
    assert all(sent <= answered for sent, answered, *_ in events)
    lines = tracing.summary(events)
    sent = sum(int(line.split()[2]) for line in lines if line.endswith("unthrottled"))
    assert sent == 7, lines


def test_a_traced_fleet_gives_each_process_its_trace_and_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``--trace`` and ``--options`` reach every in-process fleet member (one trace
    file each); a Redis fleet's limiter takes no adaptive options."""
    bench, scenarios = load(), load("_rl_scenarios")
    seen = _stub_fleet(monkeypatch, scenarios)
    options = ["--options", '{"tuning": {"calm": 2.0}}', "--trace", str(tmp_path)]
    args = bench.parse_args(
        ["--scenarios", "fleet", "--fleet-limiters", "adaptive", "--fleet-sizes", "2", *options]
    )
    scenarios.scenario_fleet(args)
    assert [p["trace"] for p in seen] == [f"{tmp_path}/fleet-2-adaptive-{i}.json" for i in range(2)]
    assert all(p["limiter"]["options"] == {"tuning": {"calm": 2.0}} for p in seen)
    seen.clear()
    scenarios.run_fleet(2, "redis", 10, 100.0, 0.005, "redis://stub", "library", {"x": 1})
    assert all("options" not in p["limiter"] and "trace" not in p for p in seen)


def test_a_fleets_traces_line_up_on_the_shared_clock() -> None:
    """``_rl_trace.py --fleet``: a process started later has its times shifted by
    the difference, so each step shows what every process did in it."""
    tracing = load("_rl_trace")
    first = {"started": 100.0, "events": [[0.1, 0.2, 201, 10.0, "holding", None, None]]}
    later = {"started": 100.5, "events": [[0.1, 0.2, 429, 5.0, "holding", None, None]]}
    lines = tracing.fleet_summary([first, later])
    assert lines[0] == "process ends: 0: 0.20 s  1: 0.70 s"
    steps = lines[2:]
    assert steps[0].split() == ["0.0", "s", "1/0", "10", "0/0", "-"]
    assert steps[1].split() == ["0.5", "s", "0/0", "10", "1/1", "5"]
