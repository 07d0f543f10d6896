"""``demo``: the offline tour, on a fake Scaleway served in this process on 127.0.0.1.

Block Storage, the persistent volumes: it bulk-creates volumes and waits until
they are available (one progress bar), lists them, snapshots one and waits for
the snapshot, grows one and waits for its new size, then deletes the snapshot
and bulk-deletes the volumes. The fake takes ``--settle-time`` seconds per
transition and answers 429 past ``--rate-limit``; the summary
(``_demo_report``) tells each phase's time, the requests by kind as the fake
received them (a few batched polls watch hundreds of volumes), the TCP
connections and the 429s. No account, no network.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import click

from scaleway_volumes import (
    AsyncBlockAPI,
    BlockSnapshot,
    BlockVolume,
    BlockVolumeSpec,
    ScalewayError,
)
from scaleway_volumes._constants import DEFAULT_PER_PAGE
from scaleway_volumes.testing import FAKE_TOKEN, FakeScaleway

from ._block_output import describe
from ._connect import make_api, run
from ._constants import (
    DEMO_CONCURRENCY,
    DEMO_COUNT,
    DEMO_LATENCY,
    DEMO_PREFIX,
    DEMO_RATE_LIMIT,
    DEMO_SETTLE_TIME,
    DEMO_SIZE,
)
from ._demo_report import DemoReport
from ._errors import CLIError, interrupted, one_line, summary_hint
from ._options import GlobalOptions, NumberRange, concurrency_option, pass_options
from ._output import dump_json
from ._progress import Tracker
from ._runners import echo_failures

__all__ = ["demo"]


@contextlib.contextmanager
def _phase(report: DemoReport, name: str) -> Iterator[None]:
    """Names the stage Ctrl-C would interrupt, and times it when it completes."""
    report.stage = name
    started = time.perf_counter()
    yield
    report.phases[name] = time.perf_counter() - started


# What a step that is about all the demo's volumes failed on, as its stderr line names it.
_ALL = f"the {DEMO_PREFIX}* volumes"


def _failed(report: DemoReport, action: str, item: object, error: ScalewayError) -> None:
    """Count a failed step of the current phase and say so on stderr."""
    report.failed_phases.add(report.stage)
    report.failed += 1
    report.failures.append((item, error))
    click.echo(f"failed to {action} {describe(item)}: {one_line(error)}", err=True)


# -- the phases, in order ------------------------------------------------------------------


async def _create(api: AsyncBlockAPI, report: DemoReport, concurrency: int) -> list[BlockVolume]:
    count = report.count
    # The bar counts volumes that became available, not requests sent.
    with _phase(report, "create"), Tracker("create+wait", count) as tracker:
        specs = (BlockVolumeSpec(f"{DEMO_PREFIX}{i}", size=report.size) for i in range(count))
        created = await api.create_volumes(
            specs,
            # No more workers than volumes (the library cannot size a generator).
            concurrency=min(concurrency, count),
            wait=True,
            on_progress=tracker.on_progress,
            on_item=tracker.on_item,
        )
    report.created = len(created.succeeded)
    if created.failed:
        report.failed_phases.add("create")
    report.failed += len(created.failed)
    report.failures += created.failed
    report.throttled_met += created.throttled
    echo_failures("create", created.failed, describe)
    return created.succeeded


async def _list(api: AsyncBlockAPI, report: DemoReport) -> None:
    with _phase(report, "list"):
        try:
            listed = await api.list_volumes(name=DEMO_PREFIX, per_page=DEFAULT_PER_PAGE)
        except ScalewayError as exc:
            # The volumes are there all the same: the tour goes on with them.
            _failed(report, "list", _ALL, exc)
            return
    report.listed = sum(1 for v in listed if v.name.startswith(DEMO_PREFIX))


async def _snapshot(
    api: AsyncBlockAPI, report: DemoReport, volume: BlockVolume
) -> BlockSnapshot | None:
    with _phase(report, "snapshot"):
        try:
            taken = await api.create_snapshot(volume, name=f"{volume.name}-snapshot")
            taken = await api.wait_for_snapshot(taken)
        except ScalewayError as exc:
            _failed(report, "snapshot", volume, exc)
            return None
    report.snapshots = 1
    return taken


async def _resize(api: AsyncBlockAPI, report: DemoReport, volume: BlockVolume) -> None:
    with _phase(report, "resize"):
        try:
            # Answered with the old size: the new one shows once the volume settles.
            answered = await api.update_volume(volume, size=volume.size * 2)
            grown = await api.wait_for_volume(answered)
        except ScalewayError as exc:
            _failed(report, "resize", volume, exc)
            return
    report.resized = 1
    report.resized_to = grown.size


async def _delete(
    api: AsyncBlockAPI,
    report: DemoReport,
    volumes: list[BlockVolume],
    snapshot: BlockSnapshot | None,
    concurrency: int,
) -> None:
    with _phase(report, "delete"):
        if snapshot is not None:
            try:
                await api.delete_snapshot(snapshot)
            except ScalewayError as exc:
                _failed(report, "delete", snapshot, exc)
            else:
                report.deleted_snapshots = 1
        with Tracker("delete", len(volumes)) as tracker:
            try:
                deleted = await api.delete_volumes(
                    volumes,
                    concurrency=concurrency,
                    on_progress=tracker.on_progress,
                    on_item=tracker.on_item,
                )
            finally:
                # Ctrl-C mid-phase: its line says how many went, not 0.
                report.deleted = len(tracker.succeeded())
    report.deleted = len(deleted.succeeded)
    if deleted.failed:
        report.failed_phases.add("delete")
    report.failed += len(deleted.failed)
    report.failures += deleted.failed
    report.throttled_met += deleted.throttled
    echo_failures("delete", deleted.failed, describe)


async def _tour(api: AsyncBlockAPI, report: DemoReport, concurrency: int) -> None:
    created = await _create(api, report, concurrency)
    await _list(api, report)
    snapshot = None
    if created:
        snapshot = await _snapshot(api, report, created[0])
        # Another volume than the snapshot's when there is one: both are shown.
        await _resize(api, report, created[-1])
    await _delete(api, report, created, snapshot, concurrency)


# -- the command ---------------------------------------------------------------------------


def _intro(count: int, latency: float, rate_limit: float, settle: float, concurrency: int) -> str:
    limit = f"{rate_limit:g} req/s rate limit" if rate_limit else "no rate limit"
    return (
        f"demo: {count} Block Storage volumes against a fake Scaleway on 127.0.0.1 "
        f"({latency * 1000:g} ms latency, {limit}, {settle:g} s to become available, "
        f"concurrency {concurrency})"
    )


def _run_on(fake: FakeScaleway, report: DemoReport, concurrency: int, *, as_json: bool) -> None:
    """Serve ``fake`` on loopback, take the tour, fill ``report``; Ctrl-C exits 130."""
    started = time.perf_counter()
    with fake.serve() as server:
        api = make_api(
            AsyncBlockAPI,
            FAKE_TOKEN,
            zone=fake.zone,
            base_url=server.block_base_url,
            organization=fake.organization,
            project=None,
            # The tour is offline: the user's SCW_* variables and config file
            # (a profile, a project, even a malformed file) are not for the fake.
            environ={},
        )
        try:
            run(api, lambda a: _tour(a, report, concurrency))
        except ScalewayError as exc:
            # A whole bulk call failed (not one of its items): the phases after
            # it do not run, but the summary still says what the tour did.
            _failed(report, report.stage, _ALL, exc)
        except KeyboardInterrupt:
            interrupted(
                f"interrupted during {report.stage}: created {report.created or 'some'}, "
                f"deleted {report.deleted}; the fake and its volumes go with this process",
                as_json=as_json,
            )
        finally:
            report.total = time.perf_counter() - started
            report.count_requests(fake.stats.requests)
            report.connections = fake.stats.connections_opened
            report.throttled_server = fake.stats.throttled


@click.command("demo")
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=DEMO_COUNT,
    show_default=True,
    help="How many Block Storage volumes the demo creates in bulk (and deletes at the end).",
)
@click.option(
    "--latency",
    type=NumberRange(min=0),
    default=DEMO_LATENCY,
    show_default=True,
    help="Seconds the fake waits before answering each request.",
)
@click.option(
    "--rate-limit",
    type=NumberRange(min=0),
    default=DEMO_RATE_LIMIT,
    show_default=True,
    help="Requests per second the fake allows before answering 429 (0 = no limit).",
)
@click.option(
    "--settle-time",
    type=NumberRange(min=0),
    default=DEMO_SETTLE_TIME,
    show_default=True,
    help="Seconds a volume takes to become available, a snapshot to be taken, "
    "a resize or a delete to land.",
)
@concurrency_option(DEMO_CONCURRENCY)
@pass_options
def demo(
    opts: GlobalOptions,
    count: int,
    latency: float,
    rate_limit: float,
    settle_time: float,
    concurrency: int,
) -> None:
    """Tour Block Storage on a local fake: bulk create and wait, snapshot, resize, delete.

    Needs no account: the fake runs in this process on 127.0.0.1 (the global
    connection options are ignored).

    \f
    Exits 1 when any step failed (each failure on its own line, then one hint).
    """
    fake = FakeScaleway(
        token=FAKE_TOKEN,
        latency=latency,
        rate_limit=rate_limit or None,
        block_create_time=settle_time,
        block_snapshot_time=settle_time,
        block_resize_time=settle_time,
        block_delete_time=settle_time,
    )
    report = DemoReport(count=count, size=DEMO_SIZE, settle_time=settle_time)
    click.echo(_intro(count, latency, rate_limit, settle_time, concurrency), err=True)
    _run_on(fake, report, concurrency, as_json=opts.json)
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
