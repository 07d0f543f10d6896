"""A virtual-time simulation: a bare-429 token bucket, workers, and one AdaptiveControl.

It drives the limiter's sans-IO core exactly as ``Gate`` and the request
pipeline do (one caller at a time takes slots, in order; a bare 429 is sent
again through the limiter), with simulated network and timer jitter, so
behaviour tests can run thousands of requests in milliseconds and
deterministically (seeded).

What it leaves out, so read its walls and 429 counts as a first look only
(benchmarks/RATELIMIT.md, seventh session): answers arrive one at a time, each
spread by its own network jitter, where the real loop reads a wave's answers
in one batch and accounts its 429 before any woken caller runs (a slow start
that waited for a wave's answers cut 429s here and not on the real grid); a
request on a new connection reaches the server late in reality, here never;
and ``timer_late`` defaults to the loop's millisecond, where the limiter's
precise sleeper wakes within a fifth of one (``timer_late=0.0002`` comes
closer to the real grid's one-token cells).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from scaleway_volumes._pacing._control import AdaptiveControl


class Bucket:
    """The server: ``rate`` tokens per second (a schedule may change it), ``burst`` at most."""

    def __init__(self, schedule: Sequence[tuple[float, float]], burst: int) -> None:
        self.schedule = list(schedule)
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = 0.0
        self.step = 0

    def take(self, now: float) -> bool:
        while self.step + 1 < len(self.schedule) and now >= self.schedule[self.step + 1][0]:
            self.step += 1
            self.tokens, self.stamp = float(self.burst), self.schedule[self.step][0]
        rate = self.schedule[self.step][1]
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@attrs.define
class Outcome:
    """What a simulated run did."""

    wall: float = 0.0
    created: int = 0
    throttled: int = 0
    #: ``(send time, status)`` of every request, in send order.
    requests: list[tuple[float, int]] = attrs.field(factory=list)
    #: ``(time, pacing rate)`` after every answer.
    rates: list[tuple[float, float]] = attrs.field(factory=list)
    max_in_flight: int = 0

    def throttled_between(self, start: float, end: float = math.inf) -> tuple[int, int]:
        """(requests sent in ``[start, end)``, of which 429s)."""
        sent = [status for t, status in self.requests if start <= t < end]
        return len(sent), sum(1 for status in sent if status == 429)


def simulate(
    control: AdaptiveControl,
    *,
    rate: float | None = None,
    schedule: Sequence[tuple[float, float]] | None = None,
    burst: int = 5,
    latency: float = 0.005,
    n: int = 300,
    workers: int = 50,
    seed: int = 0,
    network: float = 0.0002,
    timer_late: float = 0.001,
    status: Callable[[bool], int | None] | None = None,
) -> Outcome:
    """Create ``n`` things with ``workers`` callers through ``control`` against a bucket.

    ``status(accepted)`` may replace the server's answer (e.g. None: no answer).
    """
    rng = random.Random(seed)
    bucket = Bucket(schedule or [(0.0, rate or 100.0)], burst)
    out = Outcome()
    events: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
    order = itertools.count()
    line: deque[int] = deque()
    state = {"head_busy": False, "wait_release": False, "started": 0, "in_flight": 0}

    def at(t: float, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(events, (t, next(order), fn, args))

    def jitter() -> float:
        return network + rng.expovariate(1 / network)

    def head(now: float) -> None:
        state["head_busy"] = False
        while line:
            delay = control.reserve(now)
            if delay == 0.0:
                line.popleft()
                state["in_flight"] += 1
                out.max_in_flight = max(out.max_in_flight, state["in_flight"])
                at(now + jitter(), arrive, now)
                continue
            if delay == math.inf:
                state["wait_release"] = True
                return
            state["head_busy"] = True
            at(now + delay + rng.uniform(0, timer_late), head)
            return

    def want(now: float, worker: int) -> None:
        line.append(worker)
        if not state["head_busy"] and not state["wait_release"]:
            state["head_busy"] = True
            at(now, head)

    def arrive(now: float, sent: float) -> None:
        accepted = bucket.take(now)
        answer = 201 if accepted else 429
        if status is not None:
            answer = status(accepted)  # type: ignore[assignment]
        out.requests.append((sent, answer))
        at(now + latency + jitter(), respond, sent, answer)

    def respond(now: float, sent: float, answer: int | None) -> None:
        state["in_flight"] -= 1
        control.release(sent, answer, now)
        out.rates.append((now, control.rate))
        if answer == 429:
            out.throttled += 1
            want(now, 0)
        else:
            out.created += 1
            if state["started"] < n:
                state["started"] += 1
                want(now, 0)
            elif out.created == n:
                out.wall = now
        if state["wait_release"]:
            state["wait_release"] = False
            if not state["head_busy"]:
                state["head_busy"] = True
                at(now, head)

    for worker in range(min(workers, n)):
        state["started"] += 1
        want(0.0, worker)
    while events:
        t, _, fn, args = heapq.heappop(events)
        fn(t, *args)
    return out
