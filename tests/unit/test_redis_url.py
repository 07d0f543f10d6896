"""A Redis URL's password, pasted unencoded, never shows in a repr, a log line or an error."""

from __future__ import annotations

import pytest

pytest.importorskip("redis")

from scaleway_volumes.redis import RedisRateLimiter, redact

# Passwords as `openssl rand -base64` or a password manager make them, pasted into
# the URL without percent-encoding: redis-py cannot parse the first three, and reads
# the last two as another address (port 1 or 1234 of localhost, no password).
REFUSED = [
    ("redis://:Zx9s/Q8pL+w2@127.0.0.1:6390/0", "redis://:***@127.0.0.1:6390/0", "Zx9s"),
    ("redis://worker:Zx9s#Q8pL@127.0.0.1:6390/0", "redis://worker:***@127.0.0.1:6390/0", "Zx9s"),
    ("redis://:Zx9s?Q8pL@127.0.0.1:6390/0", "redis://:***@127.0.0.1:6390/0", "Zx9s"),
    ("redis://:1/Zx9s@127.0.0.1:6390/0", "redis://:***@127.0.0.1:6390/0", "Zx9s"),
    ("redis://:1234/5x@127.0.0.1:6390/0", "redis://:***@127.0.0.1:6390/0", "1234/5x"),
]


@pytest.mark.parametrize(("url", "masked", "secret"), REFUSED)
def test_redact_masks_a_password_holding_a_reserved_character(
    url: str, masked: str, secret: str
) -> None:
    """The password runs from the first ':' after 'scheme://' to the last '@':
    a '/', '?', '#' or '@' in it no longer ends it early, leaving the rest in
    clear."""
    assert redact(url) == masked


@pytest.mark.parametrize(("url", "masked", "secret"), REFUSED)
def test_a_url_redis_py_would_misread_is_refused_at_construction(
    url: str, masked: str, secret: str
) -> None:
    """Refused at once, the URL shown masked, with what to do: whether redis-py
    cannot parse it ('Port could not be cast to integer value as 'Zx9s'') or
    reads part of the password as a port (and its connection errors would then
    quote it). redis-py's own error is neither the message nor the context, so
    no traceback quotes the password."""
    with pytest.raises(ValueError, match="percent-encode") as info:
        RedisRateLimiter(url, name="x")
    assert masked in str(info.value)
    assert secret not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_an_encoded_password_is_accepted() -> None:
    """The same password percent-encoded is a valid URL, shown masked."""
    limiter = RedisRateLimiter("redis://:Zx9s%2FQ8pL%2Bw2@127.0.0.1:6390/0", name="x")
    assert "Zx9s" not in repr(limiter) and "***" in repr(limiter)


QUERY_PASSWORD = "redis://127.0.0.1:6379/0?password=hunter@2024"


def test_a_password_in_the_query_is_masked_whole() -> None:
    """An '@' in the query (``?password=``, which redis-py reads) is a value there: the
    authority holds no credentials, and the query's password is masked, all of it."""
    assert redact(QUERY_PASSWORD) == "redis://127.0.0.1:6379/0?password=***"


@pytest.mark.parametrize(
    "url", [QUERY_PASSWORD, "redis://127.0.0.1:6379/0?client_name=worker@host1"]
)
def test_a_valid_url_with_an_at_sign_in_its_query_is_accepted(url: str) -> None:
    """redis-py reads these URLs right: they are not refused."""
    assert "hunter" not in repr(RedisRateLimiter(url, name="x"))
