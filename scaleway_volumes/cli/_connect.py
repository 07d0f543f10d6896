"""How a command reaches the API its options point at, and runs its calls.

``settings(opts)`` resolves the configuration as the library will (options,
then ``SCW_*`` variables, then the config file's profile); a configuration the
library refuses is a usage error (exit 2). ``connect(opts, AsyncVolumeAPI)``
gives the API built from the global options, or with ``--fake``, one talking to
a fake served on loopback for the command's duration. ``run(api, work)`` runs
``work(api)`` in a fresh event loop. ``connect(opts, AsyncBlockAPI)`` reaches
Block Storage the same way; ``--base-url`` then names the Block API's URL (one
of the Instance API, with ``/instance/v1/`` in it, is turned into the Block one,
as ``AsyncVolumeAPI.block`` does, and the other way round).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Literal, TypeVar

import anyio

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes._config import Config, resolve_config
from scaleway_volumes._constants import ENV_PROJECT, ENV_SECRET_KEY
from scaleway_volumes.testing import FAKE_TOKEN, FakeScaleway

from ._constants import PROG, USER_AGENT
from ._context import set_key_source, set_url_source
from ._errors import EXIT_USAGE, CLIError, one_line
from ._options import GlobalOptions, is_uuid

__all__ = [
    "Api",
    "api_of",
    "base_url_for",
    "connect",
    "in_option_terms",
    "make_api",
    "run",
    "settings",
]

T = TypeVar("T")
ApiT = TypeVar("ApiT", bound="AsyncVolumeAPI | AsyncBlockAPI")

Api = Literal["instance", "block"]
_API_PATHS: dict[Api, str] = {"instance": "/instance/v1/", "block": "/block/v1/"}


def api_of(api_class: object) -> Api:
    """Which API a client class talks to: ``"block"`` for ``AsyncBlockAPI``, else ``"instance"``."""
    is_block = isinstance(api_class, type) and issubclass(api_class, AsyncBlockAPI)
    return "block" if is_block else "instance"


def base_url_for(base_url: str | None, api: Api) -> str | None:
    """``--base-url`` as the URL of ``api``, None when not given.

    One option serves both APIs: a URL of the other API (``/instance/v1/`` in
    its path for a Block command, ``/block/v1/`` for an Instance one) gets
    that part swapped, the rule ``AsyncVolumeAPI.block`` follows; any other URL
    is used as it is.

    >>> base_url_for("http://127.0.0.1:8080/instance/v1/zones/fr-par-1", "block")
    'http://127.0.0.1:8080/block/v1/zones/fr-par-1'
    """
    if base_url is None:
        return None
    [other] = [path for kind, path in _API_PATHS.items() if kind != api]
    with_slash = base_url.rstrip("/") + "/"
    if other in with_slash and _API_PATHS[api] not in with_slash:
        return with_slash.replace(other, _API_PATHS[api], 1).rstrip("/")
    return base_url


# The option behind each value the library calls an "argument": its fields
# (secret_key, region: derived from the zone) and resolve_config's arguments.
_OPTIONS = {
    "secret_key": "--token",
    "token": "--token",
    "zone": "--zone",
    "region": "--zone",
    "project": "--project",
    "organization": "--organization",
    "profile": "--profile",
    "base_url": "--base-url",
}
# The library's own ways of saying a value came from an argument, and only
# those: a config file's path may hold the word too ("/home/u/argument/...").
_NAMED_ARGUMENT = re.compile(r"\(from argument (\w+)\)")  # "(from argument zone)"
_BARE_ARGUMENT = re.compile(r"\((from )?argument\)")  # "(from argument)", "zone (argument)"
_SUBJECT = re.compile(r"unknown (\w+) ")  # "unknown profile 'x' (from argument) ..."
# A value checked under the argument's own name: "base_url must be an http(s) URL...".
_LEADING_ARGUMENT = re.compile(r"(\w+)(?= must be )")


def in_option_terms(text: str, field: str | None = None) -> str:
    """``text`` from the library (a settings error, or where a value came from)
    with each argument it names as the source of a value named as the option
    that passed it.

    "(from argument zone)" becomes "(from option --zone)"; "(from argument)",
    "(argument)" and a source that is just "argument" name the option of
    ``field``, or when None of the setting the message is about ("unknown
    profile 'x' (from argument)"); an argument that opens the message as its
    subject ("base_url must be an http(s) URL...") is the option too. What
    names no known option, and the word anywhere else (a path), stays as it is.

    >>> in_option_terms("unknown zone 'x' (from argument zone): ...")
    "unknown zone 'x' (from option --zone): ..."
    >>> in_option_terms("derived from zone (argument)", "region")
    'derived from zone (option --zone)'
    >>> in_option_terms("token must be printable ASCII without spaces")
    '--token must be printable ASCII without spaces'
    """

    def named(match: re.Match[str]) -> str:
        option = _OPTIONS.get(match[1])
        return match[0] if option is None else f"(from option {option})"

    text = _NAMED_ARGUMENT.sub(named, text)
    if (subject := _LEADING_ARGUMENT.match(text)) is not None and subject[1] in _OPTIONS:
        text = _OPTIONS[subject[1]] + text[subject.end() :]
    if field is None and (subject := _SUBJECT.match(text)) is not None:
        field = subject[1]
    option = _OPTIONS.get(field or "")
    if option is None:
        return text
    if text == "argument":
        return f"option {option}"
    return _BARE_ARGUMENT.sub(lambda match: f"({match[1] or ''}option {option})", text)


def _usage_error(exc: Exception) -> CLIError:
    # Every value resolve_config and the API's constructor get here came from
    # the command line, the environment or the config file: the user's to fix.
    return CLIError(in_option_terms(one_line(exc)), exit_code=EXIT_USAGE)


def settings(opts: GlobalOptions) -> Config:
    """The configuration ``opts`` lead to, with where each value came from.

    A malformed config file, an unknown profile or a bad value is a usage error
    (exit 2) whose one line names the file, the variable or the option
    (``in_option_terms``), never the secret.
    """
    try:
        return resolve_config(
            token=opts.token,
            zone=opts.zone,
            organization=opts.organization,
            project=opts.project,
            profile=opts.profile,
        )
    except (ValueError, TypeError) as exc:
        raise _usage_error(exc) from None


def _check_ids(config: Config) -> None:
    """A project or organization id that is not a UUID is a usage error naming its source.

    Nothing else checks them before a request: the API would refuse every
    create of a bulk command one by one (exit 1), its advice naming its own
    field (``project_id``), not the option, variable or profile to fix.
    """
    for field in ("project", "organization"):
        value = getattr(config, field)
        if value is not None and not is_uuid(value):
            source = in_option_terms(config.sources[field], field)
            raise CLIError(
                f"{field} {value!r} (from {source}) is not an id: expected a UUID "
                "such as 11111111-2222-4333-8444-555555555555",
                exit_code=EXIT_USAGE,
                hint=f"`{PROG} config` shows every setting in effect and where it comes from.",
            )


def _no_secret_key(config: Config) -> CLIError:
    message = f"no secret key: pass --token or set {ENV_SECRET_KEY}"
    if config.config_path is not None:
        message += f", or add secret_key to profile {config.profile!r} in {config.config_path}"
    elif config.searched_path is not None:
        message += f", or write one to {config.searched_path} (`scw init` does)"
    return CLIError(
        message,
        exit_code=EXIT_USAGE,
        hint=f"`{PROG} config` shows every setting in effect and where it comes from.",
    )


def make_api(
    api_class: Callable[..., ApiT],
    token: str | None,
    *,
    zone: str | None,
    base_url: str | None,
    organization: str | None,
    project: str | None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ApiT:
    """An ``api_class`` with these settings; a value it refuses is a usage error (exit 2).

    Every argument here comes from an option, the environment or the config
    file, so a bad one is for the user to change. ``None`` leaves a setting to
    the environment and the ``profile`` of the config file; ``environ={}``
    reads neither (the demo, whatever the machine has set up).
    """
    try:
        api = api_class(
            token,
            zone=zone,
            base_url=base_url,
            organization=organization,
            project=project,
            profile=profile,
            user_agent=USER_AGENT,
            environ=environ,
        )
    except (ValueError, TypeError) as exc:
        raise _usage_error(exc) from None
    set_key_source(api.config.sources.get("secret_key"))
    url_source = api.config.sources.get("api_url")
    set_url_source(None if base_url is not None or url_source in (None, "default") else url_source)
    return api


def _no_project() -> CLIError:
    return CLIError(
        "Block Storage creates need a project: pass --project (or --organization, whose "
        f"default project has the same id), or set {ENV_PROJECT}",
        exit_code=EXIT_USAGE,
        hint=f"`{PROG} config` shows every setting in effect and where it comes from.",
    )


@contextlib.contextmanager
def connect(
    opts: GlobalOptions, api_class: Callable[..., ApiT], *, creates: bool = False
) -> Iterator[ApiT]:
    """The ``api_class`` the options point at.

    With ``--fake``, it talks to a fake served on loopback until the block ends
    (zone and organization still come from the configuration when set there).
    Without a secret key anywhere it is a usage error (exit 2) that says where
    one can go; so is a Block command that ``creates`` without a project or an
    organization anywhere, and a project or organization that is not a UUID.
    ``--base-url`` is taken as ``base_url_for`` says.
    """
    config = settings(opts)
    _check_ids(config)
    api = api_of(api_class)
    if not opts.fake:
        if config.secret_key is None:
            raise _no_secret_key(config)
        if creates and api == "block" and config.project is None and config.organization is None:
            raise _no_project()
        yield make_api(
            api_class,
            opts.token,
            zone=opts.zone,
            base_url=base_url_for(opts.base_url, api),
            organization=opts.organization,
            project=opts.project,
            profile=opts.profile,
        )
        return
    fake = FakeScaleway(token=FAKE_TOKEN, zone=config.zone)
    with fake.serve() as server:
        # The fake knows one token: whatever the configuration holds is not for it.
        yield make_api(
            api_class,
            FAKE_TOKEN,
            zone=opts.zone,
            base_url=server.block_base_url if api == "block" else server.base_url,
            organization=config.organization or fake.organization,
            project=opts.project,
            profile=opts.profile,
        )


def run(api: ApiT, work: Callable[[ApiT], Awaitable[T]]) -> T:
    """Run ``work(api)`` in a fresh event loop and close the API's connections afterwards.

    Ctrl-C comes out as ``KeyboardInterrupt`` on every Python version.
    """

    async def body() -> T:
        async with api:
            return await work(api)

    try:
        return anyio.run(body, backend="asyncio")
    except asyncio.CancelledError:
        # Python 3.10's loop lets Ctrl-C out as the main task's cancellation
        # (3.11+ raises KeyboardInterrupt): nothing else cancels the root task.
        raise KeyboardInterrupt from None
