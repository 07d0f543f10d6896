# ruff: noqa: RUF001  (the printout is for people: its symbols are meant)
"""``run.py --profile SCENARIO``: scaleway-volumes under cProfile, and where its CPU goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _measure import run_one
from _scenarios import scenario_params


def _package_of(filename: str) -> str:
    """Which package a profiled function belongs to (by its file path)."""
    if filename == "~" or filename.startswith("<"):
        return "built-ins (C functions)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        i = parts.index("site-packages")
        if i + 1 < len(parts):
            return parts[i + 1].removesuffix(".py")
    for i, part in enumerate(parts):
        if part.startswith("python3") and i + 1 < len(parts):
            return "stdlib:" + parts[i + 1].removesuffix(".py")
    if "scaleway_volumes" in parts:
        return "scaleway_volumes"
    return "other:" + Path(filename).name


def profile_main(scenario: str, quick: bool, out_dir: Path) -> int:
    """Run scaleway-volumes once plain and once under cProfile; print where its CPU goes."""
    import pstats

    params = scenario_params(scenario, quick)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{scenario}.prof"
    plain = run_one("scaleway-volumes", scenario, params)
    profiled = run_one("scaleway-volumes", scenario, params, profile=str(path))
    requests = plain["requests"]
    per_req = plain["cpu"] / requests * 1e6  # the shares below are applied to this
    print(
        f"scaleway-volumes / {scenario}: {plain['cpu'] / requests * 1e6:.0f} µs CPU per request "
        f"unprofiled, {profiled['cpu'] / requests * 1e6:.0f} µs under cProfile; "
        f"profile saved to {path}"
    )
    st = pstats.Stats(str(path))
    raw_stats: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw_stats.values()) or 1.0
    by_package: dict[str, float] = {}
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw_stats.items():
        package = _package_of(filename)
        by_package[package] = by_package.get(package, 0.0) + tottime
        rows.append((filename, line, func, ncalls, tottime, cumtime, package))
    print("\nOwn CPU time by package (share of the profiled CPU; µs = share × unprofiled):")
    for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {seconds / total:6.1%}  {seconds / total * per_req:7.1f} µs/req  {package}")

    def show(title: str, selected: list[tuple], key: int, limit: int) -> None:
        print(f"\n{title}")
        print("   own%   cum%   calls/req  function")
        for filename, line, func, ncalls, tottime, cumtime, _pkg in sorted(
            selected, key=lambda r: -r[key]
        )[:limit]:
            where = f"{Path(filename).name}:{line}" if line else filename
            print(
                f"  {tottime / total:5.1%} {cumtime / total:6.1%} {ncalls / requests:10.1f}"
                f"  {func} ({where})"
            )

    own = [r for r in rows if r[6] == "scaleway_volumes"]
    show("scaleway_volumes functions by cumulative time:", own, 5, 20)
    show("All functions by own time:", rows, 4, 30)
    return 0
