"""Retry policy and the arithmetic of waiting."""

from __future__ import annotations

import email.utils
import random
import time
from datetime import timezone

import attrs

__all__ = ["RetryPolicy", "parse_retry_after"]


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen
class RetryPolicy:
    """How hard to try before giving up.

    ``max_retries`` resends at most (0 turns retries off). Waits grow
    exponentially from ``backoff_initial`` to ``backoff_max`` seconds with full
    jitter (a random wait between 0 and the bound, so many clients that failed
    together do not come back together). A ``Retry-After`` the API sends is
    honoured, unless it is longer than ``max_retry_after``: then the error is
    raised at once, with ``RateLimitError.retry_after`` set.

    ```python
    api = AsyncVolumeAPI(retry=RetryPolicy(max_retries=5, backoff_max=4.0))
    ```
    """

    max_retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    backoff_initial: float = attrs.field(default=0.5, validator=_non_negative)
    backoff_max: float = attrs.field(default=8.0, validator=_non_negative)
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative)

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        bound = min(self.backoff_max, self.backoff_initial * 2 ** (retry_number - 1))
        return random.uniform(0.0, bound)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Returns ``None`` for a missing or unparsable header (a garbage value is
    treated as absent, so normal backoff applies).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)
