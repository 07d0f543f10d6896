"""Block Storage models: the converter both ways, strict shapes, specs and ids."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import cattrs
import pytest

from scaleway_volumes import ResponseDecodeError, converter
from scaleway_volumes._block_models import (
    BlockSnapshot,
    BlockVolume,
    BlockVolumeSpec,
    BlockVolumeSpecs,
    BlockVolumeType,
    Money,
    SnapshotParentVolume,
    VolumeReference,
)
from scaleway_volumes._convert import make_converter
from scaleway_volumes._decode_block import decode_block_snapshot
from scaleway_volumes._ids import check_id
from scaleway_volumes._validate import check_tags
from scaleway_volumes.testing import FakeScaleway

from .block_json import (
    PROJECT,
    block_snapshot_json,
    block_volume_json,
    reference_json,
    volume_type_json,
)

strict = make_converter(forbid_extra_keys=True)
SNAPSHOT_ID = "8b2bd1d4-3a43-4a7a-9bd1-1a3f2b1d0e55"


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        (block_volume_json(), BlockVolume),
        (block_snapshot_json(), BlockSnapshot),
        (volume_type_json(), BlockVolumeType),
        (reference_json(), VolumeReference),
    ],
)
def test_strict_twin_knows_every_field(data: dict[str, Any], cls: type[Any]) -> None:
    """A forbid_extra_keys converter accepts the real shapes: no field forgotten or misnamed."""
    assert strict.structure(data, cls) == converter.structure(data, cls)


KMS_KEY = "0e5a8c3b-4a8e-4c1f-9d2e-7b6a5c4d3e2f"


def _fake_resources() -> list[tuple[dict[str, Any], type[Any]]]:
    """Volumes and snapshots exactly as the fake renders them (every field it sends)."""
    fake = FakeScaleway()
    plain = fake.block.add_volume("db")
    encrypted = fake.block.add_volume("secret", kms_key_id=KMS_KEY)
    fake.block.add_reference(plain["id"])
    return [
        (fake.block.get_volume(plain["id"]) or {}, BlockVolume),
        (encrypted, BlockVolume),
        (fake.block.add_snapshot(plain["id"]), BlockSnapshot),
        (fake.block.add_snapshot(plain["id"], public=True), BlockSnapshot),
        (fake.block.add_snapshot(encrypted["id"]), BlockSnapshot),
    ]


@pytest.mark.parametrize(("data", "cls"), _fake_resources())
def test_strict_twin_knows_every_field_the_fake_sends(data: dict[str, Any], cls: type[Any]) -> None:
    """The fake's own volumes and snapshots structure through the forbid_extra_keys twin
    (``BlockSnapshot`` once dropped the ``public`` the fake and the API send), and every
    field comes back under its name: nothing forgotten, nothing made up."""
    model = strict.structure(data, cls)
    assert model == converter.structure(data, cls)
    assert set(converter.unstructure(model)) == set(data)


def test_fake_snapshot_fields_land_where_named() -> None:
    """A snapshot's ``public`` and ``kms_key_id`` (its encrypted volume's key, as the
    official SDK's Snapshot.kms_key_id describes) are kept on the model."""
    fake = FakeScaleway()
    encrypted = fake.block.add_volume("secret", kms_key_id=KMS_KEY)
    raw = fake.block.add_snapshot(encrypted["id"], public=True)
    snapshot = decode_block_snapshot(json.dumps(raw).encode(), 200)
    assert (snapshot.public, snapshot.kms_key_id) == (True, KMS_KEY)
    private = converter.structure(fake.block.add_snapshot(encrypted["id"]), BlockSnapshot)
    assert private.public is False


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        (block_volume_json(), BlockVolume),
        (block_snapshot_json(), BlockSnapshot),
        (block_snapshot_json(public=True, kms_key_id=KMS_KEY), BlockSnapshot),
        (volume_type_json(), BlockVolumeType),
    ],
)
def test_round_trip_to_json_names(data: dict[str, Any], cls: type[Any]) -> None:
    """unstructure gives JSON-able data under the API's names, and structures back equal."""
    model = converter.structure(data, cls)
    raw = converter.unstructure(model)
    json.dumps(raw)
    assert set(raw) == set(data)
    assert converter.structure(raw, cls) == model
    assert strict.structure(raw, cls) == model


def test_volume_fields_land_where_named() -> None:
    """Every Block volume field decodes to its attribute, with tuples and aware datetimes."""
    ref = reference_json()
    volume = converter.structure(
        block_volume_json(references=[ref], tags=["a", "b"], kms_key_id="k"), BlockVolume
    )
    assert volume.type == "sbs_5k" and volume.size == 20_000_000_000
    assert volume.project_id == PROJECT and volume.zone == "fr-par-1"
    assert volume.created_at == datetime(2025, 3, 11, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert volume.references == (
        VolumeReference(
            id=ref["id"],
            product_resource_type="instance_server",
            product_resource_id=ref["product_resource_id"],
            type="exclusive",
            status="attached",
            created_at=datetime(2025, 3, 11, 10, 5, 0, 500000, tzinfo=timezone.utc),
        ),
    )
    assert volume.tags == ("a", "b")
    assert volume.specs == BlockVolumeSpecs(perf_iops=5000, class_="sbs")
    assert volume.perf_iops == 5000
    assert volume.kms_key_id == "k" and volume.last_detached_at is None


def test_snapshot_fields_land_where_named() -> None:
    """A snapshot's parent volume, class and timestamps decode."""
    data = block_snapshot_json()
    snapshot = converter.structure(data, BlockSnapshot)
    assert snapshot.parent_volume == SnapshotParentVolume(**data["parent_volume"])
    assert snapshot.class_ == "sbs" and snapshot.references == ()
    assert snapshot.updated_at == datetime(2025, 3, 11, 10, 1, tzinfo=timezone.utc)


def test_volume_type_prices() -> None:
    """A volume type's prices keep units and nanos, with an exact Decimal amount."""
    kind = converter.structure(volume_type_json(), BlockVolumeType)
    assert kind.pricing == Money("EUR", 0, 120000000)
    assert kind.pricing.amount == Decimal("0.12")
    assert kind.specs == BlockVolumeSpecs(15000, "sbs")


def test_prices_as_protobuf_strings() -> None:
    """Units written as strings (protobuf's JSON for 64-bit ints) still decode."""
    kind = converter.structure(
        volume_type_json(pricing={"currency_code": "EUR", "units": "2", "nanos": "-5"}),
        BlockVolumeType,
    )
    assert kind.pricing == Money("EUR", 2, -5)


def test_minimal_objects_default_the_rest() -> None:
    """Only the identifying fields are required; every other one defaults."""
    volume = converter.structure(
        {"id": "v", "name": "n", "type": "sbs_5k", "size": 1, "project_id": "p", "status": "x"},
        BlockVolume,
    )
    assert volume.references == () and volume.tags == () and volume.specs is None
    assert volume.perf_iops is None and volume.zone is None
    assert converter.structure({"type": "sbs_5k"}, BlockVolumeType).pricing is None


def test_unknown_statuses_and_fields_decode() -> None:
    """A status or field the API adds tomorrow is a plain string or ignored."""
    volume = converter.structure(
        block_volume_json(status="migrating", future={"x": 1}, specs={"class": "sbs", "new": 1}),
        BlockVolume,
    )
    assert volume.status == "migrating" and volume.perf_iops is None


def test_marker_tag_hidden() -> None:
    """The library's create marker is not part of the visible tags."""
    marker = "scaleway-volumes:create=" + "ab" * 16
    volume = converter.structure(block_volume_json(tags=["x", marker]), BlockVolume)
    snapshot = converter.structure(block_snapshot_json(tags=[marker]), BlockSnapshot)
    assert volume.tags == ("x",) and snapshot.tags == ()


def test_models_are_frozen_values() -> None:
    """Models compare by value, hash, and refuse assignment."""
    data = block_volume_json()
    a, b = converter.structure(data, BlockVolume), converter.structure(dict(data), BlockVolume)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.status = "x"  # type: ignore[misc]


# -- BlockVolumeSpec -------------------------------------------------------------


def test_spec_accepts_size_snapshot_or_both() -> None:
    """size alone, from_snapshot alone (an id or the model), or both are valid."""
    snapshot = converter.structure(block_snapshot_json(id=SNAPSHOT_ID), BlockSnapshot)
    assert BlockVolumeSpec("a", size=10**9).from_snapshot is None
    assert BlockVolumeSpec("a", from_snapshot=snapshot).from_snapshot == SNAPSHOT_ID
    both = BlockVolumeSpec("a", size=10**9, from_snapshot=SNAPSHOT_ID, perf_iops=15000)
    assert (both.size, both.from_snapshot, both.perf_iops) == (10**9, SNAPSHOT_ID, 15000)
    assert BlockVolumeSpec("a", size=1, tags=["x"], project=PROJECT).tags == ("x",)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"name": "a"}, ValueError, "size, from_snapshot"),
        ({"name": "", "size": 1}, ValueError, "name"),
        ({"name": 3, "size": 1}, TypeError, "name"),
        ({"name": "a", "size": "10"}, TypeError, "size"),
        ({"name": "a", "size": True}, TypeError, "size"),
        ({"name": "a", "size": 0}, ValueError, "size"),
        ({"name": "a", "size": 1, "perf_iops": 5000.0}, TypeError, "perf_iops"),
        ({"name": "a", "size": 1, "perf_iops": -1}, ValueError, "perf_iops"),
        ({"name": "a", "from_snapshot": "../volumes"}, ValueError, "from_snapshot"),
        ({"name": "a", "from_snapshot": 42}, ValueError, "from_snapshot"),
        ({"name": "a", "size": 1, "project": ""}, ValueError, "project"),
        ({"name": "a", "size": 1, "tags": "xyz"}, TypeError, "tags"),
        ({"name": "a", "size": 1, "tags": [1]}, TypeError, "tag"),
        ({"name": "a", "size": 1, "tags": 5}, TypeError, "tags must be an iterable"),
        ({"name": "a", "size": 1, "tags": {"env": "prod"}}, TypeError, "got dict"),
    ],
)
def test_spec_refuses_bad_shapes(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    """Each shape error names the argument at construction time."""
    with pytest.raises(error, match=words):
        BlockVolumeSpec(**kwargs)


def test_spec_is_frozen() -> None:
    """A spec cannot change after it is checked."""
    spec = BlockVolumeSpec("a", size=1)
    with pytest.raises(AttributeError):
        spec.size = 2  # type: ignore[misc]


# -- ids -----------------------------------------------------------------------


def test_check_id_takes_uuid_or_model() -> None:
    """A UUID string or a model gives the id; anything else names the argument."""
    volume = converter.structure(block_volume_json(id=str(uuid.uuid4())), BlockVolume)
    assert check_id(volume, "volume_id", BlockVolume) == volume.id
    # Sent lower-case: Scaleway's ids are, and a path is compared as given.
    assert check_id(SNAPSHOT_ID.upper(), "snapshot_id", BlockSnapshot) == SNAPSHOT_ID
    for bad in ("", "a/b", "../servers", SNAPSHOT_ID + "x", None, volume):
        with pytest.raises(
            ValueError, match="snapshot_id must be a UUID string or a BlockSnapshot"
        ):
            check_id(bad, "snapshot_id", BlockSnapshot)


@pytest.mark.parametrize("references", [{}, "", 0])
def test_references_must_be_a_list_on_snapshots_as_on_volumes(references: object) -> None:
    """``references`` that is no list is refused on a snapshot as on a volume (the
    snapshot's hook once read ``{}`` and ``""`` as no references)."""
    for data, cls in (
        (block_volume_json(references=references), BlockVolume),
        (block_snapshot_json(references=references), BlockSnapshot),
    ):
        with pytest.raises(cattrs.ClassValidationError):
            converter.structure(data, cls)
    snapshot = json.dumps(block_snapshot_json(references=references)).encode()
    with pytest.raises(ResponseDecodeError, match=r"\$\.references"):
        decode_block_snapshot(snapshot)


@pytest.mark.parametrize(
    ("tags", "words"),
    [(5, "got int"), ({"env": "prod"}, "got dict"), ("env", "single string")],
)
def test_tags_of_calls_must_be_an_iterable_of_strings(tags: object, words: str) -> None:
    """``tags=`` of a create, update or list: a mapping would lose its values, a
    number failed with Python's own "not iterable"."""
    with pytest.raises(TypeError, match=f"tags must be an iterable of strings.*{words}|{words}"):
        check_tags(tags)  # type: ignore[arg-type]
    assert check_tags(("a", "b")) == ["a", "b"]
