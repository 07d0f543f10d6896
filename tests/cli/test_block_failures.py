"""How `block` commands fail: the Error and hint lines, --json failures, exit 1/2/130.

The failures are real: the fake refuses natively (an attached volume, a full
quota, an unknown id) or a scripted ``Fault`` breaks a request.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from scaleway_volumes import AsyncBlockAPI
from scaleway_volumes.testing import FakeScaleway, Fault

from .conftest import Invoker, error_lines, one_error_line

pytestmark = pytest.mark.usefixtures("no_sleep")

GB = 10**9
MISSING_ID = str(uuid.UUID(int=7))
VOLUMES = r"/block/v1/zones/[^/]+/volumes$"
SNAPSHOTS = r"/block/v1/zones/[^/]+/snapshots$"
IN_USE_HINT = "hint: It is still in use (attached to a server, or something depends on it)"


def _lost_answer(fake: FakeScaleway, collection: str) -> None:
    """The create acts but its answer is lost, and the lookup by marker tag fails too."""
    fake.add_fault(Fault("act_then_drop", method="POST", path=collection, times=None))
    fake.add_fault(Fault("respond", method="GET", path=collection, status=503, times=None))


# -- refusals of the API -----------------------------------------------------------------


def test_deleting_an_attached_volume(invoke: Invoker, fake: FakeScaleway) -> None:
    """An in_use volume: the API's 412 on the Error line, then 'detach it first'."""
    volume = fake.block.add_volume("db")
    fake.block.add_reference(volume["id"])
    result = invoke.remote("block", "delete", volume["id"])
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert error.startswith("Error: 412 precondition_failed")
    assert "resource_still_in_use" in error
    assert hint is not None and hint.startswith(IN_USE_HINT)
    assert "detach it first" in hint
    assert "failed to delete" not in result.stderr  # a single item fails as a single call


def test_bulk_delete_with_an_attached_volume(invoke: Invoker, fake: FakeScaleway) -> None:
    """Among several, the attached one is a failed item; the others are deleted."""
    free = [fake.block.add_volume(f"tmp-{i}")["id"] for i in range(2)]
    attached = fake.block.add_volume("tmp-attached")["id"]
    fake.block.add_reference(attached)
    result = invoke.remote("--json", "block", "delete", "--yes", "--name-prefix", "tmp-")
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert sorted(output["deleted"]) == sorted(free)
    [failed] = output["failed"]
    assert failed["input"] == attached
    assert failed["hint"].startswith("It is still in use")
    assert "failed to delete" not in result.stderr  # the document has it
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure["error"] == "1 of 3 deletes failed"
    assert failure["hint"] == failed["hint"]
    assert [v["id"] for v in fake.block.volumes()] == [attached]


def test_quota_exceeded_in_bulk(invoke: Invoker, fake: FakeScaleway) -> None:
    """Past block_quota_volumes: the extra creates fail, one hint names the full quota."""
    fake.block_quota_volumes = 2
    args = ("block", "create", "--name-prefix", "q", "--count", "4", "--size", "1GB")
    result = invoke.remote(*args, "--concurrency", "1")
    assert result.exit_code == 1
    assert "created: 2 Block volume(s)" in result.stdout
    assert result.stderr.count("failed to create q") == 2
    error, hint = error_lines(result.stderr)
    assert error == "Error: 2 of 4 creates failed"
    assert hint == (
        "hint: The quota block_volumes (2 of 2 used) is full: delete what is no longer "
        "needed, or ask for a higher quota on the Quotas page of the Scaleway console."
    )
    assert len(fake.block.volumes()) == 2


def test_quota_exceeded_single_json(invoke: Invoker, fake: FakeScaleway) -> None:
    """One create over the quota with --json: one failure object on stderr, stdout empty."""
    fake.block_quota_volumes = 0
    result = invoke.remote("--json", "block", "create", "--name", "x", "--size", "1GB")
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    failure = json.loads(line)
    assert failure["error"].startswith("403 quotas_exceeded")
    assert failure["hint"].startswith("The quota block_volumes (0 of 0 used) is full")
    assert failure["exit_code"] == 1


def test_get_missing_json(invoke: Invoker) -> None:
    """An unknown volume with --json: the 404 and its hint as one object on stderr."""
    result = invoke("--fake", "--json", "block", "get", MISSING_ID)
    assert result.exit_code == 1
    failure = json.loads(result.stderr)
    assert failure["error"].startswith("404 not_found")
    assert failure["hint"].startswith(f"No such volume {MISSING_ID} here")


# -- waits that end badly -----------------------------------------------------------------


def test_wait_timeout_single(invoke: Invoker, fake: FakeScaleway) -> None:
    """A volume that stays creating past --wait-timeout: exit 1, its last state, what to do."""
    fake.block_create_time = 3600
    args = ("block", "create", "--name", "slow", "--size", "1GB", "--wait", "--wait-timeout", "5")
    result = invoke.remote(*args)
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert "creating" in error
    [volume] = fake.block.volumes()  # it exists: the error says which one
    assert hint is not None and f"block get {volume['id']} --wait" in hint


def test_volume_ending_in_error_while_waited_for(invoke: Invoker, fake: FakeScaleway) -> None:
    """A volume the API reports in error: the wait stops at once, with what to do about it."""
    broken = FakeScaleway().block.add_volume("db", status="error")
    fake.add_fault(
        Fault("respond", method="GET", path=r"/volumes/[^/]+$", status=200, body=broken, times=None)
    )
    result = invoke.remote("block", "create", "--name", "db", "--size", "1GB", "--wait")
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert "'error'" in error
    assert hint is not None and "is in the error state and will not recover" in hint


def test_wait_timeout_in_bulk(invoke: Invoker, fake: FakeScaleway) -> None:
    """In bulk, each volume not available in time is a failed item, under one hint."""
    fake.block_create_time = 3600
    args = ("block", "create", "--name-prefix", "slow", "--count", "3", "--size", "1GB")
    result = invoke.remote("--json", *args, "--wait", "--wait-timeout", "5")
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert output["created"] == []
    assert [f["input"]["name"] for f in output["failed"]] == ["slow0", "slow1", "slow2"]
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure["error"] == "3 of 3 creates failed"
    assert "exists but is still 'creating' after 5 s: wait for it with" in failure["hint"]
    assert "create+wait: 3/3 done, 3 failed" in result.stderr


# -- outcome unknown: the hint names the listing that finds it -----------------------------


def test_lost_create_hint_names_block_list(invoke: Invoker, fake: FakeScaleway) -> None:
    """A lost Block create: the hint's `block list --tag` command finds the volume."""
    _lost_answer(fake, VOLUMES)
    result = invoke.remote("block", "create", "--name", "db", "--size", "20GB")
    assert result.exit_code == 1
    _, hint = error_lines(result.stderr)
    assert hint is not None
    found = re.search(r"\(scaleway-volumes block list --tag (\S+)\)", hint)
    assert found is not None, hint
    fake.clear_faults()
    listed = invoke.remote("--json", "block", "list", "--tag", found[1])
    assert [v["name"] for v in json.loads(listed.stdout)] == ["db"]


def test_lost_snapshot_hint_names_snapshot_list(invoke: Invoker, fake: FakeScaleway) -> None:
    """A lost snapshot create: the hint's `block snapshot list --tag` finds the snapshot."""
    volume = fake.block.add_volume("db")
    _lost_answer(fake, SNAPSHOTS)
    result = invoke.remote("block", "snapshot", "create", volume["id"], "--name", "s1")
    assert result.exit_code == 1
    _, hint = error_lines(result.stderr)
    assert hint is not None
    found = re.search(r"\(scaleway-volumes block snapshot list --tag (\S+)\)", hint)
    assert found is not None, hint
    fake.clear_faults()
    listed = invoke.remote("--json", "block", "snapshot", "list", "--tag", found[1])
    assert [s["name"] for s in json.loads(listed.stdout)] == ["s1"]


def test_instance_hint_is_back_after_a_block_command(invoke: Invoker, fake: FakeScaleway) -> None:
    """The listing a hint names follows the command run, not the one run before it."""
    _lost_answer(fake, VOLUMES)
    invoke.remote("block", "create", "--name", "db", "--size", "20GB")
    fake.clear_faults()
    _lost_answer(fake, r"/instance/v1/zones/[^/]+/volumes$")
    result = invoke.remote("create", "--name", "db", "--size", "20GB")
    _, hint = error_lines(result.stderr)
    assert hint is not None and "(scaleway-volumes list --tag " in hint


# -- connection, configuration, Ctrl-C ----------------------------------------------------


def test_connection_error(invoke: Invoker) -> None:
    """Nothing listening: exit 1 after the retries, with what to check."""
    result = invoke("--base-url", "http://127.0.0.1:1", "--token", "t", "block", "list")
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert "request failed" in error
    assert hint is not None and "could not be reached" in hint


def test_no_secret_key_is_a_usage_error(invoke: Invoker) -> None:
    """Without a key anywhere a block command stops before any request (exit 2)."""
    result = invoke("block", "list")
    assert result.exit_code == 2
    assert "no secret key" in one_error_line(result.stderr)


@pytest.mark.parametrize(
    "command",
    [
        ("block", "create", "--name", "x", "--size", "1GB"),
        ("block", "snapshot", "create", MISSING_ID, "--name", "s"),
    ],
)
def test_a_create_without_project_is_a_usage_error(
    invoke: Invoker, fake: FakeScaleway, command: tuple[str, ...]
) -> None:
    """No project nor organization anywhere: exit 2 naming where one goes, no request sent."""
    base = ("--base-url", invoke.server.base_url, "--token", fake.token or "")
    result = invoke(*base, *command)
    assert result.exit_code == 2
    error, hint = error_lines(result.stderr)
    assert error.startswith("Error: Block Storage creates need a project: pass --project")
    assert "SCW_DEFAULT_PROJECT_ID" in error
    assert (
        hint
        == "hint: `scaleway-volumes config` shows every setting in effect and where it comes from."
    )
    assert fake.stats.requests == []


def test_project_option_reaches_the_create(invoke: Invoker, fake: FakeScaleway) -> None:
    """--project is the new volume's project."""
    project = str(uuid.uuid4())
    base = ("--base-url", invoke.server.base_url, "--token", fake.token or "")
    result = invoke(*base, "--project", project, "block", "create", "--name", "p", "--size", "1GB")
    assert result.exit_code == 0, result.stderr
    [stored] = fake.block.volumes()
    assert stored["project_id"] == project


def test_ctrl_c_in_bulk_create(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in a bulk create: the JSON of what was made, the list on stderr, exit 130."""

    async def interrupted(self: AsyncBlockAPI, specs: Any, **kwargs: Any) -> Any:
        spec = next(iter(specs))
        volume = await self.create_volume(name=spec.name, size=spec.size)
        kwargs["on_item"](0, spec, volume)
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncBlockAPI, "create_volumes", interrupted)
    args = ("block", "create", "--name-prefix", "c", "--count", "3", "--size", "1GB", "--wait")
    result = invoke("--fake", "--json", *args)
    assert result.exit_code == 130
    assert [v["name"] for v in json.loads(result.stdout)["created"]] == ["c0"]
    assert "interrupted: created 1 of 3 before stopping" in result.stderr
    assert re.search(r"^  created \S+ c0$", result.stderr, re.MULTILINE)


def test_ctrl_c_while_waiting_names_the_volume(
    invoke: Invoker, fake: FakeScaleway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during --wait of one create: the volume exists, and stderr says which."""

    async def interrupted(self: AsyncBlockAPI, volume: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncBlockAPI, "wait_for_volume", interrupted)
    result = invoke.remote("block", "create", "--name", "w", "--size", "1GB", "--wait")
    assert result.exit_code == 130
    [volume] = fake.block.volumes()
    assert f"interrupted: created {volume['id']} w, not waited for" in result.stderr
    assert result.stdout == ""
