"""RFC 3339 timestamps, read the same way on every supported Python.

A leaf module (the standard library only): every response decoder reads the
APIs' timestamps here, and so does an error's ``expired_since``, whose modules
import nothing of the client.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone

__all__ = ["iso_for_py310", "parse_datetime"]

# RFC 3339 date-time, and only it, on every Python: "T", "t" or a space between
# date and time, a fraction of any length (RFC 3339: 1*DIGIT), then "Z", "z",
# "+HH:MM", "+HHMM" (minutes 00-59) or no offset at all (read as UTC).
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-5][0-9])?\Z"
)
_NOT_RFC3339 = "not an RFC 3339 timestamp: {!r}"


def iso_for_py310(value: str) -> str:
    """Rewrite an RFC 3339 stamp into the subset ``fromisoformat`` reads on 3.10.

    Python 3.10 accepts only 3 or 6 fraction digits and ``+HH:MM`` offsets:
    ``...35.123Z`` becomes ``...35.123000+00:00``, ``+0100`` becomes ``+01:00``,
    and a fraction longer than microseconds is truncated. What is not RFC 3339
    is a ``ValueError``, though 3.10 would read some of it (``2026-11-27X10:38:35``).
    """
    match = _RFC3339.match(value)
    if match is None:
        raise ValueError(_NOT_RFC3339.format(value))
    head, fraction, offset = match.groups()
    fraction = "." + fraction[1:7].ljust(6, "0") if fraction else ""
    if offset is None:
        offset = ""
    elif offset in ("Z", "z"):
        offset = "+00:00"
    elif offset[3] != ":":
        offset = f"{offset[:3]}:{offset[3:]}"
    return head + fraction + offset


_UTC = timezone.utc
_fromisoformat = datetime.fromisoformat
# Not tested inline, so that mypy (set to 3.10) checks both definitions.
_PY311 = sys.version_info >= (3, 11)

if _PY311:

    def parse_datetime(value: str) -> datetime:
        """Parse the APIs' RFC 3339 timestamps, the same way on every supported Python.

        The Instance API sends ``2026-11-27T10:38:35.123456+00:00``, the Block
        API ``2026-11-27T10:38:35.123Z``; both give aware datetimes, on Python
        3.10 too (see ``iso_for_py310``). Accepted: ``T``, ``t`` or a space
        between date and time, any number of fraction digits (truncated to
        microseconds), ``Z``, ``z``, ``+HH:MM`` or ``+HHMM``. A naive stamp is
        taken as UTC, which is what the APIs mean. Other ISO 8601 forms
        (``+01``, a decimal comma, a date alone, surrounding whitespace) are a
        ``ValueError`` on every Python, though 3.11's ``fromisoformat`` reads
        some of them.

        A leap second (``23:59:60Z``, RFC 3339 5.7) is read as the last instant
        of its minute, ``23:59:59.999999``: ``datetime`` has no second 60, and
        this keeps stamps in order without moving into the next minute (or day).
        """
        # fromisoformat reads all of RFC 3339 here, and more (other ISO 8601
        # forms, and odd ones: "35+01.00" as +01:00): the pattern says first what
        # is RFC 3339 (0.3 µs a stamp, measured: cheaper checks in Python cost
        # as much, and a shortcut of a few let odd forms through).
        if _RFC3339.match(value) is None:
            raise ValueError(_NOT_RFC3339.format(value))
        try:
            parsed = _fromisoformat(value[:-1] + "Z" if value[-1] == "z" else value)
        except ValueError:
            # Only here: a leap second costs the usual stamp nothing.
            if value[17:19] != "60":
                raise
            return _leap_second(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_UTC)

else:  # pragma: no cover - Python 3.10

    def parse_datetime(value: str) -> datetime:
        """As on Python 3.11+ (see the docstring there), through ``iso_for_py310``."""
        try:
            parsed = _fromisoformat(iso_for_py310(value))
        except ValueError:
            if value[17:19] != "60":
                raise
            parsed = _leap_second(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_UTC)


def _leap_second(value: str) -> datetime:
    """``...:60`` read as ``...:59.999999`` (see ``parse_datetime``)."""
    match = _RFC3339.match(value)
    if match is None:
        raise ValueError(_NOT_RFC3339.format(value))
    head, _, offset = match.groups()
    return parse_datetime(f"{head[:17]}59.999999{offset or ''}")
