"""Block Storage bodies: bare objects, list pages, marker lookups, and bad input."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleway_volumes import ResponseDecodeError, converter
from scaleway_volumes._block_models import BlockSnapshot, BlockVolume
from scaleway_volumes._bulk_wait import settles
from scaleway_volumes._decode_block import (
    VolumeStatus,
    decode_block_snapshot,
    decode_block_snapshot_page,
    decode_block_volume,
    decode_block_volume_page,
    decode_block_volume_statuses,
    decode_volume_type_page,
    find_marked_snapshot,
    find_marked_volume,
)
from scaleway_volumes._decode_block_fast import fast_snapshot, fast_volume
from scaleway_volumes._decoding import NotPlain

from .block_json import block_snapshot_json, block_volume_json, reference_json, volume_type_json

MARKER = "scaleway-volumes:create=" + "0f" * 16


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_bare_volume_and_snapshot() -> None:
    """Get/create/update bodies are the bare object, decoded in full."""
    data = block_volume_json(status="creating", references=[])
    volume = decode_block_volume(body(data), 200)
    assert volume == converter.structure(data, BlockVolume)
    assert volume.status == "creating" and volume.created_at is not None
    assert volume.created_at.tzinfo is not None
    snap = block_snapshot_json()
    assert decode_block_snapshot(body(snap), 200) == converter.structure(snap, BlockSnapshot)


def test_pages_give_items_and_total() -> None:
    """List bodies give (items in order, total_count); a missing count is None."""
    vols = [block_volume_json(name=f"v{i}") for i in range(3)]
    volumes, total = decode_block_volume_page(body({"volumes": vols, "total_count": 7}))
    assert [v.name for v in volumes] == ["v0", "v1", "v2"] and total == 7
    snaps, total = decode_block_snapshot_page(body({"snapshots": [block_snapshot_json()]}))
    assert len(snaps) == 1 and total is None
    kinds, total = decode_volume_type_page(
        body({"volume_types": [volume_type_json(), volume_type_json(type="sbs_5k")]})
    )
    assert [k.type for k in kinds] == ["sbs_15k", "sbs_5k"] and total is None


def test_empty_page() -> None:
    """An empty listing is an empty list with its count."""
    assert decode_block_volume_page(body({"volumes": [], "total_count": 0})) == ([], 0)


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (b"<html>", "$"),
        (b"\xff\xfe", "$"),
        (b"[]", "$"),
        (body({**block_volume_json(), "size": "20"}), "$.size"),
        (body({**block_volume_json(), "size": None}), "$.size"),
        (body({k: v for k, v in block_volume_json().items() if k != "status"}), "$.status"),
        (body({**block_volume_json(), "status": 3}), "$.status"),
        (body({**block_volume_json(), "created_at": "today"}), "$.created_at"),
        (body({**block_volume_json(), "tags": "a,b"}), "$.tags"),
        (body({**block_volume_json(), "tags": None}), "$.tags"),
        (body({**block_volume_json(), "references": {}}), "$.references"),
        (
            body({**block_volume_json(), "references": [reference_json(type=1)]}),
            "$.references[0].type",
        ),
        (body({**block_volume_json(), "specs": {"perf_iops": "5k"}}), "$.specs.perf_iops"),
        (body({**block_volume_json(), "specs": {"class": 5}}), "$.specs.class"),
    ],
)
def test_bad_volume_bodies_name_the_path(payload: bytes, path: str) -> None:
    """Anything that does not fit raises ResponseDecodeError naming where."""
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_volume(payload, 200)
    assert info.value.path == path and info.value.status_code == 200
    assert path in str(info.value)


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (body({"volumes": None}), "$.volumes"),
        (body({"volumes": {}}), "$.volumes"),
        (body({"volumes": "abc"}), "$.volumes"),
        (body({"snapshots": []}), "$.volumes"),
        (
            body({"volumes": [block_volume_json(), block_volume_json(size=1.5)]}),
            "$.volumes[1].size",
        ),
        (body({"volumes": [], "total_count": "3"}), "$.total_count"),
        (body({"volumes": [], "total_count": -1}), "$.total_count"),
        (body({"volumes": [block_volume_json()], "total_count": True}), "$.total_count"),
    ],
)
def test_bad_volume_pages_name_the_path(payload: bytes, path: str) -> None:
    """A bad list body names the envelope, the item index, or the count."""
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_volume_page(payload, 200)
    assert info.value.path == path


def test_bad_snapshot_and_type_bodies() -> None:
    """Snapshots and volume types report their paths the same way."""
    bad_parent = block_snapshot_json(parent_volume={"id": "x"})
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_snapshot(body(bad_parent))
    assert info.value.path == "$.parent_volume.name"
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_snapshot_page(body({"snapshots": [block_snapshot_json(**{"class": 1})]}))
    assert info.value.path == "$.snapshots[0].class"
    kind = volume_type_json(pricing={"currency_code": "EUR", "units": "lots"})
    with pytest.raises(ResponseDecodeError) as info:
        decode_volume_type_page(body({"volume_types": [kind]}))
    assert info.value.path == "$.volume_types[0].pricing.units"


def test_snapshot_public_and_kms_key_id_decode_on_both_paths() -> None:
    """``public`` and ``kms_key_id`` (the official SDK's Snapshot reads both) land on the
    model through the fast path and the converter alike; a body without them (older
    recordings) gives False and None."""
    data = block_snapshot_json(public=True, kms_key_id="kms-key")
    snapshot = decode_block_snapshot(body(data), 200)
    assert (snapshot.public, snapshot.kms_key_id) == (True, "kms-key")
    assert fast_snapshot(data) == snapshot == converter.structure(data, BlockSnapshot)
    (listed,), _ = decode_block_snapshot_page(body({"snapshots": [data]}))
    assert listed == snapshot
    older = {k: v for k, v in data.items() if k not in ("public", "kms_key_id")}
    snapshot = decode_block_snapshot(body(older), 200)
    assert (snapshot.public, snapshot.kms_key_id) == (False, None)


@pytest.mark.parametrize("public", [0, 1, "true", "false", None, []])
def test_snapshot_public_must_be_a_boolean(public: object) -> None:
    """A ``public`` that is no JSON boolean is not plain (the fast path defers) and the
    converter refuses it at ``$.public``: neither ``"false"`` read as true nor 0 kept."""
    data = block_snapshot_json(public=public)
    with pytest.raises(NotPlain):
        fast_snapshot(data)
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_snapshot(body(data), 200)
    assert info.value.path == "$.public"
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_snapshot_page(body({"snapshots": [block_snapshot_json(), data]}), 200)
    assert info.value.path == "$.snapshots[1].public"


# -- poll pages: settled volumes decoded, the others by status --------------------


def test_poll_page_decodes_only_settled_volumes() -> None:
    """Settled volumes are the full decoder's models; the others their id and status."""
    statuses = ["creating", "available", "error", "resizing", "in_use", "deleted", "new_state"]
    items = [block_volume_json(status=status) for status in statuses]
    content = body({"volumes": items, "total_count": 7})
    full, total = decode_block_volume_page(content, 200)
    got, got_total = decode_block_volume_statuses(content, 200, settles)
    assert got_total == total == 7
    assert got == [
        model if settles(model.status) else VolumeStatus(model.id, model.status) for model in full
    ]
    assert [type(item) for item in got] == [
        VolumeStatus,
        BlockVolume,
        BlockVolume,
        VolumeStatus,
        BlockVolume,
        BlockVolume,
        VolumeStatus,
    ]


@pytest.mark.parametrize(
    ("items", "path"),
    [
        ([block_volume_json(status="creating"), block_volume_json(size="20")], "$.volumes[1].size"),
        ([block_volume_json(status="error", created_at="today")], "$.volumes[0].created_at"),
        ([block_volume_json(status="creating", id=None)], "$.volumes[0].id"),
        ([block_volume_json(status=3)], "$.volumes[0].status"),
        ([{"status": "creating"}], "$.volumes[0].id"),
        (["creating"], "$.volumes[0].id"),
    ],
)
def test_poll_page_errors_are_the_full_decoders(items: list[Any], path: str) -> None:
    """A bad settled volume, id or status raises what ``decode_block_volume_page`` raises."""
    content = body({"volumes": items})
    with pytest.raises(ResponseDecodeError) as full:
        decode_block_volume_page(content, 200)
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_volume_statuses(content, 200, settles)
    assert info.value.path == full.value.path == path
    assert str(info.value) == str(full.value) and info.value.status_code == 200


@pytest.mark.parametrize(
    "payload",
    [b"<html>", b"[]", body({"volumes": {}}), body({"volumes": [], "total_count": -1})],
)
def test_poll_page_bad_envelopes_are_the_full_decoders(payload: bytes) -> None:
    """A body that is not a page fails as it does for ``decode_block_volume_page``."""
    with pytest.raises(ResponseDecodeError) as full:
        decode_block_volume_page(payload, 200)
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_volume_statuses(payload, 200, settles)
    assert (info.value.path, str(info.value)) == (full.value.path, str(full.value))


def test_poll_page_leaves_a_pending_volumes_other_fields_to_its_settling_poll() -> None:
    """Where validation moved: a volume still creating is judged by the poll that settles it.

    The whole-page decoder refuses the bad timestamp at once; the poll's
    decoder reports the volume as creating, and the same fault raises the
    same error once the volume is listed available.
    """
    creating = block_volume_json(status="creating", created_at="today")
    got, _ = decode_block_volume_statuses(body({"volumes": [creating]}), 200, settles)
    assert got == [VolumeStatus(creating["id"], "creating")]
    with pytest.raises(ResponseDecodeError) as info:
        decode_block_volume_statuses(
            body({"volumes": [{**creating, "status": "available"}]}), 200, settles
        )
    assert info.value.path == "$.volumes[0].created_at"


# -- marker lookup ---------------------------------------------------------------


def test_find_marked_volume_reads_raw_tags() -> None:
    """The item carrying the marker is found, with every id of the page and the count."""
    older = block_volume_json(name="data")  # same name, no marker: never the new one
    mine = block_volume_json(name="data", tags=["x", MARKER])
    page = find_marked_volume(body({"volumes": [older, mine], "total_count": 9}), 200, MARKER)
    assert page.ids == [older["id"], mine["id"]] and page.total_count == 9
    assert page.found is not None and page.found.id == mine["id"] and page.found.tags == ("x",)


def test_find_marked_none_when_absent() -> None:
    """A page without the marker gives its ids and no match."""
    items = [block_snapshot_json(tags=["other"]), block_snapshot_json(tags=None)]
    page = find_marked_snapshot(body({"snapshots": items}), 200, MARKER)
    assert page.found is None and page.ids == [item["id"] for item in items]
    found = find_marked_snapshot(
        body({"snapshots": [block_snapshot_json(tags=[MARKER])]}), 200, MARKER
    )
    assert found.found is not None


def test_find_marked_bad_bodies() -> None:
    """A malformed page or a malformed matching item raises with its path."""
    with pytest.raises(ResponseDecodeError) as info:
        find_marked_volume(body({"volumes": [{"name": "x"}]}), 200, MARKER)
    assert info.value.path == "$.volumes[0].id"
    with pytest.raises(ResponseDecodeError) as info:
        find_marked_volume(body({"volumes": {}}), 200, MARKER)
    assert info.value.path == "$.volumes"
    bad = block_volume_json(tags=[MARKER], size="big")
    with pytest.raises(ResponseDecodeError) as info:
        find_marked_volume(body({"volumes": [block_volume_json(), bad]}), 200, MARKER)
    assert info.value.path == "$.volumes[1].size"


# -- properties ------------------------------------------------------------------

text = st.text(max_size=8)
odd = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
stamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
).map(lambda d: d.isoformat().replace("+00:00", "Z"))


def objects(
    required: dict[str, Any], optional: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid objects, and valid objects with one key dropped or set to an odd value."""
    valid = st.fixed_dictionaries(required, optional=optional)
    keys = sorted([*required, *optional])
    spoiled = st.tuples(valid, st.sampled_from(keys), odd | st.just(KeyError)).map(
        lambda t: (
            {k: v for k, v in t[0].items() if k != t[1]}
            if t[2] is KeyError
            else {**t[0], t[1]: t[2]}
        )
    )
    return valid | spoiled


references = objects(
    {k: text for k in ("id", "product_resource_type", "product_resource_id", "type", "status")},
    {"created_at": st.none() | stamps},
)
specs = objects({}, {"perf_iops": st.none() | st.integers(), "class": st.none() | text})
common: dict[str, Any] = {
    "id": text,
    "name": text,
    "size": st.integers(min_value=0, max_value=2**63),
    "project_id": text,
    "status": text,
}
optional: dict[str, Any] = {
    "created_at": st.none() | stamps,
    "updated_at": st.none() | stamps,
    "references": st.lists(references, max_size=2),
    "tags": st.lists(text | st.just(MARKER), max_size=3),
    "zone": st.none() | text,
    "extra": odd,
}
volumes = objects(
    {**common, "type": text},
    {
        **optional,
        "parent_snapshot_id": st.none() | text,
        "specs": st.none() | specs,
        "last_detached_at": st.none() | stamps,
        "kms_key_id": st.none() | text,
    },
)
snapshots = objects(
    common,
    {
        **optional,
        "parent_volume": st.none()
        | objects({k: text for k in ("id", "name", "type", "status")}, {}),
        "class": st.none() | text,
        "public": st.booleans(),
        "kms_key_id": st.none() | text,
    },
)


def _agree(data: Any, fast: Any, cls: type[Any]) -> None:
    try:
        expected: Any = converter.structure(data, cls)
    except Exception:
        expected = None
    try:
        got = fast(data)
    except NotPlain:
        return
    assert got == expected


@settings(max_examples=500)
@given(volumes)
def test_fast_volume_agrees_with_the_converter(data: dict[str, Any]) -> None:
    """The fast path returns exactly the converter's volume, or defers to it."""
    _agree(data, fast_volume, BlockVolume)


@settings(max_examples=500)
@given(snapshots)
def test_fast_snapshot_agrees_with_the_converter(data: dict[str, Any]) -> None:
    """The fast path returns exactly the converter's snapshot, or defers to it."""
    _agree(data, fast_snapshot, BlockSnapshot)


json_values = st.recursive(
    odd,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=12,
)


def _outcome(decode: Any) -> Any:
    try:
        return decode()
    except ResponseDecodeError as error:
        return error


statuses = st.sampled_from(["creating", "available", "in_use", "error", "deleted"]) | text


@settings(max_examples=300)
@given(st.lists(st.tuples(volumes, statuses), max_size=4), st.booleans())
def test_poll_page_agrees_with_the_full_decoder(
    items: list[tuple[dict[str, Any], str]], all_settled: bool
) -> None:
    """Same models for settled volumes, id and status for the others, same errors otherwise.

    With every status settled it is the full decoder exactly; else it may
    accept a page the full decoder refuses only for a pending volume's other fields.
    """
    settled = (lambda status: True) if all_settled else settles
    page = [{**data, "status": status} for data, status in items]
    content = body({"volumes": page})
    expected = _outcome(lambda: decode_block_volume_page(content, 200))
    outcome = _outcome(lambda: decode_block_volume_statuses(content, 200, settled))
    if isinstance(outcome, ResponseDecodeError):
        assert isinstance(expected, ResponseDecodeError)
        assert (outcome.path, str(outcome)) == (expected.path, str(expected))
        return
    got, total = outcome
    assert len(got) == len(page)
    for item, data in zip(got, page, strict=True):
        # A page the fast path cannot read is the full decoder's, pending volumes too.
        if isinstance(item, VolumeStatus):
            assert not settled(data["status"])
            assert item == VolumeStatus(data["id"], data["status"])
    if isinstance(expected, ResponseDecodeError):
        assert not all_settled, "with every status settled the two decoders agree"
        return
    models, expected_total = expected
    assert total == expected_total
    for item, model in zip(got, models, strict=True):
        assert item == model or item == VolumeStatus(model.id, model.status)


@given(json_values | volumes | snapshots)
def test_any_json_only_ever_raises_decode_error(value: Any) -> None:
    """Whatever a 2xx body holds, the only failure is ResponseDecodeError."""
    for payload in (value, {"volumes": [value]}, {"snapshots": value}, {"volume_types": [value]}):
        content = body(payload)
        for decode in (
            decode_block_volume,
            decode_block_snapshot,
            decode_block_volume_page,
            decode_block_snapshot_page,
            decode_volume_type_page,
            lambda c, s: decode_block_volume_statuses(c, s, settles),
            lambda c, s: find_marked_volume(c, s, MARKER),
            lambda c, s: find_marked_snapshot(c, s, MARKER),
        ):
            with contextlib.suppress(ResponseDecodeError):
                decode(content, 200)
