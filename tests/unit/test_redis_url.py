"""A Redis URL's password, pasted unencoded, never shows in a repr, a log line or an error."""

from __future__ import annotations

import logging

import anyio
import pytest

pytest.importorskip("redis")

from scaleway_volumes.redis import RedisRateLimiter, redact

# Passwords as `openssl rand -base64` or a password manager make them, pasted into
# the URL without percent-encoding. redis-py cannot parse these URLs at all.
UNPARSABLE = [
    ("redis://:Zx9s/Q8pL+w2@127.0.0.1:6390/0", "redis://:***@127.0.0.1:6390/0"),
    ("redis://worker:Zx9s#Q8pL@127.0.0.1:6390/0", "redis://worker:***@127.0.0.1:6390/0"),
    ("redis://:Zx9s?Q8pL@127.0.0.1:6390/0", "redis://:***@127.0.0.1:6390/0"),
]
# One redis-py parses, wrongly: port 1 of localhost, no password.
MISPARSED = "redis://:1/Zx9s@127.0.0.1:6390/0"


@pytest.mark.parametrize(
    ("url", "masked"),
    [*UNPARSABLE, (MISPARSED, "redis://:***@127.0.0.1:6390/0")],
)
def test_redact_masks_a_password_holding_a_reserved_character(url: str, masked: str) -> None:
    """The password runs from the first ':' after 'scheme://' to the last '@':
    a '/', '?', '#' or '@' in it no longer ends it early, leaving the rest in
    clear."""
    assert redact(url) == masked


@pytest.mark.parametrize(("url", "masked"), UNPARSABLE)
def test_a_url_redis_py_cannot_parse_is_refused_at_construction(url: str, masked: str) -> None:
    """Refused at once, the URL shown masked, with what to do; redis-py's own error
    ('Port could not be cast to integer value as 'Zx9s'') is neither the message
    nor the context, so no traceback quotes the password."""
    with pytest.raises(ValueError, match="percent-encode") as info:
        RedisRateLimiter(url, name="x")
    assert masked in str(info.value)
    assert "Zx9s" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_misparsed_url_shows_no_password_in_repr_or_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A URL redis-py parses into another address: the limiter falls back
    in-process (nothing listens there), and neither its repr nor its warning
    shows the password."""
    caplog.set_level(logging.DEBUG, logger="scaleway_volumes")
    limiter = RedisRateLimiter(MISPARSED, name="x", timeout=0.2)
    with anyio.fail_after(10):
        limiter.release(await limiter.acquire(), 201)
    await limiter.aclose()
    assert not limiter.shared
    assert "redis://:***@127.0.0.1:6390/0" in caplog.text
    assert "Zx9s" not in caplog.text and "Zx9s" not in repr(limiter)
