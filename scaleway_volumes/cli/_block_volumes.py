"""The Block Storage volume commands: ``block list``, ``get``, ``create``, ``resize``, ``delete``.

Each one reaches the Block API with ``connect(opts, AsyncBlockAPI)`` and prints
a table, or JSON with ``--json``; bulk creates (``_block_create``) and deletes
go through the same runners (progress, confirmation, one hint for all
failures) as the Instance commands. ``COMMANDS`` is what the ``block`` group adds.
"""

from __future__ import annotations

import click

from scaleway_volumes import AsyncBlockAPI, BlockVolume, converter

from ._block_create import create_volumes
from ._block_output import describe, print_block_volumes
from ._connect import connect, run
from ._options import (
    ID,
    GlobalOptions,
    check_ids_or_prefix,
    concurrency_option,
    not_empty,
    pass_options,
    size_option,
    tag_option,
    wait_options,
    yes_option,
)
from ._output import dump_json, print_record
from ._runners import delete_volumes_by_ids_or_prefix
from ._sizes import human_size

__all__ = ["COMMANDS"]

# -- list and get ------------------------------------------------------------------------


@click.command("list")
@click.option("--name", callback=not_empty, help="Only volumes whose name contains this.")
@tag_option("Only volumes with this tag (repeatable: any of them).")
@pass_options
def list_volumes(opts: GlobalOptions, name: str | None, tags: tuple[str, ...]) -> None:
    """List Block Storage volumes (every page).

    \f
    Several ``--tag`` match a volume carrying any of them (the Block API's
    rule, unlike the Instance ``list`` where each must be present); a create
    marker tag given to ``--tag`` finds the volume it marks.
    """
    with connect(opts, AsyncBlockAPI) as api:
        volumes = run(api, lambda a: a.list_volumes(name=name, tags=list(tags) or None))
    if opts.json:
        dump_json([converter.unstructure(v) for v in volumes])
    else:
        print_block_volumes(volumes)


@click.command("get")
@click.argument("volume_id", type=ID, metavar="ID")
@wait_options("Wait until the volume settles (no longer creating, resizing...) first.")
@pass_options
def get_volume(opts: GlobalOptions, volume_id: str, wait: bool, wait_timeout: float) -> None:
    """Show one Block Storage volume.

    \f
    Every field, one per row (or the JSON object); an unknown id fails with the
    API's 404 on one line. ``--wait`` is how to wait again for a volume a
    ``create --wait`` or ``resize --wait`` stopped waiting for (the hint after
    their timeout names it).
    """
    with connect(opts, AsyncBlockAPI) as api:
        if wait:
            volume = run(api, lambda a: a.wait_for_volume(volume_id, timeout=wait_timeout))
        else:
            volume = run(api, lambda a: a.get_volume(volume_id))
    if opts.json:
        dump_json(converter.unstructure(volume))
    else:
        print_record(converter.unstructure(volume))


# -- resize ------------------------------------------------------------------------------


@click.command("resize")
@click.argument("volume_id", type=ID, metavar="ID")
@size_option(required=True)
@wait_options("Wait until the volume settles at its new size before printing it.")
@pass_options
def resize_volume(
    opts: GlobalOptions, volume_id: str, size: int, wait: bool, wait_timeout: float
) -> None:
    """Grow a Block volume to --size (volumes only grow).

    \f
    The API answers at once with the old size and the status ``updating``; the
    new size shows once the volume settles, which ``--wait`` waits for. A
    volume already of that size is left as it is, and said so.
    """

    async def work(api: AsyncBlockAPI) -> BlockVolume:
        answered = await api.update_volume(volume_id, size=size)
        if answered.size == size:
            # The API answers a resize with the old size: this one changed nothing,
            # and "the new size shows once it settles" would promise a change.
            click.echo(f"{describe(answered)} is already {human_size(size)}", err=True)
            return answered
        resizing = f"resizing {describe(answered)} to {human_size(size)}"
        if not wait:
            click.echo(f"{resizing}: the new size shows once it settles (--wait)", err=True)
            return answered
        click.echo(f"{resizing}, waiting until it settles", err=True)
        return await api.wait_for_volume(answered, timeout=wait_timeout)

    with connect(opts, AsyncBlockAPI) as api:
        volume = run(api, work)
    if opts.json:
        dump_json(converter.unstructure(volume))
    else:
        print_block_volumes([volume])


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
    """Delete Block volumes (asks first for several).

    \f
    An id that does not exist is a failure; volumes matched by prefix that
    vanish meanwhile count as deleted. An attached (``in_use``) volume is
    refused by the API: detach it first.
    """
    check_ids_or_prefix(ids, prefix, "volume")
    with connect(opts, AsyncBlockAPI) as api:
        delete_volumes_by_ids_or_prefix(
            api,
            ids,
            prefix,
            concurrency=concurrency,
            yes=yes,
            as_json=opts.json,
            noun="Block volumes",
            describe=describe,
        )


COMMANDS: tuple[click.Command, ...] = (
    list_volumes,
    get_volume,
    create_volumes,
    resize_volume,
    delete_volumes,
)
"""The volume commands of the ``block`` group."""
