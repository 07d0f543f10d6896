"""fake.block helpers, the fake's knobs, ManualClock, the error shapes, and properties."""

from __future__ import annotations

import json
import math
import time
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleway_volumes.testing import (
    FakeScaleway,
    ManualClock,
    expired_body,
    invalid_arguments_body,
    not_found_body,
    precondition_failed_body,
    quotas_exceeded_body,
    transient_state_body,
)
from scaleway_volumes.testing._block_ops import BlockOperations
from scaleway_volumes.testing._block_routes import _query
from scaleway_volumes.testing._block_state import BlockStore
from scaleway_volumes.testing._params import int_param, size_problem

GB = 1_000_000_000


def test_add_volume_defaults_and_overrides() -> None:
    """add_volume stores a settled volume; overrides set the fields no argument sets."""
    clock = ManualClock(1_700_000_000)
    fake = FakeScaleway(clock=clock, organization="00000000-0000-4000-8000-000000000000")
    volume = fake.block.add_volume()
    assert (volume["name"], volume["size"], volume["type"]) == ("vol", 10 * GB, "sbs_5k")
    assert (volume["status"], volume["project_id"]) == ("available", fake.organization)
    assert volume["created_at"] == volume["updated_at"] == "2023-11-14T22:13:20.000000Z"
    custom_id = str(uuid.uuid4())
    custom = fake.block.add_volume(
        "fast",
        GB,
        perf_iops=15000,
        tags=("a",),
        status="locked",
        project_id=custom_id,
        id=custom_id,
        kms_key_id=custom_id,
        created_at="2020-01-01T00:00:00.000000Z",
    )
    assert custom["id"] == custom["project_id"] == custom["kms_key_id"] == custom_id
    assert (custom["type"], custom["status"], custom["tags"]) == ("sbs_15k", "locked", ["a"])
    assert custom["updated_at"] == custom["created_at"] == "2020-01-01T00:00:00.000000Z"
    assert fake.block.volumes() == [volume, custom]
    with pytest.raises(TypeError, match="colour"):
        fake.block.add_volume(colour="red")
    with pytest.raises(TypeError, match="status"):
        fake.block.add_volume(**{"status": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="references"):
        fake.block.add_volume(references=[])
    with pytest.raises(ValueError, match="empty"):
        fake.block.add_volume(status="")
    assert len(fake.block.volumes()) == 2


def test_snapshot_helpers() -> None:
    """add_snapshot copies its volume; statuses are forced; unknown ids raise KeyError."""
    fake = FakeScaleway()
    volume = fake.block.add_volume("src", 30 * GB, perf_iops=15000)
    snapshot = fake.block.add_snapshot(volume["id"], "snap", tags=["x"], size=40 * GB)
    assert snapshot["parent_volume"] == {
        "id": volume["id"],
        "name": "src",
        "type": "sbs_15k",
        "status": "available",
    }
    assert (snapshot["size"], snapshot["status"], snapshot["tags"]) == (40 * GB, "available", ["x"])
    fake.block.set_snapshot_status(snapshot["id"], "exporting")
    assert fake.block.get_snapshot(snapshot["id"])["status"] == "exporting"  # type: ignore[index]
    assert fake.block.snapshots()[0]["status"] == "exporting"
    missing = str(uuid.uuid4())
    for call in (
        lambda: fake.block.add_snapshot(missing),
        lambda: fake.block.set_volume_status(missing, "error"),
        lambda: fake.block.set_snapshot_status(missing, "error"),
        lambda: fake.block.add_reference(missing),
        lambda: fake.block.remove_reference(missing),
    ):
        with pytest.raises(KeyError):
            call()
    with pytest.raises(TypeError, match="parent_volume"):
        fake.block.add_snapshot(volume["id"], parent_volume={})
    with pytest.raises(TypeError, match="status"):
        fake.block.set_volume_status(volume["id"], None)  # type: ignore[arg-type]
    assert fake.block.get_snapshot(missing) is None
    assert fake.block.get_volume(missing) is None


def test_snapshot_public_and_kms_key() -> None:
    """A snapshot is private unless told, and carries its volume's KMS key unless told."""
    fake = FakeScaleway()
    key = str(uuid.uuid4())
    volume = fake.block.add_volume(kms_key_id=key)
    plain = fake.block.add_snapshot(volume["id"])
    assert (plain["public"], plain["kms_key_id"]) == (False, key)
    other = str(uuid.uuid4())
    custom = fake.block.add_snapshot(volume["id"], public=True, kms_key_id=other)
    assert (custom["public"], custom["kms_key_id"]) == (True, other)


def test_references() -> None:
    """References make a volume in_use; dropping the last one records last_detached_at."""
    clock = ManualClock(1_700_000_000)
    fake = FakeScaleway(clock=clock)
    volume = fake.block.add_volume()
    server = str(uuid.uuid4())
    first = fake.block.add_reference(volume["id"], product_resource_id=server)
    assert set(first) == {
        "id",
        "product_resource_type",
        "product_resource_id",
        "created_at",
        "type",
        "status",
    }
    assert (first["product_resource_id"], first["type"], first["status"]) == (
        server,
        "exclusive",
        "attached",
    )
    second = fake.block.add_reference(volume["id"], reference_type="link", status="attaching")
    assert second["product_resource_id"] != server
    fake.block.remove_reference(volume["id"], first["id"])
    state = fake.block.get_volume(volume["id"])
    assert state is not None
    assert (state["status"], state["references"]) == ("in_use", [second])
    with pytest.raises(KeyError):
        fake.block.remove_reference(volume["id"], first["id"])
    clock.advance(60)
    fake.block.remove_reference(volume["id"])
    state = fake.block.get_volume(volume["id"])
    assert state is not None
    assert (state["status"], state["references"]) == ("available", [])
    assert state["last_detached_at"] == "2023-11-14T22:14:20.000000Z"
    # A forced status is not overridden by references.
    fake.block.set_volume_status(volume["id"], "error")
    fake.block.add_reference(volume["id"])
    assert fake.block.get_volume(volume["id"])["status"] == "error"  # type: ignore[index]


def test_helpers_return_copies_and_reset_clears() -> None:
    """Mutating what a helper returns changes nothing; reset() forgets Block state too."""
    fake = FakeScaleway(block_create_time=2, block_quota_volumes=5)
    volume = fake.block.add_volume()
    fake.block.add_snapshot(volume["id"])
    fake.block.volumes()[0]["specs"]["perf_iops"] = 1
    fake.block.snapshots()[0]["parent_volume"]["name"] = "changed"
    assert fake.block.get_volume(volume["id"]) == volume
    assert fake.block.snapshots()[0]["parent_volume"]["name"] == "vol"
    assert repr(fake.block) == "<FakeBlockStorage 1 volumes, 1 snapshots>"
    fake.reset()
    assert (fake.block.volumes(), fake.block.snapshots()) == ([], [])
    assert (fake.block_create_time, fake.block_quota_volumes) == (2.0, 5)


@pytest.mark.parametrize(
    "knob",
    [
        "block_create_time",
        "block_resize_time",
        "block_snapshot_time",
        "block_delete_time",
        "block_deleted_retention",
    ],
)
def test_time_knobs_are_checked(knob: str) -> None:
    """Durations must be finite numbers >= 0, in the constructor and on assignment."""
    fake = FakeScaleway(**{knob: 1})
    assert getattr(fake, knob) == 1.0
    setattr(fake, knob, 0.25)
    assert getattr(fake, knob) == 0.25
    for bad, error in ((-1, ValueError), (math.inf, ValueError), (math.nan, ValueError)):
        with pytest.raises(error, match=knob):
            setattr(fake, knob, bad)
        with pytest.raises(error, match=knob):
            FakeScaleway(**{knob: bad})
    for wrong in ("1", True, None):
        with pytest.raises(TypeError, match=knob):
            setattr(fake, knob, wrong)
    assert getattr(fake, knob) == 0.25


@pytest.mark.parametrize("knob", ["block_quota_volumes", "block_quota_size"])
def test_quota_knobs_are_checked(knob: str) -> None:
    """Quotas are ints >= 0 or None."""
    fake = FakeScaleway(**{knob: 3})
    assert getattr(fake, knob) == 3
    setattr(fake, knob, None)
    assert getattr(fake, knob) is None
    with pytest.raises(ValueError, match=knob):
        setattr(fake, knob, -1)
    for wrong in (1.5, "3", False):
        with pytest.raises(TypeError, match=knob):
            FakeScaleway(**{knob: wrong})


def test_manual_clock() -> None:
    """ManualClock starts now (or where told) and only moves forward when advanced."""
    before = time.time()
    clock = ManualClock()
    assert before <= clock() <= time.time()
    fixed = ManualClock(10)
    fixed.advance(2.5)
    assert fixed() == 12.5
    assert repr(fixed) == "ManualClock(12.5)"
    with pytest.raises(ValueError, match="seconds"):
        fixed.advance(-1)
    assert fixed() == 12.5


def test_block_base_urls() -> None:
    """block_base_url exists in-process and on the server, whatever the Instance mode."""
    fake = FakeScaleway(zone="nl-ams-1", legacy=True)
    assert fake.block_base_url == "http://fake.scaleway.invalid/block/v1/zones/nl-ams-1"
    with fake.serve() as server:
        assert server.block_base_url == f"{server.root_url}/block/v1/zones/nl-ams-1"
        assert server.base_url == server.root_url


def test_error_bodies() -> None:
    """The public body builders give the real API's shapes, ready for a Fault."""
    assert invalid_arguments_body(
        {"argument_name": "size", "reason": "constraint", "help_message": "too small"}
    ) == {
        "type": "invalid_arguments",
        "message": "invalid argument(s)",
        "details": [{"argument_name": "size", "reason": "constraint", "help_message": "too small"}],
    }
    assert quotas_exceeded_body({"resource": "r", "quota": 1, "current": 1})["details"] == [
        {"resource": "r", "quota": 1, "current": 1}
    ]
    assert not_found_body("volume", "v") == {
        "type": "not_found",
        "message": "resource is not found",
        "resource": "volume",
        "resource_id": "v",
    }
    assert transient_state_body("volume", "v", "updating")["current_state"] == "updating"
    assert precondition_failed_body("resource_still_in_use", "detach it") == {
        "type": "precondition_failed",
        "message": "precondition is not respected",
        "precondition": "resource_still_in_use",
        "help_message": "detach it",
    }
    assert expired_body("snapshot", "s", "2025-01-01T00:00:00Z") == {
        "type": "expired",
        "message": "resource has expired",
        "resource": "snapshot",
        "resource_id": "s",
        "expired_since": "2025-01-01T00:00:00Z",
    }


# -- properties of the pure parts --------------------------------------------------------


@given(
    raw=st.one_of(st.none(), st.integers(-5, 205).map(str), st.text(max_size=4)),
    low=st.integers(0, 2),
    high=st.one_of(st.none(), st.integers(3, 200)),
)
def test_int_param_accepts_exactly_the_range(raw: str | None, low: int, high: int | None) -> None:
    """int_param accepts an int in [low, high] (or nothing), and names every other case."""
    value, problem = int_param(raw, 7, low, high)
    if raw is None:
        assert (value, problem) == (7, None)
        return
    try:
        number = int(raw)
    except ValueError:
        assert problem == "must be an integer"
        return
    in_range = number >= low and (high is None or number <= high)
    assert value == number
    assert (problem is None) == in_range


@given(st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=3)))
def test_size_problem(value: Any) -> None:
    """A size is an int (not a bool) between 1 GB and 10 TB."""
    good = type(value) is int and GB <= value <= 10_000_000_000_000
    assert (size_problem(value) is None) == good


@settings(max_examples=60)
@given(count=st.integers(0, 25), page_size=st.integers(1, 10))
def test_pages_cover_every_volume_once(count: int, page_size: int) -> None:
    """Walking the pages of a listing yields every volume once, in order, same total."""
    fake = FakeScaleway()
    ids = [fake.block.add_volume(f"v{i}")["id"] for i in range(count)]
    ops = BlockOperations(fake._block_store)
    seen: list[str] = []
    for page in range(1, count // page_size + 3):
        query, details = _query([("page", str(page)), ("page_size", str(page_size))], "volumes")
        assert details == []
        items, total = ops.list_page("volumes", query)
        assert total == count
        seen += [json.loads(item)["id"] for item in items]
    assert seen == ids


TAGS = st.lists(st.sampled_from("abcde"), max_size=3, unique=True)


@settings(max_examples=60)
@given(volume_tags=st.lists(TAGS, max_size=8), wanted=TAGS)
def test_one_matching_tag_is_enough(volume_tags: list[list[str]], wanted: list[str]) -> None:
    """The tags filter keeps the volumes sharing at least one tag with the query."""
    fake = FakeScaleway()
    ids = [fake.block.add_volume(tags=tags)["id"] for tags in volume_tags]
    query, _ = _query([("tags", t) for t in wanted], "volumes")
    items, total = BlockOperations(fake._block_store).list_page("volumes", query)
    pairs = zip(ids, volume_tags, strict=True)
    expected = [i for i, tags in pairs if not wanted or set(tags) & set(wanted)]
    assert [json.loads(item)["id"] for item in items] == expected
    assert total == len(expected)


@given(create_time=st.floats(0, 100), waited=st.floats(0, 200))
def test_creating_lasts_exactly_the_create_time(create_time: float, waited: float) -> None:
    """A created volume reads "creating" iff less than block_create_time has passed."""
    clock = ManualClock(1_000_000)
    fake = FakeScaleway(clock=clock, block_create_time=create_time)
    store: BlockStore = fake._block_store
    body = BlockOperations(store).create_volume(
        name="v",
        project_id=fake.organization,
        perf_iops=None,
        tags=[],
        size=GB,
        snapshot_id=None,
        kms_key_id=None,
    )
    assert json.loads(body)["status"] == "creating"
    clock.advance(waited)
    status = fake.block.volumes()[0]["status"]
    assert status == ("creating" if clock() < 1_000_000 + create_time else "available")
