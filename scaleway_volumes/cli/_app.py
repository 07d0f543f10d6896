"""The ``scaleway-volumes`` click group: global options, registered commands, failures.

``build_cli()`` assembles the group from ``COMMANDS``, the registry: each entry
comes from a module of one concern (``_volumes``, ``_block``, ``_demo``,
``_config``). A new API is one module exporting its commands (a ``click.Group``
such as ``block`` with its own subcommands is a command too) and one entry here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import click

from scaleway_volumes import __version__
from scaleway_volumes._constants import PAGINATION_LOGGER

from . import _block, _config, _demo, _volumes
from ._constants import PROG
from ._context import set_listing_command
from ._errors import Failure, failure_of, interrupted, show
from ._options import GlobalOptions, global_options

__all__ = ["COMMANDS", "build_cli", "run_cli"]

COMMANDS: tuple[click.Command, ...] = (
    *_volumes.COMMANDS,
    _block.block,
    _demo.demo,
    _config.show_config,
)
"""Every command of the group; ``--help`` lists them alphabetically."""


def _usage_failure(exc: click.UsageError) -> Failure:
    """A usage error as ``--json`` reports it: click's message, and its 'Try ...' as the hint."""
    where = exc.ctx
    advice = None
    if where is not None and where.command.get_help_option(where) is not None:
        # The longest name (--help over -h), as click's own message picks.
        option = max(where.help_option_names, key=len)
        advice = f"Try '{where.command_path} {option}' for help."
    return Failure(exc.format_message(), exc.exit_code, advice)


class _Group(click.Group):
    """A group whose commands fail with a line or two on stderr and a status, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        # From the parsed parameters, not ctx.obj: the group's callback, which
        # fills ctx.obj, can itself fail (--fake with --base-url).
        as_json = bool(ctx.params.get("as_json"))
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted("interrupted", as_json=as_json)
        except click.UsageError as exc:
            # Without --json, click prints its usual usage text; a group run with
            # no command raises one to print its help (click >= 8.2): help is help.
            if not as_json or type(exc).__name__ == "NoArgsIsHelpError":
                raise
            show(_usage_failure(exc), as_json=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except Exception as exc:
            failure = failure_of(exc)
            if failure is None:
                raise
            show(failure, as_json=as_json)
            raise click.exceptions.Exit(failure.exit_code) from None


def _quiet_library_logs() -> None:
    """Keep the library's log records off stderr (unless the embedding app handles them),
    but a listing's warning (``_show_listing_warnings``).

    The command reports every outcome itself (errors, hints, progress); with no
    handler configured, logging's last-resort handler would print the library's
    warnings (a poll a wait goes on after) on stderr, between progress lines or
    inside ``--json``'s one JSON failure object.
    """
    logger = logging.getLogger("scaleway_volumes")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


class _ListingWarnings(logging.Handler):
    """Shows a listing's warning on stderr: ``warning: ...``, or with ``--json`` a
    ``{"warning": ...}`` line.

    A listing that stopped short (a server or proxy that ignores ``page``, fewer
    items than the total it announced) still returns what it got: the table
    alone would look complete, and a ``delete --name-prefix`` would leave
    volumes behind without a word.
    """

    def __init__(self, *, as_json: bool) -> None:
        super().__init__(logging.WARNING)
        self._as_json = as_json

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        click.echo(json.dumps({"warning": text}) if self._as_json else f"warning: {text}", err=True)


def _show_listing_warnings(ctx: click.Context, *, as_json: bool) -> None:
    """Show the library's listing warnings while this command runs (see ``_ListingWarnings``)."""
    handler = _ListingWarnings(as_json=as_json)
    logger = logging.getLogger(PAGINATION_LOGGER)
    logger.addHandler(handler)
    ctx.call_on_close(lambda: logger.removeHandler(handler))


def build_cli() -> click.Group:
    """Return the ``scaleway-volumes`` click group (for ``CliRunner`` or embedding).

    ```python
    from click.testing import CliRunner
    result = CliRunner().invoke(build_cli(), ["--fake", "--json", "list"])
    assert result.output == "[]\\n"
    ```
    """

    @click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
    @global_options
    @click.version_option(__version__, prog_name=PROG)
    @click.pass_context
    def cli(ctx: click.Context, /, **params: Any) -> None:
        """Manage Scaleway volumes from the command line.

        Persistent volumes are Block Storage volumes: see `block --help`. The
        top-level list/get/create/delete manage Instance API volumes (local
        l_ssd and scratch, and pre-2025 b_ssd).

        Settings come from the options, then the SCW_* environment variables,
        then the profile of the scw config file; `config` shows what is in effect.
        """
        ctx.obj = GlobalOptions.from_params(params)
        set_listing_command("list")
        _quiet_library_logs()
        _show_listing_warnings(ctx, as_json=ctx.obj.json)

    for command in COMMANDS:
        cli.add_command(command)
    return cli


def run_cli(argv: Sequence[str] | None) -> None:
    """Run the command line with ``argv`` (``None``: ``sys.argv[1:]``) and exit with its status."""
    build_cli().main(args=list(argv) if argv is not None else None, prog_name=PROG)
