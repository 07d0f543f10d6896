"""Fixtures for the integration tests: a fake Scaleway served over loopback TCP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scaleway_volumes import AsyncVolumeAPI
from scaleway_volumes.testing import FakeScaleway, FakeServer

ApiFactory = Callable[..., AsyncVolumeAPI]


@pytest.fixture
def api(fake: FakeScaleway, server: FakeServer) -> ApiFactory:
    """Factory of ``AsyncVolumeAPI`` objects talking to ``server``; kwargs are passed on."""

    def make(**kwargs: Any) -> AsyncVolumeAPI:
        kwargs.setdefault("organization", fake.organization)
        return AsyncVolumeAPI(fake.token, base_url=server.base_url, **kwargs)

    return make
