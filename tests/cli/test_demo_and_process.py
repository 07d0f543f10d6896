from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from scaleway_volumes.cli._constants import FAKE_TOKEN
from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway

from .conftest import Invoker

SUMMARY_KEYS = (
    "created",
    "listed",
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
    result = invoke("demo", "--count", "20", "--latency", "0.005")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(SUMMARY_KEYS)
    assert lines[0].startswith("created     20/20 in ")
    assert lines[1].startswith("listed      20 in ")
    assert lines[2].startswith("resized     1 (10 GB -> 20 GB)")
    assert lines[3].startswith("deleted     20/20 in ")
    assert lines[4] == "failed      0"
    assert "create: 20/20 done" in result.stderr
    assert "delete: 20/20 done" in result.stderr


def test_demo_json_under_a_tight_rate_limit(invoke: Invoker) -> None:
    result = invoke(
        "--json", "demo", "--count", "40", "--latency", "0", "--rate-limit", "200",
        "--concurrency", "16",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["created"] == report["listed"] == report["deleted"] == 40
    assert report["failed"] == 0
    # 40 creates + 1 list page + 1 resize + 40 deletes, plus one resend per 429.
    assert report["requests"] == 82 + report["retries"]
    assert report["retries"] >= report["throttled"] > 0
    # The bulk calls' 429s, and any met by the single list and resize calls.
    assert report["server_throttled"] >= report["throttled"]
    assert set(report["seconds"]) == {"create", "list", "resize", "delete", "total"}


def test_demo_without_rate_limit(invoke: Invoker) -> None:
    result = invoke("--json", "demo", "--count", "10", "--latency", "0", "--rate-limit", "0")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["throttled"] == report["server_throttled"] == 0
    assert report["retries"] == 0


@pytest.mark.slow
def test_demo_subprocess() -> None:
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
    assert lines[0].startswith("created     50/50 in ")
    assert lines[3].startswith("deleted     50/50 in ")
    assert lines[4] == "failed      0"
    assert "TCP connections opened" in lines[7]
    assert "create: 50/50 done, 0 failed" in process.stderr
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
