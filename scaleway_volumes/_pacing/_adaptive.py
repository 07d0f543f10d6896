"""AdaptiveRateLimiter: finds the allowed rate from bare 429s and holds just under it."""

from __future__ import annotations

import math
from time import monotonic as _monotonic

import attrs

from .._validate import as_float, check_number
from ._control import AdaptiveControl
from ._gate import Gate
from ._tuning import Tuning

__all__ = ["AdaptiveRateLimiter", "check_rates"]


def check_rates(min_rate: float, max_rate: float | None) -> float:
    """Validate the bounds of an adaptive rate; return ``max_rate`` as a float (``inf``)."""
    for name, value in (("min_rate", min_rate), ("max_rate", max_rate)):
        if value is None and name == "max_rate":
            continue
        check_number(name, value, unit="requests per second")
    top = math.inf if max_rate is None else float(max_rate)
    if top < min_rate:
        raise ValueError(f"max_rate ({max_rate!r}) must be >= min_rate ({min_rate!r})")
    return top


class AdaptiveRateLimiter:
    """Paces requests at the rate the server allows, learnt from its bare 429s.

    Until the first 429 nothing is paced (a request costs a few microseconds of
    bookkeeping) but at ``max_rate``, if given; only the start of a burst is held
    to ``initial_window`` requests in flight, one more per success, so that a
    server with a small burst does not answer a whole wave with 429s. From the
    first 429 on, requests are spaced at a rate found from the 429s alone: a
    quick search (doubling per round trip, as TCP's slow start), a cut to what
    got through, then a hold where each success raises the rate a little and
    each 429 lowers it, settling where 1 % of the requests meet a 429. A lowered
    limit is followed within a few round trips; a rate below one request per
    round trip spaces requests out.

    ```python
    limiter = AdaptiveRateLimiter()
    api = AsyncVolumeAPI(token, rate_limiter=limiter)   # every request of the API
    ```

    One limiter serves one process: share it between the API objects holding the
    same credentials (the gateway's limit is per credentials), and use
    ``scaleway_volumes.redis.RedisRateLimiter`` to share one across processes. It
    may be created with no event loop running and used from successive event
    loops, asyncio or trio, but from one thread at a time. Under a test's
    virtual clock (trio's ``MockClock``) it paces in that clock's time.

    Args:
        min_rate: requests per second it never goes below (default 0.5).
        max_rate: requests per second it never goes above, from the first request
            on (default: no cap).
        initial_window: requests in flight before the first 429 (default 6, or
            ``tuning.initial_window``); given with ``tuning``, it replaces the
            tuning's.
        tuning: the algorithm's constants (``AdaptiveTuning``).
    """

    def __init__(
        self,
        *,
        min_rate: float = 0.5,
        max_rate: float | None = None,
        initial_window: int | None = None,
        tuning: Tuning | None = None,
    ) -> None:
        top = check_rates(min_rate, max_rate)
        if tuning is not None and not isinstance(tuning, Tuning):
            raise TypeError(f"tuning must be a Tuning, got {tuning!r}")
        if initial_window is not None:
            if isinstance(initial_window, bool) or not isinstance(initial_window, int):
                raise TypeError(f"initial_window must be an int, got {initial_window!r}")
            if initial_window < 1:
                raise ValueError(f"initial_window must be >= 1, got {initial_window!r}")
            if as_float(initial_window) == math.inf:
                raise ValueError(f"initial_window is too large, got {initial_window!r}")
            # Given with a tuning too, it is still what the caller asked for.
            window = float(initial_window)
            tuning = (
                Tuning(initial_window=window)
                if tuning is None
                else attrs.evolve(tuning, initial_window=window)
            )
        elif tuning is None:
            tuning = Tuning()
        self._control = AdaptiveControl(min_rate=float(min_rate), max_rate=top, tuning=tuning)
        self._gate = Gate(self._control)

    def __repr__(self) -> str:
        return f"<AdaptiveRateLimiter rate={self.rate} throttled={self.throttled}>"

    async def acquire(self) -> object:
        """Wait until one more request may be sent; return a permit for ``release()``."""
        return await self._gate.wait_turn()

    def release(self, permit: object, status: int | None) -> None:
        """The request ended with HTTP ``status`` (None: no answer came). Never raises."""
        if type(permit) is float:
            # Gate.now, inline: this is every request's path.
            self._control.release(permit, status, _monotonic() + self._gate.sleeper.ahead)
            self._gate.wake()

    def resume_at(self, rate: float) -> None:
        """Pace at ``rate`` requests per second from now on, adapting from there.

        For a limiter taking over from another (``RedisRateLimiter`` falling back
        to in-process limiting); 0.0 changes nothing. ``rate`` is a finite number
        >= 0 (``ValueError`` for NaN, a negative or an infinite one, which changed
        nothing or paced nothing without a word; ``TypeError`` for a non-number).
        """
        rate = check_number("rate", rate, unit="requests per second", positive=False)
        self._control.resume_at(rate, self._gate.now())

    @property
    def rate(self) -> float | None:
        """Requests per second allowed now (``max_rate`` until the first 429);
        None while nothing is paced."""
        control = self._control
        rate = control.rate if control.rate != math.inf else control.max_rate
        return None if rate == math.inf else rate

    @property
    def throttled(self) -> int:
        """429s seen so far."""
        return self._control.throttled
