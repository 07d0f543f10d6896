"""Limiters with a fixed policy: a token bucket for a known limit, and none at all."""

from __future__ import annotations

import math
import time

from .._validate import as_float, check_number
from ._control import take_token
from ._gate import Gate

__all__ = ["NoRateLimiter", "TokenBucketRateLimiter"]


class NoRateLimiter:
    """A limiter that never waits: every request goes at once (e.g. behind your own)."""

    def __repr__(self) -> str:
        return "<NoRateLimiter>"

    async def acquire(self) -> object:
        """Return at once."""
        return None

    def release(self, permit: object, status: int | None) -> None:
        """Nothing to account for."""


class _Bucket:
    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def reserve(self, now: float) -> float:
        self.tokens, wait = take_token(self.tokens, now - self.stamp, self.rate, self.capacity)
        self.stamp = now
        return wait


class TokenBucketRateLimiter:
    """At most ``rate`` requests per second, in bursts of at most ``burst``.

    For a limit you know: it never learns from 429s. Requests wait in arrival
    order; a cancelled wait takes nothing. One thread at a time, and in a test's
    virtual time under its virtual clock, as ``AdaptiveRateLimiter``.

    ```python
    api = AsyncVolumeAPI(token, rate_limiter=TokenBucketRateLimiter(50, burst=5))
    ```
    """

    def __init__(self, rate: float, *, burst: int = 1) -> None:
        check_number("rate", rate, unit="requests per second")
        if isinstance(burst, bool) or not isinstance(burst, int):
            raise TypeError(f"burst must be an int, got {burst!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        if as_float(burst) == math.inf:
            raise ValueError(f"burst is too large, got {burst!r}")
        self._bucket = _Bucket(float(rate), burst)
        self._gate = Gate(self._bucket)

    def __repr__(self) -> str:
        return f"<TokenBucketRateLimiter rate={self.rate} burst={self.burst}>"

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self._bucket.rate

    @property
    def burst(self) -> int:
        """Requests that may go at once after a pause."""
        return int(self._bucket.capacity)

    async def acquire(self) -> object:
        """Wait for a token; return a permit for ``release()``."""
        return await self._gate.wait_turn()

    def release(self, permit: object, status: int | None) -> None:
        """Nothing to learn: the rate is fixed."""
