"""Helpers of the Block Storage integration tests (the fake served over loopback TCP)."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qs

import httpx

from scaleway_volumes import AsyncBlockAPI
from scaleway_volumes.testing import FakeScaleway, FakeServer, RecordedRequest

GB = 1_000_000_000
MARKER = "scaleway-volumes:create="
MISSING = "f929fe39-63f8-4be8-a80e-1e9c8ae22a76"


def make_block(fake: FakeScaleway, server: FakeServer, **kwargs: Any) -> AsyncBlockAPI:
    """An ``AsyncBlockAPI`` on ``server`` whose default project is the fake's organization."""
    kwargs.setdefault("organization", fake.organization)
    kwargs.setdefault("timeout", httpx.Timeout(2.0, connect=1.0))
    return AsyncBlockAPI(fake.token, base_url=server.block_base_url, **kwargs)


def requests(fake: FakeScaleway, method: str, resource: str = "volumes") -> list[RecordedRequest]:
    """The Block requests with ``method`` on ``/<resource>`` or ``/<resource>/<id>``."""
    return [
        r
        for r in fake.stats.requests
        if r.method == method
        and r.path.startswith("/block/")
        and r.path.split("/")[5:6] == [resource]
    ]


def query(request: RecordedRequest) -> dict[str, list[str]]:
    """The request's query string, every value of each parameter."""
    return parse_qs(request.query)


def is_marker_lookup(request: RecordedRequest) -> bool:
    """A list filtered by a create marker (the duplicate guard checking)."""
    tags = query(request).get("tags", [])
    return request.method == "GET" and any(tag.startswith(MARKER) for tag in tags)


def marker_counts(resources: list[dict[str, Any]]) -> Counter[str]:
    """How many stored resources carry each create marker."""
    return Counter(tag for item in resources for tag in item["tags"] if tag.startswith(MARKER))


def assert_one_per_marker(resources: list[dict[str, Any]]) -> None:
    """Every stored resource carries its own marker: nothing was created twice."""
    counts = marker_counts(resources)
    assert len(counts) == len(resources), counts
    assert set(counts.values()) <= {1}, counts


class CountingLimiter:
    """A rate limiter that lets everything through and counts what it paced."""

    def __init__(self) -> None:
        self.acquired = 0
        self.released: list[int | None] = []

    async def acquire(self) -> object:
        """Count one permit."""
        self.acquired += 1
        return self.acquired

    def release(self, permit: object, status: int | None) -> None:
        """Remember the status of the request the permit paced."""
        self.released.append(status)
