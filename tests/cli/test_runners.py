"""The shared runners, through the commands that use them."""

from __future__ import annotations

import pytest

from scaleway_volumes.testing import FakeScaleway

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


def test_one_target_needs_no_terminal(invoke: Invoker, fake: FakeScaleway) -> None:
    """A single match is deleted without asking, even with stdin off a terminal."""
    fake.add_volume("solo-1")
    result = invoke.remote("delete", "--name-prefix", "solo-")
    assert result.exit_code == 0, result.stderr
    assert fake.volumes == []
