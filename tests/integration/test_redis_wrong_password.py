"""A wrong Redis password, against a real redis-server: logged as refused, not as an outage."""

from __future__ import annotations

import logging

import pytest

from tests.redis_server import RedisServer

redis = pytest.importorskip("redis")

from scaleway_volumes.redis import RedisRateLimiter  # noqa: E402


@pytest.fixture
def anyio_backend() -> str:
    """redis-py's client is asyncio-only."""
    return "asyncio"


@pytest.mark.anyio
async def test_wrong_password_is_logged_as_refused_credentials(
    redis_server: RedisServer, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    # An ACL user of its own: the module's server stays open to the other tests.
    user = f"s13-{name[-12:]}"
    admin = redis.Redis.from_url(redis_server.url)
    admin.acl_setuser(user, enabled=True, passwords=["+right-pw"], commands=["+@all"], keys=["*"])
    url = f"redis://{user}:wr0ng-pw@127.0.0.1:{redis_server.port}/0"
    caplog.set_level(logging.INFO, logger="scaleway_volumes")
    limiter = RedisRateLimiter(url, name=name)
    try:
        for _ in range(3):
            limiter.release(await limiter.acquire(), 201)
        assert not limiter.shared
    finally:
        await limiter.aclose()
        admin.acl_deluser(user)
        admin.close()
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = record.getMessage()
    assert "refused the credentials (check the URL's user/password)" in message, message
    assert "unreachable" not in message and "is back" not in message, message
    assert "AuthenticationError" in message
    assert "wr0ng" not in caplog.text and f"{user}:***@127.0.0.1" in message
