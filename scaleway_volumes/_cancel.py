"""One cancellation, however it arrives: plain, or as a group of nothing else.

Under trio (strict exception groups, the default since trio 0.25) a
cancellation that reaches a nursery leaves it as a ``BaseExceptionGroup`` of
``Cancelled``. httpx's pool opens each connection inside one
(``trio.open_tcp_stream`` tries addresses side by side), so a request
cancelled while connecting raises a group, not ``Cancelled``, and an
``except Cancelled`` that must settle a request in flight misses it. The
cancel scope that fired still catches the group; only the code between needs
this.

Ctrl-C under trio is a ``KeyboardInterrupt`` raised in whatever task runs
unprotected code (a request in flight), and it leaves every nursery on its
way out as a group; ``sole_interrupt`` finds it in there, so that a bulk call
can settle the item it interrupted and re-raise it as itself.
"""

from __future__ import annotations

import sys

import anyio

if sys.version_info < (3, 11):  # pragma: no cover - the backport anyio depends on
    from exceptiongroup import BaseExceptionGroup

__all__ = ["sole_cancellation", "sole_interrupt"]


def sole_cancellation(exc: BaseException) -> BaseException | None:
    """The cancellation ``exc`` amounts to, or None if it carries anything else.

    ``exc`` itself when it is the running backend's cancellation; the first
    cancellation of a group (nested or not) made of nothing but cancellations;
    None for any other exception, or a group that holds one.
    """
    cancelled = anyio.get_cancelled_exc_class()
    while isinstance(exc, BaseExceptionGroup):
        if exc.split(cancelled)[1] is not None:
            return None
        exc = exc.exceptions[0]
    return exc if isinstance(exc, cancelled) else None


def sole_interrupt(exc: BaseException) -> BaseException | None:
    """The ``KeyboardInterrupt`` or ``SystemExit`` ``exc`` amounts to, or None.

    ``exc`` itself when it is one; the one leaf of a group (nested or not)
    whose other leaves are all cancellations; None for anything else (a group
    holding two of them, or any other exception).
    """
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return exc
    if not isinstance(exc, BaseExceptionGroup):
        return None
    cancelled = anyio.get_cancelled_exc_class()
    found: BaseException | None = None
    left: list[BaseException] = [exc]
    while left:
        leaf = left.pop()
        if isinstance(leaf, BaseExceptionGroup):
            left += leaf.exceptions
        elif isinstance(leaf, (KeyboardInterrupt, SystemExit)) and found is None:
            found = leaf
        elif not isinstance(leaf, cancelled):
            return None
    return found
