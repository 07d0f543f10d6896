"""The shapes bulk commands share: a bulk call with progress, confirm then delete.

``run_bulk`` runs one bulk call of the library with a ``Tracker`` on stderr and,
on Ctrl-C, tells what was done before exiting 130. A single create is a bulk
call of one too (``single``, ``interrupted_create``), for what its Ctrl-C can
then tell. ``confirm_then_delete`` asks before deleting several resources,
deletes them in bulk and reports each outcome. They know nothing of volumes:
a command passes how to describe its items, so a new resource (Block volumes,
snapshots) reuses them as they are.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, BulkResult, ScalewayError

from ._connect import run
from ._errors import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CLIError,
    hint,
    interrupted,
    not_ready,
    one_line,
    summary_hint,
    wait_failed,
    waited_id,
)
from ._output import dump_json, failure_json
from ._progress import Tracker

__all__ = [
    "Describe",
    "confirm_then_delete",
    "wait_for_created",
    "echo_failures",
    "fail_if_any",
    "interrupted_create",
    "run_bulk",
    "single",
    "stdin_is_interactive",
]

ApiT = TypeVar("ApiT", bound="AsyncVolumeAPI | AsyncBlockAPI")
In = TypeVar("In")
Out = TypeVar("Out")

Describe = Callable[[Any], str]
"""Names an item (an input or an output of a bulk call) for a person: ``id name``."""

Failures = Sequence[tuple[Any, BaseException]]


def stdin_is_interactive() -> bool:
    """True when stdin is a terminal, where a confirmation can be asked."""
    return sys.stdin is not None and sys.stdin.isatty()


def _failure_line(action: str, item: Any, error: BaseException, describe: Describe) -> str:
    made, why = waited_id(error), not_ready(error)
    if action == "create" and made is not None and why is not None:
        # Not "failed to create": the volume exists (and is billed).
        return f"created {describe(item)} ({made}) but {why}"
    return f"failed to {action} {describe(item)}: {one_line(error)}"


def echo_failures(action: str, failed: Failures, describe: Describe) -> None:
    """One stderr line per failed item: ``failed to <action> <item>: <error>``.

    An item a create made that did not become usable (a wait that ran out of
    time, a failure state) reads ``created <item> (<id>) but it was not
    available within 300 s (still 'creating')``. No hint here: ``fail_if_any``
    gives one for them all.
    """
    for item, error in failed:
        click.echo(_failure_line(action, item, error, describe), err=True)


def fail_if_any(
    action: str, failed: Failures, total: int, describe: Describe, *, as_json: bool = False
) -> None:
    """Fail the command (exit 1) when an item failed, with one hint for all of them.

    A bulk call of one item fails as a single call does: its error and its hint.
    Otherwise a line per failed item (``echo_failures``; not with ``as_json``,
    whose document on stdout has them), then ``N of M <action>s failed`` with
    the advice for the most common kind of failure.
    """
    if not failed:
        return
    if total == 1:
        [(_, error)] = failed
        raise CLIError(one_line(error), hint=hint(error), resource_id=waited_id(error))
    if not as_json:
        echo_failures(action, failed, describe)
    raise CLIError(
        f"{len(failed)} of {total} {action}s failed", hint=summary_hint(failed, describe)
    )


def _report_interrupted(tracker: Tracker, verb: str, describe: Describe) -> NoReturn:
    """Tell on stderr what a bulk call did before Ctrl-C stopped it, then exit 130."""
    done = tracker.succeeded()
    click.echo(f"interrupted: {verb} {len(done)} of {tracker.total} before stopping", err=True)
    for output in done:
        click.echo(f"  {verb} {describe(output)}", err=True)
    failed = tracker.failed()
    for item, error in failed:
        what = "outcome unknown" if getattr(error, "outcome_unknown", False) else "failed"
        click.echo(f"  {what}: {describe(item)}: {one_line(error)}", err=True)
    advice = summary_hint(failed, describe)
    if advice is not None:
        click.echo(f"hint: {advice}", err=True)
    raise click.exceptions.Exit(EXIT_INTERRUPTED)


def run_bulk(
    api: ApiT,
    call: Callable[[ApiT, Tracker], Awaitable[BulkResult[In, Out]]],
    *,
    label: str,
    total: int,
    verb: str,
    describe: Describe,
    dump: Callable[[list[Any], list[tuple[Any, BaseException]]], None] | None = None,
) -> BulkResult[In, Out]:
    """Run ``call(api, tracker)``, one bulk call reporting to ``tracker``, and return its result.

    Progress shows on stderr under ``label``. On Ctrl-C: ``dump`` (given with
    ``--json``) prints what was done so far as the command's JSON document,
    then stderr lists each item ``verb`` (``created``) or failed, and the
    command exits 130.
    """
    with Tracker(label, total) as tracker:
        try:
            return run(api, lambda a: call(a, tracker))
        except KeyboardInterrupt:
            tracker.close()
            if dump is not None:
                dump(tracker.succeeded(), tracker.failed())
            _report_interrupted(tracker, verb, describe)


def single(result: BulkResult[Any, Out]) -> Out:
    """The output of a bulk call of one item, or the error it failed with, raised.

    A single create runs as such a call (``create_volumes([spec], on_item=
    tracker.on_item)``) rather than ``create_volume``: cancelled by Ctrl-C,
    the library then finds out what it did and reports it through ``on_item``
    (the volume its marker tag finds, or an error carrying that tag), which
    ``interrupted_create`` tells. A cancelled ``create_volume`` tells nothing.
    """
    if result.failed:
        raise result.failed[0][1]
    return result.succeeded[0]


def interrupted_create(
    tracker: Tracker, describe: Describe, *, as_json: bool, waiting: bool = False
) -> NoReturn:
    """End a single create on Ctrl-C (exit 130), saying what it made (``single``).

    ``interrupted: created <id> <name>`` (``, not waited for`` when ``waiting``;
    with ``--json`` its id as ``"id"``); or the create's error, such as "it may
    exist: it carries the tag ...", with the hint a bulk create gives such an
    item (the listing of that tag); or plain ``interrupted`` when no create
    was under way.
    """
    done, failed = tracker.succeeded(), tracker.failed()
    if done:
        text = f"interrupted: created {describe(done[0])}"
        if waiting:
            text += ", not waited for"
        interrupted(text, as_json=as_json, resource_id=done[0].id)
    if failed:
        [(item, error)] = failed
        text = f"interrupted while creating {describe(item)}: {one_line(error)}"
        interrupted(text, as_json=as_json, hint=hint(error))
    interrupted("interrupted", as_json=as_json)


async def wait_for_created(
    wait: Callable[[], Awaitable[Out]], *, kind: str, resource_id: str, state: str, described: str
) -> Out:
    """``await wait()`` for the ``kind`` the command just created (``described`` on
    stderr, answered in ``state``), saying so on stderr first.

    The resource exists (and is billed) whatever stops the wait: a failure that
    would not name it (a refused poll) is raised as ``wait_failed`` makes it.
    """
    click.echo(f"created {described}, waiting until it is available", err=True)
    try:
        return await wait()
    except ScalewayError as error:
        failure = wait_failed(
            error, kind=kind, resource_id=resource_id, state=state, described=described
        )
        if failure is None:
            raise
        raise failure from error


def _confirm(targets: Sequence[Any], noun: str, describe: Describe) -> None:
    count = len(targets)
    if not stdin_is_interactive():
        raise CLIError(
            f"refusing to delete {count} {noun} without confirmation: "
            "stdin is not a terminal; pass --yes",
            exit_code=EXIT_USAGE,
        )
    shown = [describe(t) for t in targets[:10]]
    if count > len(shown):
        shown.append(f"... and {count - len(shown)} more")
    click.echo("\n".join(f"  {line}" for line in shown), err=True)
    try:
        accepted = click.confirm(f"Delete these {count} {noun}?", default=False, err=True)
    except click.Abort as exc:
        # click turns both Ctrl-C and Ctrl-D into Abort (exit 1, "Aborted!"); the
        # key pressed is still its __context__. End the prompt's line first.
        click.echo(err=True)
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        accepted = False
    if not accepted:
        raise CLIError("nothing deleted")


def _dump_deleted(deleted: Sequence[str], failed: Failures, ident: Callable[[Any], str]) -> None:
    dump_json(
        {
            "deleted": list(deleted),
            "failed": [failure_json(ident(item), error) for item, error in failed],
        }
    )


def confirm_then_delete(
    api: ApiT,
    targets: Sequence[In],
    delete: Callable[[ApiT, Sequence[In], Tracker], Awaitable[BulkResult[In, str]]],
    *,
    noun: str,
    yes: bool,
    as_json: bool,
    describe: Describe,
    ident: Callable[[Any], str],
) -> None:
    """Delete ``targets`` with ``delete(api, targets, tracker)``, asking first when several.

    Without ``yes``, more than one target needs a ``y`` on a terminal (off a
    terminal the command refuses, exit 2). Prints the deleted ids (or with
    ``as_json`` a ``{"deleted", "failed"}`` document, failures keyed by
    ``ident(item)``), and fails (exit 1) if any failed, as ``fail_if_any`` says.
    """
    if len(targets) > 1 and not yes:
        _confirm(targets, noun, describe)

    def dump(deleted: list[Any], failed: list[tuple[Any, BaseException]]) -> None:
        _dump_deleted(deleted, failed, ident)

    result = run_bulk(
        api,
        lambda a, tracker: delete(a, targets, tracker),
        label="delete",
        total=len(targets),
        verb="deleted",
        describe=describe,
        dump=dump if as_json else None,
    )
    if as_json:
        dump(result.succeeded, result.failed)
    else:
        for deleted_id in result.succeeded:
            click.echo(f"deleted {deleted_id}")
    fail_if_any("delete", result.failed, len(targets), describe, as_json=as_json)


def delete_volumes_by_ids_or_prefix(
    api: Any,
    ids: Sequence[str],
    prefix: str | None,
    *,
    concurrency: int,
    yes: bool,
    as_json: bool,
    noun: str,
    describe: Describe,
) -> None:
    """The ``delete`` command of either API: by ids, or every volume whose name starts with
    ``prefix``; asks first when several (``confirm_then_delete``).

    Ids typed by hand should exist (as ``rm`` wants its files); volumes matched
    by prefix that vanish meanwhile (another deleter) count as deleted.
    """
    targets: list[Any]
    if prefix is not None:
        matching = run(api, lambda a: a.list_volumes(name=prefix))
        # The API's name filter matches anywhere in the name.
        targets = [v for v in matching if v.name.startswith(prefix)]
    else:
        targets = list(dict.fromkeys(ids))
    if not targets:
        if as_json:
            dump_json({"deleted": [], "failed": []})
        else:
            click.echo(f"no volume name starts with {prefix!r}: nothing to delete", err=True)
        return

    def delete(a: Any, items: Sequence[Any], tracker: Tracker) -> Awaitable[BulkResult[Any, str]]:
        return a.delete_volumes(  # type: ignore[no-any-return]
            items,
            concurrency=concurrency,
            missing_ok=prefix is not None,
            on_progress=tracker.on_progress,
            on_item=tracker.on_item,
        )

    confirm_then_delete(
        api,
        targets,
        delete,
        noun=noun,
        yes=yes,
        as_json=as_json,
        describe=describe,
        ident=lambda item: item if isinstance(item, str) else item.id,
    )
