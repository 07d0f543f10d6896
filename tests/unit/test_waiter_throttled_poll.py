"""A waiter's poll that the API throttles (bare 429s) until the poll's deadline passes is a
``RateLimitError``, which a wait polls through, not the deadline's ``APITimeoutError``,
which before any answer ends a wait as an unreachable API would."""

from __future__ import annotations

import uuid

import httpx
import pytest
import respx

from scaleway_volumes import (
    APITimeoutError,
    RateLimitError,
    TokenBucketRateLimiter,
    WaitTimeoutError,
)

from ..conftest import BASE
from .helpers import make_api

VID = str(uuid.uuid4())

pytestmark = pytest.mark.anyio


def throttled_api() -> object:
    """An API whose polls go at 20 a second and whose calls end after 0.2 s: a poll met
    only by bare 429s reaches its deadline long before its 50 free resends."""
    return make_api(deadline=0.2, rate_limiter=TokenBucketRateLimiter(20))


async def test_a_first_poll_throttled_past_the_deadline_does_not_end_the_wait(
    no_sleep: list[float],
) -> None:
    """Given the id (no answer seen yet), every poll is answered by bare 429s until its
    deadline: the wait polls on and ends in ``WaitTimeoutError`` at its timeout, naming
    the throttling, not in the first poll's ``APITimeoutError``."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.get(f"/volumes/{VID}").mock(return_value=httpx.Response(429))
        with pytest.raises(WaitTimeoutError) as info:
            await throttled_api().wait_for_volume(VID, timeout=0.7)  # type: ignore[attr-defined]
    cause = info.value.__cause__
    assert isinstance(cause, RateLimitError), repr(cause)
    assert isinstance(cause.__cause__, APITimeoutError)
    assert "bare 429" in str(cause)
    assert route.call_count > 1
