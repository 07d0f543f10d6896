"""Progress of a bulk call on stderr: a live bar on a terminal, plain lines otherwise.

``Tracker`` is what a bulk call's ``on_progress``/``on_item`` callbacks report
to; it also keeps each item's outcome, so that an interrupted call can still
tell what it did.
"""

from __future__ import annotations

import math
import sys
import time
from types import TracebackType
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["Tracker", "stderr_is_terminal"]


def stderr_is_terminal() -> bool:
    """True when stderr is a terminal, where a live bar makes sense."""
    return sys.stderr is not None and sys.stderr.isatty()


class _RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        text = "?/s" if speed is None else f"{speed:.0f}/s"
        return Text(text, style="progress.data.speed")


def _live_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[failed]} failed"),
        console=Console(stderr=True),
    )


def _is_error(outcome: object) -> bool:
    return isinstance(outcome, BaseException)


class Tracker:
    """Keeps each outcome of a bulk call and shows its progress on stderr.

    A live rich bar on a terminal; otherwise a plain line every 10% (the last one
    at 100%), which is what a log file or CI wants. ``live`` forces one or the other.

    ```python
    with Tracker("create", len(specs)) as tracker:
        result = await api.create_volumes(
            specs, on_progress=tracker.on_progress, on_item=tracker.on_item
        )
    ```
    """

    def __init__(self, label: str, total: int, *, live: bool | None = None) -> None:
        self.label = label
        self.total = total
        self.live = stderr_is_terminal() if live is None else live
        self.outcomes: dict[int, tuple[Any, Any]] = {}
        self.failures = 0
        self.done = 0
        self._step = max(1, math.ceil(total / 10))
        self._next_line = self._step
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._started = time.perf_counter()

    def __enter__(self) -> Tracker:
        self._started = time.perf_counter()
        if self.live:
            self._progress = _live_bar()
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total, failed=0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the live bar, so that what follows is printed below it. Idempotent."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def on_item(self, index: int, item: Any, outcome: Any) -> None:
        """Record one item's outcome (its output, or the exception it failed with)."""
        self.outcomes[index] = (item, outcome)
        if _is_error(outcome):
            self.failures += 1

    def on_progress(self, done: int, total: int | None) -> None:
        """Show that ``done`` items are finished."""
        self.done = done
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, failed=self.failures)
        elif done >= self._next_line or done == self.total:
            self._next_line = (done // self._step + 1) * self._step
            elapsed = time.perf_counter() - self._started
            click.echo(
                f"{self.label}: {done}/{self.total} done, {self.failures} failed ({elapsed:.1f} s)",
                err=True,
            )

    def succeeded(self) -> list[Any]:
        """Outputs of the items that succeeded so far, in input order."""
        return [out for _, (_, out) in sorted(self.outcomes.items()) if not _is_error(out)]

    def failed(self) -> list[tuple[Any, BaseException]]:
        """``(input, exception)`` of the items that failed so far, in input order."""
        return [(item, out) for _, (item, out) in sorted(self.outcomes.items()) if _is_error(out)]
