"""An outcome that comes later, from someone other than the task that started the work.

A bulk call's job may hand its item over (``create_volumes(wait=True)`` gives
each created volume to the call's one poller) and return a ``Later``: its
worker goes on with the next item instead of a task per item waiting on an
event, and the taker calls ``finish`` once the item is settled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

__all__ = ["Later", "Listener"]

Listener = Callable[[Any, Any, bool], object]
"""``listener(key, outcome, ok)``: the key given with it to ``on_finish``, then the
output (``ok``) or the exception to report."""

# ``_outcome`` until ``finish``; ``_listener`` once it was called or abandoned.
_NOTHING: Any = object()
_OVER: Any = object()


class Later:
    """One item's outcome, given once by ``finish``, heard once by the ``on_finish`` listener.

    ```python
    later = Later()
    later.on_finish(lambda key, outcome, ok: print(key, outcome, ok), 7)
    later.finish(volume)         # prints: 7 volume True
    later.finish(other)          # ignored: only the first outcome counts
    ```

    Subclasses that keep working on the item override ``abandon`` to stop.
    """

    __slots__ = ("_key", "_listener", "_ok", "_outcome")

    #: Whether ``settled`` tells, without I/O, what the item did: then a bulk
    #: call cancelled while the item waits reports that, and keeps no settle
    #: function for the item meanwhile.
    self_settling: ClassVar[bool] = False

    def __init__(self) -> None:
        self._listener: Listener | None = None
        self._key: Any = None
        self._outcome: Any = _NOTHING
        self._ok = False

    @property
    def done(self) -> bool:
        """Whether the outcome is given, or nobody wants it any more."""
        return self._outcome is not _NOTHING or self._listener is _OVER

    def finish(self, outcome: Any, ok: bool = True) -> None:
        """Give the outcome: the output (``ok``), or the exception to report.

        Only the first call counts; after ``abandon`` none does.
        """
        if self.done:
            return
        self._outcome, self._ok = outcome, ok
        listener = self._listener
        if listener is not None:
            self._listener = _OVER
            listener(self._key, outcome, ok)

    def on_finish(self, listener: Listener, key: Any = None) -> None:
        """Call ``listener(key, outcome, ok)`` once the outcome is given (at once if it is).

        The key spares a closure per ``Later`` when one listener hears many (a
        bulk call's items, by index): a call waiting for thousands keeps
        thousands fewer objects for the garbage collector to go through.
        """
        if self._listener is not None:
            raise RuntimeError("a Later has one listener, and none once abandoned")
        self._key = key
        if self._outcome is _NOTHING:
            self._listener = listener
        else:
            self._listener = _OVER
            listener(key, self._outcome, self._ok)

    def abandon(self) -> None:
        """Nobody wants the outcome any more: ``finish`` will call nothing."""
        self._listener = _OVER

    def settled(self) -> Any:
        """What the item did, as far as known now: the output, or the exception to
        report (``self_settling`` subclasses only)."""
        raise NotImplementedError(f"{type(self).__name__} is not self-settling")
