"""Organizations and projects in the fake: a client lists what it made, whatever its own
organization; a helper's volume of another organization is in that one's default project;
``python -m scaleway_volumes.testing --organization``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FAKE_TOKEN, FakeScaleway
from scaleway_volumes.testing.__main__ import _fake, _parse_args

if TYPE_CHECKING:
    from scaleway_async import Client

    from .conftest import Target

GB = 1_000_000_000
BLOCK = "/block/v1/zones/fr-par-1"
ROOT = Path(__file__).resolve().parents[2]
# A user's own account (a profile's default_organization_id / default_project_id):
# neither is the fake's organization, and the project is a UUID of its own.
MY_ORG = "44444444-4444-4444-8444-444444444444"
MY_PROJECT = "66666666-6666-4666-8666-666666666666"


def _sdk_client(root_url: str, organization: str = MY_ORG, project: str = MY_PROJECT) -> Client:
    from scaleway_async import Client

    return Client(
        access_key="SCWXXXXXXXXXXXXXXXXX",
        secret_key=FAKE_TOKEN,
        default_organization_id=organization,
        default_project_id=project,
        default_zone="fr-par-1",
        api_url=root_url,
    )


def test_block_sdk_of_another_organization_lists_what_it_created() -> None:
    """The SDK creates with ``project_id`` only and lists with the client's
    ``organization_id`` and ``project_id``: its volume and snapshot are listed."""
    pytest.importorskip("scaleway_async")
    from scaleway_async.block.v1 import BlockV1API, CreateVolumeRequestFromEmpty

    fake = FakeScaleway()
    fake.block.add_volume("the fake's own")

    async def scenario(root_url: str) -> None:
        api = BlockV1API(_sdk_client(root_url))
        made = await api.create_volume(
            name="mine", from_empty=CreateVolumeRequestFromEmpty(size=GB)
        )
        assert (await api.get_volume(volume_id=made.id)).project_id == MY_PROJECT
        snap = await api.create_snapshot(volume_id=made.id, name="s", public=False)
        volumes = await api.list_volumes_all(include_deleted=False)
        snapshots = await api.list_snapshots_all(include_deleted=False)
        assert [v.id for v in volumes] == [made.id]
        assert [s.id for s in snapshots] == [snap.id]

    with fake.serve() as server:
        asyncio.run(scenario(server.root_url))


def test_instance_sdk_of_another_organization_lists_what_it_created() -> None:
    pytest.importorskip("scaleway_async")
    from scaleway_async.instance.v1 import InstanceV1API

    fake = FakeScaleway()
    fake.add_volume(name="the fake's own")

    async def scenario(root_url: str) -> None:
        api = InstanceV1API(_sdk_client(root_url))
        made = (await api.create_volume(name="mine", size=GB, volume_type="l_ssd")).volume
        assert made is not None and made.project == MY_PROJECT
        assert [v.id for v in await api.list_volumes_all()] == [made.id]

    with fake.serve() as server:
        asyncio.run(scenario(server.root_url))


def test_block_helper_volume_of_an_organization_is_in_its_default_project() -> None:
    """``add_volume(organization=X)`` is in X's default project (the same id), as on the
    Instance side, so X's SDK client lists it (and its snapshot); others do not."""
    pytest.importorskip("scaleway_async")
    from scaleway_async.block.v1 import BlockV1API

    fake = FakeScaleway()
    fake.block.add_volume("the fake's own")
    volume = fake.block.add_volume("theirs", organization=MY_ORG)
    snapshot = fake.block.add_snapshot(volume["id"])
    assert volume["project_id"] == snapshot["project_id"] == MY_ORG

    async def scenario(root_url: str) -> None:
        api = BlockV1API(_sdk_client(root_url, project=MY_ORG))
        listed = await api.list_volumes_all(include_deleted=False)
        assert [v.id for v in listed] == [volume["id"]]
        snapshots = await api.list_snapshots_all(include_deleted=False)
        assert [s.id for s in snapshots] == [snapshot["id"]]

    with fake.serve() as server:
        asyncio.run(scenario(server.root_url))


@pytest.mark.anyio
async def test_block_organization_filter(target: Target) -> None:
    """A volume created in a project the fake does not know is listed whatever
    organization is named; one in the fake's default project or a helper's of a known
    organization only under that organization."""
    fake = target.fake
    theirs = fake.block.add_volume("theirs", organization=MY_ORG)
    async with target.client(BLOCK) as http:
        body = {"name": "ours", "project_id": FAKE_ORGANIZATION, "from_empty": {"size": GB}}
        ours = (await http.post("/volumes", json=body)).json()
        body = {"name": "mine", "project_id": MY_PROJECT, "from_empty": {"size": GB}}
        mine = (await http.post("/volumes", json=body)).json()
        snap_body = {"volume_id": mine["id"], "name": "s", "project_id": MY_PROJECT}
        snap = (await http.post("/snapshots", json=snap_body)).json()

        async def ids(kind: str, organization: str) -> list[str]:
            answer = await http.get(f"/{kind}", params={"organization_id": organization})
            return [v["id"] for v in answer.json()[kind]]

        assert await ids("volumes", FAKE_ORGANIZATION) == [ours["id"], mine["id"]]
        assert await ids("volumes", MY_ORG) == [theirs["id"], mine["id"]]
        assert await ids("volumes", str(uuid.uuid4())) == [mine["id"]]
        assert await ids("snapshots", str(uuid.uuid4())) == [snap["id"]]


@pytest.mark.anyio
async def test_instance_organization_filter(target: Target) -> None:
    """The Instance side: a volume created naming only an unknown project shows the fake's
    organization and is listed under any; one naming the fake's default project or an
    organization only under that organization; a reset forgets them."""
    fake = target.fake
    async with target.client() as http:
        body = {"name": "mine", "size": GB, "volume_type": "l_ssd", "project": MY_PROJECT}
        mine = (await http.post("/volumes", json=body)).json()["volume"]
        assert mine["organization"] == FAKE_ORGANIZATION
        body = {"name": "ours", "size": GB, "volume_type": "l_ssd", "project": FAKE_ORGANIZATION}
        ours = (await http.post("/volumes", json=body)).json()["volume"]
        body = {"name": "theirs", "size": GB, "volume_type": "l_ssd", "organization": MY_ORG}
        theirs = (await http.post("/volumes", json=body)).json()["volume"]

        async def ids(organization: str) -> list[str]:
            answer = await http.get("/volumes", params={"organization": organization})
            return [v["id"] for v in answer.json()["volumes"]]

        assert await ids(FAKE_ORGANIZATION) == [mine["id"], ours["id"]]
        assert await ids(MY_ORG) == [mine["id"], theirs["id"]]
        assert await ids(str(uuid.uuid4())) == [mine["id"]]
        fake.reset()
        assert await ids(str(uuid.uuid4())) == []


def test_process_organization_option() -> None:
    assert _fake(_parse_args([])).organization == FAKE_ORGANIZATION
    assert _fake(_parse_args(["--organization", MY_ORG])).organization == MY_ORG
    with pytest.raises(SystemExit):
        _parse_args(["--organization", "acme"])


def test_fake_process_serves_the_sdk_of_the_organization_it_is_given() -> None:
    """``--organization``: an SDK client of that organization (default project the same
    id, as ``scw init`` leaves it) sees its volumes as its own."""
    pytest.importorskip("scaleway_async")
    from scaleway_async.instance.v1 import InstanceV1API

    cmd = [sys.executable, "-m", "scaleway_volumes.testing", "--organization", MY_ORG]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)

    async def scenario(root_url: str) -> None:
        api = InstanceV1API(_sdk_client(root_url, project=MY_ORG))
        made = (await api.create_volume(name="mine", size=GB)).volume
        assert made is not None
        assert (made.organization, made.project) == (MY_ORG, MY_ORG)
        assert [v.id for v in await api.list_volumes_all()] == [made.id]

    try:
        assert proc.stdout is not None
        _, base_url, _ = proc.stdout.readline().split()
        asyncio.run(scenario(base_url.removesuffix("/instance/v1/zones/fr-par-1")))
        proc.terminate()
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
