"""How fast a rate grows by time after a calm (``_formulas.calm_speed``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._pacing._formulas import calm_speed

seconds = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
units = st.floats(min_value=0.01, max_value=100.0)


@given(seconds, seconds, st.floats(min_value=0.0, max_value=10.0), units)
def test_the_speed_never_falls_as_the_calm_lasts(
    quiet: float, more: float, calm: float, unit: float
) -> None:
    assert calm_speed(quiet + more, calm, unit, 3.0) >= calm_speed(quiet, calm, unit, 3.0)


@given(seconds, st.floats(min_value=0.0, max_value=10.0), units, st.floats(0.0, 6.0))
def test_the_speed_is_one_at_first_then_doubles_every_unit_up_to_its_cap(
    quiet: float, calm: float, unit: float, doublings: float
) -> None:
    speed = calm_speed(quiet, calm, unit, doublings)
    assert 1.0 <= speed <= 2.0**doublings
    start = calm + 2.0 * unit
    if quiet <= start:
        assert speed == 1.0
    elif quiet + unit <= start + doublings * unit:
        assert calm_speed(quiet + unit, calm, unit, doublings) == pytest.approx(2.0 * speed)
    else:
        assert calm_speed(quiet + unit, calm, unit, doublings) == 2.0**doublings
