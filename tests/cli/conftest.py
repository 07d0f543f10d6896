from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner, Result

from scaleway_volumes.cli import build_cli
from scaleway_volumes.cli._constants import FAKE_TOKEN
from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway, FakeServer

ENV = (
    "SCW_SECRET_KEY",
    "SCW_DEFAULT_ZONE",
    "SCW_DEFAULT_ORGANIZATION_ID",
    "SCW_DEFAULT_PROJECT_ID",
    "SCW_API_URL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real Scaleway settings must never leak into these tests.
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


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
