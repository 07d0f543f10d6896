from __future__ import annotations

import inspect
import json
import uuid
from typing import Any

import pytest

from scaleway_volumes import AsyncVolumeAPI, __version__
from scaleway_volumes.cli._progress import Tracker
from scaleway_volumes.testing import FakeScaleway

from .conftest import Invoker, error_lines, one_error_line, spy_concurrency

GB = 10**9
MISSING_ID = str(uuid.UUID(int=7))


# -- global behaviour ------------------------------------------------------------------


def test_version(invoke: Invoker) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_help_lists_commands(invoke: Invoker) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("list", "get", "create", "delete", "demo", "config"):
        assert command in result.stdout


def test_fake_and_base_url_conflict(invoke: Invoker) -> None:
    result = invoke("--fake", "--base-url", "http://127.0.0.1:1", "list")
    assert result.exit_code == 2
    assert "cannot be used together" in result.stderr


def test_connection_error(invoke: Invoker) -> None:
    # Nothing listens on port 1: the library retries, then gives up.
    result = invoke("--base-url", "http://127.0.0.1:1", "--token", "t", "list")
    assert result.exit_code == 1
    assert "request failed" in one_error_line(result.stderr)


# -- list and get ------------------------------------------------------------------------


def test_list_fake_is_empty(invoke: Invoker) -> None:
    result = invoke("--fake", "--json", "list")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_list_table(invoke: Invoker, fake: FakeScaleway) -> None:
    volume = fake.add_volume("pg-data", size=20 * GB, server="srv-db")
    fake.add_volume("scratch", volume_type="b_ssd")
    result = invoke.remote("list")
    assert result.exit_code == 0, result.stderr
    assert volume["id"] in result.stdout
    for text in ("pg-data", "20 GB", "srv-db", "scratch", "b_ssd", "fr-par-1", "available"):
        assert text in result.stdout


def test_list_json_and_filters(invoke: Invoker, fake: FakeScaleway) -> None:
    fake.add_volume("web-1", tags=["web", "prod"])
    fake.add_volume("web-2", tags=["web"], volume_type="b_ssd")
    fake.add_volume("db-1", tags=["prod"])

    def names(*args: str) -> list[str]:
        result = invoke.remote("--json", "list", *args)
        assert result.exit_code == 0, result.stderr
        return sorted(v["name"] for v in json.loads(result.stdout))

    assert names() == ["db-1", "web-1", "web-2"]
    assert names("--name", "web") == ["web-1", "web-2"]
    assert names("--type", "b_ssd") == ["web-2"]
    assert names("--tag", "prod") == ["db-1", "web-1"]
    assert names("--tag", "prod", "--tag", "web") == ["web-1"]


def test_list_json_shape(invoke: Invoker, fake: FakeScaleway) -> None:
    added = fake.add_volume("a", size=3 * GB)
    [volume] = json.loads(invoke.remote("--json", "list").stdout)
    assert volume["id"] == added["id"]
    assert volume["size"] == 3 * GB
    assert volume["volume_type"] == "l_ssd"
    assert isinstance(volume["creation_date"], str)


def test_list_pages_through_everything(invoke: Invoker, fake: FakeScaleway) -> None:
    for i in range(230):
        fake.add_volume(f"v{i}")
    result = invoke.remote("--json", "list")
    assert len(json.loads(result.stdout)) == 230


def test_get(invoke: Invoker, fake: FakeScaleway) -> None:
    added = fake.add_volume("pg-data", size=20 * GB, tags=["db"])
    result = invoke.remote("get", added["id"])
    assert result.exit_code == 0, result.stderr
    for text in (added["id"], "pg-data", "20 GB", "20000000000 bytes", "db"):
        assert text in result.stdout
    result = invoke.remote("--json", "get", added["id"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["name"] == "pg-data"


def test_get_missing_id(invoke: Invoker) -> None:
    result = invoke("--fake", "get", MISSING_ID)
    assert result.exit_code == 1
    assert result.stdout == ""
    line = one_error_line(result.stderr)
    assert "404" in line
    assert "not found" in line


def test_get_bad_id(invoke: Invoker) -> None:
    """A malformed id is a usage error, in click's words (test_ids has every command)."""
    result = invoke("--fake", "get", "not-a-uuid")
    assert result.exit_code == 2
    assert "'not-a-uuid' is not a UUID" in one_error_line(result.stderr)


# -- create ------------------------------------------------------------------------------


def test_create_one(invoke: Invoker, fake: FakeScaleway) -> None:
    result = invoke.remote(
        "--json", "create", "--name", "pg", "--size", "20GB", "--tag", "db", "--tag", "prod"
    )
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["failed"] == []
    [created] = output["created"]
    assert created["name"] == "pg"
    assert created["size"] == 20 * GB
    stored = fake.get(created["id"])
    assert stored is not None
    assert {"db", "prod"} <= set(stored["tags"])
    assert stored["organization"] == fake.organization


def test_create_one_table_with_fake(invoke: Invoker) -> None:
    result = invoke("--fake", "create", "--name", "pg", "--size", "10GiB", "--type", "l_ssd")
    assert result.exit_code == 0, result.stderr
    assert "pg" in result.stdout
    assert "10.74 GB" in result.stdout
    assert "l_ssd" in result.stdout


def test_create_many_with_fake(invoke: Invoker) -> None:
    result = invoke("--fake", "--json", "create", "--name-prefix", "job-", "--count", "25",
                    "--size", "1GB", "--concurrency", "4")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["failed"] == []
    assert [v["name"] for v in output["created"]] == [f"job-{i}" for i in range(25)]
    # Not a terminal: plain progress lines on stderr, the last one at 100%.
    assert "create: 25/25 done, 0 failed" in result.stderr


def test_create_many_feeds_a_generator(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    original = AsyncVolumeAPI.create_volumes

    async def spy(self: AsyncVolumeAPI, specs: Any, **kwargs: Any) -> Any:
        seen.append(specs)
        return await original(self, specs, **kwargs)

    monkeypatch.setattr(AsyncVolumeAPI, "create_volumes", spy)
    result = invoke("--fake", "create", "--name-prefix", "g", "--count", "3", "--size", "1GB")
    assert result.exit_code == 0, result.stderr
    assert len(seen) == 1
    assert inspect.isgenerator(seen[0])


def test_create_many_asks_for_no_more_workers_than_volumes(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a generator, the library starts a worker per --concurrency slot: cap it at --count."""
    seen = spy_concurrency(monkeypatch, AsyncVolumeAPI)
    args = ("--name-prefix", "g", "--count", "3", "--size", "1GB", "--concurrency", "100000")
    result = invoke("--fake", "create", *args)
    assert result.exit_code == 0, result.stderr
    assert seen == [3]


def test_create_many_table_then_state(invoke: Invoker, fake: FakeScaleway) -> None:
    result = invoke.remote("create", "--name-prefix", "t-", "--count", "5", "--size", "2GB")
    assert result.exit_code == 0, result.stderr
    assert "created 5 volume(s)" in result.stdout
    assert sorted(v["name"] for v in fake.volumes) == [f"t-{i}" for i in range(5)]


def test_create_failure_exits_1(invoke: Invoker) -> None:
    # The API refuses volumes under 1 GB.
    result = invoke("--fake", "create", "--name", "tiny", "--size", "10")
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "400" in line
    assert "size" in line


def test_create_many_partial_failure(invoke: Invoker) -> None:
    result = invoke("--fake", "--json", "create", "--name-prefix", "tiny", "--count", "3",
                    "--size", "10KB")  # fmt: skip
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert output["created"] == []
    assert [f["input"]["name"] for f in output["failed"]] == ["tiny0", "tiny1", "tiny2"]
    assert all("400" in f["error"] for f in output["failed"])
    assert all(f["hint"].startswith("Fix the value of size") for f in output["failed"])
    # The document has the failed items: stderr repeats none of them.
    assert "failed to create" not in result.stderr
    assert json.loads(result.stderr.splitlines()[-1]) == {
        "error": "3 of 3 creates failed",
        "hint": "Fix the value of size (must be greater than or equal to 1000000000), "
        "then try again.",
        "exit_code": 1,
    }


def test_create_bad_size(invoke: Invoker) -> None:
    result = invoke("--fake", "create", "--name", "x", "--size", "10XB")
    assert result.exit_code == 2
    assert "invalid size '10XB': use bytes or a unit such as 10GB or 10GiB" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--size", "1GB"],
        ["--name", "x", "--count", "2", "--size", "1GB"],
        ["--name-prefix", "x", "--size", "1GB"],
        ["--count", "2", "--size", "1GB"],
        ["--name", "x"],
        ["--name-prefix", "x", "--count", "0", "--size", "1GB"],
    ],
)
def test_create_usage_errors(invoke: Invoker, args: list[str]) -> None:
    result = invoke("--fake", "create", *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_create_uses_project(invoke: Invoker, fake: FakeScaleway) -> None:
    project = str(uuid.uuid4())
    result = invoke.remote("--project", project, "--json", "create", "--name", "p", "--size", "1GB")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["created"][0]["project"] == project


# -- delete ------------------------------------------------------------------------------


def test_delete_one_needs_no_confirmation(invoke: Invoker, fake: FakeScaleway) -> None:
    added = fake.add_volume("a")
    result = invoke.remote("delete", added["id"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"deleted {added['id']}\n"
    assert fake.volumes == []


def test_delete_ids_with_yes(invoke: Invoker, fake: FakeScaleway) -> None:
    ids = [fake.add_volume(f"v{i}")["id"] for i in range(3)]
    keep = fake.add_volume("keep")["id"]
    result = invoke.remote("--json", "delete", "--yes", *ids)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"deleted": ids, "failed": []}
    assert [v["id"] for v in fake.volumes] == [keep]


def test_delete_refuses_without_terminal(invoke: Invoker, fake: FakeScaleway) -> None:
    ids = [fake.add_volume(f"v{i}")["id"] for i in range(2)]
    result = invoke.remote("delete", *ids)
    assert result.exit_code == 2
    assert "pass --yes" in one_error_line(result.stderr)
    assert len(fake.volumes) == 2


@pytest.fixture
def terminal_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scaleway_volumes.cli._runners.stdin_is_interactive", lambda: True)


@pytest.mark.usefixtures("terminal_stdin")
def test_delete_confirmation_accepted(invoke: Invoker, fake: FakeScaleway) -> None:
    ids = [fake.add_volume(f"v{i}")["id"] for i in range(2)]
    result = invoke.remote("delete", *ids, input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "Delete these 2 volumes?" in result.stderr
    assert fake.volumes == []


@pytest.mark.usefixtures("terminal_stdin")
def test_delete_confirmation_refused(invoke: Invoker, fake: FakeScaleway) -> None:
    ids = [fake.add_volume(f"v{i}")["id"] for i in range(2)]
    result = invoke.remote("delete", *ids, input="n\n")
    assert result.exit_code == 1
    assert one_error_line(result.stderr) == "Error: nothing deleted"
    assert len(fake.volumes) == 2


def test_delete_name_prefix_is_a_prefix(invoke: Invoker, fake: FakeScaleway) -> None:
    doomed = [fake.add_volume(f"tmp-{i}")["id"] for i in range(4)]
    fake.add_volume("keep-tmp-1")  # contains the prefix, does not start with it
    fake.add_volume("other")
    result = invoke.remote("--json", "delete", "--name-prefix", "tmp-", "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(json.loads(result.stdout)["deleted"]) == sorted(doomed)
    assert sorted(v["name"] for v in fake.volumes) == ["keep-tmp-1", "other"]
    assert "delete: 4/4 done, 0 failed" in result.stderr


def test_delete_name_prefix_matches_nothing(invoke: Invoker) -> None:
    result = invoke("--fake", "delete", "--name-prefix", "nothing-")
    assert result.exit_code == 0
    assert "nothing to delete" in result.stderr


def test_delete_missing_id_fails(invoke: Invoker, fake: FakeScaleway) -> None:
    """An id that does not exist is a failed item; the others are deleted; exit 1."""
    added = fake.add_volume("a")["id"]
    result = invoke.remote("--json", "delete", "--yes", added, MISSING_ID)
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert output["deleted"] == [added]
    assert [f["input"] for f in output["failed"]] == [MISSING_ID]
    assert "404" in output["failed"][0]["error"]
    assert output["failed"][0]["hint"].startswith("No such instance_volume")
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure["error"] == "1 of 2 deletes failed"
    assert failure["hint"].startswith("No such instance_volume")


@pytest.mark.parametrize("args", [[], ["--name-prefix", ""], ["--name-prefix", "x", MISSING_ID]])
def test_delete_usage_errors(invoke: Invoker, args: list[str]) -> None:
    result = invoke("--fake", "delete", *args)
    assert result.exit_code == 2


def test_attached_volume_cannot_be_deleted(invoke: Invoker, fake: FakeScaleway) -> None:
    added = fake.add_volume("a", server="srv-1")["id"]
    result = invoke.remote("delete", added)
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert error.startswith("Error: 412 precondition_failed: resource is still in use")
    assert hint is not None and "detach it first" in hint
    assert "failed to delete" not in result.stderr  # the only item: its error is the error


# -- progress ----------------------------------------------------------------------------


def test_live_progress_bar_on_a_terminal(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scaleway_volumes.cli._progress.stderr_is_terminal", lambda: True)
    result = invoke("--fake", "create", "--name-prefix", "p", "--count", "5", "--size", "1GB")
    assert result.exit_code == 0, result.stderr
    assert "5/5" in result.stderr
    assert "done," not in result.stderr  # the bar, not the plain lines


def test_plain_progress_every_tenth() -> None:
    lines: list[str] = []
    tracker = Tracker("create", 100, live=False)
    monkey = pytest.MonkeyPatch()
    monkey.setattr("click.echo", lambda text, err=False: lines.append(text))
    try:
        with tracker:
            for done in range(1, 101):
                tracker.on_item(done - 1, "x", ValueError("no") if done == 50 else "ok")
                tracker.on_progress(done, None)
    finally:
        monkey.undo()
    assert len(lines) == 10
    assert lines[-1].startswith("create: 100/100 done, 1 failed")
    assert tracker.failed()[0][1].args == ("no",)
