"""A limiter that cannot be called as the pipeline calls it is refused up front; a
limiter whose release() raises anyway never costs a request its answer."""

from __future__ import annotations

import asyncio
import logging

import anyio
import httpx
import pytest

from scaleway_volumes import (
    AdaptiveRateLimiter,
    AsyncVolumeAPI,
    NoRateLimiter,
    TokenBucketRateLimiter,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer

GB = 1_000_000_000


def make_api(fake: FakeScaleway, server: FakeServer, limiter: object) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        timeout=httpx.Timeout(5.0, connect=2.0),
        rate_limiter=limiter,  # type: ignore[arg-type]
    )


class SyncAcquire:
    """acquire() written without async (a blocking limiter ported as it was)."""

    def acquire(self) -> object:
        return None

    def release(self, permit: object, status: int | None) -> None:
        pass


class ReleaseWithoutStatus:
    """release() of a semaphore's shape: no permit, no status."""

    async def acquire(self) -> object:
        return None

    def release(self) -> None:
        pass


class Flexible:
    """Another shape the pipeline can call: keyword defaults and *args are fine."""

    async def acquire(self) -> object:
        return None

    def release(self, *args: object, **kwargs: object) -> None:
        pass


@pytest.mark.parametrize(
    ("limiter", "match"),
    [
        (NoRateLimiter, "class NoRateLimiter: pass an instance"),
        (AdaptiveRateLimiter, "class AdaptiveRateLimiter: pass an instance"),
        (TokenBucketRateLimiter, "class TokenBucketRateLimiter"),
        (SyncAcquire(), r"SyncAcquire.acquire must be a coroutine function \(async def\)"),
        (ReleaseWithoutStatus(), r"ReleaseWithoutStatus.release cannot be called with"),
        (anyio.Semaphore(5), r"Semaphore\w*\.release cannot be called with \(permit, status\)"),
        (asyncio.Semaphore(5), r"Semaphore.release cannot be called with \(permit, status\)"),
    ],
    ids=["NoRateLimiter-class", "Adaptive-class", "TokenBucket-class", "sync-acquire",
         "release-no-args", "anyio-Semaphore", "asyncio-Semaphore"],
)  # fmt: skip
def test_a_limiter_that_cannot_work_is_refused_at_construction(
    fake: FakeScaleway, limiter: object, match: str
) -> None:
    """The protocol's runtime check sees only the names ``acquire`` and ``release``:
    these have them, yet every request would fail with a bare TypeError (a create
    after acting). The constructor names what is wrong, before any request."""
    with pytest.raises(TypeError, match=match) as info:
        AsyncVolumeAPI(fake.token, organization=fake.organization, rate_limiter=limiter)  # type: ignore[arg-type]
    assert "RateLimiter protocol" in str(info.value)


def test_a_limiter_of_another_callable_shape_is_accepted(fake: FakeScaleway) -> None:
    """What the pipeline can call is accepted: ``release(*args)`` binds (permit, status)."""
    limiter = Flexible()
    api = AsyncVolumeAPI(fake.token, organization=fake.organization, rate_limiter=limiter)  # type: ignore[arg-type]
    assert api.rate_limiter is limiter


class RaisingRelease:
    """A user's limiter that breaks its promise: release() raises, every time."""

    def __init__(self) -> None:
        self.released = 0

    async def acquire(self) -> object:
        return None

    def release(self, permit: object, status: int | None) -> None:
        self.released += 1
        raise RuntimeError("bookkeeping bug")


@pytest.mark.anyio
@pytest.mark.usefixtures("no_sleep")
async def test_a_raising_release_keeps_the_answer(
    fake: FakeScaleway, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A create that got its 2xx returns its volume (an error there would be "fixed" by
    creating it again), and the limiter's exception is logged at ERROR, once per call."""
    limiter = RaisingRelease()
    caplog.set_level(logging.ERROR, logger="scaleway_volumes")
    async with make_api(fake, server, limiter) as api:
        volume = await api.create_volume(name="made", size=10 * GB)
        assert volume.name == "made"
        assert [v.id for v in await api.list_volumes()] == [volume.id]
    assert len(fake.volumes) == 1
    assert limiter.released == 2
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2, [r.getMessage() for r in errors]  # one per call
    assert "RaisingRelease: release() raised" in errors[0].getMessage()
    assert errors[0].exc_info is not None and "bookkeeping bug" in str(errors[0].exc_info[1])
