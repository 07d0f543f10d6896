from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scaleway_volumes import AsyncBlockAPI
from scaleway_volumes.testing import (
    FAKE_ORGANIZATION,
    FAKE_TOKEN,
    FakeScaleway,
    Fault,
    quotas_exceeded_body,
)

from .conftest import Invoker, error_lines, spy_concurrency

SUMMARY_KEYS = (
    "created",
    "waited",
    "listed",
    "snapshot",
    "resized",
    "deleted",
    "failed",
    "total",
    "requests",
    "connections",
    "429s",
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCW_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_demo(invoke: Invoker) -> None:
    """The Block tour: every phase reported, one line each, progress on stderr."""
    result = invoke("demo", "--count", "20", "--latency", "0.005", "--settle-time", "0.05")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(SUMMARY_KEYS)
    assert lines[0].startswith("created     20/20 Block volumes, available in ")
    assert lines[2].startswith("listed      20 in ")
    assert lines[3].startswith("snapshot    1 taken and available in ")
    assert lines[4].startswith("resized     1 (10 GB -> 20 GB) in ")
    assert lines[5].startswith("deleted     20/20 volumes and 1/1 snapshot in ")
    assert lines[6] == "failed      0"
    assert "Block Storage volumes" in result.stderr.splitlines()[0]
    assert "create+wait: 20/20 done, 0 failed" in result.stderr
    assert "delete: 20/20 done, 0 failed" in result.stderr


@pytest.mark.usefixtures("scw_settings_everywhere")
def test_demo_ignores_the_users_settings(invoke: Invoker) -> None:
    """The tour is offline: no SCW_* variable or config file (even a broken one) reaches it."""
    result = invoke("--json", "demo", "--count", "3", "--latency", "0", "--settle-time", "0")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["ok"], report["created"], report["deleted"], report["failed"]) == (True, 3, 3, 0)


def test_demo_json_under_a_tight_rate_limit(invoke: Invoker) -> None:
    """The JSON report: every phase done, requests by kind adding up, each 429 met resent.

    Whether any 429 comes depends on how fast this host sends (the fake allows 200
    req/s): the report's counts must agree either way, never a count of 429s."""
    result = invoke(
        "--json", "demo", "--count", "40", "--latency", "0", "--rate-limit", "200",
        "--concurrency", "16", "--settle-time", "0.05",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["created"] == report["listed"] == report["deleted"] == 40
    assert report["snapshots"] == report["deleted_snapshots"] == report["resized"] == 1
    assert report["resized_to"] == 20 * 10**9
    assert report["failed"] == 0
    kinds = report["requests_by_kind"]
    assert sum(kinds.values()) == report["requests"]
    # Each create and delete (40 volumes, 1 snapshot) once, plus a resend per 429 met.
    assert kinds["create"] + kinds["delete"] >= 40 + 41
    assert kinds["create"] + kinds["delete"] <= 40 + 41 + report["server_throttled"]
    # The wait watched 40 volumes with a few batched lists, not a GET per volume.
    assert 1 <= kinds["poll"] < 40
    assert report["server_throttled"] >= report["throttled"] >= 0
    assert set(report["seconds"]) == {"create", "list", "snapshot", "resize", "delete", "total"}


def test_demo_without_rate_limit_or_settle_time(invoke: Invoker) -> None:
    """No limit: no 429; nothing to wait for: each volume seen available by the first poll."""
    result = invoke(
        "--json", "demo", "--count", "10", "--latency", "0", "--rate-limit", "0",
        "--settle-time", "0",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["throttled"] == report["server_throttled"] == 0
    assert report["requests_by_kind"]["create"] == report["requests_by_kind"]["delete"] - 1 == 10


@pytest.mark.parametrize(
    "option", [["--rate-limit", "inf"], ["--settle-time", "nan"], ["--latency", "nan"]]
)
def test_demo_non_finite_option_is_a_usage_error(invoke: Invoker, option: list[str]) -> None:
    """click's FloatRange takes inf and nan: --rate-limit inf was a traceback from the fake."""
    result = invoke("demo", "--count", "2", "--latency", "0", *option)
    assert result.exit_code == 2, result.stderr
    assert f"Invalid value for '{option[0]}'" in result.stderr
    assert "not a finite number" in result.stderr


def test_demo_asks_for_no_more_workers_than_volumes(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a generator, the library starts a worker per --concurrency slot: cap it at --count."""
    seen = spy_concurrency(monkeypatch, AsyncBlockAPI)
    args = ("--count", "2", "--latency", "0", "--settle-time", "0", "--concurrency", "100000")
    result = invoke("demo", *args)
    assert result.exit_code == 0, result.stderr
    assert seen == [2]


def test_demo_reports_a_failed_phase(invoke: Invoker, demo_faults: Callable[..., None]) -> None:
    """A step that fails: its line on stderr, the summary still printed, then Error and exit 1."""
    body = quotas_exceeded_body({"resource": "block_snapshots", "quota": 0, "current": 0})
    demo_faults(Fault("respond", method="POST", path="/snapshots$", status=403, body=body))
    result = invoke("demo", "--count", "3", "--latency", "0", "--settle-time", "0")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[3] == "snapshot    0 taken and available (failed)"
    assert lines[5].startswith("deleted     3/3 volumes and 0/0 snapshot")
    assert lines[6] == "failed      1"
    assert re.search(r"^failed to snapshot \S+ demo-0: 403", result.stderr, re.MULTILINE)
    error, hint = error_lines(result.stderr)
    assert error == "Error: the demo did not go through cleanly (see above)"
    assert hint is not None and hint.startswith(
        "hint: The quota block_snapshots (0 of 0 used) is full"
    )


@pytest.mark.slow
def test_demo_subprocess() -> None:
    """`python -m scaleway_volumes demo` with its defaults: the Block tour, 0 failed."""
    process = subprocess.run(
        [sys.executable, "-m", "scaleway_volumes", "demo", "--count", "50"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(SUMMARY_KEYS)
    assert lines[0].startswith("created     50/50 Block volumes, available in ")
    assert lines[5].startswith("deleted     50/50 volumes and 1/1 snapshot in ")
    assert lines[6] == "failed      0"
    assert "TCP connections opened" in lines[9]
    assert "create+wait: 50/50 done, 0 failed" in process.stderr
    assert "Traceback" not in process.stderr


def test_missing_extra_gives_a_hint() -> None:
    code = (
        "import sys; sys.modules['click'] = None\n"
        "from scaleway_volumes.cli import main\n"
        "main(['list'])\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=_env()
    )
    assert process.returncode == 2
    [line] = process.stderr.splitlines()
    assert "pip install 'scaleway-volumes[cli]'" in line


def test_library_does_not_import_the_cli() -> None:
    code = "import sys, scaleway_volumes\nassert 'scaleway_volumes.cli' not in sys.modules\n"
    # (click and rich may still show up: httpx imports them for its own CLI when present.)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30, env=_env())


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
def test_ctrl_c_during_bulk_create_reports_what_was_done() -> None:
    fake = FakeScaleway(token=FAKE_TOKEN, latency=0.05)
    with fake.serve() as server:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "scaleway_volumes", "--base-url", server.base_url,
                "--token", FAKE_TOKEN, "--organization", FAKE_ORGANIZATION,
                "create", "--name-prefix", "c-", "--count", "400", "--size", "1GB",
                "--concurrency", "4",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            # As from a terminal: a test run started in the background (``cmd &``
            # in a script) ignores SIGINT, and a child would inherit that.
            preexec_fn=_default_sigint,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while len(fake.volumes) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        stored = {v["id"] for v in fake.volumes}
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted: created " in stderr
    reported = {line.split()[1] for line in stderr.splitlines() if line.startswith("  created ")}
    unknown = [line for line in stderr.splitlines() if line.startswith("  outcome unknown")]
    assert reported
    # Every volume that exists was reported, as created or as outcome-unknown.
    assert reported <= stored
    assert len(stored - reported) <= len(unknown)
    assert len(stored) < 400


@pytest.mark.slow
def test_library_warnings_stay_out_of_the_json_failure(tmp_path: Path) -> None:
    """In a real process (no pytest log capture), a warning the library logs while the
    command runs (a poll that failed after its retries, 3.5 s of backoff, which the
    wait goes on after) does not reach stderr: with `--json` a failure is the one JSON
    object there, as documented."""
    fake = FakeScaleway(token=FAKE_TOKEN)
    volume = fake.block.add_volume("w", status="creating")
    fake.add_fault(Fault("respond", method="GET", status=503, times=None))
    env = {**_env(), "SCW_CONFIG_PATH": str(tmp_path / "absent.yaml")}
    with fake.serve() as server:
        process = subprocess.run(
            [sys.executable, "-m", "scaleway_volumes", "--base-url", server.base_url,
             "--token", FAKE_TOKEN, "--organization", FAKE_ORGANIZATION, "--json",
             "block", "get", volume["id"], "--wait", "--wait-timeout", "4"],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
    assert process.returncode == 1, process.stderr
    assert "error" in json.loads(process.stderr)
