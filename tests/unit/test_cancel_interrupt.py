"""``sole_interrupt``: Ctrl-C (or ``SystemExit``), plain or in a group of nothing else
but cancellations, as trio's task groups hand it on."""

from __future__ import annotations

import sys

import anyio
import pytest

from scaleway_volumes._cancel import sole_interrupt

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

pytestmark = pytest.mark.anyio


async def _cancellation() -> BaseException:
    """A real cancellation of the running backend (trio's has no public constructor)."""
    with anyio.CancelScope() as scope:
        scope.cancel()
        try:
            await anyio.sleep(1)
        except anyio.get_cancelled_exc_class() as exc:
            return exc
    raise AssertionError("not cancelled")  # pragma: no cover


async def test_sole_interrupt_sees_through_groups_of_it_and_cancellations() -> None:
    """Plain, grouped, nested, beside cancellations: the interrupt itself; two of them,
    or anything else mixed in: None."""
    interrupt, leaving = KeyboardInterrupt(), SystemExit(3)
    cancelled = await _cancellation()
    assert sole_interrupt(interrupt) is interrupt
    assert sole_interrupt(leaving) is leaving
    assert sole_interrupt(BaseExceptionGroup("g", [interrupt])) is interrupt
    nested = BaseExceptionGroup("outer", [BaseExceptionGroup("inner", [interrupt]), cancelled])
    assert sole_interrupt(nested) is interrupt
    assert sole_interrupt(BaseExceptionGroup("g", [interrupt, KeyboardInterrupt()])) is None
    assert sole_interrupt(BaseExceptionGroup("g", [interrupt, ValueError()])) is None
    assert sole_interrupt(BaseExceptionGroup("g", [cancelled])) is None
    assert sole_interrupt(ExceptionGroup("g", [ValueError()])) is None
    assert sole_interrupt(cancelled) is None
    assert sole_interrupt(ValueError()) is None
