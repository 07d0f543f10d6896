"""Seconds given as numbers too large for a float: no bound, never an OverflowError;
timeouts that bound nothing sensible (zero, negative, NaN): refused up front."""

from __future__ import annotations

import math
import re

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scaleway_volumes import AsyncVolumeAPI
from scaleway_volumes._validate import as_float, check_deadline, timeout_dict

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
        assert as_float(value) == (math.inf if value > 0 else -math.inf)
    else:
        assert as_float(value) == float(value)


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


@given(numbers)
@example(0)
@example(-0.0)
@example(math.nan)
def test_timeout_is_positive_seconds_or_a_value_error(value: float) -> None:
    """A number of seconds sets every part when positive (None when endless); zero, a
    negative number or NaN is a ValueError naming timeout."""
    if not value > 0:
        with pytest.raises(ValueError, match=r"^timeout must be a positive number"):
            timeout_dict(value)
        return
    parts = timeout_dict(value)
    assert set(parts) == {"connect", "read", "write", "pool"}
    assert len(set(parts.values())) == 1
    (seconds,) = set(parts.values())
    assert seconds is None or 0 < seconds < math.inf


@pytest.mark.parametrize(
    ("timeout", "part"),
    [
        (-1, "timeout"),
        (0, "timeout"),
        (math.nan, "timeout"),
        (-math.inf, "timeout"),
        (httpx.Timeout(5.0, pool=-1.0), "timeout.pool"),
        (httpx.Timeout(5.0, read=0), "timeout.read"),
        (httpx.Timeout(math.nan, connect=5.0), "timeout.read"),
        (httpx.Timeout(5.0, connect=-(10**400)), "timeout.connect"),
    ],
)
def test_a_bad_timeout_part_is_refused_at_construction_and_in_with_options(
    timeout: object, part: str
) -> None:
    """aiohttp would take it for no timeout where trio's pool fails every request
    (or raises mid-request on NaN): a ValueError naming the part, before any request."""
    expected = rf"^{re.escape(part)} must be a positive number of seconds"
    with pytest.raises(ValueError, match=expected):
        timeout_dict(timeout)
    with pytest.raises(ValueError, match=expected):
        AsyncVolumeAPI("token", timeout=timeout)  # type: ignore[arg-type]
    api = AsyncVolumeAPI("token")
    with pytest.raises(ValueError, match=expected):
        api.with_options(timeout=timeout)  # type: ignore[arg-type]


def test_an_endless_timeout_part_beside_a_finite_one() -> None:
    """None and infinity both mean no bound for one part; the others keep theirs."""
    parts = timeout_dict(httpx.Timeout(10, connect=None, pool=math.inf))
    assert parts == {"connect": None, "read": 10.0, "write": 10.0, "pool": None}
