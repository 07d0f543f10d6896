"""The options commands share, declared once.

``global_options`` are the group's (``scaleway-volumes --fake --json list``) and
end up in a ``GlobalOptions`` every command receives with ``@pass_options``.
The per-command ones (``--concurrency``, ``--yes``, ``--size``, ``--tag``,
``--wait``) are decorators a command stacks, so that every command spells them,
defaults them and documents them the same way; ``one_or_many`` and
``check_ids_or_prefix`` check the option combinations that create and delete
commands share. ``NumberRange`` is the type of every float option: click's
``FloatRange`` lets ``nan`` through; ``ID`` the type of every id argument and
option, so that a malformed id is a usage error before any request. A new
global option is one more decorator in ``_GLOBAL_OPTIONS`` and one more field
of ``GlobalOptions``.

The connection options read no environment variable themselves: the library
resolves ``SCW_*`` variables and the config file below what the command line
says, so ``config`` can tell where each value came from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from scaleway_volumes._constants import (
    DEFAULT_CONCURRENCY,
    DEFAULT_ZONE,
    ENV_API_URL,
    ENV_ORGANIZATION,
    ENV_PROFILE,
    ENV_PROJECT,
    ENV_SECRET_KEY,
    ENV_ZONE,
    WAIT_TIMEOUT,
)

from ._sizes import parse_size

__all__ = [
    "ID",
    "GlobalOptions",
    "NumberRange",
    "check_ids_or_prefix",
    "concurrency_option",
    "create_name_options",
    "global_options",
    "is_uuid",
    "not_empty",
    "one_or_many",
    "pass_options",
    "size_option",
    "tag_option",
    "wait_options",
    "yes_option",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class GlobalOptions:
    """The group's options, handed to every command (``None`` when not given).

    ``None`` leaves the value to the environment, then the config file's profile,
    then the library's default.
    """

    token: str | None
    profile: str | None
    zone: str | None
    organization: str | None
    project: str | None
    base_url: str | None
    fake: bool
    json: bool

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GlobalOptions:
        """The options from click's parsed values; an empty value counts as not given."""
        if params["fake"] and params["base_url"]:
            raise click.UsageError("--fake and --base-url cannot be used together")
        return cls(
            token=params["token"] or None,
            profile=params["profile"] or None,
            zone=params["zone"] or None,
            organization=params["organization"] or None,
            project=params["project"] or None,
            base_url=params["base_url"] or None,
            fake=params["fake"],
            json=params["as_json"],
        )


class NumberRange(click.FloatRange):
    """A ``click.FloatRange`` that refuses ``nan``, and ``inf`` unless ``allow_inf``.

    ``float()`` reads both, and every comparison with ``nan`` is false, so
    ``FloatRange`` lets ``nan`` through whatever its bounds: the value would
    reach the library only after the command's first requests.
    """

    def __init__(
        self, min: float | None = None, *, min_open: bool = False, allow_inf: bool = False
    ) -> None:
        super().__init__(min=min, min_open=min_open)
        self.allow_inf = allow_inf

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number) or (math.isinf(number) and not self.allow_inf):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


# The ids the library takes: the canonical 8-4-4-4-12 form only (its check_id
# refuses any other, as it would change the request's path).
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def is_uuid(text: str) -> bool:
    """True when ``text`` is an id as the library takes it (a UUID, 8-4-4-4-12, any case)."""
    return _UUID.fullmatch(text) is not None


class IdType(click.types.StringParamType):
    """A resource id (a UUID), checked as the command line is parsed.

    The library refuses a malformed id too, but as a bad value (exit 1) worded
    for Python (``volume_id must be a UUID string or a Volume``) and only once
    connected: here it is a usage error (exit 2), ``Invalid value for 'ID':
    'nope' is not a UUID.``, before any request.
    """

    # A string type underneath: click.ParamType is generic only from click 8.2.
    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = super().convert(value, param, ctx)
        if not is_uuid(text):
            self.fail(f"{text!r} is not a UUID.", param, ctx)
        # As the library sends it: one id typed in two cases is one id.
        return text.lower()

    def __repr__(self) -> str:
        return "ID"


ID = IdType()
"""The type of every id argument and option (``click.argument("volume_id", type=ID)``)."""

pass_options = click.make_pass_decorator(GlobalOptions)
"""Hands the command its ``GlobalOptions`` as first argument."""

fake_option = click.option(
    "--fake",
    is_flag=True,
    help="Run against an in-memory fake API served on 127.0.0.1 for this command.",
)
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable JSON on stdout (and a failure as JSON on stderr).",
)


def _env(variable: str, default: str | None = None) -> str:
    # What click's show_envvar would say, for a variable the library reads itself.
    fallback = f", else {default}" if default else ""
    return f"[env var: {variable}, then the config file{fallback}]"


# In the order --help lists them.
_GLOBAL_OPTIONS = (
    click.option(
        "--profile",
        metavar="NAME",
        help=f"Profile of the scw config file [env var: {ENV_PROFILE}].",
    ),
    click.option("--token", help=f"Secret key. {_env(ENV_SECRET_KEY)}"),
    click.option("--zone", help=f"Zone. {_env(ENV_ZONE, DEFAULT_ZONE)}"),
    click.option(
        "--organization", help=f"Organization id for new volumes. {_env(ENV_ORGANIZATION)}"
    ),
    click.option("--project", help=f"Project id for new volumes. {_env(ENV_PROJECT)}"),
    click.option("--base-url", help=f"API base URL (overrides --zone and {ENV_API_URL})."),
    fake_option,
    json_option,
)


def global_options(function: F) -> F:
    """Add the connection and output options every command shares to the group ``function``."""
    for option in reversed(_GLOBAL_OPTIONS):
        function = option(function)
    return function


def concurrency_option(default: int = DEFAULT_CONCURRENCY) -> Callable[[F], F]:
    """``--concurrency``: how many requests a bulk command keeps in flight at most."""
    return click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help="Requests in flight at most.",
    )


def yes_option(what: str) -> Callable[[F], F]:
    """``--yes``/``-y``: skip the confirmation before deleting several ``what``."""
    return click.option(
        "--yes", "-y", is_flag=True, help=f"Do not ask before deleting several {what}."
    )


def _no_empty_tag(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    # The library refuses it too, but as a bad value (exit 1) and only once connected.
    if "" in value:
        raise click.BadParameter("a tag must not be empty", ctx=ctx, param=param)
    return value


def _no_empty_or_comma_tag(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    # The Instance API takes a list's tags as one comma-separated value: the library
    # refuses a comma in one (exit 1, no advice) once connected.
    for tag in _no_empty_tag(ctx, param, value):
        if "," in tag:
            raise click.BadParameter(
                f"{tag!r} cannot be a filter: the Instance API separates tags with ','; "
                "give each tag its own --tag",
                ctx=ctx,
                param=param,
            )
    return value


def tag_option(help_text: str, *, comma_separated: bool = False) -> Callable[[F], F]:
    """``--tag`` (repeatable, documented by ``help_text``); the command receives ``tags``.

    ``comma_separated``: the API takes the tags as one comma-separated value (the
    Instance API's listing), so a tag holding a comma is a usage error too.
    """
    check = _no_empty_or_comma_tag if comma_separated else _no_empty_tag
    return click.option("--tag", "tags", multiple=True, callback=check, help=help_text)


def not_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback refusing an empty value (``--name ""``): a usage error naming the
    option, before any request.

    The library refuses an empty name or type too, but as a bad value (exit 1)
    worded for Python (``name must be a non-empty string``), once connected; and
    an empty ``--name-prefix`` would name the volumes ``0``, ``1``..., which no
    ``delete --name-prefix`` can reach.
    """
    if value == "":
        raise click.BadParameter("must not be empty", ctx=ctx, param=param)
    return value


def _to_bytes(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def size_option(*, required: bool) -> Callable[[F], F]:
    """``--size``: bytes, or ``10GB`` / ``10GiB``; the command receives an int of bytes."""
    return click.option(
        "--size",
        required=required,
        callback=_to_bytes,
        help="Size: bytes, or 10GB (10^9) / 10GiB (2^30) style units.",
    )


def wait_options(help_text: str) -> Callable[[F], F]:
    """``--wait`` (documented by ``help_text``) and ``--wait-timeout SECONDS``.

    The command receives ``wait: bool`` and ``wait_timeout: float`` (seconds).
    """

    def decorate(function: F) -> F:
        function = click.option(
            "--wait-timeout",
            # inf is the library's "no bound"; nan bounds nothing.
            type=NumberRange(min=0, min_open=True, allow_inf=True),
            default=WAIT_TIMEOUT,
            show_default=True,
            metavar="SECONDS",
            help="With --wait: how long to wait for each, at most (inf: no limit).",
        )(function)
        return click.option("--wait", is_flag=True, help=help_text)(function)

    return decorate


def create_name_options(function: F) -> F:
    """``--name``, or ``--name-prefix`` with ``--count``: what a create makes
    (``one_or_many`` tells which). The command receives ``name``, ``prefix`` and ``count``."""
    function = click.option(
        "--count", type=click.IntRange(min=1), help="How many volumes (with --name-prefix)."
    )(function)
    function = click.option(
        "--name-prefix",
        "prefix",
        callback=not_empty,
        help="Create --count volumes named PREFIX0, PREFIX1...",
    )(function)
    return click.option("--name", callback=not_empty, help="Name of the one volume to create.")(
        function
    )


def one_or_many(name: str | None, prefix: str | None, count: int | None) -> str | tuple[str, int]:
    """What a create makes: the one ``--name``, or ``(--name-prefix, --count)``.

    Anything else (both, neither, a prefix without a count) is a usage error.
    """
    if name is not None and (prefix is not None or count is not None):
        raise click.UsageError("use either --name, or --name-prefix with --count")
    if name is not None:
        return name
    if prefix is None or count is None:
        raise click.UsageError("pass --name, or --name-prefix with --count")
    return prefix, count


def check_ids_or_prefix(ids: tuple[str, ...], prefix: str | None, noun: str) -> None:
    """A delete takes ``noun`` ids or a non-empty ``--name-prefix``, not both (else usage error)."""
    if ids and prefix is not None:
        raise click.UsageError(f"pass {noun} ids or --name-prefix, not both")
    if not ids and prefix is None:
        raise click.UsageError(f"pass {noun} ids or --name-prefix")
    if prefix == "":
        raise click.UsageError("--name-prefix must not be empty (it would match everything)")
