"""What the benchmarks compare against: the rate floors, the fleet's header, the bodies.

Nothing here is timed: the floors are checked against the fake's own token bucket
on a hand-moved clock, the scripts' process plumbing is stubbed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

from scaleway_volumes.testing import FakeScaleway, ManualClock
from scaleway_volumes.testing._bucket import RateBucket

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
MARKER = re.compile(r"scaleway-volumes:create=[0-9a-f]{32}")


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A benchmark script imported by path, its sibling modules importable (as when run)."""
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}_floors", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fastest_wall(rate: float, n: int, burst: int | None) -> float:
    """When the fake's bucket accepts the ``n``-th request of a client that sends greedily
    from a full bucket at t=0: what no client can beat."""
    clock = ManualClock(0.0)
    bucket = RateBucket(clock=clock)
    bucket.rate = rate
    bucket.burst = burst
    accepted = 0
    while True:
        if bucket.take():
            accepted += 1
            if accepted == n:
                return clock()
        else:
            clock.advance(0.0001)


@pytest.mark.parametrize("rate", [20.0, 50.0, 100.0, 155.0, 400.0, 5.0])
def test_fake_burst_is_the_fakes_default(rate: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """``_common.fake_burst`` holds what the fake's bucket holds, default or given."""
    common = load("_common", monkeypatch)
    bucket = RateBucket()
    bucket.rate = rate
    assert common.fake_burst(rate) == bucket.capacity
    bucket.burst = 3
    assert common.fake_burst(rate, 3) == bucket.capacity


def test_run_rate_limited_allowed_wall_is_a_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`rate-limited`'s "x rate-allowed" cannot go under 1 for a client that sends nothing
    the fake refuses; its fake is started without --rate-burst (the default bucket)."""
    run, measure = load("run", monkeypatch), load("_measure", monkeypatch)
    started: list[list[str]] = []

    class Process:
        urls = ("http://stub/instance", "http://stub/block")

        def __init__(self, args: list[str]) -> None:
            started.append(args)

    monkeypatch.setattr(measure, "FakeProcess", Process)
    for quick in (False, True):
        params = run.scenario_params("rate-limited", quick=quick)
        measure.FakeServer(params["latency"], params.get("rate"))
        assert "--rate-burst" not in started[-1]
        floor = fastest_wall(params["rate"], params["n"], None)
        result = {"wall": floor, "cpu": 0.1, "requests": params["n"], "throttled": 0}
        derived = run.derive("rate-limited", "aiohttp", params, result)
        assert 1.0 - 1e-9 <= derived["x_allowed"] <= 1.01, (floor, derived["x_allowed"])
    report = load("_report", monkeypatch)
    title = report.scenario_title("rate-limited", run.scenario_params("rate-limited", quick=False))
    assert "burst 10, rate-allowed wall 2.90 s" in title


class _Server:
    """ratelimit.py's FakeServer (``_rl_procs``), stubbed: records how the fake would have
    been started."""

    started: ClassVar[list[tuple[float, int | None]]] = []
    base_url = "http://stub"

    def __init__(self, rate: float, burst: int | None, latency: float, **_: object) -> None:
        self.started.append((rate, burst))

    def stop(self) -> dict[str, Any]:
        return {"served": 0, "throttled": 0, "phases": []}


@pytest.mark.parametrize(("rate", "burst"), [(400.0, 40), (100.0, 5), (20.0, 1)])
def test_grid_ideal_is_what_the_bucket_allows(
    rate: float, burst: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grid cell judges wall / ideal with the burst its fake was started with: a client
    at the bucket's fastest is at 1.0, not under it (0.97 at 400/s, burst 40, before)."""
    scenarios = load("_rl_scenarios", monkeypatch)
    n = scenarios.grid_n(rate, 300)
    floor = fastest_wall(rate, n, burst)

    class Client:
        def __init__(self, params: dict[str, Any], core: int | None) -> None:
            pass

        def ready(self) -> None:
            pass

        def go(self, base_url: str) -> None:
            pass

        def result(self) -> dict[str, Any]:
            return {"wall": floor, "errors": 0, "created": n, "throttled": 0}

    _Server.started = []
    monkeypatch.setattr(scenarios, "FakeServer", _Server)
    monkeypatch.setattr(scenarios, "Client", Client)
    row = scenarios.run_grid_cell(rate, 0.0, burst, n, {"kind": "adaptive"}, "library")
    assert _Server.started == [(rate, burst)]
    assert row["ideal"] == pytest.approx((n - burst) / rate)
    assert 1.0 - 1e-9 <= row["ratio"] <= 1.01, (floor, row["ratio"])


def test_fleet_ideal_and_header_say_what_was_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--fleet-n 400`: the rows' ideal counts the default burst of the fake they ran
    against, and the table's title gives N, the rate and the burst (not "1000 creates")."""
    rl, scenarios = load("ratelimit", monkeypatch), load("_rl_scenarios", monkeypatch)

    def run_clients(server: object, params: list[dict[str, Any]], cores: object) -> list[Any]:
        floor = fastest_wall(100.0, sum(p["n"] for p in params), None)
        return [{"started": 0.0, "ended": floor, "wall": floor, "errors": 0} for _ in params]

    _Server.started = []
    monkeypatch.setattr(scenarios, "FakeServer", _Server)
    monkeypatch.setattr(scenarios, "run_clients", run_clients)
    argv = "--scenarios fleet --fleet-limiters adaptive --fleet-n 400 --fleet-sizes 2,4"
    args = rl.parse_args(argv.split())
    rows = scenarios.scenario_fleet(args)
    assert _Server.started == [(100.0, None), (100.0, None)]  # the fake's default burst
    assert [r["n"] for r in rows] == [400, 400]
    for row in rows:
        assert row["ideal"] == pytest.approx((400 - 10) / 100)
        assert 1.0 - 1e-9 <= row["ratio"] <= 1.01
    text = rl.markdown({"fleet": rows})
    title = text.splitlines()[0]
    assert "1000 creates" not in title
    assert "N = 400 creates" in title and "100 req/s" in title and "burst 10" in title
    assert "5 ms" in title and "concurrency 16" in title
    assert "| 2 | adaptive | 400 |" in text
    uneven = rl.markdown({"fleet": [rows[0], {**rows[1], "n": 399}]})
    assert "N creates (per row)" in uneven.splitlines()[0]


def test_instance_creates_differ_only_by_the_marker_and_the_readme_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The library's Instance create body is raw aiohttp's plus its create marker tag,
    and benchmarks/README.md says so for the Instance create scenarios too."""
    adapters = load("_adapters", monkeypatch)
    fake = FakeScaleway(adapters.TOKEN)
    bodies: dict[str, list[dict[str, Any]]] = {}
    with fake.serve() as srv:
        for client in ("scaleway-volumes", "aiohttp"):

            async def go(client: str = client) -> None:
                adapter = adapters.make_adapter(client, srv.base_url, "bulk")
                await adapter.start()
                try:
                    await adapter.warm_up()
                    before = len(fake.stats.requests)
                    await adapter.create_many(range(2), 2)
                    sent = fake.stats.requests[before:]
                    bodies[client] = sorted(
                        (json.loads(r.body) for r in sent), key=lambda b: b["name"]
                    )
                finally:
                    await adapter.close()

            asyncio.run(go())
    for ours, raw in zip(bodies["scaleway-volumes"], bodies["aiohttp"], strict=True):
        *tags, marker = ours.pop("tags")
        assert MARKER.fullmatch(marker)
        assert {**ours, "tags": tags} == raw
    readme = (BENCH / "README.md").read_text(encoding="utf-8")
    clients = readme.split("### Clients")[1].split("| client |")[0]
    assert "scaleway-volumes:create=" in clients
    for scenario in ("bulk", "lazy-bulk", "rate-limited", "block-"):
        assert f"`{scenario}" in clients, scenario
