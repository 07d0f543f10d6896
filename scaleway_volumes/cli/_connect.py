"""How a command reaches the API its options point at, and runs its calls.

``connect(opts, AsyncVolumeAPI)`` gives the API built from the global options,
or with ``--fake``, one talking to a fake served on loopback for the command's
duration. ``run(api, work)`` runs ``work(api)`` in a fresh event loop. Another
API with the same constructor (such as a Block Storage one) connects the same
way: ``connect(opts, ThatAPI)``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import anyio

from scaleway_volumes._constants import DEFAULT_ZONE, ENV_SECRET_KEY
from scaleway_volumes.testing import FakeScaleway

from ._constants import FAKE_TOKEN, USER_AGENT
from ._errors import EXIT_USAGE, CLIError
from ._options import GlobalOptions

__all__ = ["connect", "make_api", "run"]

T = TypeVar("T")
ApiT = TypeVar("ApiT", bound=AbstractAsyncContextManager[Any])


def make_api(
    api_class: Callable[..., ApiT],
    token: str,
    *,
    zone: str | None,
    base_url: str | None,
    organization: str | None,
    project: str | None,
) -> ApiT:
    """An ``api_class`` with these settings; a value it refuses is a usage error (exit 2).

    Every argument here comes from an option or the environment, so a bad one
    is for the user to change.
    """
    try:
        return api_class(
            token,
            zone=zone,
            base_url=base_url,
            organization=organization,
            project=project,
            user_agent=USER_AGENT,
        )
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc), exit_code=EXIT_USAGE) from None


@contextlib.contextmanager
def connect(opts: GlobalOptions, api_class: Callable[..., ApiT]) -> Iterator[ApiT]:
    """The ``api_class`` the options point at.

    With ``--fake``, it talks to a fake served on loopback until the block ends.
    Without a token (option or environment) it is a usage error (exit 2).
    """
    if not opts.fake:
        if not opts.token:
            raise CLIError(
                f"no secret key: pass --token or set {ENV_SECRET_KEY}", exit_code=EXIT_USAGE
            )
        yield make_api(
            api_class,
            opts.token,
            zone=opts.zone,
            base_url=opts.base_url,
            organization=opts.organization,
            project=opts.project,
        )
        return
    fake = FakeScaleway(token=FAKE_TOKEN, zone=opts.zone or DEFAULT_ZONE)
    with fake.serve() as server:
        # The fake knows one token: whatever the environment holds is not for it.
        yield make_api(
            api_class,
            FAKE_TOKEN,
            zone=opts.zone,
            base_url=server.base_url,
            organization=opts.organization or fake.organization,
            project=opts.project,
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
