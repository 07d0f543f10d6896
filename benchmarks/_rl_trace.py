"""Trace a grid cell's limiter, request by request (``ratelimit.py --trace DIR``).

``TracingLimiter`` wraps the worker's limiter: each permit's send time, its
answer's time and status, and after each answer the adaptive limiter's rate
and mode. The grid writes one JSON file per cell into ``DIR``; run this module
on one to read it::

    python benchmarks/ratelimit.py --scenarios grid --rates 200 --latencies 0.02 \\
        --bursts 20 --trace /tmp/rl-trace
    python benchmarks/_rl_trace.py /tmp/rl-trace/grid-200-20ms-20.json

It prints every 429 (when it was sent and answered, the rate then) and, per
tenth of a second, the requests sent, the 429s among their answers and the
rate at its end: where a cell's 429s and lost time come from. The wrapper
reads the adaptive limiter's private state (``_control``): this is our own
library, traced by our own benchmark.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any


class TracingLimiter:
    """``limiter`` as it is, recording each request it paces (``events``)."""

    def __init__(self, limiter: Any) -> None:
        self._limiter = limiter
        self._started = time.monotonic()
        self._sent: list[float] = []
        #: One per answered request: [sent, answered, status, rate, mode, failed,
        #: ceiling], the last four as the answer left them.
        self.events: list[list[Any]] = []

    def _now(self) -> float:
        return time.monotonic() - self._started

    def _state(self) -> list[Any]:
        """The adaptive limiter's rate, mode, rate that failed and ceiling (None each
        for another limiter or an infinite rate)."""
        control = getattr(self._limiter, "_control", None)
        state: list[Any] = []
        for name in ("rate", "mode", "failed", "ceiling"):
            value = getattr(control, name, None)
            state.append(None if isinstance(value, float) and math.isinf(value) else value)
        return state

    async def acquire(self) -> object:
        permit = await self._limiter.acquire()
        self._sent.append(self._now())
        return (len(self._sent) - 1, permit)

    def release(self, permit: object, status: int | None) -> None:
        index, inner = permit  # type: ignore[misc]
        self._limiter.release(inner, status)
        self.events.append([self._sent[index], self._now(), status, *self._state()])

    async def aclose(self) -> None:
        close = getattr(self._limiter, "aclose", None)
        if close is not None:
            await close()

    def write(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # ``started`` is on the system-wide monotonic clock: a fleet's traces,
        # written by several processes, line up on it.
        Path(path).write_text(json.dumps({"started": self._started, "events": self.events}))


def summary(events: list[list[Any]], step: float = 0.1) -> list[str]:
    """The trace as lines: each 429, then per ``step`` seconds sends, 429s and the rate."""
    lines = ["429s (sent at, answered at; after it: rate, failed, ceiling, mode):"]
    for sent, answered, status, *state in events:
        if status == 429:
            lines.append(f"  {sent:7.3f} s  {answered:7.3f} s  {_shown(state)}")
    end = max((e[1] for e in events), default=0.0)
    lines.append(
        "per tenth of a second: sent, answered 429; at its end: rate, failed, ceiling, mode"
    )
    for k in range(int(end / step) + 1):
        low = k * step
        sent, refused, state = _in_step(events, low, low + step)
        lines.append(f"  {low:5.1f} s  {sent:4d} sent  {refused:3d} 429  {_shown(state)}")
    return lines


def _in_step(events: list[list[Any]], low: float, high: float) -> tuple[int, int, list[Any]]:
    """The requests sent from ``low`` to ``high``, the 429s among them, and the
    limiter's state after the last answer before ``high`` (rate, mode, failed,
    ceiling; None each before any)."""
    sent = sum(1 for e in events if low <= e[0] < high)
    refused = sum(1 for e in events if low <= e[0] < high and e[2] == 429)
    last = [e for e in events if e[1] < high]
    return sent, refused, last[-1][3:] if last else [None] * 4


def fleet_summary(traces: list[dict[str, Any]], step: float = 0.5) -> list[str]:
    """A fleet's traces side by side: per ``step`` seconds from the first process's
    start, each process's requests sent, 429s among them, and its rate at the end."""
    zero = min(t["started"] for t in traces)
    shifted = [
        [[e[0] + t["started"] - zero, e[1] + t["started"] - zero, *e[2:]] for e in t["events"]]
        for t in traces
    ]
    ends = [max((e[1] for e in events), default=0.0) for events in shifted]
    lines = [
        "process ends: " + "  ".join(f"{i}: {end:.2f} s" for i, end in enumerate(ends)),
        "per step: each process's sent/429 and rate at the step's end",
    ]
    for k in range(int(max(ends) / step) + 1):
        low = k * step
        cells = []
        for events in shifted:
            sent, refused, (rate, *_) = _in_step(events, low, low + step)
            shown = f"{rate:4.0f}" if rate else "   -"
            cells.append(f"{sent:3d}/{refused:<2d}{shown}")
        lines.append(f"  {low:5.1f} s  " + "  ".join(cells))
    return lines


def _shown(state: list[Any]) -> str:
    rate, mode, failed, ceiling = state

    def per_second(value: float | None) -> str:
        return f"{value:5.0f}/s" if value else "      -"

    return f"{per_second(rate)} {per_second(failed)} {per_second(ceiling)}  {mode}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fleet"]:
        loaded = [json.loads(Path(name).read_text()) for name in sys.argv[2:]]
        print("\n".join(fleet_summary(loaded)))
    else:
        for name in sys.argv[1:]:
            print("\n".join(summary(json.loads(Path(name).read_text())["events"])))
