"""``block create``: one Block Storage volume, or many with a progress bar, optionally waited for.

One volume is a ``create_volumes`` call of one, without a bar (so that Ctrl-C
can tell what it made: ``_runners.single``), then a wait with ``--wait``; many
go through ``create_volumes`` and the shared ``run_bulk`` runner, whose bar
counts, with ``--wait``, the volumes that became available.
"""

from __future__ import annotations

from collections.abc import Awaitable

import attrs
import click

from scaleway_volumes import AsyncBlockAPI, BlockVolume, BlockVolumeSpec, BulkResult

from ._block_output import describe, dump_created, print_block_volumes
from ._connect import connect, run
from ._options import (
    ID,
    GlobalOptions,
    concurrency_option,
    create_name_options,
    one_or_many,
    pass_options,
    size_option,
    tag_option,
    wait_options,
)
from ._progress import Tracker
from ._runners import fail_if_any, interrupted_create, run_bulk, single, wait_for_created

__all__ = ["create_volumes"]

# The IOPS classes Block Storage sells (sbs_5k, sbs_15k); `block types` lists them.
_IOPS = ("5000", "15000")


def _create_one(
    opts: GlobalOptions, spec: BlockVolumeSpec, *, wait: bool, timeout: float
) -> BlockVolume:
    # A bulk call of one, so that Ctrl-C can tell what it made (see single());
    # it does not wait, so that stderr can say what it waits for.
    tracker = Tracker("create", 1, live=False)

    async def work(api: AsyncBlockAPI) -> BlockVolume:
        volume = single(await api.create_volumes([spec], concurrency=1, on_item=tracker.on_item))
        if not wait:
            return volume
        return await wait_for_created(
            lambda: api.wait_for_volume(volume, timeout=timeout),
            kind="volume",
            resource_id=volume.id,
            state=volume.status,
            described=describe(volume),
        )

    with connect(opts, AsyncBlockAPI, creates=True) as api:
        try:
            return run(api, work)
        except KeyboardInterrupt:
            interrupted_create(tracker, describe, as_json=opts.json, waiting=wait)


def _create_many(
    opts: GlobalOptions,
    first: BlockVolumeSpec,
    prefix: str,
    count: int,
    *,
    wait: bool,
    timeout: float,
    concurrency: int,
) -> BulkResult[BlockVolumeSpec, BlockVolume]:
    # A generator: the library pulls specs as workers free up, so memory does
    # not grow with --count. They differ from the first one (checked) by name.
    specs = (attrs.evolve(first, name=f"{prefix}{i}") for i in range(count))

    def call(
        api: AsyncBlockAPI, tracker: Tracker
    ) -> Awaitable[BulkResult[BlockVolumeSpec, BlockVolume]]:
        return api.create_volumes(
            specs,
            # No more workers than volumes (the library cannot size a generator).
            concurrency=min(concurrency, count),
            wait=wait,
            on_progress=tracker.on_progress,
            on_item=tracker.on_item,
            wait_timeout=timeout,
        )

    with connect(opts, AsyncBlockAPI, creates=True) as api:
        return run_bulk(
            api,
            call,
            # With --wait the bar counts volumes that became available.
            label="create+wait" if wait else "create",
            total=count,
            verb="created",
            describe=describe,
            dump=dump_created if opts.json else None,
        )


@click.command("create")
@create_name_options
@size_option(required=False)
@click.option(
    "--iops",
    type=click.Choice(_IOPS),
    help="Performance class: 5000 (sbs_5k) or 15000 (sbs_15k); the API's default otherwise.",
)
@click.option(
    "--from-snapshot",
    "snapshot_id",
    type=ID,
    metavar="ID",
    help="Restore this snapshot (--size optional).",
)
@tag_option("Tag to set (repeatable).")
@wait_options("Wait until each volume is available before printing it.")
@concurrency_option()
@pass_options
def create_volumes(
    opts: GlobalOptions,
    name: str | None,
    prefix: str | None,
    count: int | None,
    size: int | None,
    iops: str | None,
    snapshot_id: str | None,
    tags: tuple[str, ...],
    wait: bool,
    wait_timeout: float,
    concurrency: int,
) -> None:
    """Create one Block volume, or --count of them.

    \f
    Empty with ``--size``, or restored with ``--from-snapshot`` (and a
    ``--size`` at least the snapshot's, or none). Many volumes are created
    ``--concurrency`` at a time with a progress bar; with ``--wait`` the bar
    counts volumes that became available, and a volume that ends in error or
    does not become available in time is a failed item. Each failure gets a
    stderr line, then one hint for them all; the command exits 1 if any failed.
    """
    target = one_or_many(name, prefix, count)
    if size is None and snapshot_id is None:
        raise click.UsageError("pass --size, or --from-snapshot to restore a snapshot")
    first = BlockVolumeSpec(
        name=target if isinstance(target, str) else f"{target[0]}0",
        size=size,
        perf_iops=None if iops is None else int(iops),
        from_snapshot=snapshot_id,
        tags=tags,
    )
    failed: list[tuple[BlockVolumeSpec, BaseException]] = []
    if isinstance(target, str):
        created = [_create_one(opts, first, wait=wait, timeout=wait_timeout)]
    else:
        result = _create_many(
            opts, first, *target, wait=wait, timeout=wait_timeout, concurrency=concurrency
        )
        created, failed = result.succeeded, result.failed
    if opts.json:
        dump_created(created, failed)
    elif created:
        state = "available" if wait else "created"
        print_block_volumes(created, title=f"{state}: {len(created)} Block volume(s)")
    fail_if_any("create", failed, len(created) + len(failed), describe, as_json=opts.json)
