"""``config``: the settings in effect, and where each came from.

Each row is a field, its value as it may be shown (the secret key masked) and
its source: an option, an ``SCW_*`` variable, a profile of the config file, a
default. The config file row names the file read, or the path searched when
there is none; two more rows give the base URL each API would use.
"""

from __future__ import annotations

from typing import Any

import click

from scaleway_volumes._config import Config, api_base_url

from ._connect import Api, base_url_for, in_option_terms, settings
from ._errors import one_line
from ._options import GlobalOptions, pass_options
from ._output import Column, dump_json, print_table

__all__ = ["config_rows", "show_config"]

_COLUMNS = (Column("field", no_wrap=True), Column("value"), Column("source"))
_APIS: tuple[Api, ...] = ("instance", "block")
_NOT_SET = "-"

Row = tuple[str, str | None, str]


def _base_url(config: Config, opts: GlobalOptions, api: Api) -> Row:
    name = f"{api}_url"
    if opts.fake:
        return name, None, "--fake: a fake served on 127.0.0.1 for each command"
    given = base_url_for(opts.base_url, api)
    try:
        url = api_base_url(config, api, given)
    except ValueError as exc:
        # Block Storage has no legacy zone: the Instance API may still work.
        return name, None, f"unusable: {in_option_terms(one_line(exc))}"
    if given is None:
        return name, url, "api_url and zone"
    return name, url, "--base-url" if given == opts.base_url else f"--base-url (for the {api} API)"


def config_rows(config: Config, opts: GlobalOptions) -> list[Row]:
    """(field, value or None, source) for every setting and each API's base URL.

    The secret key is masked as ``Config.rows()`` masks it; a value that is not
    set is None; a value from the command line says which option it came from.
    """
    rows: list[Row] = []
    for field, shown, source in config.rows():
        source = in_option_terms(source, field)
        rows.append((field, None if getattr(config, field) is None else shown, source))
    rows += [_base_url(config, opts, api) for api in _APIS]
    return rows


@click.command("config")
@pass_options
def show_config(opts: GlobalOptions) -> None:
    """Show the settings in effect and where each comes from (secret key masked).

    \f
    Works without a secret key (shown as not set); a malformed config file or
    an unknown profile fails on one line naming it (exit 2). With ``--json``:
    ``{field: {"value": ..., "source": ...}}``, ``null`` for a value not set.
    """
    rows = config_rows(settings(opts), opts)
    if opts.json:
        document: dict[str, Any] = {
            field: {"value": value, "source": source} for field, value, source in rows
        }
        dump_json(document)
    else:
        print_table(_COLUMNS, ([field, value or _NOT_SET, source] for field, value, source in rows))
