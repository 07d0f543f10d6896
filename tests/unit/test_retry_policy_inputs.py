"""What the retry machinery accepts: RetryPolicy's fields, Retry-After, limiter sizes.

Each input is refused up front with a ValueError or TypeError, or read the way
RFC 9110 defines it, never turned into a bare exception (or an hour-long wait)
in the middle of a call after a request was sent.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scaleway_volumes import AdaptiveRateLimiter, RetryPolicy, TokenBucketRateLimiter
from scaleway_volumes._retry import Action, decide_answer, parse_retry_after

NOW = 1_700_000_000.0

# -- RetryPolicy --------------------------------------------------------------


@pytest.mark.parametrize("field", ["backoff_initial", "backoff_max", "max_retry_after"])
def test_nan_is_refused_for_every_duration(field: str) -> None:
    """NaN passes ``value < 0``: it is refused by name (accepted, it made a retry wait
    ``anyio.sleep(nan)``, a bare ValueError, or waited out an hour-long Retry-After)."""
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**{field: math.nan})


@pytest.mark.parametrize("value", [math.inf, 10**400], ids=["inf", "10**400"])
@pytest.mark.parametrize("field", ["backoff_initial", "backoff_max"])
def test_backoff_bounds_must_be_finite(field: str, value: float) -> None:
    """A backoff bound is a wait: infinite (or too large for a float) is refused;
    ``max_retry_after`` alone may be infinite (honour any Retry-After)."""
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**{field: value, "backoff_max": value})
    assert RetryPolicy(max_retry_after=math.inf).max_retry_after == math.inf


@pytest.mark.parametrize("value", [True, False, 1.5, 3.0, math.inf])
def test_max_retries_is_a_plain_int(value: object) -> None:
    """A count of resends: a bool, a float or inf (retrying forever) is a TypeError."""
    with pytest.raises(TypeError, match="max_retries"):
        RetryPolicy(max_retries=value)  # type: ignore[arg-type]


def test_backoff_initial_above_backoff_max_is_refused() -> None:
    """initial > max would silently ignore backoff_initial: the error names both."""
    with pytest.raises(ValueError, match=r"backoff_initial \(10.0\).*backoff_max \(1.0\)"):
        RetryPolicy(backoff_initial=10.0, backoff_max=1.0)
    assert RetryPolicy(backoff_initial=1.0, backoff_max=1.0).backoff(5) <= 1.0


policies = st.floats(0, 1e6).flatmap(
    lambda top: st.builds(
        RetryPolicy,
        backoff_initial=st.floats(0, top),
        backoff_max=st.just(top),
        max_retries=st.integers(0, 10**6),
    )
)


@given(policy=policies, retry_number=st.integers(1, 10**5))
@example(policy=RetryPolicy(max_retries=1100), retry_number=1026)
@example(policy=RetryPolicy(backoff_initial=5e-324, backoff_max=1e300), retry_number=3000)
def test_backoff_never_overflows(policy: RetryPolicy, retry_number: int) -> None:
    """However many retries a policy allows, each wait is within [0, backoff_max]
    (``2 ** (n - 1)`` overflowed a float from retry 1026 on)."""
    assert 0.0 <= policy.backoff(retry_number) <= policy.backoff_max


@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
    status=st.integers(100, 599),
    throttled=st.integers(0, 60),
    budget=st.integers(0, 60),
    transient=st.booleans(),
)
def test_max_retries_zero_sends_nothing_again(
    method: str, status: int, throttled: int, budget: int, transient: bool
) -> None:
    """``max_retries=0`` turns retries off, the bulk calls' resends of bare 429s at
    the limiter's pace (within their throttle budget) included."""
    decision = decide_answer(
        method,
        status,
        policy=RetryPolicy(max_retries=0),
        attempt=1,
        transient_state=transient,
        throttled=throttled,
        throttle_budget=budget,
    )
    assert decision.action in (Action.RETURN, Action.RAISE, Action.CHECK)


# -- Retry-After ----------------------------------------------------------------


@given(seconds=st.integers(0, 10**9), pad=st.sampled_from(["", " ", "\t"]))
def test_delay_seconds_are_unsigned_ascii_digits(seconds: int, pad: str) -> None:
    """``1*DIGIT``: read as is (a fraction is tolerated); a sign makes it garbage,
    treated as absent so normal backoff applies (``-5`` used to mean "resend now")."""
    assert parse_retry_after(f"{pad}{seconds}{pad}") == seconds
    assert parse_retry_after(f"{seconds}.5") == seconds + 0.5
    assert parse_retry_after(f"-{seconds}") is None
    assert parse_retry_after(f"+{seconds}") is None


@given(
    digits=st.text(
        st.characters(categories=["Nd"]).filter(lambda c: not c.isascii()), min_size=1, max_size=4
    )
)
def test_non_ascii_digits_are_garbage(digits: str) -> None:
    """Python's float() reads Arabic-Indic or full-width digits; HTTP does not."""
    assert parse_retry_after(digits) is None


def test_other_number_spellings_are_garbage() -> None:
    """Only plain digits are delay-seconds: no underscores, exponents, hex or words."""
    for value in ("1_000", "1e3", "0x10", "inf", "nan", "5 seconds", ".5", "5.", ""):
        assert parse_retry_after(value) is None, value


@given(first=st.integers(0, 10**6), second=st.integers(0, 10**6))
def test_a_repeated_header_counts_its_first_value(first: int, second: int) -> None:
    """httpx joins repeated headers with ", "; RFC 9110 lets a recipient take one:
    the first (it was ignored as garbage)."""
    assert parse_retry_after(f"{first}, {second}") == first
    date = email.utils.formatdate(NOW + first, usegmt=True)
    later = email.utils.formatdate(NOW + first + second + 1, usegmt=True)
    assert parse_retry_after(f"{date}, {later}", now=NOW) == first
    assert parse_retry_after(f"{date}, {second}", now=NOW) == first


# -- rate limiters ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: TokenBucketRateLimiter(10**400), "rate"),
        (lambda: TokenBucketRateLimiter(1, burst=10**400), "burst"),
        (lambda: AdaptiveRateLimiter(min_rate=10**400), "min_rate"),
        (lambda: AdaptiveRateLimiter(max_rate=10**400), "max_rate"),
        (lambda: AdaptiveRateLimiter(initial_window=10**400), "initial_window"),
    ],
    ids=["bucket-rate", "bucket-burst", "adaptive-min_rate", "adaptive-max_rate", "window"],
)
def test_limiters_refuse_ints_too_large_for_a_float(build: Callable[[], object], name: str) -> None:
    """``0 < 10**400 < inf`` holds, then float() raised a bare OverflowError."""
    with pytest.raises(ValueError, match=name):
        build()


@pytest.mark.parametrize(
    ("retry_number", "error"),
    [(0, ValueError), (-1, ValueError), (1.5, TypeError), (2.0, TypeError), (True, TypeError)],
)
def test_backoff_takes_a_retry_number_from_one(retry_number: object, error: type) -> None:
    """``backoff`` takes the retry's number, an int from 1: a float failed inside
    ``math.ldexp`` ("Expected an int as second argument"), 0 or less gave a wait."""
    with pytest.raises(error, match=r"^retry_number must be an int >= 1, got "):
        RetryPolicy().backoff(retry_number)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rate", "error"),
    [(math.nan, ValueError), (-1.0, ValueError), (math.inf, ValueError), ("5", TypeError)],
)
def test_resume_at_takes_a_finite_rate(rate: object, error: type) -> None:
    """``AdaptiveRateLimiter.resume_at`` takes a finite rate >= 0: NaN or a negative
    one changed nothing without a word, a string failed deep inside with ``'>' not
    supported``; a refused rate leaves the limiter as it was."""
    limiter = AdaptiveRateLimiter(max_rate=100)
    with pytest.raises(error, match=r"^rate must be a"):
        limiter.resume_at(rate)  # type: ignore[arg-type]
    assert limiter.rate == 100
    limiter.resume_at(0)  # changes nothing, as documented
    assert limiter.rate == 100
    limiter.resume_at(40)
    assert limiter.rate == 40
