"""How the adaptive limiter behaves against a bare-429 token bucket, in virtual time."""

from __future__ import annotations

import itertools
import math

import pytest

from scaleway_volumes._pacing._control import HOLDING, UNTHROTTLED, AdaptiveControl

from .pacing_sim import simulate


def test_a_client_never_throttled_is_never_paced() -> None:
    """Far under the limit: no 429, no pacing, and the first window opens to every worker."""
    control = AdaptiveControl()
    out = simulate(control, rate=1e6, burst=1000, n=2000, workers=50)
    assert out.throttled == 0
    assert control.mode == UNTHROTTLED
    assert control.rate == math.inf
    assert out.max_in_flight == 50


def test_the_first_wave_is_held_to_the_initial_window() -> None:
    """Against a one-token bucket the first wave costs at most ``initial_window - 1`` 429s."""
    out = simulate(AdaptiveControl(), rate=100, burst=1, latency=0.02, n=1, workers=50)
    first_wave = [status for sent, status in out.requests if sent == 0.0]
    assert len(first_wave) == 1
    out = simulate(AdaptiveControl(), rate=100, burst=1, latency=0.02, n=300, workers=50)
    assert sum(1 for sent, status in out.requests if sent == 0.0 and status == 429) <= 5


def test_the_window_stays_open_for_the_next_call() -> None:
    """The slow start is paid once per limiter: a second bulk call on a limiter that
    met no 429 sends its whole first wave at once (docs/rate-limiting.md)."""
    control = AdaptiveControl()
    first = simulate(control, rate=1e6, burst=1000, n=200, workers=50, latency=0.02)
    assert sum(1 for sent, _ in first.requests if sent == 0.0) == 6
    second = simulate(control, rate=1e6, burst=1000, n=200, workers=50, latency=0.02)
    assert sum(1 for sent, _ in second.requests if sent == 0.0) == 50
    assert second.wall < first.wall


@pytest.mark.parametrize(
    ("rate", "burst", "latency"),
    [
        (20, 5, 0.005),
        (100, 5, 0.005),
        (100, 10, 0.02),
        (400, 40, 0.0),
        (50, 5, 0.1),
        (100, 1, 0.005),
        (50, 1, 0.02),
    ],
)
def test_finds_the_limit_and_holds_under_it(rate: int, burst: int, latency: float) -> None:
    """Finishes within 1.2x of N/rate (virtual time) with at most 10 % of 429s, and
    ends holding near the limit."""
    n = max(300, 3 * rate)
    control = AdaptiveControl()
    out = simulate(control, rate=rate, burst=burst, latency=latency, n=n)
    assert out.created == n
    assert out.throttled <= 0.10 * n
    assert out.wall <= 1.2 * n / rate
    assert control.mode == HOLDING
    assert 0.7 * rate <= control.rate <= 1.4 * rate


def test_follows_a_lowered_limit() -> None:
    """200 req/s, then 50 from the third second: few 429s after the drop, then under it."""
    control = AdaptiveControl()
    out = simulate(control, schedule=[(0.0, 200.0), (3.0, 50.0)], burst=5, n=900)
    after, throttled = out.throttled_between(3.0)
    assert after > 200
    assert throttled <= 0.10 * after
    assert control.rate <= 60


def test_spaces_requests_when_the_rate_is_below_one_in_flight() -> None:
    """At 2 req/s behind 100 ms, once paced, never two requests in flight at once."""
    out = simulate(AdaptiveControl(), rate=2, burst=1, latency=0.1, n=40, workers=10)
    late = [sent for sent, _ in out.requests if sent > 5.0]
    assert len(late) >= 20
    gaps = [b - a for a, b in itertools.pairwise(late)]
    assert min(gaps) > 0.1 + 0.0004  # the previous one was answered first
    assert out.created == 40


def test_answers_that_are_not_429_never_cut() -> None:
    """Network failures (no status) and 5xx are not signs of a rate limit."""
    control = AdaptiveControl()
    simulate(control, rate=10, burst=1, n=200, status=lambda accepted: None)
    assert control.throttled == 0
    assert control.mode == UNTHROTTLED
    control = AdaptiveControl()
    simulate(control, rate=10, burst=1, n=200, status=lambda accepted: 503)
    assert control.mode == UNTHROTTLED


def test_the_rate_never_leaves_its_bounds_under_load() -> None:
    """``min_rate`` and ``max_rate`` hold against a limit far outside them."""
    control = AdaptiveControl(min_rate=30.0, max_rate=40.0)
    out = simulate(control, rate=10, burst=1, n=200)
    assert all(30.0 <= rate <= 40.0 for _, rate in out.rates if rate != math.inf)
    control = AdaptiveControl(max_rate=40.0)
    out = simulate(control, rate=1000, burst=1, n=400)
    assert all(rate <= 40.0 for _, rate in out.rates if rate != math.inf)
