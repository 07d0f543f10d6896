"""Fault refuses values that cannot work, when it is made, and its settings are read-only
afterwards (a changed setting would otherwise be silently ignored)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import anyio
import pytest

from scaleway_volumes.testing import FakeScaleway, Fault


def _statuses(fake: FakeScaleway, count: int) -> list[int]:
    async def main() -> list[int]:
        async with fake.client() as http:
            return [(await http.get("/volumes")).status_code for _ in range(count)]

    return anyio.run(main)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"times": -1}, ValueError),
        ({"times": 1.5}, TypeError),
        ({"times": True}, TypeError),
        ({"delay": -1.0}, ValueError),
        ({"delay": math.nan}, ValueError),
        ({"delay": math.inf}, ValueError),
        ({"delay": "1"}, TypeError),
        ({"interval": -1.0}, ValueError),
        ({"interval": math.inf}, ValueError),
        ({"status": 42}, ValueError),
        ({"status": 1000}, ValueError),
        ({"status": "503"}, TypeError),
        ({"status": 503.0}, TypeError),
        ({"body_contains": ["name"]}, TypeError),
        ({"path": b"^/block/"}, TypeError),
        ({"method": 1}, TypeError),
        ({"chunk": 0}, ValueError),
        ({"chunk": 1.5}, TypeError),
        ({"body": ["a"]}, TypeError),
        ({"headers": [("X-A", "1")]}, TypeError),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else value.__name__,
)
def test_impossible_values_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    """A value the fake could not act on (or would act on forever, like ``times=-1``) is a
    TypeError or ValueError naming the field, not a fault that misbehaves later."""
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        Fault("respond", **kwargs)


def test_edge_values_are_accepted() -> None:
    """The bounds themselves are fine: times 0 or None, zero delays, statuses 100 to 599."""
    Fault("respond", times=0, delay=0, interval=0, status=100)
    Fault("slow_drip", times=None, status=599, body_contains=b"x", chunk=2, interval=0.5)


def test_times_zero_never_fires() -> None:
    """``times=0`` is a fault that is armed for no request."""
    fake = FakeScaleway()
    fault = fake.add_fault(Fault("respond", status=503, times=0))
    assert _statuses(fake, 2) == [200, 200]
    assert (fault.hits, fault.remaining) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action", "drop"),
        ("method", "GET"),
        ("path", "^/instance/"),
        ("body_contains", "name"),
        ("times", 3),
        ("status", 500),
        ("body", "x"),
        ("headers", {}),
        ("delay", 1.0),
        ("chunk", 2),
        ("interval", 1.0),
    ],
)
def test_settings_are_read_only(field: str, value: object) -> None:
    """Changing a setting after creation is an AttributeError pointing to
    ``dataclasses.replace``, and the fault keeps behaving as created."""
    fake = FakeScaleway()
    fault = fake.add_fault(Fault("respond", status=503, path="^/block/"))
    before = repr(fault)
    with pytest.raises(AttributeError, match=r"dataclasses\.replace"):
        setattr(fault, field, value)
    assert repr(fault) == before
    assert _statuses(fake, 1) == [200]  # still matches only the Block API


def test_changed_copies_and_the_counters() -> None:
    """``dataclasses.replace`` makes a fault with other settings (fresh counters), and
    ``remaining`` may still be set to disarm or re-arm a fault."""
    fake = FakeScaleway()
    once = fake.add_fault(Fault("respond", status=503))
    thrice = dataclasses.replace(once, times=3, status=504)
    assert (thrice.times, thrice.remaining, thrice.hits, thrice.status) == (3, 3, 0, 504)
    once.remaining = 0
    fake.add_fault(thrice)
    assert _statuses(fake, 4) == [504, 504, 504, 200]
    assert (once.hits, thrice.hits) == (0, 3)
