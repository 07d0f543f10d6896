"""The RateLimiter protocol: what the request pipeline calls around every request."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["RateLimiter"]


@runtime_checkable
class RateLimiter(Protocol):
    """Paces the requests of an API: implement these two methods to write your own.

    Around every request (single calls, bulk items, lookups, waiter polls) the
    pipeline does::

        permit = await limiter.acquire()
        status = None
        try:
            response = await send(request)
            status = response.status_code
        finally:
            limiter.release(permit, status)

    and sends a bare 429 (no ``Retry-After``) again through ``acquire()``: the
    limiter paces the resend. ``acquire`` must be cancellation-safe (a cancelled
    call holds nothing); ``release`` must be cheap and never raise (an exception
    it raises is logged at ERROR and the request's answer kept). A limiter may
    be created with no event loop running and used from successive loops.

    The API's constructor checks more than this runtime-checkable protocol's
    names: a limiter object, not its class; ``acquire`` a coroutine function
    (``async def``); ``release`` callable with ``(permit, status)``.
    """

    async def acquire(self) -> object:
        """Wait until one more request may be sent; return a permit for release()."""
        ...

    def release(self, permit: object, status: int | None) -> None:
        """The request ended: its HTTP status, or None when no answer came
        (network failure, cancelled)."""
        ...
