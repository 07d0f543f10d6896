"""The JSON codec: orjson and the standard library give the same values and errors."""

from __future__ import annotations

import json
import math
import platform
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import _json
from scaleway_volumes._decoding import load_object
from scaleway_volumes._errors import ResponseDecodeError

# What an API answer or a request body holds (64-bit integers: sizes in bytes).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.skipif(
    platform.python_implementation() != "CPython", reason="orjson is a dependency on CPython only"
)
def test_the_accelerated_codec_is_the_one_in_use_on_cpython() -> None:
    # The test dependencies install the package's, so a broken orjson import
    # (or a dropped dependency) shows here rather than as a slower library.
    assert _json.ACCELERATED
    assert _json.loads is not _json.std_loads


@given(json_values)
def test_both_codecs_read_what_either_writes(value: Any) -> None:
    for written in (_json.dumps(value), _json.std_dumps(value)):
        assert _json.loads(written) == value
        assert _json.std_loads(written) == value


@given(st.dictionaries(st.text(), st.text() | st.integers(0, 2**63 - 1), max_size=5))
def test_bodies_read_back_as_written(payload: dict[str, Any]) -> None:
    assert json.loads(_json.dumps(payload)) == payload


def test_bodies_are_compact_json() -> None:
    assert b", " not in _json.std_dumps({"a": 1, "b": 2})
    assert b", " not in _json.dumps({"a": 1, "b": 2})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # What orjson refuses and the standard library takes: the same values.
        (b'{"size": 123456789012345678901234567890}', {"size": 123456789012345678901234567890}),
        (b"[18446744073709551616, -9223372036854775809]", [2**64, -(2**63) - 1]),
        (b'{"x": "\\ud800"}', {"x": "\ud800"}),
    ],
)
def test_what_orjson_refuses_the_standard_library_reads(body: bytes, expected: object) -> None:
    assert _json.loads(body) == expected


def test_nan_reads_as_the_standard_library_reads_it() -> None:
    assert math.isnan(_json.loads(b'{"x": NaN}')["x"])


def test_what_orjson_cannot_write_the_standard_library_writes() -> None:
    big = {"size": 10**30}
    assert _json.dumps(big) == b'{"size":1000000000000000000000000000000}'
    assert json.loads(_json.dumps({"name": "\ud800"})) == {"name": "\ud800"}


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe{}", b"<html>502</html>", b""])
def test_errors_are_the_standard_librarys(body: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        _json.loads(body)
    with pytest.raises(ValueError) as std:
        _json.std_loads(body)
    assert type(ours.value) is type(std.value)
    assert str(ours.value) == str(std.value)


def test_a_body_that_is_not_json_is_a_decode_error_at_the_root() -> None:
    with pytest.raises(ResponseDecodeError) as caught:
        load_object(b"\xff not json", 200)
    assert caught.value.path == "$"
    assert "not valid JSON" in str(caught.value)


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000])
def test_nesting_too_deep_to_read_is_a_value_error(body: bytes) -> None:
    # The standard library's parser raises RecursionError; callers catch ValueError.
    for reader in (_json.loads, _json.std_loads):
        with pytest.raises(ValueError, match="nested too deeply"):
            reader(body)
    with pytest.raises(ResponseDecodeError) as caught:
        load_object(body, 200)
    assert caught.value.path == "$"
