"""Seconds given as numbers too large for a float: no bound, never an OverflowError."""

from __future__ import annotations

import math

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scaleway_volumes._validate import as_seconds, check_deadline, timeout_dict

# The smallest int float() refuses (OverflowError): halfway past the largest float.
TOO_BIG_FOR_A_FLOAT = 2**1024 - 2**970
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**400), 10**400),
    st.integers(TOO_BIG_FOR_A_FLOAT - 5, TOO_BIG_FOR_A_FLOAT + 5),
)


@given(st.integers(-(10**400), 10**400) | st.integers(-5, 5))
@example(TOO_BIG_FOR_A_FLOAT)
@example(-TOO_BIG_FOR_A_FLOAT)
def test_as_seconds_is_float_or_infinity(value: int) -> None:
    """An int converts as float() does, or to the infinity of its sign when float() cannot."""
    if abs(value) >= TOO_BIG_FOR_A_FLOAT:
        assert as_seconds(value) == (math.inf if value > 0 else -math.inf)
    else:
        assert as_seconds(value) == float(value)


@given(numbers | st.none() | st.booleans() | st.text(max_size=3))
@example(10**400)
@example(-(10**400))
def test_deadline_is_none_or_a_positive_finite_number(value: object) -> None:
    """None, inf and an int too large for a float are no bound (None); another positive
    number is kept; anything else is a ValueError naming deadline."""
    ok = value is None or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    )
    if not ok:
        with pytest.raises(ValueError, match="deadline"):
            check_deadline(value)
        return
    checked = check_deadline(value)
    if (
        value is None
        or value == math.inf
        or (isinstance(value, int) and value >= TOO_BIG_FOR_A_FLOAT)
    ):
        assert checked is None
    else:
        assert checked == float(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [10**400, math.inf, httpx.Timeout(math.inf, connect=5.0)])
def test_an_endless_timeout_is_httpx_none(timeout: object) -> None:
    """httpx's "no timeout" (None) stands for infinity, which the aiohttp transport cannot arm."""
    parts = timeout_dict(timeout)
    assert parts["read"] is None and parts["pool"] is None
    assert parts["connect"] == (5.0 if isinstance(timeout, httpx.Timeout) else None)
    assert timeout_dict(30) == httpx.Timeout(30.0).as_dict()
