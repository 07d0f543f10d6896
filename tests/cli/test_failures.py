"""Failure paths of the command line: exit statuses, one error line, Ctrl-C reports."""

from __future__ import annotations

import json
import string
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, ScalewayError, Volume, VolumeSpec
from scaleway_volumes.cli import CLIError
from scaleway_volumes.cli._errors import Failure, failure_of, missing_extra_line, one_line
from scaleway_volumes.testing import FakeScaleway

from .conftest import Invoker, one_error_line

messages = st.text(alphabet=string.printable, max_size=60)


@given(messages, st.sampled_from([1, 2]))
def test_cli_error_keeps_its_message_and_status(message: str, code: int) -> None:
    """A CLIError ends the command with its own message and status."""
    assert failure_of(CLIError(message, exit_code=code)) == Failure(message, code)


@given(messages, st.sampled_from([ScalewayError, ValueError]))
def test_api_errors_and_bad_values_exit_1_on_one_line(message: str, kind: type[Exception]) -> None:
    """A library error or a refused value is a failed operation (1), told on one line."""
    failure = failure_of(kind(message))
    assert failure is not None
    assert failure.exit_code == 1
    line = failure.message
    assert "\n" not in line and "\t" not in line and "  " not in line
    assert line == (" ".join(message.split()) or kind.__name__)


@pytest.mark.parametrize("exc", [TypeError("bug"), KeyError("k"), RuntimeError("x")])
def test_bugs_are_not_failures(exc: Exception) -> None:
    """Anything else is a bug: failure_of leaves it to propagate with its traceback."""
    assert failure_of(exc) is None


def test_one_line_of_an_empty_message_names_the_type() -> None:
    """An exception without a message is told by its type's name."""
    assert one_line(ValueError()) == "ValueError"


def test_missing_extra_line_names_module_and_install() -> None:
    """The missing-extra hint names what is missing and how to install it."""
    line = missing_extra_line("rich")
    assert "(rich is missing)" in line
    assert line.endswith("pip install 'scaleway-volumes[cli]'")


def test_empty_token_counts_as_missing(invoke: Invoker) -> None:
    """An empty --token is no token: a usage error, not a request without credentials."""
    result = invoke("--token", "", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no secret key: pass --token or set SCW_SECRET_KEY")


def test_bug_in_a_command_propagates(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    """A TypeError from a bug keeps its traceback instead of becoming an Error line."""

    async def broken(self: AsyncVolumeAPI, **kwargs: Any) -> Any:
        raise TypeError("a bug")

    monkeypatch.setattr(AsyncVolumeAPI, "list_volumes", broken)
    with pytest.raises(TypeError, match="a bug"):
        invoke("--fake", "list")


def test_ctrl_c_in_a_single_call_exits_130(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during a one-request command prints 'interrupted' and exits 130."""

    async def interrupted(self: AsyncVolumeAPI, volume_id: str) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncVolumeAPI, "get_volume", interrupted)
    result = invoke("--fake", "get", "6ee9c7c2-7f0c-4f80-9a4e-55ba5a9a37a1")
    assert result.exit_code == 130
    assert result.stderr == "interrupted\n"


def test_ctrl_c_in_a_single_call_with_json_is_a_json_failure(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --json the interrupt is the one JSON failure on stderr, status 130."""

    async def interrupted(self: AsyncVolumeAPI, volume_id: str) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncVolumeAPI, "get_volume", interrupted)
    result = invoke("--fake", "--json", "get", "6ee9c7c2-7f0c-4f80-9a4e-55ba5a9a37a1")
    assert result.exit_code == 130
    assert json.loads(result.stderr) == {"error": "interrupted", "hint": None, "exit_code": 130}


def test_ctrl_c_after_a_create_with_json_is_a_json_failure_saying_what_was_made(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted while waiting: the one JSON failure names what was created."""

    async def interrupted(self: AsyncBlockAPI, *args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncBlockAPI, "wait_for_volume", interrupted)
    args = ["block", "create", "--name", "v", "--size", "10GB", "--wait"]
    result = invoke("--fake", "--json", *args)
    assert result.exit_code == 130
    failure = json.loads(result.stderr.strip().splitlines()[-1])
    assert failure["exit_code"] == 130 and failure["error"].startswith("interrupted: created")


def test_a_group_with_no_command_shows_its_help_with_json(invoke: Invoker) -> None:
    """click raises a usage error to show a group's help: --json keeps it help."""
    result = invoke("--json", "block")
    assert "Commands:" in result.output + result.stderr
    assert not result.stderr.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("args", "error", "help_of"),
    [
        (["create", "--name-prefix", "x", "--size", "1GB"], "pass --name, or", "create"),
        (["create", "--name", "x", "--size", "0"], "Invalid value for '--size'", "create"),
        (["block", "snapshot", "create"], "Missing argument 'VOLUME_ID'", "block snapshot create"),
        (["nope"], "No such command 'nope'", ""),
        (["--base-url", "http://127.0.0.1:1", "list"], "--fake and --base-url cannot", ""),
    ],
)
def test_usage_error_with_json_is_one_json_object(
    invoke: Invoker, args: list[str], error: str, help_of: str
) -> None:
    """docs/cli.md: with --json a failure is one JSON object on stderr, usage errors too."""
    result = invoke("--fake", "--json", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    failure = json.loads(line)
    assert failure["exit_code"] == 2
    assert failure["error"].startswith(error)
    # CliRunner names the program after the group's function: `cli`.
    assert failure["hint"] == f"Try '{' '.join(['cli', help_of]).strip()} --help' for help."


def test_unparsable_json_option_keeps_the_usage_text(invoke: Invoker) -> None:
    """When --json itself does not parse, it is not known to be on: click's own text."""
    result = invoke("--json=yes", "list")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: Option '--json' does not take a value."


SNAPSHOT_OF = "6ee9c7c2-7f0c-4f80-9a4e-55ba5a9a37a1"


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--tag", ""],
        ["create", "--name", "x", "--size", "1GB", "--tag", "ok", "--tag", ""],
        ["block", "list", "--tag", ""],
        ["block", "create", "--name", "x", "--size", "1GB", "--tag", ""],
        ["block", "snapshot", "list", "--tag", ""],
        ["block", "snapshot", "create", SNAPSHOT_OF, "--name", "s", "--tag", ""],
    ],
)
def test_empty_tag_is_a_usage_error(invoke: Invoker, fake: FakeScaleway, args: list[str]) -> None:
    """An empty --tag is the command line to change (2), refused before any request."""
    result = invoke.remote(*args)
    assert result.exit_code == 2, result.stderr
    assert "Invalid value for '--tag': a tag must not be empty" in result.stderr
    assert fake.stats.requests == []


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["list", "--name", ""], "--name"),
        (["list", "--type", ""], "--type"),
        (["create", "--name", "", "--size", "1GB"], "--name"),
        (["create", "--name", "x", "--size", "1GB", "--type", ""], "--type"),
        (["create", "--name-prefix", "", "--count", "2", "--size", "1GB"], "--name-prefix"),
        (["block", "list", "--name", ""], "--name"),
        (["block", "create", "--name", "", "--size", "1GB"], "--name"),
        (
            ["block", "create", "--name-prefix", "", "--count", "2", "--size", "1GB"],
            "--name-prefix",
        ),
        (["block", "snapshot", "list", "--name", ""], "--name"),
        (["block", "snapshot", "create", SNAPSHOT_OF, "--name", ""], "--name"),
    ],
)
def test_empty_text_option_is_a_usage_error(
    invoke: Invoker, fake: FakeScaleway, args: list[str], option: str
) -> None:
    """Not the library's `name must be a non-empty string` (exit 1) once connected, nor
    volumes named `0`, `1`... that no `delete --name-prefix` reaches: the option, at once."""
    result = invoke.remote(*args)
    assert result.exit_code == 2, result.stderr
    assert f"Invalid value for '{option}': must not be empty" in result.stderr
    assert fake.stats.requests == []


def test_comma_in_an_instance_tag_filter_is_a_usage_error(
    invoke: Invoker, fake: FakeScaleway
) -> None:
    """The Instance API takes a listing's tags as one comma-separated value: a tag with a
    comma cannot be a filter, and the fix is one --tag per tag (Block lists take it)."""
    result = invoke.remote("list", "--tag", "ok", "--tag", "a,b")
    assert result.exit_code == 2, result.stderr
    assert one_error_line(result.stderr) == (
        "Error: Invalid value for '--tag': 'a,b' cannot be a filter: the Instance API "
        "separates tags with ','; give each tag its own --tag"
    )
    assert fake.stats.requests == []
    assert invoke.remote("block", "list", "--tag", "a,b").exit_code == 0


Finish = Callable[[AsyncVolumeAPI, Any], Awaitable[Any]]


def _stop_after_first(finish: Finish) -> Any:
    """A bulk method that finishes its first item, fails its second, then meets Ctrl-C."""

    async def bulk(self: AsyncVolumeAPI, items: Any, **kwargs: Any) -> Any:
        first, second = list(items)[:2]
        kwargs["on_item"](0, first, await finish(self, first))
        kwargs["on_item"](1, second, ScalewayError("gone\nreally"))
        kwargs["on_progress"](2, None)
        raise KeyboardInterrupt

    return bulk


def test_ctrl_c_during_bulk_delete_json_tells_what_was_done(
    invoke: Invoker, fake: FakeScaleway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in a --json bulk delete prints the JSON of what was done, lists it, exits 130."""
    ids = [fake.add_volume(f"tmp-{i}")["id"] for i in range(3)]

    async def delete(api: AsyncVolumeAPI, volume: Volume) -> str:
        await api.delete_volume(volume)
        return volume.id

    monkeypatch.setattr(AsyncVolumeAPI, "delete_volumes", _stop_after_first(delete))
    result = invoke.remote("--json", "delete", "--name-prefix", "tmp-", "--yes")
    assert result.exit_code == 130
    document = json.loads(result.stdout)
    assert document["deleted"] == [ids[0]]
    assert document["failed"] == [{"input": ids[1], "error": "gone really", "hint": None}]
    assert "interrupted: deleted 1 of 3 before stopping" in result.stderr
    assert f"  deleted {ids[0]}\n" in result.stderr
    assert f"  failed: {ids[1]} tmp-1: gone really" in result.stderr
    assert len(fake.volumes) == 2


def test_ctrl_c_during_bulk_create_tables_nothing(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --json, Ctrl-C in a bulk create reports on stderr only, and exits 130."""

    async def create(api: AsyncVolumeAPI, spec: VolumeSpec) -> Volume:
        return await api.create_volume(name=spec.name, size=spec.size)

    monkeypatch.setattr(AsyncVolumeAPI, "create_volumes", _stop_after_first(create))
    result = invoke("--fake", "create", "--name-prefix", "c", "--count", "5", "--size", "1GB")
    assert result.exit_code == 130
    assert result.stdout == ""
    assert "interrupted: created 1 of 5 before stopping" in result.stderr
    assert "  failed: c1: gone really" in result.stderr


def test_ctrl_c_during_demo_names_the_stage(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the demo says which phase it stopped and exits 130."""

    async def interrupted(self: AsyncBlockAPI, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncBlockAPI, "list_volumes", interrupted)
    result = invoke("demo", "--count", "3", "--latency", "0", "--settle-time", "0")
    assert result.exit_code == 130
    assert "interrupted during list: created 3, deleted 0" in result.stderr
    assert result.stdout == ""


def test_demo_failure_exits_1(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    """A demo whose resize fails prints its summary, the failure, and exits 1."""

    async def refuse(self: AsyncBlockAPI, volume: Any, **kwargs: Any) -> Any:
        raise ScalewayError("no resize today")

    monkeypatch.setattr(AsyncBlockAPI, "update_volume", refuse)
    result = invoke("demo", "--count", "2", "--latency", "0", "--settle-time", "0")
    assert result.exit_code == 1
    assert "failed to resize" in result.stderr
    assert "no resize today" in result.stderr
    assert "failed      1" in result.stdout.splitlines()
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: the demo did not go through cleanly (see above)"
    )


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )


def test_missing_rich_gives_a_hint() -> None:
    """Without rich (click present) main() names rich and exits 2."""
    process = _run_python(
        "import sys; sys.modules['rich'] = None\n"
        "from scaleway_volumes.cli import main\nmain(['list'])\n"
    )
    assert process.returncode == 2
    [line] = process.stderr.splitlines()
    assert "(rich is missing)" in line


def test_a_broken_module_is_not_a_missing_extra() -> None:
    """An ImportError of the CLI's own modules propagates: it is a bug, not a missing extra."""
    process = _run_python(
        "import sys; sys.modules['scaleway_volumes.cli._volumes'] = None\n"
        "import scaleway_volumes.cli\n"
    )
    assert process.returncode == 1
    assert "ModuleNotFoundError" in process.stderr
    assert "pip install" not in process.stderr
