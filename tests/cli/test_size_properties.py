"""Properties of size parsing and display, over many sizes and spellings."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes.cli import human_size, parse_size

UNITS = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
}
SHOWN = re.compile(r"\d+(\.\d{1,2})? (PB|TB|GB|MB|kB|B)")


@given(st.integers(1, 10**18))
def test_bare_integer_is_bytes(size: int) -> None:
    """A bare integer means that many bytes."""
    assert parse_size(str(size)) == size


@given(
    st.integers(1, 10**6),
    st.sampled_from(sorted(UNITS)),
    st.sampled_from(["", " "]),
    st.sampled_from([str, str.lower, str.upper]),
)
def test_units_in_any_case_and_spacing(
    count: int, unit: str, space: str, case: Callable[[str], str]
) -> None:
    """Every unit multiplies as documented, whatever its case and a space before it."""
    assert parse_size(f"{count}{space}{case(unit)}") == count * UNITS[unit]


@given(st.integers(1, 10**18))
def test_human_size_reads_back_within_rounding(size: int) -> None:
    """What human_size shows parses back to the size, up to its two-decimal rounding."""
    shown = human_size(size)
    assert SHOWN.fullmatch(shown), shown
    unit = UNITS.get(shown.split()[1].replace("k", "K"), 10**15)
    assert abs(parse_size(shown) - size) <= unit // 200


@given(st.integers(1, 10**18), st.integers(1, 10**18))
def test_human_size_never_shows_a_smaller_size_bigger(a: int, b: int) -> None:
    """A larger size never reads as a smaller one."""
    small, large = sorted((a, b))
    assert parse_size(human_size(small)) <= parse_size(human_size(large))


@given(st.integers(1, 10**60), st.sampled_from(sorted(UNITS)))
def test_long_sizes_are_exact(count: int, unit: str) -> None:
    """However many digits, the size is exactly count times the unit (no rounding)."""
    assert parse_size(f"{count}{unit}") == count * UNITS[unit]


@given(st.integers(0, 10**40), st.integers(1, 40), st.sampled_from(sorted(UNITS)))
def test_a_decimal_is_taken_only_when_it_makes_whole_bytes(
    whole: int, places: int, unit: str
) -> None:
    """``<whole>.00...01<unit>`` is taken iff it is whole bytes, and then exactly."""
    digits = f"{whole}.{'0' * (places - 1)}1"
    scaled = (whole * 10**places + 1) * UNITS[unit]  # the size times 10**places
    if scaled % 10**places:
        with pytest.raises(ValueError, match="not a whole number of bytes"):
            parse_size(f"{digits}{unit}")
    else:
        assert parse_size(f"{digits}{unit}") == scaled // 10**places
