"""The fake's rate limit: a token bucket that answers bare 429s, with an optional schedule."""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Iterable

import attrs

__all__ = ["Phase", "RateBucket", "parse_rate_schedule"]


@attrs.define
class Phase:
    """One step of a rate schedule and what the bucket saw during it."""

    #: Seconds after the first request at which this step began.
    after: float
    #: Requests per second allowed during the step (``None``: unlimited).
    rate: float | None
    #: Requests that asked for a token during the step.
    requests: int = 0
    #: Of those, the ones answered with a 429.
    throttled: int = 0


def parse_rate_schedule(text: str) -> tuple[tuple[float, float], ...]:
    """Parse ``"3:50,6:100"`` (after 3 s: 50 req/s, after 6 s: 100 req/s).

    Raises ``ValueError`` naming the bad step.
    """
    steps: list[tuple[float, float]] = []
    for part in text.split(","):
        after, sep, rate = part.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            steps.append((float(after), float(rate)))
        except ValueError:
            raise ValueError(
                f"rate schedule step {part.strip()!r} is not SECONDS:RATE (e.g. '3:50')"
            ) from None
    return steps_checked(steps)


def steps_checked(steps: object) -> tuple[tuple[float, float], ...]:
    """Validate schedule steps: times finite, >= 0 and increasing, rates finite and > 0.

    A step that is not a ``(seconds, rate)`` pair of numbers is a ``TypeError``.
    """
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Iterable):
        raise TypeError(f"rate_schedule must be (seconds, rate) steps, not {steps!r}")
    checked: list[tuple[float, float]] = []
    for step in steps:
        after, rate = _pair(step)
        if not (after >= 0 and math.isfinite(after)) or (checked and after <= checked[-1][0]):
            raise ValueError(
                f"rate schedule times must be finite, >= 0 and increasing, got {after!r}"
            )
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"rate schedule rates must be positive and finite, got {rate!r}")
        checked.append((float(after), float(rate)))
    return tuple(checked)


def _pair(step: object) -> tuple[float, float]:
    # A str of two digits would unpack; it is no more a step than a lone number is.
    if not isinstance(step, (str, bytes)) and isinstance(step, Iterable):
        items = tuple(step)
        if len(items) == 2:
            after, rate = items
            if _number(after) and _number(rate):
                return float(after), float(rate)
    raise TypeError(f"rate_schedule steps must be (seconds, rate) pairs of numbers, not {step!r}")


def _number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class RateBucket:
    """A token bucket: ``rate`` tokens per second, ``burst`` at most, one per request.

    ``burst=None`` means ``max(1, int(rate / 10))``. A ``schedule`` of
    ``(after_seconds, rate)`` steps changes the rate that long after the first
    request (to see a client react to a lowered limit); ``phases`` counts the
    requests and 429s of each step. Any change of rate starts from a full bucket.
    Not thread-safe: its owner serialises the calls.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rate: float | None = None
        self._base_rate: float | None = None
        self._burst: int | None = None
        self._schedule: tuple[tuple[float, float], ...] = ()
        self._tokens = 0.0
        self._refilled = clock()
        self._started: float | None = None
        self._next_step = 0
        self.phases: list[Phase] = [Phase(0.0, None)]

    @property
    def rate(self) -> float | None:
        """Sustained requests per second allowed before 429s (``None``: unlimited).

        During a schedule this is the current step's rate; setting it restarts the
        schedule from the new rate.
        """
        return self._rate

    @rate.setter
    def rate(self, value: float | None) -> None:
        # Checked before anything is stored: a bad rate must leave the bucket as it was.
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"rate_limit must be a number or None, not {value!r}")
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"rate_limit must be positive and finite, or None, not {value!r}")
        self._base_rate = value
        self.refill()

    @property
    def burst(self) -> int | None:
        """Bucket capacity; ``None`` means ``max(1, int(rate / 10))``.

        Kept while there is no rate, for when one is set.
        """
        return self._burst

    @burst.setter
    def burst(self, value: int | None) -> None:
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"rate_burst must be an int or None, not {value!r}")
            if value < 1:
                raise ValueError(f"rate_burst must be >= 1 or None, not {value!r}")
        self._burst = value
        self.refill()

    @property
    def schedule(self) -> tuple[tuple[float, float], ...]:
        """Rate changes as ``(seconds after the first request, rate)`` steps."""
        return self._schedule

    @schedule.setter
    def schedule(self, steps: Iterable[tuple[float, float]] | str) -> None:
        # The command line's form too ("3:50,6:100"): the same words everywhere.
        if isinstance(steps, str):
            self._schedule = parse_rate_schedule(steps)
        else:
            self._schedule = steps_checked(steps)
        self.refill()

    def refill(self) -> None:
        """Fill the bucket and restart the schedule and the phase counts."""
        # A changed limit starts from a full bucket: tests set it and expect the burst.
        self._rate = self._base_rate
        self._tokens = self._capacity() if self._rate is not None else 0.0
        self._refilled = self._clock()
        self._started = None
        self._next_step = 0
        self.phases = [Phase(0.0, self._rate)]

    @property
    def capacity(self) -> float:
        """Tokens the bucket holds when full."""
        return self._capacity()

    def _capacity(self) -> float:
        if self._burst is not None:
            return float(self._burst)
        assert self._rate is not None
        return float(max(1, int(self._rate / 10)))

    def take(self) -> bool:
        """Take a token for one request: False means answer it with a 429."""
        if self._rate is None and not self._schedule:
            # No limit: the clock is not read (the fake's reads a test's virtual
            # clock too, a few microseconds a request).
            self.phases[-1].requests += 1
            return True
        now = self._clock()
        if self._schedule:
            self._follow_schedule(now)
        phase = self.phases[-1]
        phase.requests += 1
        rate = self._rate
        if rate is None:
            return True
        self._tokens = min(self._capacity(), self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        phase.throttled += 1
        return False

    def _follow_schedule(self, now: float) -> None:
        if self._started is None:
            self._started = now
        elapsed = now - self._started
        while self._next_step < len(self._schedule):
            after, rate = self._schedule[self._next_step]
            if elapsed < after:
                break
            self._next_step += 1
            self._rate = rate
            self._tokens = self._capacity()
            self._refilled = now
            self.phases.append(Phase(after, rate))
