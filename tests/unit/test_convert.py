"""The cattrs converter: envelopes, leniency about shape, strictness about types."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import ResponseDecodeError, Volume, VolumeServer, VolumeSpec, converter
from scaleway_volumes._convert import (
    TagsNotShown,
    decode_volume,
    decode_volumes,
    find_marked_page,
    make_converter,
    parse_datetime,
)
from scaleway_volumes._decoding import iso_for_py310

from .helpers import volume_json

SEED_VOLUME = {
    "export_uri": None,
    "id": "c675f420-cfeb-48ff-ba2a-9d2a4dbe3fcd",
    "name": "volume-0-3",
    "organization": "000a115d-2852-4b0a-9ce8-47f1134ba95a",
    "server": None,
    "size": 10000000000,
    "volume_type": "l_ssd",
}


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_seed_volume_decodes_with_defaults() -> None:
    """The seed's seven fields decode; the newer fields default."""
    volume = decode_volume(body({"volume": SEED_VOLUME}))
    assert volume.id == SEED_VOLUME["id"]
    assert volume.size == 10_000_000_000
    assert volume.tags == ()
    assert volume.state is None and volume.creation_date is None and volume.server is None


def test_current_volume_decodes_every_field() -> None:
    """Every current-API field lands in the model, server and dates included."""
    data = volume_json(server={"id": "s-1", "name": "web"}, tags=["a", "b"])
    volume = decode_volume(body({"volume": data}))
    assert volume.server == VolumeServer(id="s-1", name="web")
    assert volume.tags == ("a", "b")
    assert volume.creation_date == datetime(2026, 11, 27, 10, 38, 35, 123456, tzinfo=timezone.utc)
    assert volume.zone == "fr-par-1" and volume.state == "available"


def test_strict_twin_knows_every_current_field() -> None:
    """A forbid_extra_keys converter accepts a full current volume: no field forgotten."""
    strict = make_converter(forbid_extra_keys=True)
    assert strict.structure(volume_json(), Volume).name == "volume-0-1"


def test_unknown_fields_ignored() -> None:
    """A field the API adds tomorrow does not break decoding."""
    volume = decode_volume(body({"volume": volume_json(new_field={"x": 1}), "extra": 2}))
    assert volume.name == "volume-0-1"


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-27T10:38:35.123456+00:00",
        "2026-11-27T10:38:35.123456Z",
        "2026-11-27T10:38:35.123Z",
        "2026-11-27T10:38:35Z",
        "2026-11-27T11:38:35.123456+01:00",
        "2026-11-27T10:38:35.123456",
        "2026-11-27T10:38:35.123456789Z",
        "2026-11-27T10:38:35z",
    ],
)
def test_dates_parse_in_every_form(stamp: str) -> None:
    """Z, offsets, short fractions and naive stamps all parse, as UTC-aware datetimes."""
    parsed = parse_datetime(stamp)
    assert parsed.tzinfo is not None
    assert parsed.astimezone(timezone.utc).replace(microsecond=0) == datetime(
        2026, 11, 27, 10, 38, 35, tzinfo=timezone.utc
    )


def test_round_trip_through_converter() -> None:
    """structure(unstructure(v)) == v, and unstructure gives JSON-able data."""
    volume = decode_volume(body({"volume": volume_json(server={"id": "s", "name": None})}))
    data = converter.unstructure(volume)
    json.dumps(data)
    assert converter.structure(data, Volume) == volume


def test_volumes_envelope() -> None:
    """A list envelope decodes to Volumes in order."""
    vols = [volume_json(name=f"v{i}") for i in range(3)]
    assert [v.name for v in decode_volumes(body({"volumes": vols}))] == ["v0", "v1", "v2"]


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (b"not json", "$"),
        (b'{"volume": ', "$"),
        (b"[1, 2]", "$"),
        (body({"volumes": []}), "$.volume"),
        (body({"volume": None}), "$.volume"),
        (body({"volume": {**SEED_VOLUME, "size": "10"}}), "$.volume.size"),
        (body({"volume": {**SEED_VOLUME, "size": 10.5}}), "$.volume.size"),
        (body({"volume": {**SEED_VOLUME, "size": True}}), "$.volume.size"),
        (body({"volume": {k: v for k, v in SEED_VOLUME.items() if k != "id"}}), "$.volume.id"),
        (body({"volume": {**SEED_VOLUME, "name": 123}}), "$.volume.name"),
        (body({"volume": {**SEED_VOLUME, "tags": "abc"}}), "$.volume.tags"),
        (body({"volume": {**SEED_VOLUME, "creation_date": "yesterday"}}), "$.volume.creation_date"),
        (body({"volume": {**SEED_VOLUME, "server": {"name": "x"}}}), "$.volume.server.id"),
    ],
)
def test_bad_volume_bodies_name_the_path(payload: bytes, path: str) -> None:
    """Anything that does not fit raises ResponseDecodeError naming where."""
    with pytest.raises(ResponseDecodeError) as info:
        decode_volume(payload, 200)
    assert info.value.path == path
    assert info.value.status_code == 200
    assert path in str(info.value)


def test_bad_list_item_names_its_index() -> None:
    """A bad item in a list names its index in the path."""
    vols = [volume_json(), volume_json(size="big")]
    with pytest.raises(ResponseDecodeError) as info:
        decode_volumes(body({"volumes": vols}))
    assert info.value.path == "$.volumes[1].size"


def test_volume_is_frozen_hashable_value() -> None:
    """Volumes are immutable, compare by value and hash."""
    a = converter.structure(SEED_VOLUME, Volume)
    b = converter.structure(dict(SEED_VOLUME), Volume)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.name = "x"  # type: ignore[misc]


def test_volume_spec_checks_tags() -> None:
    """VolumeSpec turns tags into a tuple and refuses a bare string."""
    assert VolumeSpec(name="a", size=1, tags=["x"]).tags == ("x",)
    with pytest.raises(TypeError):
        VolumeSpec(name="a", size=1, tags="xyz")


# Exactly what datetime.fromisoformat reads on Python 3.10: 3 or 6 fraction
# digits, and an offset written +HH:MM.
PY310_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?([+-]\d{2}:\d{2})?")


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2025-03-11T10:00:00Z", "2025-03-11T10:00:00+00:00"),
        ("2025-03-11T10:00:00z", "2025-03-11T10:00:00+00:00"),
        ("2025-03-11T10:00:00.5Z", "2025-03-11T10:00:00.500000+00:00"),
        ("2025-03-11T10:00:00.123456789Z", "2025-03-11T10:00:00.123456+00:00"),
        ("2025-03-11T11:00:00.123+0100", "2025-03-11T11:00:00.123000+01:00"),
        ("2025-03-11T10:00:00.123456+00:00", "2025-03-11T10:00:00.123456+00:00"),
        ("2025-03-11T10:00:00", "2025-03-11T10:00:00"),
    ],
)
def test_py310_rewrite_of_rfc3339(stamp: str, expected: str) -> None:
    """On 3.10, Z, short or long fractions and +HHMM become what fromisoformat reads there."""
    assert iso_for_py310(stamp) == expected
    assert PY310_ISO.fullmatch(expected)


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5, minutes=-30))]),
    ),
    st.integers(min_value=0, max_value=9),
    st.sampled_from(["Z", "colon", "bare"]),
)
def test_py310_rewrite_keeps_the_instant(moment: datetime, digits: int, style: str) -> None:
    """Any RFC 3339 spelling is rewritten into the 3.10 subset naming the same instant."""
    moment = moment.astimezone(timezone.utc) if style == "Z" else moment
    fraction = f"{moment.microsecond:06d}987"[:digits]  # up to nanoseconds
    offset = moment.strftime("%z")
    offset = {"Z": "Z", "colon": f"{offset[:3]}:{offset[3:]}", "bare": offset}[style]
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + offset
    rewritten = iso_for_py310(stamp)
    assert PY310_ISO.fullmatch(rewritten)
    truncated = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    assert datetime.fromisoformat(rewritten) == truncated
    assert parse_datetime(stamp) == truncated


def test_find_marked_page_gives_ids_and_match() -> None:
    """The Instance marker lookup also returns every id of the page, for pagination."""
    marker = "scaleway-volumes:create=" + "1" * 32
    older, mine = volume_json(name="db"), volume_json(name="db", tags=[marker])
    page = find_marked_page(body({"volumes": [older, mine]}), 200, marker, "db")
    assert page.ids == [older["id"], mine["id"]] and page.total_count is None
    assert page.found is not None and page.found.id == mine["id"]
    assert find_marked_page(body({"volumes": [older]}), 200, marker, "db").found is None


def test_find_marked_page_refuses_what_it_cannot_judge() -> None:
    """Untagged same-name volumes (the seed API) and malformed pages raise."""
    marker = "scaleway-volumes:create=" + "2" * 32
    untagged = {k: v for k, v in volume_json(name="db").items() if k != "tags"}
    with pytest.raises(TagsNotShown):
        find_marked_page(body({"volumes": [untagged]}), 200, marker, "db")
    with pytest.raises(ResponseDecodeError) as info:
        find_marked_page(body({"volumes": [{"name": "db"}]}), 200, marker, "db")
    assert info.value.path == "$.volumes[0].id"
