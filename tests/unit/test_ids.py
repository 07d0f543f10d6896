"""``check_id`` and ``zone_of``: which id a request names, and in which zone. No I/O."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, BlockSnapshot, BlockVolume, Volume
from scaleway_volumes._ids import check_id, zone_of

TOKEN = "11111111-2222-3333-4444-555555555555"
VOLUME_ID = "f929fe39-63f8-4be8-a80e-1e9c8ae22a76"


def block_volume(zone: str | None) -> BlockVolume:
    return BlockVolume(
        id=VOLUME_ID, name="db", type="sbs_5k", size=10, project_id=VOLUME_ID, status="available",
        zone=zone,
    )  # fmt: skip


def instance_volume(zone: str | None) -> Volume:
    return Volume(id=VOLUME_ID, name="local", size=10, volume_type="l_ssd", zone=zone)


@given(st.uuids(), st.lists(st.booleans(), min_size=36, max_size=36))
def test_an_id_in_any_case_is_returned_lower_case(value: uuid.UUID, upper: list[bool]) -> None:
    """Scaleway's ids are lower-case: an id in any mix of cases is accepted and sent lower."""
    text = "".join(c.upper() if u else c for c, u in zip(str(value), upper, strict=True))
    assert check_id(text, "volume_id") == str(value)


def test_a_models_id_is_lower_cased_too() -> None:
    """A model built by hand with an upper-case id names the same resource."""
    volume = BlockVolume(
        id=VOLUME_ID.upper(), name="db", type="sbs_5k", size=10, project_id=VOLUME_ID,
        status="available",
    )  # fmt: skip
    assert check_id(volume, "volume_id", BlockVolume) == VOLUME_ID


@pytest.mark.parametrize(
    ("model_zone", "api_zone"),
    [
        ("fr-par-1", "fr-par-1"),
        (None, "nl-ams-1"),
        ("fr-par-1", "par1"),  # the seed API's zones are their regions' first zones
        ("nl-ams-1", "ams1"),
        ("par1", "fr-par-1"),
        ("FR-PAR-1", "fr-par-1"),
    ],
)
def test_a_model_of_the_same_zone_is_taken(model_zone: str | None, api_zone: str) -> None:
    """The same zone (legacy names and case aside), or a model that names none: its id."""
    for model, cls in (
        (block_volume(model_zone), BlockVolume),
        (instance_volume(model_zone), Volume),
    ):
        assert check_id(model, "volume_id", cls, zone=api_zone) == VOLUME_ID


@pytest.mark.parametrize(
    ("model_zone", "api_zone"),
    [
        ("nl-ams-1", "fr-par-1"),
        ("fr-par-2", "fr-par-1"),
        ("nl-ams-1", "par1"),
        ("fr-par-1", "ams1"),
    ],
)
def test_a_model_of_another_zone_is_refused(model_zone: str, api_zone: str) -> None:
    """ValueError naming the argument, both zones and the API to use instead."""
    with pytest.raises(ValueError) as info:
        check_id(block_volume(model_zone), "volume_id", BlockVolume, zone=api_zone)
    message = str(info.value)
    assert message.startswith("volume_id: BlockVolume")
    assert f"zone {model_zone!r}" in message and f"zone {api_zone!r}" in message
    assert f"zone={model_zone!r}" in message


def test_without_a_zone_the_models_zone_is_not_checked() -> None:
    """No API zone given (a BlockVolumeSpec's from_snapshot, made before any API): the id."""
    snapshot = BlockSnapshot(
        id=VOLUME_ID, name="s", size=10, project_id=VOLUME_ID, status="available", zone="nl-ams-1"
    )
    assert check_id(snapshot, "from_snapshot", BlockSnapshot) == VOLUME_ID


@pytest.mark.parametrize(
    ("cls", "kwargs", "zone"),
    [
        (AsyncBlockAPI, {"zone": "nl-ams-1"}, "nl-ams-1"),
        (AsyncVolumeAPI, {"zone": "pl-waw-2"}, "pl-waw-2"),
        (AsyncVolumeAPI, {"zone": "par1"}, "par1"),
        (AsyncVolumeAPI, {"zone": "ams1"}, "ams1"),
        # base_url overrides zone: the zone it names is where requests go.
        (AsyncBlockAPI, {"base_url": "http://proxy/block/v1/zones/nl-ams-1"}, "nl-ams-1"),
        (AsyncVolumeAPI, {"base_url": "https://cp-ams1.scaleway.com/", "zone": "fr-par-1"}, "ams1"),
        # A URL that names no zone (a proxy rewriting paths) may reach any: None.
        (AsyncVolumeAPI, {"base_url": "http://proxy", "zone": "fr-par-2"}, None),
        (AsyncBlockAPI, {"base_url": "http://proxy/storage"}, None),
    ],
)
def test_zone_of_an_api(cls: type[AsyncBlockAPI], kwargs: dict[str, str], zone: str | None) -> None:
    """The zone an API's requests reach, as its base_url names it (a URL built from the
    configuration always does), or None when it names none: nothing to check then."""
    assert zone_of(cls(TOKEN, **kwargs)) == zone
