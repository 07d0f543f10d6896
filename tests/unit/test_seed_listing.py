"""Listing on the seed API (zones ``par1``/``ams1``), which takes no filter (respx).

The seed's API Blueprint lists every volume (``Retrieves all volumes [GET]`` has
no parameter): ``name``, ``volume_type`` and ``organization`` must be applied to
its answer, and filters it cannot honour refused, or
``delete_volumes(await api.list_volumes(name=...))`` deletes the whole account.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import respx

from scaleway_volumes import AsyncVolumeAPI

from ..conftest import ORG, TOKEN

pytestmark = pytest.mark.anyio

SEED = "https://cp-par1.scaleway.com"
OTHER_ORG = "6170692e-7363-616c-6577-61792e636f6d"
MARKER = "scaleway-volumes:create=" + "0" * 32


def seed_volume(name: str, volume_type: str = "l_ssd", organization: str = ORG) -> dict[str, Any]:
    """A volume of the seed's list answer: its seven fields, no tags."""
    return {
        "export_uri": None,
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{volume_type}/{organization}")),
        "name": name,
        "organization": organization,
        "server": None,
        "size": 10_000_000_000,
        "volume_type": volume_type,
    }


# The blueprint's "Retrieves all volumes" answer, verbatim.
BLUEPRINT_LIST = {
    "volumes": [
        {
            "export_uri": None,
            "id": "f929fe39-63f8-4be8-a80e-1e9c8ae22a76",
            "name": "volume-0-1",
            "organization": ORG,
            "server": None,
            "size": 10000000000,
            "volume_type": "l_ssd",
        },
        {
            "export_uri": None,
            "id": "0facb6b5-b117-441a-81c1-f28b1d723779",
            "name": "volume-0-2",
            "organization": ORG,
            "server": None,
            "size": 20000000000,
            "volume_type": "l_ssd",
        },
    ]
}


def seed_api() -> AsyncVolumeAPI:
    return AsyncVolumeAPI(TOKEN, zone="par1", organization=ORG, client=httpx.AsyncClient())


async def test_seed_list_by_name_keeps_only_the_matching_volumes() -> None:
    """The delete_volumes docstring's pattern must not pick up every volume."""
    with respx.mock(base_url=SEED) as seed:
        route = seed.get("/volumes").respond(200, json=BLUEPRINT_LIST)
        doomed = await seed_api().list_volumes(name="volume-0-2")
        # A substring, as the zoned API's filter.
        both = await seed_api().list_volumes(name="volume-0")
        none = await seed_api().list_volumes(name="scratch-")
    assert [v.name for v in doomed] == ["volume-0-2"]
    assert [v.name for v in both] == ["volume-0-1", "volume-0-2"]
    assert none == []
    # The seed takes no filter: none is sent.
    assert all("name" not in call.request.url.params for call in route.calls)


async def test_seed_iter_by_name_keeps_only_the_matching_volumes() -> None:
    with respx.mock(base_url=SEED) as seed:
        seed.get("/volumes").respond(200, json=BLUEPRINT_LIST)
        found = [v.name async for v in seed_api().iter_volumes(name="-0-1")]
    assert found == ["volume-0-1"]


async def test_seed_list_by_volume_type_and_organization() -> None:
    """Both are fields of the seed's volumes: compared for equality, all must match."""
    listed = {
        "volumes": [
            seed_volume("a"),
            seed_volume("b", volume_type="b_ssd"),
            seed_volume("c", organization=OTHER_ORG),
            seed_volume("d", volume_type="b_ssd", organization=OTHER_ORG),
        ]
    }
    with respx.mock(base_url=SEED) as seed:
        seed.get("/volumes").respond(200, json=listed)
        api = seed_api()
        by_type = await api.list_volumes(volume_type="b_ssd")
        by_org = await api.list_volumes(organization=OTHER_ORG)
        both = await api.list_volumes(volume_type="b_ssd", organization=OTHER_ORG, name="d")
        neither = await api.list_volumes(volume_type="l_ssd", organization=OTHER_ORG, name="a")
    assert [v.name for v in by_type] == ["b", "d"]
    assert [v.name for v in by_org] == ["c", "d"]
    assert [v.name for v in both] == ["d"]
    assert neither == []


async def test_seed_list_filters_after_paging() -> None:
    """A page the filter leaves short or empty is not the last: the pager saw it whole."""
    first = {"volumes": [seed_volume("keep-1"), seed_volume("other-1")]}
    second = {"volumes": [seed_volume("other-2"), seed_volume("other-3")]}
    third = {"volumes": [seed_volume("keep-2")]}
    answers = {"1": first, "2": second, "3": third}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.params["page"]])

    with respx.mock(base_url=SEED) as seed:
        seed.get("/volumes").mock(side_effect=answer)
        found = await seed_api().list_volumes(name="keep-", per_page=2)
    assert [v.name for v in found] == ["keep-1", "keep-2"]


@pytest.mark.parametrize(
    ("filters", "words"),
    [
        ({"tags": [MARKER]}, "without their tags"),
        ({"tags": ["ci"], "name": "volume-0-1"}, "without their tags"),
        ({"project": OTHER_ORG}, "no projects"),
    ],
)
async def test_seed_list_refuses_filters_it_cannot_honour(
    filters: dict[str, Any], words: str
) -> None:
    """tags (the marker recovery) and project: a ValueError naming the seed API, before
    any request, instead of every volume of the account."""
    api = seed_api()
    with respx.mock(base_url=SEED, assert_all_called=False) as seed:
        seed.get("/volumes").respond(200, json=BLUEPRINT_LIST)
        with pytest.raises(ValueError, match="seed API") as listing:
            await api.list_volumes(**filters)
        with pytest.raises(ValueError, match="seed API") as iterating:
            api.iter_volumes(**filters)  # at the call, not at the first step
        assert not seed.calls
    assert words in str(listing.value) and words in str(iterating.value)
    assert SEED in str(listing.value)


async def test_zoned_list_still_sends_its_filters() -> None:
    """The zoned Instance API filters on its side: the filters are sent as before."""
    base = "https://api.scaleway.com/instance/v1/zones/fr-par-1"
    with respx.mock(base_url=base) as zoned:
        route = zoned.get("/volumes").respond(200, json={"volumes": []})
        async with AsyncVolumeAPI(TOKEN, organization=ORG, client=httpx.AsyncClient()) as api:
            await api.list_volumes(name="n", project=OTHER_ORG, tags=[MARKER])
    params = route.calls.last.request.url.params
    assert (params["name"], params["project"], params["tags"]) == ("n", OTHER_ORG, MARKER)
