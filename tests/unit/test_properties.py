"""Property tests (hypothesis): the converter, decoding, error mapping, id checks."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any

import anyio
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaleway_volumes import (
    APIError,
    AsyncVolumeAPI,
    ResponseDecodeError,
    Volume,
    converter,
)
from scaleway_volumes._convert import decode_volume, decode_volumes
from scaleway_volumes._errors import error_class_for, error_from_response

CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")

text = st.text(max_size=20)
opt_text = st.none() | text
dates = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
)

volume_dicts = st.fixed_dictionaries(
    {
        "id": st.uuids().map(str),
        "name": text,
        "size": st.integers(min_value=0, max_value=2**63),
        "volume_type": text,
    },
    optional={
        "organization": opt_text,
        "project": opt_text,
        "export_uri": opt_text,
        "state": opt_text,
        "zone": opt_text,
        "tags": st.lists(text, max_size=5),
        "server": st.none() | st.fixed_dictionaries({"id": text, "name": opt_text}),
        "creation_date": st.none() | dates.map(datetime.isoformat),
        "modification_date": st.none() | dates.map(lambda d: d.isoformat().replace("+00:00", "Z")),
        "unknown_future_field": st.integers() | text,
    },
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)


@given(volume_dicts)
def test_valid_volume_dicts_round_trip(data: dict[str, Any]) -> None:
    """Any valid volume dict decodes, and unstructure/structure gives it back."""
    volume = decode_volume(json.dumps({"volume": data}).encode())
    assert volume.id == data["id"] and volume.size == data["size"]
    assert volume.tags == tuple(data.get("tags", ()))
    assert converter.structure(converter.unstructure(volume), Volume) == volume


@given(json_values)
def test_random_json_only_ever_raises_decode_error(value: Any) -> None:
    """Whatever JSON comes back with a 2xx, the only failure is ResponseDecodeError."""
    for payload in (value, {"volume": value}, {"volumes": value}, {"volumes": [value]}):
        content = json.dumps(payload).encode()
        for decode in (decode_volume, decode_volumes):
            with contextlib.suppress(ResponseDecodeError):
                decode(content, 200)


@given(st.binary(max_size=64))
def test_random_bytes_only_ever_raise_decode_error(content: bytes) -> None:
    """Non-JSON bytes with a 2xx raise ResponseDecodeError, never a json error."""
    with contextlib.suppress(ResponseDecodeError):
        decode_volume(content)


error_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"type": text, "message": text},
        optional={"fields": st.dictionaries(text, st.lists(text, max_size=3) | text)},
    ).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)


@given(st.integers(min_value=300, max_value=599), error_bodies)
def test_error_bodies_map_to_the_status_class(status: int, content: bytes) -> None:
    """Any status/body pair gives the status's class, with string type and message."""
    err = error_from_response(status, content, reason="Reason")
    assert type(err) is error_class_for(status)
    assert isinstance(err, APIError)
    assert err.status_code == status
    assert isinstance(err.type, str) and isinstance(err.message, str)
    assert all(isinstance(k, str) and isinstance(v, list) for k, v in err.fields.items())
    str(err)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40) | st.uuids().map(str))
def test_ids_are_uuids_or_rejected_before_any_request(candidate: str) -> None:
    """A string id is either a UUID (and requested) or a ValueError with no request."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(404, json={"type": "unknown_resource", "message": "nope"})

    async def attempt() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        api = AsyncVolumeAPI("t", base_url="http://api.test/v", client=client)
        try:
            await api.get_volume(candidate)
        except ValueError:
            assert not sent
            assert not CANONICAL_UUID.fullmatch(candidate)
        except APIError:
            assert len(sent) == 1
            assert sent[0].url.path == f"/v/volumes/{candidate}"
            uuid.UUID(candidate)
        finally:
            await client.aclose()

    anyio.run(attempt)


@given(volume_dicts | json_values)
def test_fast_decoder_agrees_with_the_converter(data: Any) -> None:
    """The fast path returns exactly what the cattrs converter returns, or defers to it."""
    from scaleway_volumes._convert import _fast_volume, _NotPlain

    try:
        expected: Any = converter.structure(data, Volume)
    except Exception:
        expected = None
    try:
        fast: Any = _fast_volume(data)
    except _NotPlain:
        return
    assert fast == expected
