"""The fake's settings, clock and helpers refuse values that cannot work, before
changing anything, instead of storing them and misbehaving later."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scaleway_volumes.testing import FAKE_TOKEN, FakeScaleway, ManualClock
from scaleway_volumes.testing._bucket import parse_rate_schedule

# -- the rate limiter ---------------------------------------------------------------------


@pytest.mark.parametrize("rate", [math.inf, -math.inf, math.nan])
def test_a_non_finite_rate_is_refused_and_changes_nothing(rate: float) -> None:
    """``rate_limit`` must be a finite number > 0 (or None): anything else is a
    ValueError and the fake keeps its previous rate."""
    with pytest.raises(ValueError, match="rate_limit"):
        FakeScaleway(rate_limit=rate)
    fake = FakeScaleway(rate_limit=10)
    with pytest.raises(ValueError, match="rate_limit"):
        fake.rate_limit = rate
    assert (fake.rate_limit, fake._capacity()) == (10, 1)


def test_a_rate_that_is_not_a_number_is_a_type_error() -> None:
    """A string or a bool is not a rate."""
    fake = FakeScaleway()
    for value in ("10", True):
        with pytest.raises(TypeError, match="rate_limit"):
            fake.rate_limit = value  # type: ignore[assignment]
    assert fake.rate_limit is None


def test_a_schedule_step_must_have_a_finite_time_and_rate() -> None:
    """An infinite step rate would break the bucket at that step: refused up front."""
    for text in ("3:inf", "inf:5"):
        with pytest.raises(ValueError, match="rate schedule"):
            parse_rate_schedule(text)
    fake = FakeScaleway()
    with pytest.raises(ValueError, match="rate schedule"):
        fake.rate_schedule = [(0.0, math.inf)]
    assert fake.rate_schedule == ()


@pytest.mark.parametrize(("burst", "error"), [(1.5, TypeError), (True, TypeError), (0, ValueError)])
def test_a_burst_is_a_whole_number_of_requests(burst: object, error: type[Exception]) -> None:
    """``rate_burst`` is an int >= 1 (or None); the fake keeps its previous one."""
    with pytest.raises(error, match="rate_burst"):
        FakeScaleway(rate_limit=10, rate_burst=burst)  # type: ignore[arg-type]
    fake = FakeScaleway(rate_limit=10, rate_burst=3)
    with pytest.raises(error, match="rate_burst"):
        fake.rate_burst = burst  # type: ignore[assignment]
    assert fake.rate_burst == 3


@pytest.mark.anyio
async def test_a_burst_given_before_the_rate_applies_once_a_rate_is_set() -> None:
    """``rate_limit`` and ``rate_burst`` may be set in any order, at any time: a burst
    given without a rate waits for one (the command line, where no rate can come later,
    refuses ``--rate-burst`` alone)."""
    fake = FakeScaleway(rate_burst=2)
    async with fake.client() as http:
        assert [(await http.get("/volumes")).status_code for _ in range(3)] == [200] * 3
        fake.rate_limit = 0.001
        assert [(await http.get("/volumes")).status_code for _ in range(3)] == [200, 200, 429]


# -- token and zone -----------------------------------------------------------------------


def test_an_empty_token_is_refused() -> None:
    """``token=""`` would refuse every request: a ValueError pointing to None (any token,
    what the command line's ``--token ''`` means); a non-string is a TypeError."""
    with pytest.raises(ValueError, match="None accepts any token"):
        FakeScaleway(token="")
    with pytest.raises(TypeError, match="token"):
        FakeScaleway(token=1234)  # type: ignore[arg-type]
    fake = FakeScaleway()
    with pytest.raises(ValueError, match="token"):
        fake.token = ""
    assert fake.token == FAKE_TOKEN
    fake.token = None
    assert FakeScaleway(token=None).token is None


@pytest.mark.parametrize("zone", ["", "fr-par/1"])
def test_a_zone_that_no_path_can_name_is_refused(zone: str) -> None:
    """An empty zone (or one with a ``/``) gives URLs on which every request is a 404."""
    with pytest.raises(ValueError, match="zone"):
        FakeScaleway(zone=zone)
    fake = FakeScaleway(zone="nl-ams-1")
    with pytest.raises(ValueError, match="zone"):
        fake.zone = zone
    assert fake.base_url.endswith("/zones/nl-ams-1")
    with pytest.raises(TypeError, match="zone"):
        FakeScaleway(zone=None)  # type: ignore[arg-type]


def test_an_empty_host_is_refused() -> None:
    """``serve(host="")`` would listen everywhere under a URL with no host in it."""
    with pytest.raises(ValueError, match="host must not be empty"):
        FakeScaleway().serve(host="")


# -- the manual clock ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_manual_clock_stays_finite(value: float) -> None:
    """A non-finite start or step is a ValueError; the clock keeps its time."""
    with pytest.raises(ValueError, match="finite"):
        ManualClock(value)
    clock = ManualClock(100)
    with pytest.raises(ValueError):
        clock.advance(value)
    assert clock() == 100.0


# -- the helpers --------------------------------------------------------------------------


def _add(fake: FakeScaleway, helper: str, **kwargs: Any) -> dict[str, Any]:
    if helper == "instance":
        return fake.add_volume("db", **kwargs)
    if helper == "block volume":
        return fake.block.add_volume("db", **kwargs)
    volume = fake.block.add_volume("db")
    return fake.block.add_snapshot(volume["id"], **kwargs)


@pytest.mark.parametrize("helper", ["instance", "block volume", "block snapshot"])
@pytest.mark.parametrize("tags", ["prod", b"prod", ["prod", 1]], ids=["str", "bytes", "int-item"])
def test_tags_are_an_iterable_of_strings(helper: str, tags: object) -> None:
    """``tags="prod"`` would store ``["p", "r", "o", "d"]``: a TypeError instead, and
    nothing stored."""
    fake = FakeScaleway()
    with pytest.raises(TypeError, match="tags"):
        _add(fake, helper, tags=tags)
    assert fake.volumes == [] and fake.block.snapshots() == []
    assert _add(fake, helper, tags=("prod", "db"))["tags"] == ["prod", "db"]


@pytest.mark.parametrize(("iops", "error"), [(1234, ValueError), (5000.0, TypeError)])
def test_block_volume_perf_iops_is_one_the_api_offers(iops: object, error: type) -> None:
    """Only 5000 (``sbs_5k``) and 15000 (``sbs_15k``): no invented volume type."""
    fake = FakeScaleway()
    with pytest.raises(error, match="perf_iops"):
        fake.block.add_volume("db", perf_iops=iops)
    assert fake.block.volumes() == []
    assert fake.block.add_volume("db", perf_iops=15000)["type"] == "sbs_15k"
