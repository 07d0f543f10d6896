from __future__ import annotations

import pytest

from scaleway_volumes.cli import human_size, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("20000000000", 20 * 10**9),
        ("10GB", 10 * 10**9),
        ("10gb", 10 * 10**9),
        ("10 GB", 10 * 10**9),
        ("10GiB", 10 * 2**30),
        ("10gib", 10 * 2**30),
        ("1KB", 1000),
        ("1KiB", 1024),
        ("5MB", 5 * 10**6),
        ("5MiB", 5 * 2**20),
        ("2TB", 2 * 10**12),
        ("2TiB", 2 * 2**40),
        ("1.5GB", 1_500_000_000),
        ("512B", 512),
        (" 3GB ", 3 * 10**9),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["10XB", "", "GB", "-1GB", "1e9", "ten", "10 G B", "1.5"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


def test_parse_size_message() -> None:
    with pytest.raises(ValueError) as info:
        parse_size("10XB")
    assert str(info.value) == "invalid size '10XB': use bytes or a unit such as 10GB or 10GiB"


@pytest.mark.parametrize("text", ["0", "0GB"])
def test_parse_size_rejects_zero(text: str) -> None:
    with pytest.raises(ValueError, match="more than 0"):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (512, "512 B"),
        (1000, "1 kB"),
        (10 * 10**9, "10 GB"),
        (1_500_000_000_000, "1.5 TB"),
        (10 * 2**30, "10.74 GB"),
    ],
)
def test_human_size(size: int, expected: str) -> None:
    assert human_size(size) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 29 significant digits: Decimal's default context would round the last one.
        ("12345678901234567890123456789", 12345678901234567890123456789),
        ("12345678901234567890123456789GB", 12345678901234567890123456789 * 10**9),
        ("1.0000000000000000000000000001KB", None),
        ("0.000000000000000000000000000001000000000000000000000000000000PB", None),
        ("1234567890123456789012345678.9KB", 1234567890123456789012345678900),
    ],
)
def test_parse_size_is_exact_at_any_length(text: str, expected: int | None) -> None:
    """Past 28 significant digits a size is still exact: the bytes it says, or refused
    as not whole (None here), never rounded into something else."""
    if expected is None:
        with pytest.raises(ValueError, match="not a whole number of bytes"):
            parse_size(text)
    else:
        assert parse_size(text) == expected


def test_a_tiny_fraction_over_whole_bytes_is_refused() -> None:
    """1.0000000000000000000000000001 GB is 1000000000.0000000000000000001 bytes."""
    with pytest.raises(ValueError, match="not a whole number of bytes"):
        parse_size("1.0000000000000000000000000001GB")


def test_parse_size_refuses_more_digits_than_python_reads() -> None:
    """Past the digits int() reads, a usage error (ValueError), not a crash."""
    with pytest.raises(ValueError, match=r"invalid size '1111.*': too many digits"):
        parse_size("1" * 5000)
