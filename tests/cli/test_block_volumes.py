"""`block list|get|create|resize|delete|types`: Block Storage volumes from the command line."""

from __future__ import annotations

import inspect
import json
import uuid
from typing import Any

import pytest

from scaleway_volumes import AsyncBlockAPI
from scaleway_volumes.testing import FakeScaleway

from .conftest import Invoker, one_error_line, spy_concurrency

GB = 10**9
MISSING_ID = str(uuid.UUID(int=7))

pytestmark = pytest.mark.usefixtures("no_sleep")


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# -- list and get ------------------------------------------------------------------------


def test_list_on_fake_is_empty(invoke: Invoker) -> None:
    """`--fake block list` talks to the fake's Block API, which starts empty."""
    assert _json(invoke("--fake", "--json", "block", "list")) == []


def test_list_table(invoke: Invoker, fake: FakeScaleway) -> None:
    """The table shows id, name, size, type, IOPS, status and tags."""
    volume = fake.block.add_volume("pg-data", 20 * GB, perf_iops=15000, tags=["db", "prod"])
    fake.block.add_volume("logs", status="in_use")
    result = invoke.remote("block", "list")
    assert result.exit_code == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if volume["id"] in line]
    for text in ("pg-data", "20 GB", "sbs_15k", "15000", "available", "db, prod"):
        assert text in row
    [other] = [line for line in result.stdout.splitlines() if "logs" in line]
    assert "in_use" in other and "sbs_5k" in other


def test_list_json_and_filters(invoke: Invoker, fake: FakeScaleway) -> None:
    """--name matches a substring; several --tag match any of them (the Block API's rule)."""
    fake.block.add_volume("web-1", tags=["web", "prod"])
    fake.block.add_volume("web-2", tags=["web"])
    fake.block.add_volume("db-1", tags=["prod"])
    fake.block.add_volume("misc")

    def names(*args: str) -> list[str]:
        return sorted(v["name"] for v in _json(invoke.remote("--json", "block", "list", *args)))

    assert names() == ["db-1", "misc", "web-1", "web-2"]
    assert names("--name", "web") == ["web-1", "web-2"]
    assert names("--tag", "prod") == ["db-1", "web-1"]
    assert names("--tag", "prod", "--tag", "web") == ["db-1", "web-1", "web-2"]


def test_list_json_shape_and_pages(invoke: Invoker, fake: FakeScaleway) -> None:
    """--json lists every volume of every page, with the API's field names."""
    added = [fake.block.add_volume(f"v{i}", 3 * GB) for i in range(130)]
    listed = _json(invoke.remote("--json", "block", "list"))
    assert [v["id"] for v in listed] == [v["id"] for v in added]
    first = listed[0]
    assert (first["size"], first["type"], first["specs"]["perf_iops"]) == (3 * GB, "sbs_5k", 5000)
    assert isinstance(first["created_at"], str)


def test_get(invoke: Invoker, fake: FakeScaleway) -> None:
    """`block get` shows every field (size in both units), or the JSON object."""
    added = fake.block.add_volume("pg", 20 * GB, tags=["db"])
    result = invoke.remote("block", "get", added["id"])
    assert result.exit_code == 0, result.stderr
    for text in (added["id"], "pg", "20 GB (20000000000 bytes)", "sbs_5k", "perf_iops=5000"):
        assert text in result.stdout
    assert _json(invoke.remote("--json", "block", "get", added["id"]))["name"] == "pg"


def test_get_missing(invoke: Invoker) -> None:
    """An unknown id: the 404 on one line, stdout empty, exit 1."""
    result = invoke("--fake", "block", "get", MISSING_ID)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "404" in one_error_line(result.stderr)


# -- create ------------------------------------------------------------------------------


def test_create_one(invoke: Invoker, fake: FakeScaleway) -> None:
    """--name, --size, --iops and --tag reach the API; without --wait it is still creating."""
    output = _json(
        invoke.remote(
            "--json", "block", "create", "--name", "pg", "--size", "20GB", "--iops", "15000",
            "--tag", "db", "--tag", "prod",
        )
    )  # fmt: skip
    assert output["failed"] == []
    [created] = output["created"]
    assert (created["name"], created["size"], created["status"]) == ("pg", 20 * GB, "creating")
    assert created["tags"] == ["db", "prod"]  # the create marker stays hidden
    stored = fake.block.get_volume(created["id"])
    assert stored is not None
    assert stored["type"] == "sbs_15k"
    assert stored["project_id"] == fake.organization


def test_create_one_and_wait(invoke: Invoker) -> None:
    """--wait prints the volume once available, and says on stderr what it waits for."""
    result = invoke("--fake", "block", "create", "--name", "pg", "--size", "10GiB", "--wait")
    assert result.exit_code == 0, result.stderr
    assert "waiting until it is available" in result.stderr
    assert "available: 1 Block volume(s)" in result.stdout
    for text in ("pg", "10.74 GB", "sbs_5k", "5000"):
        assert text in result.stdout


def test_create_many_and_wait(invoke: Invoker, fake: FakeScaleway) -> None:
    """--count with --wait: the bar counts volumes that became available; all are."""
    result = invoke.remote(
        "--json", "block", "create", "--name-prefix", "job-", "--count", "25",
        "--size", "1GB", "--concurrency", "4", "--wait",
    )  # fmt: skip
    output = _json(result)
    assert output["failed"] == []
    assert [v["name"] for v in output["created"]] == [f"job-{i}" for i in range(25)]
    assert {v["status"] for v in output["created"]} == {"available"}
    assert "create+wait: 25/25 done, 0 failed" in result.stderr
    assert len(fake.block.volumes()) == 25


def test_create_many_without_wait(invoke: Invoker, fake: FakeScaleway) -> None:
    """Without --wait the volumes are printed as the API answered: creating."""
    result = invoke.remote(
        "block", "create", "--name-prefix", "t-", "--count", "5", "--size", "2GB"
    )
    assert result.exit_code == 0, result.stderr
    assert "created: 5 Block volume(s)" in result.stdout
    assert result.stdout.count("creating") == 5
    assert "create: 5/5 done, 0 failed" in result.stderr
    assert sorted(v["name"] for v in fake.block.volumes()) == [f"t-{i}" for i in range(5)]


def test_create_many_feeds_a_generator(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    """The specs reach the library as a generator, so memory does not grow with --count."""
    seen: list[Any] = []
    original = AsyncBlockAPI.create_volumes

    async def spy(self: AsyncBlockAPI, specs: Any, **kwargs: Any) -> Any:
        seen.append(specs)
        return await original(self, specs, **kwargs)

    monkeypatch.setattr(AsyncBlockAPI, "create_volumes", spy)
    args = ("--fake", "block", "create", "--name-prefix", "g", "--count", "3", "--size", "1GB")
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    assert len(seen) == 1 and inspect.isgenerator(seen[0])


def test_create_many_asks_for_no_more_workers_than_volumes(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a generator, the library starts a worker per --concurrency slot: cap it at --count."""
    seen = spy_concurrency(monkeypatch, AsyncBlockAPI)
    args = ("--name-prefix", "g", "--count", "2", "--size", "1GB", "--concurrency", "100000")
    result = invoke("--fake", "block", "create", *args)
    assert result.exit_code == 0, result.stderr
    assert seen == [2]


@pytest.mark.parametrize(
    "command",
    [
        ["block", "create", "--name", "x", "--size", "1GB"],
        ["block", "create", "--name-prefix", "x", "--count", "2", "--size", "1GB"],
        ["block", "resize", MISSING_ID, "--size", "40GB"],
        ["block", "snapshot", "create", MISSING_ID, "--name", "s"],
    ],
    ids=["create", "create-many", "resize", "snapshot"],
)
def test_wait_timeout_nan_is_a_usage_error_before_any_request(
    invoke: Invoker, fake: FakeScaleway, command: list[str]
) -> None:
    """click's FloatRange lets nan through: the create would be sent, then the wait refused."""
    result = invoke.remote(*command, "--wait", "--wait-timeout", "nan")
    assert result.exit_code == 2, result.stderr
    assert "--wait-timeout" in result.stderr
    assert fake.stats.requests == []


def test_wait_timeout_inf_is_no_limit(invoke: Invoker) -> None:
    """inf is the library's "no bound": accepted."""
    args = ("block", "create", "--name", "x", "--size", "1GB", "--wait", "--wait-timeout", "inf")
    [created] = _json(invoke("--fake", "--json", *args))["created"]
    assert created["status"] == "available"


def test_create_from_snapshot(invoke: Invoker, fake: FakeScaleway) -> None:
    """--from-snapshot restores a snapshot; without --size the volume has the snapshot's."""
    source = fake.block.add_volume("src", 30 * GB, perf_iops=15000)
    snapshot = fake.block.add_snapshot(source["id"], "nightly")
    args = ("block", "create", "--name", "copy", "--from-snapshot", snapshot["id"], "--wait")
    [created] = _json(invoke.remote("--json", *args))["created"]
    assert created["parent_snapshot_id"] == snapshot["id"]
    assert (created["size"], created["status"]) == (30 * GB, "available")


@pytest.mark.parametrize(
    "args",
    [
        ["--name", "x"],  # neither --size nor --from-snapshot
        ["--name", "x", "--size", "1GB", "--iops", "7000"],
        ["--name", "x", "--count", "2", "--size", "1GB"],
        ["--name-prefix", "x", "--size", "1GB"],
        ["--size", "1GB"],
        ["--name", "x", "--size", "1XB"],
        ["--name", "x", "--size", "1GB", "--wait", "--wait-timeout", "0"],
    ],
)
def test_create_usage_errors(invoke: Invoker, args: list[str]) -> None:
    """Bad option combinations or values are usage errors (exit 2), before any request."""
    result = invoke("--fake", "block", "create", *args)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_create_with_a_malformed_snapshot_id(invoke: Invoker) -> None:
    """A --from-snapshot that is no UUID is a usage error naming the option (exit 2)."""
    result = invoke("--fake", "block", "create", "--name", "x", "--from-snapshot", "nope")
    assert result.exit_code == 2
    assert "'--from-snapshot': 'nope' is not a UUID" in one_error_line(result.stderr)


# -- resize ------------------------------------------------------------------------------


def test_resize_without_wait(invoke: Invoker, fake: FakeScaleway) -> None:
    """The API answers with the old size and 'updating'; stderr says the new size comes later."""
    added = fake.block.add_volume("db", 10 * GB)
    answered = _json(invoke.remote("--json", "block", "resize", added["id"], "--size", "40GB"))
    assert (answered["size"], answered["status"]) == (10 * GB, "updating")
    stored = fake.block.get_volume(added["id"])
    assert stored is not None and stored["size"] == 40 * GB


def test_resize_and_wait(invoke: Invoker, fake: FakeScaleway) -> None:
    """--wait prints the volume settled at its new size."""
    added = fake.block.add_volume("db", 10 * GB)
    result = invoke.remote("block", "resize", added["id"], "--size", "40GB", "--wait")
    assert result.exit_code == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if added["id"] in line]
    assert "40 GB" in row and "available" in row
    assert f"resizing {added['id']} db to 40 GB, waiting until it settles" in result.stderr


def test_resize_note_on_stderr(invoke: Invoker, fake: FakeScaleway) -> None:
    """Without --wait the table shows the answer and stderr tells how to see the new size."""
    added = fake.block.add_volume("db", 10 * GB)
    result = invoke.remote("block", "resize", added["id"], "--size", "40GB")
    assert result.exit_code == 0, result.stderr
    assert "updating" in result.stdout
    assert (
        f"resizing {added['id']} db to 40 GB: the new size shows once it settles" in result.stderr
    )


@pytest.mark.parametrize("wait", [[], ["--wait"]])
def test_resize_to_the_same_size_says_nothing_changes(
    invoke: Invoker, fake: FakeScaleway, wait: list[str]
) -> None:
    """The API changes nothing: no "resizing ... the new size shows once it settles"."""
    added = fake.block.add_volume("db", 40 * GB)
    result = invoke.remote("block", "resize", added["id"], "--size", "40GB", *wait)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"{added['id']} db is already 40 GB\n"
    assert "40 GB" in result.stdout and "available" in result.stdout


def test_resize_cannot_shrink(invoke: Invoker, fake: FakeScaleway) -> None:
    """A smaller size is the API's 400, with the hint naming the argument to fix."""
    added = fake.block.add_volume("db", 10 * GB)
    result = invoke.remote("block", "resize", added["id"], "--size", "5GB")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith("Error: 400 invalid_arguments")
    assert lines[-1].startswith("hint: Fix the value of size")


# -- delete ------------------------------------------------------------------------------


def test_delete_one_needs_no_confirmation(invoke: Invoker, fake: FakeScaleway) -> None:
    """One id is deleted at once and printed."""
    added = fake.block.add_volume("a")
    result = invoke.remote("block", "delete", added["id"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"deleted {added['id']}\n"
    assert fake.block.volumes() == []


def test_delete_ids_with_yes(invoke: Invoker, fake: FakeScaleway) -> None:
    """Several ids with --yes: deleted with progress, the JSON lists them in order."""
    ids = [fake.block.add_volume(f"v{i}")["id"] for i in range(3)]
    keep = fake.block.add_volume("keep")["id"]
    result = invoke.remote("--json", "block", "delete", "--yes", *ids)
    assert _json(result) == {"deleted": ids, "failed": []}
    assert "delete: 3/3 done, 0 failed" in result.stderr
    assert [v["id"] for v in fake.block.volumes()] == [keep]


def test_delete_refuses_without_terminal(invoke: Invoker, fake: FakeScaleway) -> None:
    """Several volumes without --yes off a terminal: refused (exit 2), nothing deleted."""
    ids = [fake.block.add_volume(f"v{i}")["id"] for i in range(2)]
    result = invoke.remote("block", "delete", *ids)
    assert result.exit_code == 2
    assert "pass --yes" in one_error_line(result.stderr)
    assert len(fake.block.volumes()) == 2


@pytest.fixture
def terminal_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the confirmation believe stdin is a terminal."""
    monkeypatch.setattr("scaleway_volumes.cli._runners.stdin_is_interactive", lambda: True)


@pytest.mark.usefixtures("terminal_stdin")
@pytest.mark.parametrize(("answer", "left", "status"), [("y\n", 0, 0), ("n\n", 2, 1)])
def test_delete_confirmation(
    invoke: Invoker, fake: FakeScaleway, answer: str, left: int, status: int
) -> None:
    """On a terminal it lists the volumes and asks; 'n' deletes nothing and exits 1."""
    volumes = [fake.block.add_volume(f"v{i}") for i in range(2)]
    result = invoke.remote("block", "delete", "--name-prefix", "v", input=answer)
    assert result.exit_code == status
    listed = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert listed == [f"  {v['id']} {v['name']}" for v in volumes]
    assert "Delete these 2 Block volumes? [y/N]" in result.stderr
    assert len(fake.block.volumes()) == left


def test_delete_name_prefix(invoke: Invoker, fake: FakeScaleway) -> None:
    """--name-prefix deletes the volumes whose name starts with it, no other."""
    doomed = [fake.block.add_volume(f"tmp-{i}")["id"] for i in range(4)]
    fake.block.add_volume("keep-tmp-1")
    result = invoke.remote("--json", "block", "delete", "--name-prefix", "tmp-", "--yes")
    assert sorted(_json(result)["deleted"]) == sorted(doomed)
    assert [v["name"] for v in fake.block.volumes()] == ["keep-tmp-1"]


def test_delete_name_prefix_matches_nothing(invoke: Invoker) -> None:
    """Nothing to delete is no failure: a line on stderr (or an empty document)."""
    result = invoke("--fake", "block", "delete", "--name-prefix", "nothing-")
    assert result.exit_code == 0
    assert "nothing to delete" in result.stderr
    empty = invoke("--fake", "--json", "block", "delete", "--name-prefix", "nothing-")
    assert _json(empty) == {"deleted": [], "failed": []}


@pytest.mark.parametrize("args", [[], ["--name-prefix", ""], ["--name-prefix", "x", MISSING_ID]])
def test_delete_usage_errors(invoke: Invoker, args: list[str]) -> None:
    """No target, an empty prefix, or ids with a prefix: usage errors (exit 2)."""
    assert invoke("--fake", "block", "delete", *args).exit_code == 2


# -- volume types ------------------------------------------------------------------------


def test_types(invoke: Invoker) -> None:
    """`block types` shows each type's IOPS and its prices per GB and hour."""
    result = invoke("--fake", "block", "types")
    assert result.exit_code == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if "sbs_15k" in line]
    for text in ("15000", "sbs", "0.000151 EUR", "0.000047 EUR"):
        assert text in row
    kinds = _json(invoke("--fake", "--json", "block", "types"))
    assert [k["type"] for k in kinds] == ["sbs_15k", "sbs_5k"]
    assert kinds[1]["pricing"] == {"currency_code": "EUR", "units": 0, "nanos": 118000}


def test_live_bar_on_a_terminal(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, --wait shows the live bar labelled create+wait, not plain lines."""
    monkeypatch.setattr("scaleway_volumes.cli._progress.stderr_is_terminal", lambda: True)
    args = ("--fake", "block", "create", "--name-prefix", "p", "--count", "5", "--size", "1GB")
    result = invoke(*args, "--wait")
    assert result.exit_code == 0, result.stderr
    assert "create+wait" in result.stderr and "5/5" in result.stderr
    assert "done," not in result.stderr
