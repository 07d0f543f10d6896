"""Rate limiters: what paces every request of an API (see docs/rate-limiting.md)."""

from ._adaptive import AdaptiveRateLimiter
from ._protocol import RateLimiter
from ._simple import NoRateLimiter, TokenBucketRateLimiter
from ._tuning import Tuning as AdaptiveTuning

__all__ = [
    "AdaptiveRateLimiter",
    "AdaptiveTuning",
    "NoRateLimiter",
    "RateLimiter",
    "TokenBucketRateLimiter",
]
