"""One bound on a whole call, retries and waits included."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import TypeVar, cast

import anyio

__all__ = ["run_within"]

T = TypeVar("T")

# Python 3.11+; typed by hand because the type check targets 3.10.
_asyncio_timeout = cast(
    "Callable[[float], AbstractAsyncContextManager[object]] | None",
    getattr(asyncio, "timeout", None),
)


class _AsyncScope:
    """anyio's (synchronous) cancel scope, entered with ``async with``."""

    __slots__ = ("_scope",)

    def __init__(self, scope: AbstractContextManager[object]) -> None:
        self._scope = scope

    async def __aenter__(self) -> object:
        return self._scope.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return self._scope.__exit__(exc_type, exc, tb)


def _scope(seconds: float) -> AbstractAsyncContextManager[object]:
    # On asyncio (3.11+) asyncio.timeout costs a third of an anyio cancel scope,
    # and this runs once per call; trio (and 3.10) get anyio's.
    if _asyncio_timeout is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return _asyncio_timeout(seconds)
    return _AsyncScope(anyio.fail_after(seconds))


async def run_within(
    seconds: float | None,
    call: Callable[[], Awaitable[T]],
    expired: Callable[[], BaseException],
) -> T:
    """``await call()``; raise ``expired()`` if it takes over ``seconds`` (None: no bound)."""
    if seconds is None:
        return await call()
    try:
        async with _scope(seconds):
            return await call()
    except TimeoutError as exc:
        raise expired() from exc
