"""The benchmark harness runs (a smoke run: it measures nothing here, it must not rot)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_runs(tmp_path: Path) -> None:
    """`benchmarks/run.py --quick` exits 0 and writes its table and JSON."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--quick",
            "--scenarios",
            "get",
            "--clients",
            "scaleway-volumes,aiohttp",
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
    assert done.returncode == 0, done.stderr[-2000:]
    table = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert "| scaleway-volumes |" in table
    assert (tmp_path / "latest.json").is_file()
