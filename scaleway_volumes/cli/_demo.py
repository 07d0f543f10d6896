"""``demo``: the offline tour, on a fake Scaleway served in this process on 127.0.0.1.

It bulk-creates volumes with a progress bar, lists them, resizes one,
bulk-deletes them and prints what it took: time per phase, requests and
retries, TCP connections, 429s met. No account, no network.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import click

from scaleway_volumes import AsyncVolumeAPI, ScalewayError, Volume, VolumeSpec
from scaleway_volumes._constants import DEFAULT_PER_PAGE
from scaleway_volumes.testing import FakeScaleway

from ._connect import make_api, run
from ._constants import (
    DEMO_CONCURRENCY,
    DEMO_COUNT,
    DEMO_LATENCY,
    DEMO_PREFIX,
    DEMO_RATE_LIMIT,
    DEMO_SIZE,
    FAKE_TOKEN,
)
from ._errors import EXIT_INTERRUPTED, CLIError, one_line, summary_hint
from ._options import GlobalOptions, concurrency_option, pass_options
from ._output import dump_json
from ._progress import Tracker
from ._runners import echo_failures
from ._sizes import human_size
from ._volume_output import describe

__all__ = ["DemoReport", "demo"]


@dataclass
class DemoReport:
    """What the demo did, filled in phase by phase; ``lines()`` renders the summary."""

    count: int
    stage: str = "start"
    created: int = 0
    listed: int = 0
    resized: int = 0
    resized_to: int = 0
    deleted: int = 0
    failed: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    requests: int = 0
    operations: int = 0
    connections: int = 0
    throttled_met: int = 0
    throttled_server: int = 0
    failures: list[tuple[Any, BaseException]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every volume went through every phase."""
        return not self.failed and self.count == self.created == self.listed == self.deleted

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (what ``--json demo`` prints)."""
        return {
            "ok": self.ok,
            "count": self.count,
            "created": self.created,
            "listed": self.listed,
            "resized": self.resized,
            "deleted": self.deleted,
            "failed": self.failed,
            "seconds": {**self.phases, "total": self.total},
            "requests": self.requests,
            "retries": self.requests - self.operations,
            "connections": self.connections,
            "throttled": self.throttled_met,
            "server_throttled": self.throttled_server,
        }

    def _took(self, phase: str) -> str:
        return f"in {self.phases[phase]:.2f} s" if phase in self.phases else "(not run)"

    def lines(self) -> list[str]:
        """The human summary, one fact per line."""
        took = self._took
        resize = ""
        if self.resized:
            resize = f"({human_size(DEMO_SIZE)} -> {human_size(self.resized_to)}) "
        return [
            f"created     {self.created}/{self.count} {took('create')}",
            f"listed      {self.listed} {took('list')}",
            f"resized     {self.resized} {resize}{took('resize')}",
            f"deleted     {self.deleted}/{self.created} {took('delete')}",
            f"failed      {self.failed}",
            f"total       {self.total:.2f} s",
            f"requests    {self.requests} for {self.operations} operations "
            f"({self.requests - self.operations} retries)",
            f"connections {self.connections} TCP connections opened",
            f"429s        {self.throttled_met} met by the bulk calls "
            f"({self.throttled_server} sent by the server)",
        ]


@contextlib.contextmanager
def _phase(report: DemoReport, name: str) -> Iterator[None]:
    """Names the stage Ctrl-C would interrupt, and times it when it completes."""
    report.stage = name
    started = time.perf_counter()
    yield
    report.phases[name] = time.perf_counter() - started


# -- the phases, in order ------------------------------------------------------------------


async def _create(api: AsyncVolumeAPI, report: DemoReport, concurrency: int) -> list[Volume]:
    count = report.count
    with _phase(report, "create"), Tracker("create", count) as tracker:
        specs = (VolumeSpec(name=f"{DEMO_PREFIX}{i}", size=DEMO_SIZE) for i in range(count))
        created = await api.create_volumes(
            specs,
            concurrency=concurrency,
            on_progress=tracker.on_progress,
            on_item=tracker.on_item,
        )
    report.created = len(created.succeeded)
    report.failed += len(created.failed)
    report.failures += created.failed
    report.operations += count
    report.throttled_met += created.throttled
    echo_failures("create", created.failed, describe)
    return created.succeeded


async def _list(api: AsyncVolumeAPI, report: DemoReport) -> None:
    with _phase(report, "list"):
        listed = await api.list_volumes(name=DEMO_PREFIX)
    report.listed = sum(1 for v in listed if v.name.startswith(DEMO_PREFIX))
    report.operations += max(1, math.ceil(report.listed / DEFAULT_PER_PAGE))


async def _resize(api: AsyncVolumeAPI, report: DemoReport, volume: Volume) -> None:
    with _phase(report, "resize"):
        report.operations += 1
        try:
            grown = await api.update_volume(volume, size=volume.size * 2)
        except ScalewayError as exc:
            report.failed += 1
            report.failures.append((volume, exc))
            click.echo(f"failed to resize {volume.id}: {one_line(exc)}", err=True)
        else:
            report.resized = 1
            report.resized_to = grown.size


async def _delete(
    api: AsyncVolumeAPI, report: DemoReport, volumes: list[Volume], concurrency: int
) -> None:
    with _phase(report, "delete"), Tracker("delete", len(volumes)) as tracker:
        deleted = await api.delete_volumes(
            volumes,
            concurrency=concurrency,
            on_progress=tracker.on_progress,
            on_item=tracker.on_item,
        )
    report.deleted = len(deleted.succeeded)
    report.failed += len(deleted.failed)
    report.failures += deleted.failed
    report.operations += len(volumes)
    report.throttled_met += deleted.throttled
    echo_failures("delete", deleted.failed, describe)


async def _tour(api: AsyncVolumeAPI, report: DemoReport, concurrency: int) -> None:
    created = await _create(api, report, concurrency)
    await _list(api, report)
    if created:
        await _resize(api, report, created[0])
    await _delete(api, report, created, concurrency)


# -- the command ---------------------------------------------------------------------------


def _intro(count: int, latency: float, rate_limit: float, concurrency: int) -> str:
    limit = f"{rate_limit:g} req/s rate limit" if rate_limit else "no rate limit"
    return (
        f"demo: {count} volumes against a fake Scaleway on 127.0.0.1 "
        f"({latency * 1000:g} ms latency, {limit}, concurrency {concurrency})"
    )


def _run_on(fake: FakeScaleway, report: DemoReport, concurrency: int) -> None:
    """Serve ``fake`` on loopback, take the tour, fill ``report``; Ctrl-C exits 130."""
    started = time.perf_counter()
    with fake.serve() as server:
        api = make_api(
            AsyncVolumeAPI,
            FAKE_TOKEN,
            zone=fake.zone,
            base_url=server.base_url,
            organization=fake.organization,
            project=None,
        )
        try:
            run(api, lambda a: _tour(a, report, concurrency))
        except KeyboardInterrupt:
            click.echo(
                f"interrupted during {report.stage}: created {report.created or 'some'}, "
                f"deleted {report.deleted}; the fake and its volumes go with this process",
                err=True,
            )
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        finally:
            report.total = time.perf_counter() - started
            report.requests = len(fake.stats.requests)
            report.connections = fake.stats.connections_opened
            report.throttled_server = fake.stats.throttled


@click.command("demo")
@click.option("--count", type=click.IntRange(min=1), default=DEMO_COUNT, show_default=True)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=DEMO_LATENCY,
    show_default=True,
    help="Seconds the fake waits before answering each request.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0),
    default=DEMO_RATE_LIMIT,
    show_default=True,
    help="Requests per second the fake allows before answering 429 (0 = no limit).",
)
@concurrency_option(DEMO_CONCURRENCY)
@pass_options
def demo(
    opts: GlobalOptions, count: int, latency: float, rate_limit: float, concurrency: int
) -> None:
    """Bulk-create, list, resize and bulk-delete volumes on a local fake; print a summary.

    Needs no account: the fake runs in this process on 127.0.0.1 (the global
    connection options are ignored).
    """
    fake = FakeScaleway(token=FAKE_TOKEN, latency=latency, rate_limit=rate_limit or None)
    report = DemoReport(count=count)
    click.echo(_intro(count, latency, rate_limit, concurrency), err=True)
    _run_on(fake, report, concurrency)
    if opts.json:
        dump_json(report.as_dict())
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        raise CLIError(
            "the demo did not go through cleanly (see above)",
            hint=summary_hint(report.failures, describe),
        )
