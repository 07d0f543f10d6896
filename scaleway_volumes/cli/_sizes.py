"""Sizes as people type them (``10GB``, ``10GiB``, bytes) and as the API documents them."""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["human_size", "parse_size"]

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
}
_DISPLAY_UNITS = (("PB", 10**15), ("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3))


def parse_size(text: str) -> int:
    """Return the number of bytes ``text`` means.

    A bare integer is bytes; ``KB``/``MB``/``GB``/``TB`` are powers of 1000,
    ``KiB``/``MiB``/``GiB``/``TiB`` powers of 1024 (case-insensitive, a space
    allowed before the unit, decimals allowed when they make whole bytes:
    ``1.5GB``). Raises ``ValueError`` for anything else, or for zero.

    >>> parse_size("10GB"), parse_size("1KiB")
    (10000000000, 1024)
    """
    match = _SIZE.fullmatch(text)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"invalid size {text!r}: use bytes or a unit such as 10GB or 10GiB")
    try:
        # A Fraction, not a Decimal: Decimal arithmetic rounds to 28 significant
        # digits, which would turn a size that is not whole bytes into one, or
        # a long one into another. A Fraction of the text is exact at any length.
        size = Fraction(match.group(1)) * unit
    except ValueError:
        # Past Python's limit on the digits int() reads (4300 by default).
        raise ValueError(f"invalid size {text!r}: too many digits") from None
    if size.denominator != 1:
        raise ValueError(f"invalid size {text!r}: not a whole number of bytes")
    if size <= 0:
        raise ValueError(f"invalid size {text!r}: must be more than 0 bytes")
    return int(size)


def human_size(size: int) -> str:
    """Return ``size`` bytes in decimal units as the API documents them.

    >>> human_size(10 * 10**9), human_size(1_500_000_000_000), human_size(512)
    ('10 GB', '1.5 TB', '512 B')
    """
    for name, unit in _DISPLAY_UNITS:
        if size >= unit:
            value = f"{size / unit:.2f}".rstrip("0").rstrip(".")
            return f"{value} {name}"
    return f"{size} B"
