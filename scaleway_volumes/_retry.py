"""Retry policy, the arithmetic of waiting, and the pure decision after each attempt.

The decisions take no I/O: ``decide_answer`` and ``decide_failure`` say what
the pipeline does next, and are tested exhaustively without HTTP.
"""

from __future__ import annotations

import email.utils
import enum
import math
import random
import re
import time
from datetime import timezone

import anyio
import anyio.lowlevel
import attrs

from ._error_body import GOING
from ._validate import check_number

__all__ = [
    "Action",
    "Decision",
    "RetryPolicy",
    "decide_answer",
    "decide_failure",
    "parse_retry_after",
    "set_testing",
    "wait",
]


def _count(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{attribute.name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _finite_seconds(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    check_number(attribute.name, value, unit="seconds", positive=False)


def _any_seconds(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    check_number(attribute.name, value, unit="seconds", positive=False, finite=False)


@attrs.frozen
class RetryPolicy:
    """How hard to try before giving up.

    ``max_retries`` resends at most (an ``int``; 0 turns retries off, and with
    them the bulk calls' resends of bare 429s at the rate limiter's pace). Waits
    grow exponentially from ``backoff_initial`` to ``backoff_max`` seconds (finite,
    ``backoff_initial <= backoff_max``) with full jitter (a random wait between 0
    and the bound, so many clients that failed together do not come back
    together). A ``Retry-After`` the API sends is honoured, unless it is longer
    than ``max_retry_after`` (``math.inf``: any): then the error is raised at
    once, with ``RateLimitError.retry_after`` set. NaN is refused everywhere.

    ```python
    api = AsyncVolumeAPI(retry=RetryPolicy(max_retries=5, backoff_max=4.0))
    ```
    """

    max_retries: int = attrs.field(default=3, validator=_count)
    backoff_initial: float = attrs.field(default=0.5, validator=_finite_seconds)
    backoff_max: float = attrs.field(default=8.0, validator=_finite_seconds)
    max_retry_after: float = attrs.field(default=60.0, validator=_any_seconds)

    def __attrs_post_init__(self) -> None:
        if self.backoff_initial > self.backoff_max:
            raise ValueError(
                f"backoff_initial ({self.backoff_initial!r}) must be <= "
                f"backoff_max ({self.backoff_max!r})"
            )

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry).

        ``retry_number`` is an int >= 1: a float failed inside ``math.ldexp``
        with a message naming neither, and 0 or less gave a wait shorter than
        the first retry's, which no retry has.
        """
        if isinstance(retry_number, bool) or not isinstance(retry_number, int):
            raise TypeError(f"retry_number must be an int >= 1, got {retry_number!r}")
        if retry_number < 1:
            raise ValueError(f"retry_number must be an int >= 1, got {retry_number!r}")
        try:  # ldexp(x, n) is x * 2**n, without building 2**n for a huge n
            bound = min(self.backoff_max, math.ldexp(self.backoff_initial, retry_number - 1))
        except OverflowError:  # far past backoff_max
            bound = self.backoff_max
        return random.uniform(0.0, bound)


# delay-seconds is 1*DIGIT (RFC 9110): ASCII digits only, a fraction tolerated.
_DELAY_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# The year of an HTTP date written with four digits: email.utils reads one under
# 100 (``0050``) as 19xx or 20xx, which it is not.
_FOUR_DIGIT_YEAR = re.compile(r"(?<![0-9:])[0-9]{4}(?![0-9:])")


def _first_value(value: str) -> str:
    """The first of a repeated header's values (httpx joins them with commas).

    An HTTP date has a comma of its own after its day name (IMF-fixdate, RFC 850).
    """
    head, _, rest = value.partition(",")
    if head.strip().isalpha():
        head = f"{head},{rest.partition(',')[0]}"
    return head.strip()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date.

    Returns ``None`` for a missing or unparsable header (a garbage value is
    treated as absent, so normal backoff applies). Delay-seconds are ASCII
    digits (``-5``, ``+5``, ``1_000`` are garbage; too many for a float are
    ``inf``); a date in the past is 0. Of a
    repeated header, the first value counts (RFC 9110 lets a recipient take one).
    """
    if value is None:
        return None
    value = _first_value(value)
    if not value:
        return None
    if _DELAY_SECONDS.fullmatch(value):
        # Digits past a float's range are a delay longer than any: ``inf``,
        # which ``max_retry_after`` refuses like any other too-long one.
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    year = _FOUR_DIGIT_YEAR.search(value)
    if year is not None and int(year.group()) < 100:
        return 0.0  # long past
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class Action(enum.Enum):
    """What to do after one attempt of a request."""

    RETURN = "return"  # a 2xx: hand the answer back
    RETRY = "retry"  # wait (Retry-After, else backoff), resend; counts against max_retries
    SETTLE = "settle"  # 409 transient_state: wait for the resource to settle, resend
    RESEND = "resend"  # a bare 429 under a rate limiter: resend at the limiter's pace
    CHECK = "check"  # a create may have acted: find out before anything else
    RAISE = "raise"  # give up: the answer (or failure) is the caller's error


@attrs.frozen
class Decision:
    """The verdict on one attempt; ``delay`` None means "use the backoff"."""

    action: Action
    delay: float | None = None
    # The failed attempt may have been acted on: a DELETE retried into a 404 succeeded.
    acted: bool = False
    # With CHECK: a timeout, so the create may still land after we look.
    may_land_later: bool = False


# Statuses retried for every method: the API did not act.
RETRY_ANY = frozenset({429, 503})
# Statuses retried only where resending cannot duplicate anything.
RETRY_IDEMPOTENT = frozenset({500, 502, 504})
# How many 409 transient_state answers one PATCH or DELETE waits through, each
# wait a backoff: with the default policy 215.5 s at most in all (0.5 + 1 + 2 +
# 4, then 26 of 8). It holds with no deadline too (``deadline=None``), so a call
# cannot wait forever for a resource stuck in a transient state; the docs
# (README, docs/block-storage.md, docs/errors.md, the docstrings) promise it.
MAX_SETTLE_WAITS = 30

_RAISE = Decision(Action.RAISE)
_RETURN = Decision(Action.RETURN)
_RETRY_ACTED = Decision(Action.RETRY, acted=True)
_RAISE_ACTED = Decision(Action.RAISE, acted=True)


def decide_answer(
    method: str,
    status: int,
    *,
    policy: RetryPolicy,
    attempt: int,
    retry_after: float | None = None,
    transient_state: bool = False,
    current_state: str | None = None,
    throttled: int = 0,
    throttle_budget: int = 0,
    settled: int = 0,
) -> Decision:
    """What to do after an answer with ``status`` to attempt number ``attempt`` (1-based).

    ``retry_after`` is the parsed ``Retry-After``; ``transient_state`` whether a
    409 said the resource is in a transient state, ``current_state`` which one
    (a DELETE meeting one of ``GOING`` raises at once: the caller decides
    whether that counts as deleted); ``throttled`` and
    ``settled`` count the bare-429 resends and settle waits already made, and
    ``throttle_budget`` is how many bare 429s may be resent at the limiter's
    pace without counting as retries (bulk items pass one; ``max_retries=0``
    turns these resends off too).
    """
    if 200 <= status < 300:
        return _RETURN
    can_retry = attempt <= policy.max_retries
    if status in RETRY_ANY:
        if retry_after is not None and (
            retry_after > policy.max_retry_after or retry_after == math.inf
        ):
            # Even ``max_retry_after=inf`` ("honour any") does not wait forever.
            return _RAISE
        if (
            status == 429
            and retry_after is None
            and throttled < throttle_budget
            and policy.max_retries
        ):
            return Decision(Action.RESEND, 0.0)
        return Decision(Action.RETRY, retry_after) if can_retry else _RAISE
    if status == 409 and transient_state and method in ("PATCH", "DELETE"):
        if method == "DELETE" and current_state in GOING:
            return _RAISE
        if policy.max_retries and settled < MAX_SETTLE_WAITS:
            return Decision(Action.SETTLE)
        return _RAISE
    if status in RETRY_IDEMPOTENT:
        if method == "POST":
            return Decision(Action.CHECK, may_land_later=status == 504)
        return (
            Decision(Action.RETRY, acted=True) if can_retry else Decision(Action.RAISE, acted=True)
        )
    return _RAISE


def decide_failure(
    method: str, *, sent: bool, timed_out: bool, policy: RetryPolicy, attempt: int
) -> Decision:
    """What to do when attempt ``attempt`` got no answer.

    ``sent`` is False only when the request provably never left (then any
    method is resent); a create that may have been sent is checked, never
    resent blindly; other methods are resent and marked as possibly acted on.
    """
    can_retry = attempt <= policy.max_retries
    if not sent:
        return Decision(Action.RETRY) if can_retry else _RAISE
    if method == "POST":
        return Decision(Action.CHECK, may_land_later=timed_out)
    return _RETRY_ACTED if can_retry else _RAISE_ACTED


class _Testing:
    """State of ``set_testing``: whether waits are skipped, and where their lengths go."""

    __slots__ = ("enabled", "record")

    def __init__(self) -> None:
        self.enabled = False
        self.record: list[float] | None = None


_testing = _Testing()


def set_testing(testing: bool, *, record: list[float] | None = None) -> None:
    """Make every retry, settle and poll wait of the library take no time (for tests).

    The waits are still computed and, with ``record``, appended to that list, so
    a test can check how long the library would have waited. Turn it off again
    with ``set_testing(False)``.

    ```python
    @pytest.fixture(autouse=True)
    def no_waits():
        scaleway_volumes.set_testing(True)
        yield
        scaleway_volumes.set_testing(False)
    ```
    """
    _testing.enabled = bool(testing)
    _testing.record = record if testing else None


async def wait(seconds: float) -> None:
    """Sleep ``seconds`` (no time at all under ``set_testing(True)``)."""
    if _testing.enabled:
        if _testing.record is not None:
            _testing.record.append(seconds)
        await anyio.lowlevel.checkpoint()
        return
    await anyio.sleep(seconds)
