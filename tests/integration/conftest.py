"""Fixtures for the integration tests: a fake Scaleway over loopback TCP, a real redis-server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scaleway_volumes import AsyncVolumeAPI
from scaleway_volumes.testing import FakeScaleway, FakeServer
from tests.redis_server import RedisServer, redis_server_binary

ApiFactory = Callable[..., AsyncVolumeAPI]


@pytest.fixture
def api(fake: FakeScaleway, server: FakeServer) -> ApiFactory:
    """Factory of ``AsyncVolumeAPI`` objects talking to ``server``; kwargs are passed on."""

    def make(**kwargs: Any) -> AsyncVolumeAPI:
        kwargs.setdefault("organization", fake.organization)
        return AsyncVolumeAPI(fake.token, base_url=server.base_url, **kwargs)

    return make


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server per test module, on a free loopback port (or a skip)."""
    server = RedisServer(redis_server_binary(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A rate limit name of its own for each test."""
    return f"{request.node.name}-{time.monotonic_ns()}"
