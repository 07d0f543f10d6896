"""`block snapshot create|list|get|delete`, and the CLI's bulk snapshot delete."""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
import pytest

from scaleway_volumes import AsyncBlockAPI, BlockSnapshot
from scaleway_volumes.cli._block_snapshots import delete_snapshots
from scaleway_volumes.testing import FakeScaleway, FakeServer

from .conftest import Invoker, error_lines, one_error_line

GB = 10**9
MISSING_ID = str(uuid.UUID(int=7))

pytestmark = pytest.mark.usefixtures("no_sleep")


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_create_without_wait(invoke: Invoker, fake: FakeScaleway) -> None:
    """The snapshot is printed as answered (creating); its volume was being snapshotted."""
    volume = fake.block.add_volume("db", 20 * GB)
    args = ("block", "snapshot", "create", volume["id"], "--name", "nightly", "--tag", "daily")
    made = _json(invoke.remote("--json", *args))
    assert (made["name"], made["status"], made["size"]) == ("nightly", "creating", 20 * GB)
    assert made["parent_volume"]["id"] == volume["id"]
    assert made["tags"] == ["daily"]
    assert [s["id"] for s in fake.block.snapshots()] == [made["id"]]


def test_create_and_wait(invoke: Invoker, fake: FakeScaleway) -> None:
    """--wait prints the snapshot once available, with its volume's name."""
    volume = fake.block.add_volume("db", 20 * GB)
    args = ("block", "snapshot", "create", volume["id"], "--name", "nightly", "--wait")
    result = invoke.remote(*args)
    assert result.exit_code == 0, result.stderr
    assert "waiting until it is available" in result.stderr
    [row] = [line for line in result.stdout.splitlines() if "nightly" in line]
    for text in ("20 GB", "db", "available"):
        assert text in row


def test_create_on_a_busy_volume(invoke: Invoker, fake: FakeScaleway) -> None:
    """A volume still creating: the API's 409 at once (no blind resend), and what to do."""
    volume = fake.block.add_volume("db", status="creating")
    result = invoke.remote("block", "snapshot", "create", volume["id"], "--name", "s")
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert error.startswith("Error: 409 transient_state")
    assert hint is not None and "busy (creating): wait until it settles" in hint
    assert fake.block.snapshots() == []


def test_create_needs_a_name(invoke: Invoker) -> None:
    """--name is required: a usage error (exit 2)."""
    result = invoke("--fake", "block", "snapshot", "create", MISSING_ID)
    assert result.exit_code == 2
    assert "--name" in result.stderr


def test_list_and_filters(invoke: Invoker, fake: FakeScaleway) -> None:
    """--volume, --name and --tag filter; the table names each snapshot's volume."""
    first = fake.block.add_volume("db")
    second = fake.block.add_volume("web")
    fake.block.add_snapshot(first["id"], "db-1", tags=["daily"])
    fake.block.add_snapshot(first["id"], "db-2")
    fake.block.add_snapshot(second["id"], "web-1", tags=["weekly"])

    def names(*args: str) -> list[str]:
        listed = _json(invoke.remote("--json", "block", "snapshot", "list", *args))
        return sorted(s["name"] for s in listed)

    assert names() == ["db-1", "db-2", "web-1"]
    assert names("--volume", first["id"]) == ["db-1", "db-2"]
    assert names("--name", "web") == ["web-1"]
    assert names("--tag", "daily", "--tag", "weekly") == ["db-1", "web-1"]
    table = invoke.remote("block", "snapshot", "list", "--volume", second["id"])
    [row] = [line for line in table.stdout.splitlines() if "web-1" in line]
    assert "web" in row.replace("web-1", "") and "weekly" in row


def test_get(invoke: Invoker, fake: FakeScaleway) -> None:
    """`snapshot get` shows every field, or the JSON object; an unknown id is a 404."""
    volume = fake.block.add_volume("db", 20 * GB)
    snapshot = fake.block.add_snapshot(volume["id"], "nightly")
    result = invoke.remote("block", "snapshot", "get", snapshot["id"])
    assert result.exit_code == 0, result.stderr
    assert "20 GB (20000000000 bytes)" in result.stdout and "nightly" in result.stdout
    shown = _json(invoke.remote("--json", "block", "snapshot", "get", snapshot["id"]))
    assert shown["parent_volume"]["name"] == "db"
    missing = invoke.remote("block", "snapshot", "get", MISSING_ID)
    assert missing.exit_code == 1
    assert "404" in one_error_line(missing.stderr)


def test_delete_one(invoke: Invoker, fake: FakeScaleway) -> None:
    """One snapshot is deleted without asking."""
    snapshot = fake.block.add_snapshot(fake.block.add_volume()["id"])
    result = invoke.remote("block", "snapshot", "delete", snapshot["id"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"deleted {snapshot['id']}\n"
    assert fake.block.snapshots() == []


def test_delete_several(invoke: Invoker, fake: FakeScaleway) -> None:
    """Several with --yes: progress on stderr, the deleted ids in order in the JSON."""
    volume = fake.block.add_volume()["id"]
    ids = [fake.block.add_snapshot(volume, f"s{i}")["id"] for i in range(5)]
    result = invoke.remote("--json", "block", "snapshot", "delete", "--yes", *ids)
    assert _json(result) == {"deleted": ids, "failed": []}
    assert "delete: 5/5 done, 0 failed" in result.stderr
    assert fake.block.snapshots() == []


def test_delete_failures(invoke: Invoker, fake: FakeScaleway) -> None:
    """A missing id fails as an item; the others are deleted; exit 1. (A malformed
    id stops the command before any delete: test_ids.)"""
    kept = fake.block.add_snapshot(fake.block.add_volume()["id"])["id"]
    args = ("block", "snapshot", "delete", "--yes", kept, MISSING_ID)
    result = invoke.remote("--json", *args)
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert output["deleted"] == [kept]
    assert [f["input"] for f in output["failed"]] == [MISSING_ID]
    assert "404" in output["failed"][0]["error"]
    assert output["failed"][0]["hint"].startswith(f"No such snapshot {MISSING_ID}")
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure["error"] == "1 of 2 deletes failed"
    assert failure["hint"].startswith("No such snapshot")


def test_delete_refuses_without_terminal(invoke: Invoker, fake: FakeScaleway) -> None:
    """Several snapshots without --yes off a terminal: refused (exit 2)."""
    volume = fake.block.add_volume()["id"]
    ids = [fake.block.add_snapshot(volume, f"s{i}")["id"] for i in range(2)]
    result = invoke.remote("block", "snapshot", "delete", *ids)
    assert result.exit_code == 2
    assert "refusing to delete 2 snapshots" in one_error_line(result.stderr)
    assert len(fake.block.snapshots()) == 2


def test_delete_needs_an_id(invoke: Invoker) -> None:
    """No id at all is a usage error."""
    assert invoke("--fake", "block", "snapshot", "delete").exit_code == 2


@pytest.mark.anyio
async def test_bulk_delete_keeps_to_its_concurrency(
    fake: FakeScaleway, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """delete_snapshots keeps at most `concurrency` deletes in flight and reports each."""
    volume = fake.block.add_volume()["id"]
    ids = [fake.block.add_snapshot(volume, f"s{i}")["id"] for i in range(12)]
    in_flight, peak = 0, 0
    original = AsyncBlockAPI.delete_snapshot

    async def counting(self: AsyncBlockAPI, snapshot: str | BlockSnapshot, **kw: Any) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.01)
        try:
            await original(self, snapshot, **kw)
        finally:
            in_flight -= 1

    monkeypatch.setattr(AsyncBlockAPI, "delete_snapshot", counting)
    items: list[tuple[int, str, object]] = []
    progress: list[int] = []
    async with AsyncBlockAPI(
        fake.token, base_url=server.block_base_url, organization=fake.organization
    ) as api:
        result = await delete_snapshots(
            api,
            ids,
            concurrency=3,
            on_progress=lambda done, total: progress.append(done),
            on_item=lambda index, item, outcome: items.append((index, item, outcome)),
        )
    assert peak == 3
    assert result.succeeded == ids and result.failed == []
    assert sorted(items) == [(i, s, s) for i, s in enumerate(ids)]
    assert progress == list(range(1, 13))
    assert fake.block.snapshots() == []
