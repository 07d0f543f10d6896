"""Fixtures shared by the whole suite."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

import scaleway_volumes
from scaleway_volumes.testing import FakeScaleway, FakeServer

# Hypothesis's 200 ms per example is a timing: on a shared 2-core box running
# three suites at once a pure function's example can take longer (met beside a benchmark).
settings.register_profile("untimed", deadline=None)
settings.load_profile("untimed")

TOKEN = "11111111-2222-3333-4444-555555555555"
ORG = "000a115d-2852-4b0a-9ce8-47f1134ba95a"
BASE = "https://api.scaleway.com/instance/v1/zones/fr-par-1"


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """No SCW_* variable from the developer's shell leaks into a test."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SCW_")}
    for key in saved:
        del os.environ[key]
    yield
    for key in [k for k in os.environ if k.startswith("SCW_")]:
        del os.environ[key]
    os.environ.update(saved)


@pytest.fixture
def scw_settings_everywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine set up for Scaleway, badly: a broken config file, an absent
    profile, a zone, a project and a secret key in ``SCW_*`` variables."""
    broken = tmp_path / "config.yaml"
    broken.write_text("profiles: [not, a, mapping]\n")
    monkeypatch.setenv("SCW_CONFIG_PATH", str(broken))
    monkeypatch.setenv("SCW_PROFILE", "absent")
    monkeypatch.setenv("SCW_DEFAULT_ZONE", "nl-ams-1")
    monkeypatch.setenv("SCW_DEFAULT_PROJECT_ID", "11111111-1111-4111-8111-111111111111")
    monkeypatch.setenv("SCW_SECRET_KEY", "11111111-1111-4111-8111-111111111111")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every `@pytest.mark.anyio` test on asyncio and on trio."""
    return str(request.param)


@pytest.fixture
def no_sleep() -> Iterator[list[float]]:
    """Skip retry waits; the list collects how long each would have been."""
    delays: list[float] = []
    scaleway_volumes.set_testing(True, record=delays)
    yield delays
    scaleway_volumes.set_testing(False)


@pytest.fixture
def fake() -> FakeScaleway:
    """A fresh in-memory fake of the Volumes API (no latency, no rate limit)."""
    return FakeScaleway()


@pytest.fixture
def server(fake: FakeScaleway) -> Iterator[FakeServer]:
    """The ``fake`` served over TCP on 127.0.0.1 (any free port)."""
    with fake.serve() as srv:
        yield srv


@pytest.fixture
def clean_collector() -> None:
    """Collect what earlier tests left before this one starts: a test that counts the
    ResourceWarnings of its own objects must not count theirs (once, in CI, a socket
    an earlier test left was collected inside such a count, and failed it)."""
    gc.collect()
