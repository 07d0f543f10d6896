"""Ctrl-C during a single create (no --count): say what it made, or that it may exist.

A single create runs as a bulk call of one, so that when Ctrl-C cancels it the
library finds out what it did (the volume its marker tag finds, or an error
carrying that tag) and the command says so, with the bulk path's hint for an
outcome-unknown item; the exit status stays 130.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scaleway_volumes import APIConnectionError, AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes.testing import FAKE_ORGANIZATION, FAKE_TOKEN, FakeScaleway, Fault

from .conftest import Invoker

COMMANDS = {"instance": ["create"], "block": ["block", "create"]}
LISTINGS = {"instance": "scaleway-volumes list", "block": "scaleway-volumes block list"}
MARKER = "scaleway-volumes:create=" + "ab" * 16


def _env(config: Path) -> dict[str, str]:
    # A developer's real Scaleway settings must not reach the process.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCW_")}
    env["SCW_CONFIG_PATH"] = str(config)
    return env


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _ctrl_c_create(
    fake: FakeScaleway, api: str, when: Callable[[], bool], config: Path
) -> tuple[int, str]:
    """Run a single create in a real process, send SIGINT once ``when()``; (status, stderr)."""
    with fake.serve() as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "scaleway_volumes", "--base-url", server.base_url,
             "--token", FAKE_TOKEN, "--organization", FAKE_ORGANIZATION,
             *COMMANDS[api], "--name", "db", "--size", "10GB"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, env=_env(config),
            # As from a terminal: a test run in the background ignores SIGINT.
            preexec_fn=_default_sigint,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not when() and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr


def _stored(fake: FakeScaleway, api: str) -> list[dict[str, Any]]:
    return list(fake.volumes) if api == "instance" else fake.block.volumes()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
@pytest.mark.parametrize("api", ["instance", "block"])
def test_ctrl_c_after_the_create_landed_names_the_volume(api: str, tmp_path: Path) -> None:
    """The API made the volume but had not answered: its marker finds it, stderr names it."""
    fake = FakeScaleway(token=FAKE_TOKEN)
    fake.add_fault(Fault("act_then_delay", method="POST", path=r"/volumes$", delay=30))
    config = tmp_path / "absent.yaml"
    status, stderr = _ctrl_c_create(fake, api, lambda: bool(_stored(fake, api)), config)
    [volume] = _stored(fake, api)
    assert status == 130, stderr
    assert stderr.strip() == f"interrupted: created {volume['id']} db"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
@pytest.mark.parametrize("api", ["instance", "block"])
def test_ctrl_c_before_the_create_is_visible_gives_its_marker(api: str, tmp_path: Path) -> None:
    """The create is in flight and nothing carries its marker yet: it may still land, so
    stderr says so and the hint lists that marker with the command's own listing."""
    fake = FakeScaleway(token=FAKE_TOKEN)
    slow = Fault("delay", method="POST", path=r"/volumes$", delay=30)
    fake.add_fault(slow)
    status, stderr = _ctrl_c_create(fake, api, lambda: slow.hits > 0, tmp_path / "absent.yaml")
    assert status == 130, stderr
    error, advice = stderr.strip().splitlines()
    assert error.startswith("interrupted while creating db: ")
    assert "it may exist: it carries the tag 'scaleway-volumes:create=" in error
    tag = error.split("carries the tag '")[1].split("'")[0]
    assert advice == (
        f"hint: It may have been created anyway: list what carries the tag {tag} "
        f"({LISTINGS[api]} --tag {tag}) before trying again, or you may get two."
    )


def _interrupt_create(monkeypatch: pytest.MonkeyPatch, api: type[Any], report: bool) -> None:
    """``api.create_volumes`` reports an outcome-unknown item (if ``report``), then Ctrl-C."""

    async def interrupted(self: Any, specs: Any, **kwargs: Any) -> Any:
        [spec] = list(specs)
        if report:
            error = APIConnectionError(
                f"cancelled while creating volume {spec.name!r}; it may exist: "
                f"it carries the tag {MARKER!r}",
                outcome_unknown=True,
                marker_tag=MARKER,
            )
            kwargs["on_item"](0, spec, error)
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "create_volumes", interrupted)


@pytest.mark.parametrize("api", ["instance", "block"])
def test_json_ctrl_c_is_one_failure_with_the_hint(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch, api: str
) -> None:
    """With --json: one failure object on stderr, the marker hint in it, exit 130."""
    _interrupt_create(monkeypatch, AsyncVolumeAPI if api == "instance" else AsyncBlockAPI, True)
    result = invoke("--fake", "--json", *COMMANDS[api], "--name", "db", "--size", "10GB")
    assert result.exit_code == 130
    assert result.stdout == ""
    failure = json.loads(result.stderr)
    assert failure["exit_code"] == 130
    assert failure["error"].startswith("interrupted while creating db: cancelled while creating")
    assert f"({LISTINGS[api]} --tag {MARKER})" in failure["hint"]


def test_ctrl_c_before_any_create_is_plain(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing under way (no item reported): just "interrupted", exit 130."""
    _interrupt_create(monkeypatch, AsyncBlockAPI, False)
    result = invoke("--fake", "block", "create", "--name", "db", "--size", "10GB", "--wait")
    assert result.exit_code == 130
    assert result.stderr == "interrupted\n"


def test_json_ctrl_c_after_the_create_gives_the_id(
    invoke: Invoker, fake: FakeScaleway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The volume was made (and reported) when Ctrl-C came: --json gives its id as "id"."""

    async def interrupted(self: AsyncBlockAPI, specs: Any, **kwargs: Any) -> Any:
        [spec] = list(specs)
        kwargs["on_item"](0, spec, await self.create_volume(name=spec.name, size=spec.size))
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncBlockAPI, "create_volumes", interrupted)
    result = invoke.remote("--json", "block", "create", "--name", "db", "--size", "10GB")
    assert result.exit_code == 130
    [volume] = fake.block.volumes()
    failure = json.loads(result.stderr)
    assert failure["error"] == f"interrupted: created {volume['id']} db"
    assert failure["id"] == volume["id"]
