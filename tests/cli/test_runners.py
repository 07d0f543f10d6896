"""The shared runners, through the commands that use them."""

from __future__ import annotations

import io
import json

import pytest

from scaleway_volumes.testing import FAKE_TOKEN, FakeScaleway

from .conftest import Invoker


@pytest.fixture
def terminal_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the confirmation believe stdin is a terminal."""
    monkeypatch.setattr("scaleway_volumes.cli._runners.stdin_is_interactive", lambda: True)


@pytest.mark.usefixtures("terminal_stdin")
def test_confirmation_shows_ten_then_counts_the_rest(invoke: Invoker, fake: FakeScaleway) -> None:
    """Asking about 12 volumes lists the first ten by id and name, then '... and 2 more'."""
    volumes = [fake.add_volume(f"v{i:02}") for i in range(12)]
    result = invoke.remote("delete", "--name-prefix", "v", input="n\n")
    assert result.exit_code == 1
    listed = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert listed[:10] == [f"  {v['id']} {v['name']}" for v in volumes[:10]]
    assert listed[10] == "  ... and 2 more"
    assert "Delete these 12 volumes? [y/N]" in result.stderr
    assert len(fake.volumes) == 12


class _CtrlC(io.RawIOBase):
    """A terminal whose user presses Ctrl-C at the first read."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        raise KeyboardInterrupt


@pytest.mark.usefixtures("terminal_stdin")
@pytest.mark.parametrize("as_json", [False, True])
def test_ctrl_c_at_the_confirmation_exits_130(
    invoke: Invoker, fake: FakeScaleway, as_json: bool
) -> None:
    """click turns Ctrl-C at a prompt into 'Aborted!' (exit 1): it is a Ctrl-C like any other."""
    for i in range(2):
        fake.add_volume(f"v{i}")
    args = ["--base-url", invoke.server.base_url, "--token", FAKE_TOKEN]
    args += ["--json"] if as_json else []
    stdin = io.BufferedReader(_CtrlC())
    result = invoke.runner.invoke(invoke.cli, [*args, "delete", "--name-prefix", "v"], input=stdin)
    assert result.exit_code == 130, result.stderr
    assert "Aborted!" not in result.stderr
    last = result.stderr.splitlines()[-1]
    if as_json:
        assert json.loads(last) == {"error": "interrupted", "hint": None, "exit_code": 130}
    else:
        assert last == "interrupted"
    assert len(fake.volumes) == 2


@pytest.mark.usefixtures("terminal_stdin")
def test_end_of_input_at_the_confirmation_deletes_nothing(
    invoke: Invoker, fake: FakeScaleway
) -> None:
    """Ctrl-D (no answer) is a no: 'nothing deleted', exit 1, not click's 'Aborted!'."""
    for i in range(2):
        fake.add_volume(f"v{i}")
    result = invoke.remote("delete", "--name-prefix", "v", input="")
    assert result.exit_code == 1
    assert "Aborted!" not in result.stderr
    assert result.stderr.splitlines()[-1] == "Error: nothing deleted"
    assert len(fake.volumes) == 2


def test_one_target_needs_no_terminal(invoke: Invoker, fake: FakeScaleway) -> None:
    """A single match is deleted without asking, even with stdin off a terminal."""
    fake.add_volume("solo-1")
    result = invoke.remote("delete", "--name-prefix", "solo-")
    assert result.exit_code == 0, result.stderr
    assert fake.volumes == []
