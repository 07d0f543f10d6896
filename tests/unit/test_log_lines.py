"""What an operator reads at INFO: retries and waits that name the API and zone, honestly."""

from __future__ import annotations

import json
import logging
import re

import pytest

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes._constants import PAGINATION_LOGGER
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault, transient_state_body

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

OURS = "scaleway_volumes"


def block_api(fake: FakeScaleway, server: FakeServer) -> AsyncBlockAPI:
    return AsyncBlockAPI(fake.token, base_url=server.block_base_url, project=fake.organization)


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    ours = (OURS, PAGINATION_LOGGER)
    return [r.getMessage() for r in caplog.records if r.name in ours and r.levelno == level]


async def test_settle_waits_are_counted_as_waits_not_attempts(
    fake: FakeScaleway, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A DELETE of a volume still ``snapshotting`` waits through six 409
    ``transient_state`` answers. They use no retry (up to 30 waits, within the
    deadline), so no line may say 'attempt 7 of 4': the first wait is logged at
    INFO as a wait, with the API's full path, the next ones at DEBUG."""
    volume = fake.block.add_volume("db")
    body = transient_state_body("volume", volume["id"], "snapshotting")
    fake.add_fault(
        Fault("respond", method="DELETE", path="^/block/", status=409, body=body, times=6)
    )
    caplog.set_level(logging.DEBUG, logger=OURS)
    async with block_api(fake, server) as api:
        await api.delete_volume(volume["id"])
    path = f"/block/v1/zones/fr-par-1/volumes/{volume['id']}"
    info = messages(caplog, logging.INFO)
    assert len(info) == 1, info
    assert re.fullmatch(
        rf"waiting [0-9.]+ s for DELETE {path} to leave a transient state \(wait 1 of at most 30\)",
        info[0],
    ), info[0]
    waits = [m for m in messages(caplog, logging.DEBUG) if m.startswith("waiting ")]
    assert [re.findall(r"\(wait (\d+) of", m) for m in waits] == [["2"], ["3"], ["4"], ["5"], ["6"]]
    for line in info + messages(caplog, logging.DEBUG):
        counted = re.search(r"\(attempt (\d+) of (\d+)\)", line)
        assert counted is None or int(counted.group(1)) <= int(counted.group(2)), line


@pytest.mark.parametrize("which", ["block", "instance"])
async def test_retry_line_names_the_api_and_zone(
    fake: FakeScaleway, server: FakeServer, caplog: pytest.LogCaptureFixture, which: str
) -> None:
    """The INFO line of a retried 503 gives the API's full path, as the DEBUG line of
    the attempt does: '/volumes/...' alone does not tell Block from Instance, nor
    the zone."""
    if which == "block":
        volume_id = fake.block.add_volume("db")["id"]
        api: AsyncBlockAPI | AsyncVolumeAPI = block_api(fake, server)
    else:
        volume_id = fake.add_volume(name="db", size=10**10)["id"]
        api = AsyncVolumeAPI(fake.token, base_url=server.base_url, organization=fake.organization)
    fake.add_fault(Fault("respond", method="GET", path=f"^/{which}/", status=503, times=1))
    caplog.set_level(logging.INFO, logger=OURS)
    async with api:
        await api.get_volume(volume_id)
    path = f"/{which}/v1/zones/fr-par-1/volumes/{volume_id}"
    info = messages(caplog, logging.INFO)
    assert len(info) == 1, info
    assert re.fullmatch(rf"retrying GET {path} in [0-9.]+ s after 503 \(attempt 2 of 4\)", info[0])


async def test_pagination_warning_names_the_api_and_zone(
    fake: FakeScaleway, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A proxy in front of the Block API ignores ``page``: the listing stops,
    bounded, with one WARNING that names the request with the API's full path
    (both APIs list 'GET /volumes'), which tells the operator where to look."""
    volumes = [fake.block.add_volume(f"v{i}") for i in range(3)]
    body = json.dumps({"volumes": volumes, "total_count": 9}).encode()
    fake.add_fault(
        Fault("respond", method="GET", path="^/block/.*/volumes$", status=200, body=body, times=20)
    )
    caplog.set_level(logging.INFO, logger=OURS)
    async with block_api(fake, server) as api:
        assert len(await api.list_volumes(per_page=3)) == 3
    warnings = messages(caplog, logging.WARNING)
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("GET /block/v1/zones/fr-par-1/volumes: stopped after 2 requests")
