"""The fake's token bucket: rate, burst, and a schedule that changes the rate mid-run."""

from __future__ import annotations

import pytest

from scaleway_volumes.testing import FakeScaleway
from scaleway_volumes.testing.__main__ import _parse_args
from scaleway_volumes.testing._bucket import Phase, RateBucket, parse_rate_schedule


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_unlimited_bucket_takes_everything_and_counts() -> None:
    """Without a rate every request passes, and the phase still counts it."""
    bucket = RateBucket(Clock())
    assert all(bucket.take() for _ in range(5))
    assert bucket.phases == [Phase(0.0, None, requests=5, throttled=0)]


def test_an_unlimited_bucket_does_not_read_its_clock_per_request() -> None:
    """The fake's clock looks for a test's virtual clock on every reading: with no
    limit and no schedule a request costs no reading."""
    readings = []

    def clock() -> float:
        readings.append(1)
        return 100.0

    bucket = RateBucket(clock)
    before = len(readings)
    assert all(bucket.take() for _ in range(5))
    assert len(readings) == before
    bucket.rate = 10.0
    bucket.take()
    assert len(readings) > before


def test_refill_and_burst() -> None:
    """A full bucket lets ``burst`` through, then one per ``1/rate`` seconds."""
    clock = Clock()
    bucket = RateBucket(clock)
    bucket.rate, bucket.burst = 10.0, 2
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    clock.now += 0.05
    assert not bucket.take()
    clock.now += 0.06
    assert bucket.take()
    assert bucket.capacity == 2.0
    assert bucket.phases[-1].throttled == 2


def test_default_burst_is_a_tenth_of_the_rate() -> None:
    """``burst=None`` holds ``max(1, rate/10)`` tokens."""
    bucket = RateBucket(Clock())
    bucket.rate = 200.0
    assert bucket.capacity == 20.0
    bucket.rate = 5.0
    assert bucket.capacity == 1.0


def test_schedule_changes_the_rate_after_the_first_request() -> None:
    """Steps count from the first request; each starts full and is counted apart."""
    clock = Clock()
    bucket = RateBucket(clock)
    bucket.rate, bucket.burst = 100.0, 1
    bucket.schedule = [(1.0, 10.0), (2.0, 1000.0)]
    assert bucket.take()  # t=0: the schedule starts here
    clock.now += 0.5
    assert bucket.take() and bucket.rate == 100.0
    clock.now += 0.6  # 1.1 s: 10 req/s, full bucket of one
    assert bucket.take()
    clock.now += 0.05
    assert not bucket.take()
    clock.now += 1.0  # 2.15 s: 1000 req/s
    assert bucket.rate == 10.0  # changes on the next request
    assert bucket.take() and bucket.rate == 1000.0
    assert [(p.after, p.rate, p.requests, p.throttled) for p in bucket.phases] == [
        (0.0, 100.0, 2, 0),
        (1.0, 10.0, 2, 1),
        (2.0, 1000.0, 1, 0),
    ]
    bucket.refill()  # back to the rate that was set, schedule restarted
    assert bucket.rate == 100.0
    assert bucket.phases == [Phase(0.0, 100.0)]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("3", "SECONDS:RATE"),
        ("a:5", "SECONDS:RATE"),
        ("3:0", "positive"),
        ("3:5,2:5", "increasing"),
    ],
)
def test_bad_schedules_are_refused(text: str, match: str) -> None:
    """A malformed step, a rate <= 0 or times out of order is a ValueError naming it."""
    with pytest.raises(ValueError, match=match):
        parse_rate_schedule(text)


def test_bad_settings_are_refused() -> None:
    """Negative rates and empty buckets are refused with the fake's messages."""
    bucket = RateBucket(Clock())
    with pytest.raises(ValueError, match="rate_limit must be positive"):
        bucket.rate = -1.0
    with pytest.raises(ValueError, match="rate_burst must be >= 1"):
        bucket.burst = 0


def test_the_fake_exposes_the_schedule_and_its_phases() -> None:
    """``FakeScaleway.rate_schedule`` and ``rate_phases()`` reach the bucket."""
    fake = FakeScaleway(rate_limit=200, rate_burst=1)
    fake.rate_schedule = parse_rate_schedule("0:50")
    assert fake.rate_schedule == ((0.0, 50.0),)
    assert fake._bucket.take()
    assert fake.rate_limit == 50.0
    phases = fake.rate_phases()
    assert [p.rate for p in phases] == [200.0, 50.0]
    phases[0].requests = 99  # a copy
    assert fake.rate_phases()[0].requests == 0


def test_command_line_takes_a_schedule() -> None:
    """``--rate-schedule`` parses steps; a bad one is an argparse error."""
    assert _parse_args(["--rate-limit", "200", "--rate-schedule", "3:50"]).rate_schedule == (
        (3.0, 50.0),
    )
    with pytest.raises(SystemExit):
        _parse_args(["--rate-schedule", "soon"])
