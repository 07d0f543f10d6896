"""Checks of the values a test hands the fake whose failure would show only later, in
every request: a Fault's headers, the clock."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping

__all__ = ["check_clock", "checked_headers"]

# A header name is an RFC 9110 token; a value has no control character but tabs (a line
# break would end the TCP answer's head). Characters HTTP/1.1 cannot encode are left to
# fail the one answer that sends them (a 500 over TCP), as any failure inside the fake.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def checked_headers(headers: object) -> dict[str, str]:
    """``headers`` as a dict both transports can send, else a TypeError or ValueError.

    Checked here because httpx refuses an int value, say, only when the fault fires.
    """
    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a dict or None, not {headers!r}")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"headers must map str names to str values, not {name!r}: {value!r}")
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"headers: {name!r} is not an HTTP header name")
        if _HEADER_CONTROL.search(value):
            raise ValueError(f"headers: the value of {name!r} has a control character: {value!r}")
        checked[name] = value
    return checked


def check_clock(clock: object) -> Callable[[], float]:
    """``clock`` if calling it gives a finite number of seconds, else a TypeError/ValueError.

    Called once here so that a wrong clock fails where it is given, not in every request.
    """
    if not callable(clock):
        raise TypeError(
            f"clock must be a callable returning seconds since the epoch, not {clock!r}"
        )
    if isinstance(clock, type):
        # clock=ManualClock (the class) is callable too, but makes a clock, not a time.
        raise TypeError(
            f"clock must be a clock, not the class {clock.__name__}: give {clock.__name__}()"
        )
    try:
        now = clock()
    except TypeError as exc:
        raise TypeError(f"clock must be callable with no arguments: {exc}") from None
    if isinstance(now, bool) or not isinstance(now, numbers.Real):
        raise TypeError(f"clock() must return seconds since the epoch, a number, not {now!r}")
    if not math.isfinite(now):
        raise ValueError(f"clock() must return a finite number of seconds, not {now!r}")
    return clock
