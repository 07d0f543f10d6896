"""Values the fake could not act on are refused where they are given (the clock, a Fault's
headers and path, add_fault, rate_schedule), and Block lists follow ``created_at``."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from scaleway_volumes.testing import FakeScaleway, Fault, ManualClock

if TYPE_CHECKING:
    from .conftest import Target

BLOCK = "/block/v1/zones/fr-par-1"


async def _names(http: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    key = path.strip("/")
    return [item["name"] for item in response.json()[key]]


# -- lists ordered by created_at ----------------------------------------------------------


@pytest.mark.anyio
async def test_created_at_orders_follow_created_at_not_insertion(target: Target) -> None:
    """A volume or snapshot stored with an earlier ``created_at`` lists before the ones
    made before it, in both created_at orders, filtered by id or not."""
    block = target.fake.block
    new = block.add_volume("new", created_at="2026-06-01T00:00:00.000000Z")
    old = block.add_volume("old", created_at="2020-01-01T00:00:00Z")  # other RFC 3339 form
    block.add_snapshot(new["id"], "snap-new", created_at="2026-06-01T00:00:00.000000Z")
    block.add_snapshot(new["id"], "snap-old", created_at="2020-01-01T00:00:00.000000Z")
    async with target.client(BLOCK) as http:
        assert await _names(http, "/volumes") == ["old", "new"]  # created_at_asc: the default
        assert await _names(http, "/volumes", order_by="created_at_asc") == ["old", "new"]
        assert await _names(http, "/volumes", order_by="created_at_desc") == ["new", "old"]
        ids = [new["id"], old["id"]]
        assert await _names(http, "/volumes", volume_ids=ids) == ["old", "new"]
        snapshots = await _names(http, "/snapshots", order_by="created_at_desc")
        assert snapshots == ["snap-new", "snap-old"]
        assert await _names(http, "/snapshots") == ["snap-old", "snap-new"]


@pytest.mark.anyio
async def test_created_at_order_after_the_clock_is_set_back(target: Target) -> None:
    """``clock`` may change at any moment: the volume dated earlier lists first, whether a
    helper or the API made it; equal dates keep the order of creation."""
    fake = target.fake
    fake.clock = ManualClock(2_000_000_000)
    fake.block.add_volume("later")
    fake.clock = ManualClock(1_000_000_000)
    fake.block.add_volume("earlier")
    async with target.client(BLOCK) as http:
        body = {
            "name": "same-time",
            "project_id": fake.organization,
            "from_empty": {"size": 10**10},
        }
        assert (await http.post("/volumes", json=body)).status_code == 200
        asc = await _names(http, "/volumes")
        desc = await _names(http, "/volumes", order_by="created_at_desc")
    assert asc == ["earlier", "same-time", "later"]
    assert desc == ["later", "same-time", "earlier"]


@pytest.mark.anyio
async def test_a_created_at_that_names_no_instant_lists_after_the_others() -> None:
    """A test may store any ``created_at`` (to see a client refuse it): such a volume is
    still listed, after the dated ones in ascending order, before them in descending."""
    fake = FakeScaleway()
    fake.block.add_volume("today", created_at="today")
    fake.block.add_volume("number", created_at=5)
    fake.block.add_volume("dated", created_at="2020-01-01T00:00:00.000000Z")
    async with fake.client(base_url=fake.block_base_url) as http:
        assert await _names(http, "/volumes") == ["dated", "today", "number"]
        desc = await _names(http, "/volumes", order_by="created_at_desc")
        assert desc == ["number", "today", "dated"]


# -- the clock ----------------------------------------------------------------------------


def _days_clock() -> str:
    return "monday"


@pytest.mark.parametrize(
    ("clock", "error", "match"),
    [
        (ManualClock, TypeError, r"ManualClock\(\)"),
        (1_700_000_000.0, TypeError, "clock"),
        (time.sleep, TypeError, "no arguments"),
        (_days_clock, TypeError, "monday"),
        (lambda: True, TypeError, "clock"),
        (lambda: math.nan, ValueError, "finite"),
        (lambda: math.inf, ValueError, "finite"),
    ],
    ids=["the-class", "a-number", "needs-an-argument", "a-str", "a-bool", "nan", "inf"],
)
def test_a_clock_is_checked_when_given(clock: Any, error: type[Exception], match: str) -> None:
    """A clock must be callable with no arguments and give a finite number: anything else
    is refused at once (in the constructor and on assignment), and the fake keeps its
    clock, instead of every later request failing."""
    with pytest.raises(error, match=match):
        FakeScaleway(clock=clock)
    kept = ManualClock(1_700_000_000)
    fake = FakeScaleway(clock=kept)
    with pytest.raises(error, match=match):
        fake.clock = clock
    assert fake.clock is kept
    assert fake.block.add_volume()["created_at"] == "2023-11-14T22:13:20.000000Z"


@pytest.mark.anyio
async def test_clocks_that_give_seconds_are_accepted() -> None:
    """A ManualClock, ``time.time`` or any callable giving an int or float will do."""
    fake = FakeScaleway(clock=ManualClock(0))
    for clock in (time.time, lambda: 1_700_000_000, ManualClock(1_700_000_000.5)):
        fake.clock = clock
        assert fake.clock is clock
    async with fake.client() as http:
        assert (await http.get("/volumes")).status_code == 200


# -- faults -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "error", "match"),
    [
        ({"Retry-After": 5}, TypeError, "Retry-After"),
        ({"Retry-After": b"5"}, TypeError, "Retry-After"),
        ({5: "x"}, TypeError, "headers"),
        ({"Retry After": "5"}, ValueError, "header name"),
        ({"": "5"}, ValueError, "header name"),
        ({"X-Note": "a\r\nSet-Cookie: b"}, ValueError, "X-Note"),
    ],
    ids=["int-value", "bytes-value", "int-name", "space-in-name", "empty-name", "line-break"],
)
def test_fault_headers_are_checked_when_the_fault_is_made(
    headers: dict[Any, Any], error: type[Exception], match: str
) -> None:
    """Header names and values must be strings HTTP can carry: an int value used to be
    accepted and then fail every matching request in-process (httpx's TypeError)."""
    with pytest.raises(error, match=match):
        Fault("respond", status=429, headers=headers)


@pytest.mark.anyio
async def test_fault_headers_are_sent_and_copied(target: Target) -> None:
    """Good headers reach the client; the Fault keeps a copy, so a later change of the
    caller's dict (unchecked) changes nothing."""
    given = {"Retry-After": "5", "X-Note": "slow\tdown"}
    fault = target.fake.add_fault(Fault("respond", status=429, headers=given))
    given["Retry-After"] = 5  # type: ignore[assignment]
    async with target.client() as http:
        response = await http.get("/volumes")
    assert response.status_code == 429
    assert (response.headers["retry-after"], response.headers["x-note"]) == ("5", "slow\tdown")
    assert fault.headers == {"Retry-After": "5", "X-Note": "slow\tdown"}


@pytest.mark.parametrize("path", ["volumes/(", "[", "*volumes"])
def test_a_fault_path_that_is_no_regular_expression_is_a_value_error(path: str) -> None:
    """``path`` is a regular expression: an invalid one is a ValueError naming it, not
    ``re.error``."""
    with pytest.raises(ValueError, match="path is not a valid regular expression"):
        Fault("drop", path=path)


@pytest.mark.anyio
@pytest.mark.parametrize("value", [{"action": "drop"}, "drop", None])
async def test_add_fault_takes_only_a_fault(target: Target, value: Any) -> None:
    """Anything else is a TypeError at add_fault, and the requests that follow are answered
    as usual (they used to fail: AttributeError in-process, a 500 over TCP)."""
    with pytest.raises(TypeError, match="add_fault takes a Fault"):
        target.fake.add_fault(value)
    assert target.fake.faults == []
    async with target.client() as http:
        assert (await http.get("/volumes")).status_code == 200


# -- the rate schedule --------------------------------------------------------------------


def test_a_rate_schedule_may_be_given_as_the_command_line_writes_it() -> None:
    """``"3:50,6:100"`` is read as ``--rate-schedule`` reads it; a malformed one is a
    ValueError naming the step."""
    fake = FakeScaleway(rate_limit=200)
    fake.rate_schedule = "3:50, 6:100"
    assert fake.rate_schedule == ((3.0, 50.0), (6.0, 100.0))
    with pytest.raises(ValueError, match="SECONDS:RATE"):
        fake.rate_schedule = "3:50,soon"
    assert fake.rate_schedule == ((3.0, 50.0), (6.0, 100.0))


@pytest.mark.parametrize(
    "steps",
    [[(1, "50")], [("1", 50)], [(True, 50)], [(1,)], [(1, 2, 3)], [5], ["35"], 5, b"3:50"],
    ids=["str-rate", "str-time", "bool", "one", "three", "number-step", "str-step", "int", "bytes"],
)
def test_a_rate_schedule_is_made_of_pairs_of_numbers(steps: Any) -> None:
    """Each step is a ``(seconds, rate)`` pair of numbers: anything else is a TypeError
    naming ``rate_schedule`` and that shape, and the schedule is kept."""
    fake = FakeScaleway(rate_limit=200)
    fake.rate_schedule = [(3, 50)]
    with pytest.raises(TypeError, match=r"rate_schedule.*\(seconds, rate\)"):
        fake.rate_schedule = steps
    assert fake.rate_schedule == ((3.0, 50.0),)


# -- what the clock does not drive --------------------------------------------------------


def test_the_rate_limiter_runs_on_real_time_not_on_the_fake_clock() -> None:
    """As docs/testing.md says: moving a ManualClock refills no rate-limit token."""
    clock = ManualClock(1_700_000_000)
    fake = FakeScaleway(clock=clock, rate_limit=0.001, rate_burst=1)

    async def statuses() -> list[int]:
        async with fake.client() as http:
            first = (await http.get("/volumes")).status_code
            clock.advance(3600)
            return [first, (await http.get("/volumes")).status_code]

    assert anyio.run(statuses) == [200, 429]
