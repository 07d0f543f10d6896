from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from scaleway_volumes.cli import build_cli
from scaleway_volumes.testing import FAKE_ORGANIZATION, FAKE_TOKEN, FakeScaleway, FakeServer, Fault

ENV = (
    "SCW_SECRET_KEY",
    "SCW_ACCESS_KEY",
    "SCW_DEFAULT_ZONE",
    "SCW_DEFAULT_REGION",
    "SCW_DEFAULT_ORGANIZATION_ID",
    "SCW_DEFAULT_PROJECT_ID",
    "SCW_API_URL",
    "SCW_PROFILE",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A developer's real Scaleway settings, file included, must never leak into these tests.
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCW_CONFIG_PATH", str(tmp_path / "absent-config.yaml"))


def error_lines(stderr: str) -> tuple[str, str | None]:
    """The failure a command printed last: its ``Error:`` line, then its ``hint:`` line or None.

    Fails the test on a traceback or when the last lines are not these.
    """
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    assert lines, "no error printed"
    if lines[-1].startswith("hint: "):
        assert len(lines) >= 2 and lines[-2].startswith("Error: "), stderr
        return lines[-2], lines[-1]
    assert lines[-1].startswith("Error: "), stderr
    return lines[-1], None


def one_error_line(stderr: str) -> str:
    """The ``Error:`` line a failed command printed (a ``hint:`` line may follow it)."""
    return error_lines(stderr)[0]


@pytest.fixture(scope="session")
def cli() -> click.Group:
    return build_cli()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


class Invoker:
    """Runs the CLI in-process, either with --fake or against ``server``."""

    def __init__(self, runner: CliRunner, cli: click.Group, server: FakeServer) -> None:
        self.runner = runner
        self.cli = cli
        self.server = server

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(self.cli, list(args), input=input, catch_exceptions=False)

    def remote(self, *args: str, input: str | None = None) -> Result:
        """Against the test's fake, whose state outlives one invocation."""
        base = ["--base-url", self.server.base_url, "--token", FAKE_TOKEN]
        base += ["--organization", FAKE_ORGANIZATION]
        return self(*base, *args, input=input)


@pytest.fixture
def fake() -> FakeScaleway:
    return FakeScaleway(token=FAKE_TOKEN)


@pytest.fixture
def server(fake: FakeScaleway) -> Iterator[FakeServer]:
    with fake.serve() as srv:
        yield srv


@pytest.fixture
def invoke(runner: CliRunner, cli: click.Group, server: FakeServer) -> Invoker:
    return Invoker(runner, cli, server)


@pytest.fixture
def demo_faults(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``demo_faults(Fault(...), ...)``: the fake the demo builds will have these faults."""
    faults: list[Fault] = []

    class FaultyFake(FakeScaleway):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for fault in faults:
                self.add_fault(fault)

    monkeypatch.setattr("scaleway_volumes.cli._demo.FakeScaleway", FaultyFake)
    return lambda *added: faults.extend(added)


def spy_concurrency(monkeypatch: pytest.MonkeyPatch, api: type[Any]) -> list[int]:
    """The ``concurrency`` each ``api.create_volumes`` call gets, in order (the call
    still runs)."""
    seen: list[int] = []
    original = api.create_volumes

    async def spy(self: Any, specs: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["concurrency"])
        return await original(self, specs, **kwargs)

    monkeypatch.setattr(api, "create_volumes", spy)
    return seen
