"""Fixtures for the integration tests: a fake Scaleway served over loopback TCP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scaleway_volumes import AsyncVolumeAPI
from scaleway_volumes.testing import FakeScaleway, FakeServer

ApiFactory = Callable[..., AsyncVolumeAPI]


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
def api(fake: FakeScaleway, server: FakeServer) -> ApiFactory:
    """Factory of ``AsyncVolumeAPI`` objects talking to ``server``; kwargs are passed on."""

    def make(**kwargs: Any) -> AsyncVolumeAPI:
        kwargs.setdefault("organization", fake.organization)
        return AsyncVolumeAPI(fake.token, base_url=server.base_url, **kwargs)

    return make
