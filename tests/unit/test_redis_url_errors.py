"""A Redis URL refused at construction says what is wrong with it, the URL masked."""

from __future__ import annotations

import pytest

pytest.importorskip("redis")

from scaleway_volumes.redis import RedisRateLimiter


@pytest.mark.parametrize(
    "url",
    [
        "localhost:6379",
        "cache.internal:6379/0",
        "http://cache.internal:6379/0",
        "tcp://:s3cret@cache.internal:6379/0",
    ],
)
def test_a_url_without_a_redis_scheme_is_not_blamed_on_the_password(url: str) -> None:
    """No scheme, or another one: the error names the schemes redis-py takes. It
    used to ask to percent-encode the password, which the URL may not even have."""
    with pytest.raises(ValueError, match="must start with redis://, rediss://") as info:
        RedisRateLimiter(url)
    message = str(info.value)
    assert "percent-encode" not in message and "s3cret" not in message, message
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_redis_pys_reason_is_given_with_the_password_masked() -> None:
    """A URL redis-py refuses for another reason (a port that is no number): its
    reason, not the password hint; the password masked, not chained."""
    url = "redis://worker:s3cret@cache.internal:63x9/0"
    with pytest.raises(ValueError, match="Port could not be cast") as info:
        RedisRateLimiter(url)
    message = str(info.value)
    assert "worker:***@cache.internal" in message, message
    assert "s3cret" not in message and "percent-encode" not in message, message
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_a_password_holding_an_at_sign_in_a_broken_url_gets_the_hint() -> None:
    """An unencoded '@' in the password, and redis-py cannot parse the URL: the
    hint to percent-encode it, the password masked whole."""
    url = "redis://worker:s3@cret@cache.internal:63x9/0"
    with pytest.raises(ValueError, match="percent-encode") as info:
        RedisRateLimiter(url)
    assert "s3" not in str(info.value) and "cret" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"url": ""}, ValueError, r"^url must be a Redis URL \(redis://, rediss:// or unix://\)"),
        ({"url": 6379}, TypeError, r"^url must be a Redis URL string, got int$"),
        ({"url": b"redis://h"}, TypeError, r"^url must be a Redis URL string, got bytes$"),
        ({"url": "redis://h", "name": ""}, ValueError, r"^name must be a non-empty str, got an "),
        ({"url": "redis://h", "name": 5}, TypeError, r"^name must be a non-empty str, got int$"),
    ],
)
def test_url_and_name_wrong_type_or_empty(
    kwargs: dict[str, object], error: type, match: str
) -> None:
    """A wrong type is a TypeError, an empty string a ValueError, each saying what it
    got: an empty URL was a TypeError saying "got str", a name of 5 a ValueError."""
    with pytest.raises(error, match=match):
        RedisRateLimiter(**kwargs)  # type: ignore[arg-type]
