"""The ``scaleway-volumes`` command line: ``list``, ``get``, ``create``, ``delete``, ``demo``.

Needs the ``cli`` extra (click and rich): ``pip install 'scaleway-volumes[cli]'``.
Nothing in the library imports this module, so the library never needs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import anyio

from ._convert import converter
from ._errors import ScalewayError
from ._instance import AsyncVolumeAPI
from ._models import Volume, VolumeSpec
from ._version import __version__

try:
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
    from rich.table import Table
    from rich.text import Text
except ImportError as exc:  # the [cli] extra is not installed: main() says so
    _MISSING_EXTRA: str | None = exc.name or str(exc)
else:
    _MISSING_EXTRA = None

if TYPE_CHECKING:
    from .testing import FakeScaleway

__all__ = ["CLIError", "build_cli", "human_size", "main", "parse_size"]

T = TypeVar("T")

PROG = "scaleway-volumes"
FAKE_TOKEN = "fake-token"
# The API (and the fake) refuse volumes under 1 GB; the demo stays well above.
DEMO_SIZE = 10 * 10**9
DEMO_PREFIX = "demo-"
# Pages the library fetches per list call (the API's maximum page size).
_PER_PAGE = 100

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
}
_DISPLAY_UNITS = (("PB", 10**15), ("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3))


class CLIError(Exception):
    """A failure to report as one ``Error: ...`` line on stderr, exiting with ``exit_code``.

    ``exit_code`` is 1 when an operation failed, 2 when the command line or the
    configuration must change (click's convention for usage errors).
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_size(text: str) -> int:
    """Return the number of bytes ``text`` means.

    A bare integer is bytes; ``KB``/``MB``/``GB``/``TB`` are powers of 1000,
    ``KiB``/``MiB``/``GiB``/``TiB`` powers of 1024 (case-insensitive, a space
    allowed before the unit, decimals allowed when they make whole bytes:
    ``1.5GB``). Raises ``ValueError`` for anything else, or for zero.
    """
    match = _SIZE.fullmatch(text)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"invalid size {text!r}: use bytes or a unit such as 10GB or 10GiB")
    try:
        size = Decimal(match.group(1)) * unit
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        raise ValueError(f"invalid size {text!r}: not a number") from None
    if size != size.to_integral_value():
        raise ValueError(f"invalid size {text!r}: not a whole number of bytes")
    if size <= 0:
        raise ValueError(f"invalid size {text!r}: must be more than 0 bytes")
    return int(size)


def human_size(size: int) -> str:
    """Return ``size`` bytes in decimal units as the API documents them: ``10 GB``, ``1.5 TB``."""
    for name, unit in _DISPLAY_UNITS:
        if size >= unit:
            value = f"{size / unit:.2f}".rstrip("0").rstrip(".")
            return f"{value} {name}"
    return f"{size} B"


# -- configuration and running ---------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    """The group's options, handed to every command."""

    token: str | None
    zone: str | None
    organization: str | None
    project: str | None
    base_url: str | None
    fake: bool
    json: bool


def _make_api(
    token: str,
    zone: str | None,
    base_url: str | None,
    organization: str | None,
    project: str | None,
) -> AsyncVolumeAPI:
    try:
        return AsyncVolumeAPI(
            token,
            zone=zone,
            base_url=base_url,
            organization=organization,
            project=project,
            user_agent=f"{PROG}-cli",
        )
    except (ValueError, TypeError) as exc:
        # Every argument here comes from an option or the environment.
        raise CLIError(str(exc), exit_code=2) from None


@contextlib.contextmanager
def _connect(opts: _Options) -> Iterator[tuple[AsyncVolumeAPI, FakeScaleway | None]]:
    """The API the options point at; with ``--fake``, a fake served on loopback meanwhile."""
    if not opts.fake:
        if not opts.token:
            raise CLIError("no secret key: pass --token or set SCW_SECRET_KEY", exit_code=2)
        yield (
            _make_api(opts.token, opts.zone, opts.base_url, opts.organization, opts.project),
            None,
        )
        return
    from .testing import FakeScaleway

    fake = FakeScaleway(token=FAKE_TOKEN, zone=opts.zone or "fr-par-1")
    with fake.serve() as server:
        # The fake knows one token: whatever the environment holds is not for it.
        api = _make_api(
            FAKE_TOKEN,
            opts.zone,
            server.base_url,
            opts.organization or fake.organization,
            opts.project,
        )
        yield api, fake


def _run(api: AsyncVolumeAPI, work: Callable[[AsyncVolumeAPI], Awaitable[T]]) -> T:
    """Run ``work(api)`` in a fresh event loop and close the connection pool afterwards."""

    async def body() -> T:
        async with api:
            return await work(api)

    try:
        return anyio.run(body, backend="asyncio")
    except asyncio.CancelledError:
        # Python 3.10's loop lets Ctrl-C out as the main task's cancellation
        # (3.11+ raises KeyboardInterrupt): nothing else cancels the root task.
        raise KeyboardInterrupt from None


def _stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _stderr_is_terminal() -> bool:
    return sys.stderr is not None and sys.stderr.isatty()


def _stdout_console() -> Console:
    # Off a terminal rich would lay tables out for 80 columns and fold the ids.
    width = None if sys.stdout.isatty() else 200
    return Console(width=width, soft_wrap=False)


def _dump_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# -- progress ----------------------------------------------------------------------------


def _rate_column() -> ProgressColumn:
    class RateColumn(ProgressColumn):
        """Items per second."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            text = "?/s" if speed is None else f"{speed:.0f}/s"
            return Text(text, style="progress.data.speed")

    return RateColumn()


class _Tracker:
    """Keeps each outcome of a bulk call and shows its progress on stderr.

    A live rich bar on a terminal; otherwise a plain line every 10% (the last one
    at 100%), which is what a log file or CI wants.
    """

    def __init__(self, label: str, total: int, *, live: bool | None = None) -> None:
        self.label = label
        self.total = total
        self.live = _stderr_is_terminal() if live is None else live
        self.outcomes: dict[int, tuple[Any, Any]] = {}
        self.failures = 0
        self.done = 0
        self._step = max(1, math.ceil(total / 10))
        self._next_line = self._step
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._started = time.perf_counter()

    def __enter__(self) -> _Tracker:
        self._started = time.perf_counter()
        if self.live:
            self._progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _rate_column(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[failed]} failed"),
                console=Console(stderr=True),
            )
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
        if isinstance(outcome, BaseException):
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


def _is_error(outcome: object) -> bool:
    return isinstance(outcome, BaseException)


def _interrupted(tracker: _Tracker, verb: str, describe: Callable[[Any], str]) -> NoReturn:
    """Tell what a bulk call did before Ctrl-C stopped it, then exit 130."""
    done = tracker.succeeded()
    click.echo(f"interrupted: {verb} {len(done)} of {tracker.total} before stopping", err=True)
    for output in done:
        click.echo(f"  {verb} {describe(output)}", err=True)
    for item, error in tracker.failed():
        what = "outcome unknown" if getattr(error, "outcome_unknown", False) else "failed"
        click.echo(f"  {what}: {describe(item)}: {_one_line(error)}", err=True)
    raise click.exceptions.Exit(130)


# -- output ------------------------------------------------------------------------------


def _volume_row(volume: Volume) -> list[str]:
    server = "-"
    if volume.server is not None:
        server = volume.server.name or volume.server.id
    return [
        volume.id,
        volume.name,
        human_size(volume.size),
        volume.volume_type,
        volume.state or "-",
        server,
        volume.zone or "-",
    ]


def _print_volumes(volumes: Sequence[Volume], title: str | None = None) -> None:
    table = Table(title=title)
    table.add_column("id", no_wrap=True)
    table.add_column("name")
    table.add_column("size", justify="right")
    for column in ("type", "state", "server", "zone"):
        table.add_column(column)
    for volume in volumes:
        table.add_row(*_volume_row(volume))
    _stdout_console().print(table)


def _print_volume(volume: Volume) -> None:
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in converter.unstructure(volume).items():
        if key == "size":
            value = f"{human_size(volume.size)} ({volume.size} bytes)"
        elif key == "tags":
            value = ", ".join(value)
        elif isinstance(value, dict):
            value = " ".join(f"{k}={v}" for k, v in value.items() if v is not None)
        table.add_row(key, "-" if value in (None, "") else str(value))
    _stdout_console().print(table)


def _failure_json(item: Any, error: BaseException) -> dict[str, Any]:
    value = converter.unstructure(item) if isinstance(item, VolumeSpec) else item
    return {"input": value, "error": _one_line(error)}


def _spec_name(item: Any) -> str:
    if isinstance(item, Volume):
        return f"{item.id} {item.name}"
    if isinstance(item, VolumeSpec):
        return item.name
    return str(item)


# -- commands ----------------------------------------------------------------------------


def _cmd_list(
    opts: _Options, name: str | None, volume_type: str | None, tags: tuple[str, ...]
) -> None:
    with _connect(opts) as (api, _):
        volumes = _run(
            api,
            lambda a: a.list_volumes(name=name, volume_type=volume_type, tags=list(tags) or None),
        )
    if opts.json:
        _dump_json([converter.unstructure(v) for v in volumes])
    else:
        _print_volumes(volumes)


def _cmd_get(opts: _Options, volume_id: str) -> None:
    with _connect(opts) as (api, _):
        volume = _run(api, lambda a: a.get_volume(volume_id))
    if opts.json:
        _dump_json(converter.unstructure(volume))
    else:
        _print_volume(volume)


def _cmd_create(
    opts: _Options,
    *,
    name: str | None,
    prefix: str | None,
    count: int | None,
    size: int,
    volume_type: str,
    tags: tuple[str, ...],
    concurrency: int,
) -> None:
    if name is not None:
        with _connect(opts) as (api, _):
            volume = _run(
                api,
                lambda a: a.create_volume(
                    name=name, size=size, volume_type=volume_type, tags=list(tags) or None
                ),
            )
        created, failed = [volume], []
    else:
        assert prefix is not None
        assert count is not None
        # A generator: the library pulls specs as workers free up, so memory does
        # not grow with --count.
        specs = (
            VolumeSpec(name=f"{prefix}{i}", size=size, volume_type=volume_type, tags=tags)
            for i in range(count)
        )
        tracker = _Tracker("create", count)
        with _connect(opts) as (api, _), tracker:
            try:
                result = _run(
                    api,
                    lambda a: a.create_volumes(
                        specs,
                        concurrency=concurrency,
                        on_progress=tracker.on_progress,
                        on_item=tracker.on_item,
                    ),
                )
            except KeyboardInterrupt:
                tracker.close()
                if opts.json:
                    _dump_created(tracker.succeeded(), tracker.failed())
                _interrupted(tracker, "created", _spec_name)
        created, failed = result.succeeded, result.failed
    if opts.json:
        _dump_created(created, failed)
    elif created:
        _print_volumes(created, title=f"created {len(created)} volume(s)")
    for spec, error in failed:
        click.echo(f"failed to create {_spec_name(spec)}: {_one_line(error)}", err=True)
    if failed:
        raise CLIError(f"{len(failed)} of {len(created) + len(failed)} creates failed")


def _dump_created(created: Sequence[Volume], failed: Sequence[tuple[Any, BaseException]]) -> None:
    _dump_json(
        {
            "created": [converter.unstructure(v) for v in created],
            "failed": [_failure_json(item, error) for item, error in failed],
        }
    )


def _cmd_delete(
    opts: _Options, ids: tuple[str, ...], prefix: str | None, yes: bool, concurrency: int
) -> None:
    with _connect(opts) as (api, _):
        targets: list[str | Volume]
        if prefix is not None:
            matching = _run(api, lambda a: a.list_volumes(name=prefix))
            # The API's name filter matches anywhere in the name.
            targets = [v for v in matching if v.name.startswith(prefix)]
        else:
            targets = list(dict.fromkeys(ids))
        if not targets:
            if opts.json:
                _dump_json({"deleted": [], "failed": []})
            else:
                click.echo(f"no volume name starts with {prefix!r}: nothing to delete", err=True)
            return
        if len(targets) > 1 and not yes:
            _confirm_delete(targets)
        tracker = _Tracker("delete", len(targets))
        with tracker:
            try:
                result = _run(
                    api,
                    lambda a: a.delete_volumes(
                        targets,
                        concurrency=concurrency,
                        # Ids typed by hand should exist (as `rm` wants its files);
                        # prefix matches may race with another deleter.
                        missing_ok=prefix is not None,
                        on_progress=tracker.on_progress,
                        on_item=tracker.on_item,
                    ),
                )
            except KeyboardInterrupt:
                tracker.close()
                if opts.json:
                    _dump_deleted(tracker.succeeded(), tracker.failed())
                _interrupted(tracker, "deleted", _spec_name)
    if opts.json:
        _dump_deleted(result.succeeded, result.failed)
    else:
        for volume_id in result.succeeded:
            click.echo(f"deleted {volume_id}")
    for item, error in result.failed:
        click.echo(f"failed to delete {_spec_name(item)}: {_one_line(error)}", err=True)
    if result.failed:
        raise CLIError(f"{len(result.failed)} of {len(targets)} deletes failed")


def _dump_deleted(deleted: Sequence[str], failed: Sequence[tuple[Any, BaseException]]) -> None:
    _dump_json(
        {
            "deleted": list(deleted),
            "failed": [
                _failure_json(item.id if isinstance(item, Volume) else item, error)
                for item, error in failed
            ],
        }
    )


def _confirm_delete(targets: Sequence[str | Volume]) -> None:
    count = len(targets)
    if not _stdin_is_interactive():
        raise CLIError(
            f"refusing to delete {count} volumes without confirmation: "
            "stdin is not a terminal; pass --yes",
            exit_code=2,
        )
    shown = [_spec_name(t) for t in targets[:10]]
    if count > len(shown):
        shown.append(f"... and {count - len(shown)} more")
    click.echo("\n".join(f"  {line}" for line in shown), err=True)
    if not click.confirm(f"Delete these {count} volumes?", default=False, err=True):
        raise CLIError("nothing deleted")


# -- demo --------------------------------------------------------------------------------


@dataclass
class _DemoReport:
    """What the demo did; ``lines()`` renders the summary."""

    count: int
    created: int = 0
    listed: int = 0
    resized: int = 0
    resized_to: int = 0
    deleted: int = 0
    failed: int = 0
    phases: dict[str, float] | None = None
    total: float = 0.0
    requests: int = 0
    operations: int = 0
    connections: int = 0
    throttled_met: int = 0
    throttled_server: int = 0
    final_limit: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every volume went through every phase."""
        return not self.failed and self.count == self.created == self.listed == self.deleted

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data."""
        return {
            "ok": self.ok,
            "count": self.count,
            "created": self.created,
            "listed": self.listed,
            "resized": self.resized,
            "deleted": self.deleted,
            "failed": self.failed,
            "seconds": {**(self.phases or {}), "total": self.total},
            "requests": self.requests,
            "retries": self.requests - self.operations,
            "connections": self.connections,
            "throttled": self.throttled_met,
            "server_throttled": self.throttled_server,
            "final_limit": self.final_limit,
        }

    def lines(self) -> list[str]:
        """The human summary, one fact per line."""
        phases = self.phases or {}

        def took(phase: str) -> str:
            return f"in {phases[phase]:.2f} s" if phase in phases else "(not run)"

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
            f"({self.throttled_server} sent by the server); "
            f"in-flight limit adapted to {self.final_limit:.1f}",
        ]


async def _demo_phases(
    api: AsyncVolumeAPI, report: _DemoReport, concurrency: int, stage: list[str]
) -> None:
    phases = report.phases = {}
    count = report.count

    stage[0] = "create"
    started = time.perf_counter()
    specs = (VolumeSpec(name=f"{DEMO_PREFIX}{i}", size=DEMO_SIZE) for i in range(count))
    with _Tracker("create", count) as tracker:
        created = await api.create_volumes(
            specs,
            concurrency=concurrency,
            on_progress=tracker.on_progress,
            on_item=tracker.on_item,
        )
    phases["create"] = time.perf_counter() - started
    report.created = len(created.succeeded)
    report.failed += len(created.failed)
    report.operations += count
    report.throttled_met += created.throttled
    report.final_limit = 0.0
    for spec, error in created.failed:
        click.echo(f"failed to create {spec.name}: {_one_line(error)}", err=True)

    stage[0] = "list"
    started = time.perf_counter()
    listed = [v for v in await api.list_volumes(name=DEMO_PREFIX) if v.name.startswith(DEMO_PREFIX)]
    phases["list"] = time.perf_counter() - started
    report.listed = len(listed)
    report.operations += max(1, math.ceil(len(listed) / _PER_PAGE))

    if created.succeeded:
        stage[0] = "resize"
        started = time.perf_counter()
        first = created.succeeded[0]
        report.operations += 1
        try:
            grown = await api.update_volume(first, size=first.size * 2)
        except ScalewayError as exc:
            report.failed += 1
            click.echo(f"failed to resize {first.id}: {_one_line(exc)}", err=True)
        else:
            report.resized = 1
            report.resized_to = grown.size
        phases["resize"] = time.perf_counter() - started

    stage[0] = "delete"
    started = time.perf_counter()
    with _Tracker("delete", len(created.succeeded)) as tracker:
        deleted = await api.delete_volumes(
            created.succeeded,
            concurrency=concurrency,
            on_progress=tracker.on_progress,
            on_item=tracker.on_item,
        )
    phases["delete"] = time.perf_counter() - started
    report.deleted = len(deleted.succeeded)
    report.failed += len(deleted.failed)
    report.operations += len(created.succeeded)
    report.throttled_met += deleted.throttled
    for volume, error in deleted.failed:
        click.echo(f"failed to delete {_spec_name(volume)}: {_one_line(error)}", err=True)


def _cmd_demo(
    opts: _Options, count: int, latency: float, rate_limit: float, concurrency: int
) -> None:
    from .testing import FakeScaleway

    fake = FakeScaleway(token=FAKE_TOKEN, latency=latency, rate_limit=rate_limit or None)
    report = _DemoReport(count=count)
    stage = ["start"]
    click.echo(
        f"demo: {count} volumes against a fake Scaleway on 127.0.0.1 "
        f"({latency * 1000:g} ms latency, "
        f"{f'{rate_limit:g} req/s rate limit' if rate_limit else 'no rate limit'}, "
        f"concurrency {concurrency})",
        err=True,
    )
    started = time.perf_counter()
    with fake.serve() as server:
        api = _make_api(FAKE_TOKEN, fake.zone, server.base_url, fake.organization, None)
        try:
            _run(api, lambda a: _demo_phases(a, report, concurrency, stage))
        except KeyboardInterrupt:
            click.echo(
                f"interrupted during {stage[0]}: created {report.created or 'some'}, "
                f"deleted {report.deleted}; the fake and its volumes go with this process",
                err=True,
            )
            raise click.exceptions.Exit(130) from None
        finally:
            report.total = time.perf_counter() - started
            report.requests = len(fake.stats.requests)
            report.connections = fake.stats.connections_opened
            report.throttled_server = fake.stats.throttled
    if opts.json:
        _dump_json(report.as_dict())
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        raise CLIError("the demo did not go through cleanly (see above)")


# -- click wiring ------------------------------------------------------------------------


def _size_option(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def build_cli() -> click.Group:
    """Return the ``scaleway-volumes`` click group (for ``CliRunner`` or embedding)."""

    class ConfigError(click.ClickException):
        # One line like any ClickException, but the status of a usage error.
        exit_code = 2

    def failure(message: str, exit_code: int) -> click.ClickException:
        return ConfigError(message) if exit_code == 2 else click.ClickException(message)

    class Group(click.Group):
        def invoke(self, ctx: click.Context) -> Any:
            # One line on stderr and a status, never a traceback.
            try:
                return super().invoke(ctx)
            except CLIError as exc:
                raise failure(str(exc), exc.exit_code) from None
            except (ScalewayError, ValueError) as exc:
                raise failure(_one_line(exc), 1) from None
            except KeyboardInterrupt:
                click.echo("interrupted", err=True)
                raise click.exceptions.Exit(130) from None

    @click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--token", envvar="SCW_SECRET_KEY", show_envvar=True, help="Secret key.")
    @click.option(
        "--zone", envvar="SCW_DEFAULT_ZONE", show_envvar=True, help="Zone (default fr-par-1)."
    )
    @click.option(
        "--organization",
        envvar="SCW_DEFAULT_ORGANIZATION_ID",
        show_envvar=True,
        help="Organization id for new volumes.",
    )
    @click.option(
        "--project",
        envvar="SCW_DEFAULT_PROJECT_ID",
        show_envvar=True,
        help="Project id for new volumes.",
    )
    @click.option("--base-url", help="API base URL (overrides --zone).")
    @click.option(
        "--fake",
        is_flag=True,
        help="Run against an in-memory fake API served on 127.0.0.1 for this command.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
    @click.version_option(__version__, prog_name=PROG)
    @click.pass_context
    def cli(
        ctx: click.Context,
        token: str | None,
        zone: str | None,
        organization: str | None,
        project: str | None,
        base_url: str | None,
        fake: bool,
        as_json: bool,
    ) -> None:
        """Manage Scaleway volumes (Instance API) from the command line."""
        if fake and base_url:
            raise click.UsageError("--fake and --base-url cannot be used together")
        ctx.obj = _Options(
            token=token or None,
            zone=zone or None,
            organization=organization or None,
            project=project or None,
            base_url=base_url or None,
            fake=fake,
            json=as_json,
        )

    concurrency_option = click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=16,
        show_default=True,
        help="Requests in flight at most.",
    )

    @cli.command("list")
    @click.option("--name", help="Only volumes whose name contains this.")
    @click.option("--type", "volume_type", help="Only volumes of this type (l_ssd, b_ssd...).")
    @click.option("--tag", "tags", multiple=True, help="Only volumes with this tag (repeatable).")
    @click.pass_obj
    def list_command(
        opts: _Options, name: str | None, volume_type: str | None, tags: tuple[str, ...]
    ) -> None:
        """List volumes (every page)."""
        _cmd_list(opts, name, volume_type, tags)

    @cli.command("get")
    @click.argument("volume_id", metavar="ID")
    @click.pass_obj
    def get_command(opts: _Options, volume_id: str) -> None:
        """Show one volume."""
        _cmd_get(opts, volume_id)

    @cli.command("create")
    @click.option("--name", help="Name of the one volume to create.")
    @click.option(
        "--name-prefix", "prefix", help="Create --count volumes named PREFIX0, PREFIX1..."
    )
    @click.option(
        "--count", type=click.IntRange(min=1), help="How many volumes (with --name-prefix)."
    )
    @click.option(
        "--size",
        required=True,
        callback=_size_option,
        help="Size: bytes, or 10GB (10^9) / 10GiB (2^30) style units.",
    )
    @click.option("--type", "volume_type", default="l_ssd", show_default=True, help="Volume type.")
    @click.option("--tag", "tags", multiple=True, help="Tag to set (repeatable).")
    @concurrency_option
    @click.pass_obj
    def create_command(
        opts: _Options,
        name: str | None,
        prefix: str | None,
        count: int | None,
        size: int,
        volume_type: str,
        tags: tuple[str, ...],
        concurrency: int,
    ) -> None:
        """Create one volume (--name) or many (--name-prefix with --count)."""
        if name is not None and (prefix is not None or count is not None):
            raise click.UsageError("use either --name, or --name-prefix with --count")
        if name is None and (prefix is None or count is None):
            raise click.UsageError("pass --name, or --name-prefix with --count")
        _cmd_create(
            opts,
            name=name,
            prefix=prefix,
            count=count,
            size=size,
            volume_type=volume_type,
            tags=tags,
            concurrency=concurrency,
        )

    @cli.command("delete")
    @click.argument("ids", nargs=-1, metavar="[ID]...")
    @click.option(
        "--name-prefix", "prefix", help="Delete every volume whose name starts with this."
    )
    @click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting several volumes.")
    @concurrency_option
    @click.pass_obj
    def delete_command(
        opts: _Options, ids: tuple[str, ...], prefix: str | None, yes: bool, concurrency: int
    ) -> None:
        """Delete volumes by id, or by name prefix; asks first when more than one."""
        if ids and prefix is not None:
            raise click.UsageError("pass volume ids or --name-prefix, not both")
        if not ids and prefix is None:
            raise click.UsageError("pass volume ids or --name-prefix")
        if prefix == "":
            raise click.UsageError("--name-prefix must not be empty (it would match everything)")
        _cmd_delete(opts, ids, prefix, yes, concurrency)

    @cli.command("demo")
    @click.option("--count", type=click.IntRange(min=1), default=300, show_default=True)
    @click.option(
        "--latency",
        type=click.FloatRange(min=0),
        default=0.02,
        show_default=True,
        help="Seconds the fake waits before answering each request.",
    )
    @click.option(
        "--rate-limit",
        type=click.FloatRange(min=0),
        default=400.0,
        show_default=True,
        help="Requests per second the fake allows before answering 429 (0 = no limit).",
    )
    @click.option("--concurrency", type=click.IntRange(min=1), default=32, show_default=True)
    @click.pass_obj
    def demo_command(
        opts: _Options, count: int, latency: float, rate_limit: float, concurrency: int
    ) -> None:
        """Bulk-create, list, resize and bulk-delete volumes on a local fake; print a summary.

        Needs no account: the fake runs in this process on 127.0.0.1 (the global
        connection options are ignored).
        """
        _cmd_demo(opts, count, latency, rate_limit, concurrency)

    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and exit with its status.

    0 success, 1 an operation failed, 2 a usage or configuration error (or the
    ``cli`` extra is missing), 130 interrupted.
    """
    if _MISSING_EXTRA is not None:
        print(
            f"{PROG}: the command line needs the 'cli' extra ({_MISSING_EXTRA} is missing): "
            "pip install 'scaleway-volumes[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2)
    build_cli().main(args=list(argv) if argv is not None else None, prog_name=PROG)
