"""The Instance API volume commands: ``list``, ``get``, ``create``, ``delete``.

Each command checks its arguments, makes its calls through ``AsyncVolumeAPI``
and prints a table, or JSON with ``--json``. ``COMMANDS`` is what ``_app``
registers.
"""

from __future__ import annotations

from collections.abc import Awaitable

import click

from scaleway_volumes import AsyncVolumeAPI, BulkResult, Volume, VolumeSpec, converter

from ._connect import connect, run
from ._constants import DEFAULT_VOLUME_TYPE
from ._options import (
    ID,
    GlobalOptions,
    check_ids_or_prefix,
    concurrency_option,
    create_name_options,
    not_empty,
    one_or_many,
    pass_options,
    size_option,
    tag_option,
    yes_option,
)
from ._output import dump_json, print_record
from ._progress import Tracker
from ._runners import (
    delete_volumes_by_ids_or_prefix,
    fail_if_any,
    interrupted_create,
    run_bulk,
    single,
)
from ._volume_output import describe, dump_created, print_volumes

__all__ = ["COMMANDS"]

# -- list and get ------------------------------------------------------------------------


@click.command("list")
@click.option("--name", callback=not_empty, help="Only volumes whose name contains this.")
@click.option(
    "--type",
    "volume_type",
    callback=not_empty,
    help="Only volumes of this type (l_ssd, b_ssd...).",
)
@tag_option("Only volumes with this tag (repeatable).", comma_separated=True)
@pass_options
def list_volumes(
    opts: GlobalOptions, name: str | None, volume_type: str | None, tags: tuple[str, ...]
) -> None:
    """List volumes (every page).

    \f
    Follows every page, so the table (or JSON list) holds every match; filters
    combine, and several ``--tag`` must all be present.
    """
    with connect(opts, AsyncVolumeAPI) as api:
        volumes = run(
            api,
            lambda a: a.list_volumes(name=name, volume_type=volume_type, tags=list(tags) or None),
        )
    if opts.json:
        dump_json([converter.unstructure(v) for v in volumes])
    else:
        print_volumes(volumes)


@click.command("get")
@click.argument("volume_id", type=ID, metavar="ID")
@pass_options
def get_volume(opts: GlobalOptions, volume_id: str) -> None:
    """Show one volume.

    \f
    Every field, one per row (or the JSON object); an unknown id fails with the
    API's 404 on one line.
    """
    with connect(opts, AsyncVolumeAPI) as api:
        volume = run(api, lambda a: a.get_volume(volume_id))
    if opts.json:
        dump_json(converter.unstructure(volume))
    else:
        print_record(converter.unstructure(volume))


# -- create ------------------------------------------------------------------------------


def _create_one(
    opts: GlobalOptions, name: str, size: int, volume_type: str, tags: tuple[str, ...]
) -> Volume:
    spec = VolumeSpec(name=name, size=size, volume_type=volume_type, tags=tags)
    # A bulk call of one, so that Ctrl-C can tell what it made (see single()).
    tracker = Tracker("create", 1, live=False)
    with connect(opts, AsyncVolumeAPI) as api:
        try:
            result = run(
                api, lambda a: a.create_volumes([spec], concurrency=1, on_item=tracker.on_item)
            )
        except KeyboardInterrupt:
            interrupted_create(tracker, describe, as_json=opts.json)
    return single(result)


def _create_many(
    opts: GlobalOptions,
    prefix: str,
    count: int,
    *,
    size: int,
    volume_type: str,
    tags: tuple[str, ...],
    concurrency: int,
) -> BulkResult[VolumeSpec, Volume]:
    # A generator: the library pulls specs as workers free up, so memory does
    # not grow with --count.
    specs = (
        VolumeSpec(name=f"{prefix}{i}", size=size, volume_type=volume_type, tags=tags)
        for i in range(count)
    )

    def call(api: AsyncVolumeAPI, tracker: Tracker) -> Awaitable[BulkResult[VolumeSpec, Volume]]:
        return api.create_volumes(
            specs,
            # No more workers than volumes (the library cannot size a generator).
            concurrency=min(concurrency, count),
            on_progress=tracker.on_progress,
            on_item=tracker.on_item,
        )

    with connect(opts, AsyncVolumeAPI) as api:
        return run_bulk(
            api,
            call,
            label="create",
            total=count,
            verb="created",
            describe=describe,
            dump=dump_created if opts.json else None,
        )


@click.command("create")
@create_name_options
@size_option(required=True)
@click.option(
    "--type",
    "volume_type",
    default=DEFAULT_VOLUME_TYPE,
    show_default=True,
    callback=not_empty,
    help="Volume type.",
)
@tag_option("Tag to set (repeatable).")
@concurrency_option()
@pass_options
def create_volumes(
    opts: GlobalOptions,
    name: str | None,
    prefix: str | None,
    count: int | None,
    size: int,
    volume_type: str,
    tags: tuple[str, ...],
    concurrency: int,
) -> None:
    """Create one volume (--name) or many (--name-prefix with --count).

    \f
    Many volumes are created ``--concurrency`` at a time with a progress bar;
    each failure gets a stderr line, then one hint for them all, and the
    command exits 1 if any failed.
    """
    target = one_or_many(name, prefix, count)
    failed: list[tuple[VolumeSpec, BaseException]] = []
    if isinstance(target, str):
        created = [_create_one(opts, target, size, volume_type, tags)]
    else:
        result = _create_many(
            opts,
            *target,
            size=size,
            volume_type=volume_type,
            tags=tags,
            concurrency=concurrency,
        )
        created, failed = result.succeeded, result.failed
    if opts.json:
        dump_created(created, failed)
    elif created:
        print_volumes(created, title=f"created {len(created)} volume(s)")
    fail_if_any("create", failed, len(created) + len(failed), describe, as_json=opts.json)


# -- delete ------------------------------------------------------------------------------


@click.command("delete")
@click.argument("ids", nargs=-1, type=ID, metavar="[ID]...")
@click.option("--name-prefix", "prefix", help="Delete every volume whose name starts with this.")
@yes_option("volumes")
@concurrency_option()
@pass_options
def delete_volumes(
    opts: GlobalOptions, ids: tuple[str, ...], prefix: str | None, yes: bool, concurrency: int
) -> None:
    """Delete volumes by id, or by name prefix; asks first when more than one.

    \f
    An id that does not exist is a failure (as ``rm`` wants its files); volumes
    matched by prefix that vanish meanwhile count as deleted.
    """
    check_ids_or_prefix(ids, prefix, "volume")
    with connect(opts, AsyncVolumeAPI) as api:
        delete_volumes_by_ids_or_prefix(
            api,
            ids,
            prefix,
            concurrency=concurrency,
            yes=yes,
            as_json=opts.json,
            noun="volumes",
            describe=describe,
        )


COMMANDS: tuple[click.Command, ...] = (list_volumes, get_volume, create_volumes, delete_volumes)
"""The commands this module adds to the group."""
