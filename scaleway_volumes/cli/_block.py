"""``block``: the Block Storage command group, persistent volumes and their snapshots.

``block list|get|create|resize|delete`` (``_block_volumes``, ``_block_create``),
``block snapshot create|list|get|delete`` (``_block_snapshots``) and ``block
types`` here. Every subcommand reaches the Block API with ``connect(opts,
AsyncBlockAPI)``; ``_app.COMMANDS`` registers the group as one command.
"""

from __future__ import annotations

import click

from scaleway_volumes import AsyncBlockAPI, converter

from . import _block_volumes
from ._block_output import print_volume_types
from ._block_snapshots import snapshot
from ._connect import connect, run
from ._context import set_listing_command
from ._options import GlobalOptions, pass_options
from ._output import dump_json

__all__ = ["block"]


@click.group("block")
def block() -> None:
    """Block Storage: persistent volumes and their snapshots.

    Since 2025 the Instance API no longer creates network volumes: persistent
    volumes are Block Storage volumes (sbs_5k, sbs_15k), managed here.
    """
    set_listing_command("block list")


@block.command("types")
@pass_options
def volume_types(opts: GlobalOptions) -> None:
    """List the zone's volume types: IOPS, prices per GB and hour.

    \f
    With ``--json``, the API's objects (prices as ``{currency_code, units, nanos}``).
    """
    with connect(opts, AsyncBlockAPI) as api:
        kinds = run(api, lambda a: a.list_volume_types())
    if opts.json:
        dump_json([converter.unstructure(k) for k in kinds])
    else:
        print_volume_types(kinds)


for _command in (*_block_volumes.COMMANDS, snapshot):
    block.add_command(_command)
