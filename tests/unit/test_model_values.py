"""Models are values: built with lists, they hold tuples, hash, and equal the decoded ones."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import BlockSnapshot, BlockVolume, Volume, VolumeReference
from scaleway_volumes._convert import decode_volume
from scaleway_volumes._decode_block import decode_block_snapshot, decode_block_volume

from .block_json import block_snapshot_json, block_volume_json
from .helpers import volume_json

REFERENCE = VolumeReference("r-1", "instance_server", "s-1", "exclusive", "attached")
TAGS = st.lists(st.text(max_size=8), max_size=4)


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def volume(**overrides: Any) -> Volume:
    fields: dict[str, Any] = {"id": "v-1", "name": "v", "size": 10**10, "volume_type": "l_ssd"}
    return Volume(**{**fields, **overrides})


def block_volume(**overrides: Any) -> BlockVolume:
    fields: dict[str, Any] = {
        "id": "b-1",
        "name": "data-0",
        "type": "sbs_5k",
        "size": 20 * 10**9,
        "project_id": "p",
        "status": "in_use",
    }
    return BlockVolume(**{**fields, **overrides})


def block_snapshot(**overrides: Any) -> BlockSnapshot:
    fields: dict[str, Any] = {
        "id": "s-1",
        "name": "nightly",
        "size": 20 * 10**9,
        "project_id": "p",
        "status": "available",
    }
    return BlockSnapshot(**{**fields, **overrides})


@given(TAGS)
def test_tags_given_as_a_list_are_a_tuple(tags: list[str]) -> None:
    """Each model turns a tags list into the tuple its type says: equal, same hash.

    A tuple is kept as it is (the decoders build models by the thousand).
    """
    as_tuple = tuple(tags)
    for make in (volume, block_volume, block_snapshot):
        built, expected = make(tags=tags), make(tags=as_tuple)
        assert built.tags == as_tuple and type(built.tags) is tuple
        assert built == expected and hash(built) == hash(expected)
        assert expected.tags is as_tuple


def test_references_given_as_a_list_are_a_tuple() -> None:
    """Block volumes and snapshots hold their references as a tuple, and hash."""
    for make in (block_volume, block_snapshot):
        built = make(references=[REFERENCE], tags=["a"])
        assert built.references == (REFERENCE,) and type(built.references) is tuple
        assert built == make(references=(REFERENCE,), tags=("a",))
        assert hash(built) == hash(make(references=(REFERENCE,), tags=("a",)))


def test_a_model_built_with_lists_equals_the_decoded_one() -> None:
    """Built from a decoded model's fields, with lists for its tuples, it equals that model."""
    decoded: list[Any] = [
        decode_volume(body({"volume": volume_json(tags=["a", "b"])})),
        decode_block_volume(body(block_volume_json(tags=["a"])), 200),
        decode_block_snapshot(body(block_snapshot_json(tags=["a"])), 200),
    ]
    for model in decoded:
        fields = attrs.asdict(model, recurse=False)
        lists = {name: list(value) for name, value in fields.items() if type(value) is tuple}
        assert type(model)(**{**fields, **lists}) == model


@pytest.mark.parametrize("make", [volume, block_volume, block_snapshot])
@pytest.mark.parametrize("bad", ["env=prod", {"env": "prod"}, [1], 5])
def test_tags_that_are_not_strings_are_refused(make: Any, bad: Any) -> None:
    """As in ``VolumeSpec``: a bare string (not its characters), a mapping, non-strings."""
    with pytest.raises(TypeError):
        make(tags=bad)


@pytest.mark.parametrize("make", [block_volume, block_snapshot])
@pytest.mark.parametrize("bad", ["r-1", [{"id": "r-1"}], 5])
def test_references_that_are_not_references_are_refused(make: Any, bad: Any) -> None:
    """``references`` holds ``VolumeReference`` items only: no characters, dicts or numbers."""
    with pytest.raises(TypeError):
        make(references=bad)
