"""A bulk call's arguments, checked before any request: its input, its
``concurrency`` and its callbacks (and what a callback returns, as it is called)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable

__all__ = ["check_callback", "check_concurrency", "check_items", "refuse_awaitable"]


def check_concurrency(concurrency: object) -> int:
    """A bulk call's ``concurrency``: an int of at least 1."""
    if type(concurrency) is not int or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
    return concurrency


def check_items(items: object, name: str, accepted: str) -> None:
    """A bulk call's input: an iterable of ``accepted``, not one string or one item.

    A lone string would be taken one character at a time, and a lone item (a
    spec, a model) met Python's bare "object is not iterable", which names
    neither the argument nor the fix. Called before any request.
    """
    if isinstance(items, (str, bytes)):
        raise TypeError(
            f"{name} must be an iterable of {accepted}, not a single string (wrap one in a list)"
        )
    # Not iter(items): a custom iterable's __iter__ may do work (a query, a
    # cursor), and the call iterates it once, later.
    if not isinstance(items, Iterable) and not hasattr(type(items), "__getitem__"):
        raise TypeError(
            f"{name} must be an iterable of {accepted}, got {type(items).__name__}"
            + (" (wrap one in a list)" if items is not None else "")
        )


def _is_async(function: object) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def check_callback(callback: object, name: str) -> None:
    """A bulk call's ``on_progress`` or ``on_item``: ``None`` or a plain function.

    The callbacks are called, never awaited: an ``async def`` one (or a
    ``functools.partial`` of one, or an object whose ``__call__`` is one)
    would never run, so it is refused with ``TypeError`` before any request.
    """
    if callback is None:
        return
    if not callable(callback):
        raise TypeError(f"{name} must be a function or None, got {type(callback).__name__}")
    function: object = callback
    while isinstance(function, functools.partial):
        function = function.func
    if _is_async(function) or _is_async(type(function).__call__):
        raise TypeError(
            f"{name} must be a plain function, not an async one: bulk callbacks are "
            "called, never awaited"
        )


def refuse_awaitable(returned: object, name: str) -> None:
    """A callback returned ``returned`` (not None): an awaitable is closed, then refused."""
    if inspect.isawaitable(returned):
        close = getattr(returned, "close", None)
        if callable(close):
            close()  # no "never awaited" warning: it is refused, not forgotten
        raise TypeError(
            f"{name} returned {type(returned).__name__}, an awaitable: bulk callbacks are "
            "called, never awaited, so they must be plain functions"
        )
