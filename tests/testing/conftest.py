from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scaleway_volumes.testing import FakeScaleway, FakeServer

ZONED = "/instance/v1/zones/fr-par-1"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Target:
    """One way of reaching a fake: in-process transport or TCP server."""

    def __init__(self, fake: FakeScaleway, server: FakeServer | None) -> None:
        self.fake = fake
        self.server = server
        self.kind = "tcp" if server is not None else "inprocess"

    @property
    def root(self) -> str:
        return self.server.root_url if self.server is not None else "http://fake.scaleway.invalid"

    def client(self, prefix: str = ZONED, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("base_url", self.root + prefix)
        if self.server is None:
            return self.fake.client(**kwargs)
        headers = httpx.Headers(kwargs.pop("headers", None))
        headers.setdefault("X-Auth-Token", self.fake.token or "any")
        return httpx.AsyncClient(headers=headers, **kwargs)


@pytest.fixture(params=["inprocess", "tcp"])
def target(request: pytest.FixtureRequest, fake: FakeScaleway) -> Iterator[Target]:
    if request.param == "inprocess":
        yield Target(fake, None)
    else:
        with fake.serve() as srv:
            yield Target(fake, srv)


@pytest.fixture(params=[ZONED, ""], ids=["zoned", "seed"])
def prefix(request: pytest.FixtureRequest) -> str:
    return str(request.param)
