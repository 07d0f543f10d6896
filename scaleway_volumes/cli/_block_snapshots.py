"""``block snapshot``: create, list, get and delete Block Storage snapshots.

The library has no bulk snapshot delete, so ``delete_snapshots`` here runs
``delete_snapshot`` for each id, ``--concurrency`` at a time, and reports to the
shared ``Tracker`` like a library bulk call, so ``confirm_then_delete`` serves
snapshots as it serves volumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import anyio
import click

from scaleway_volumes import AsyncBlockAPI, BlockSnapshot, BulkResult, ScalewayError, converter

from ._block_output import describe, print_snapshots
from ._connect import connect, run
from ._context import set_listing_command
from ._errors import interrupted
from ._options import (
    ID,
    GlobalOptions,
    concurrency_option,
    not_empty,
    pass_options,
    tag_option,
    wait_options,
    yes_option,
)
from ._output import dump_json, print_record
from ._runners import confirm_then_delete, wait_for_created

__all__ = ["delete_snapshots", "snapshot"]


@click.group("snapshot")
def snapshot() -> None:
    """Create, list, show and delete Block Storage snapshots."""
    set_listing_command("block snapshot list")


@snapshot.command("create")
@click.argument("volume_id", type=ID, metavar="VOLUME_ID")
@click.option("--name", required=True, callback=not_empty, help="Name of the snapshot.")
@tag_option("Tag to set (repeatable).")
@wait_options("Wait until the snapshot is available before printing it.")
@pass_options
def create_snapshot(
    opts: GlobalOptions,
    volume_id: str,
    name: str,
    tags: tuple[str, ...],
    wait: bool,
    wait_timeout: float,
) -> None:
    """Snapshot a Block volume.

    \f
    The snapshot starts ``creating`` (its volume ``snapshotting``); ``--wait``
    waits until it is available. A volume that is busy (e.g. still
    ``creating``) is refused at once: the create is never sent again blindly.
    """
    created: list[BlockSnapshot] = []

    async def work(api: AsyncBlockAPI) -> BlockSnapshot:
        made = await api.create_snapshot(volume_id, name=name, tags=tags or None)
        created.append(made)
        if not wait:
            return made
        return await wait_for_created(
            lambda: api.wait_for_snapshot(made, timeout=wait_timeout),
            kind="snapshot",
            resource_id=made.id,
            state=made.status,
            described=describe(made),
        )

    with connect(opts, AsyncBlockAPI, creates=True) as api:
        try:
            made = run(api, work)
        except KeyboardInterrupt:
            if not created:
                raise
            text = f"interrupted: created {describe(created[0])}, not waited for"
            interrupted(text, as_json=opts.json, resource_id=created[0].id)
    if opts.json:
        dump_json(converter.unstructure(made))
    else:
        print_snapshots([made])


@snapshot.command("list")
@click.option("--volume", "volume_id", type=ID, metavar="ID", help="Only snapshots of this volume.")
@click.option("--name", callback=not_empty, help="Only snapshots whose name contains this.")
@tag_option("Only snapshots with this tag (repeatable: any of them).")
@pass_options
def list_snapshots(
    opts: GlobalOptions, volume_id: str | None, name: str | None, tags: tuple[str, ...]
) -> None:
    """List Block Storage snapshots (every page).

    \f
    Several ``--tag`` match a snapshot carrying any of them (the Block API's rule).
    """
    with connect(opts, AsyncBlockAPI) as api:
        found = run(
            api,
            lambda a: a.list_snapshots(name=name, volume_id=volume_id, tags=list(tags) or None),
        )
    if opts.json:
        dump_json([converter.unstructure(s) for s in found])
    else:
        print_snapshots(found)


@snapshot.command("get")
@click.argument("snapshot_id", type=ID, metavar="ID")
@wait_options("Wait until the snapshot settles (no longer creating...) first.")
@pass_options
def get_snapshot(opts: GlobalOptions, snapshot_id: str, wait: bool, wait_timeout: float) -> None:
    """Show one Block Storage snapshot.

    \f
    Every field, one per row (or the JSON object); an unknown id fails with the
    API's 404 on one line. ``--wait`` waits again for a snapshot a ``create
    --wait`` stopped waiting for (the hint after its timeout names it).
    """
    with connect(opts, AsyncBlockAPI) as api:
        if wait:
            found = run(api, lambda a: a.wait_for_snapshot(snapshot_id, timeout=wait_timeout))
        else:
            found = run(api, lambda a: a.get_snapshot(snapshot_id))
    if opts.json:
        dump_json(converter.unstructure(found))
    else:
        print_record(converter.unstructure(found))


async def delete_snapshots(
    api: AsyncBlockAPI,
    snapshot_ids: Sequence[str],
    *,
    concurrency: int,
    on_progress: Callable[[int, int | None], None],
    on_item: Callable[[int, str, object], None],
) -> BulkResult[str, str]:
    """Delete snapshots by id, ``concurrency`` at a time; each outcome reported as it lands.

    Every id runs even when others fail; ``.succeeded`` holds the deleted ids
    and ``.failed`` the ``(id, error)`` pairs, both in input order. An id that
    does not exist is a failure (``NotFoundError``); a malformed one too
    (``ValueError``, no request sent).
    """
    outcomes: dict[int, str | BaseException] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(index: int, snapshot_id: str) -> None:
        async with limiter:
            outcome: str | BaseException
            try:
                await api.delete_snapshot(snapshot_id)
                outcome = snapshot_id
            except (ScalewayError, ValueError, TypeError) as exc:
                outcome = exc
        outcomes[index] = outcome
        on_item(index, snapshot_id, outcome)
        on_progress(len(outcomes), len(snapshot_ids))

    async with anyio.create_task_group() as group:
        for index, snapshot_id in enumerate(snapshot_ids):
            group.start_soon(one, index, snapshot_id)
    result: BulkResult[str, str] = BulkResult()
    for index, snapshot_id in enumerate(snapshot_ids):
        outcome = outcomes[index]
        if isinstance(outcome, BaseException):
            result.failed.append((snapshot_id, outcome))
        else:
            result.succeeded.append(outcome)
    return result


@snapshot.command("delete")
@click.argument("ids", nargs=-1, required=True, type=ID, metavar="ID...")
@yes_option("snapshots")
@concurrency_option()
@pass_options
def delete_snapshot(opts: GlobalOptions, ids: tuple[str, ...], yes: bool, concurrency: int) -> None:
    """Delete snapshots by id (asks first for several).

    \f
    An id that does not exist is a failure (as ``rm`` wants its files).
    """
    with connect(opts, AsyncBlockAPI) as api:
        confirm_then_delete(
            api,
            list(dict.fromkeys(ids)),
            lambda a, items, tracker: delete_snapshots(
                a,
                items,
                concurrency=concurrency,
                on_progress=tracker.on_progress,
                on_item=tracker.on_item,
            ),
            noun="snapshots",
            yes=yes,
            as_json=opts.json,
            describe=describe,
            ident=str,
        )
