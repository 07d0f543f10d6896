"""The adaptive limiter's formulas: a rise per success, a pacing bucket's take, the
search's first guess and growth, the growth after a calm (pure functions of numbers)."""

from __future__ import annotations

__all__ = ["calm_speed", "first_rate", "rise", "search_rate", "take_token"]


def rise(step: float, target: float) -> float:
    """The rise per success that balances a ``step`` cut per 429 when ``target`` of
    the requests meet a 429: ``(1 - target) * rise == target * step``."""
    return step * target / (1.0 - target)


def take_token(tokens: float, elapsed: float, rate: float, capacity: float) -> tuple[float, float]:
    """Refill a pacing bucket for ``elapsed`` seconds and take one token if there is one.

    Returns the tokens left and how long to wait (0.0: taken). Between two takes at
    least ``(1 - (capacity - 1)) / rate`` seconds pass: the spacing of one request
    at a time, even when the rate is below one request per round trip.
    """
    tokens = min(capacity, tokens + elapsed * rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


def first_rate(recent_ok: float, srtt: float, first_span: float) -> float:
    """The first guess after the first 429: what got through per round trip.

    A round trip shorter than ``first_span`` tells nothing but the server's
    burst, assumed to hold ``first_span`` seconds of its rate.
    """
    return max(recent_ok, 1) / max(srtt, first_span)


def search_rate(rate: float, elapsed: float, per_double: float, got: float) -> float:
    """Double ``rate`` every ``per_double`` seconds, but not past ``2 * got`` (never down)."""
    grown = rate * float(2.0 ** min(elapsed / per_double, 64.0))
    return max(min(grown, 2.0 * got), rate)


def calm_speed(quiet: float, calm: float, unit: float, doublings: float) -> float:
    """How many times its ``calm_growth`` a rate grows by per second after ``quiet``
    seconds without a 429 (the caller grows it from ``calm`` on): once up to
    ``calm + 2 * unit``, then twice as fast every ``unit``, at most ``2 **
    doublings`` times.

    >>> [calm_speed(q, 1.0, 1.0, 3.0) for q in (1.0, 3.0, 4.0, 5.0, 6.0, 60.0)]
    [1.0, 1.0, 2.0, 4.0, 8.0, 8.0]
    """
    over = (quiet - calm - 2.0 * unit) / unit
    return float(2.0 ** min(max(over, 0.0), doublings))
