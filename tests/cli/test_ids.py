"""Ids on the command line: a malformed one is a usage error (exit 2) before any request.

The library refuses it too, but as a Python ``ValueError`` ("volume_id must be a
UUID string or a Volume") once connected, which the command line would report
as a failed operation (exit 1). Every id argument and option has the ``ID`` type.
"""

from __future__ import annotations

import json
import uuid

import pytest

from scaleway_volumes.testing import FakeScaleway

from .conftest import Invoker, error_lines

GOOD_ID = str(uuid.UUID(int=7))


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        (["get", "nope"], "'ID'"),
        (["delete", "--yes", GOOD_ID, "nope"], "'[ID]...'"),
        (["block", "get", "nope"], "'ID'"),
        (["block", "resize", "nope", "--size", "20GB"], "'ID'"),
        (["block", "delete", "nope"], "'[ID]...'"),
        (["block", "create", "--name", "x", "--from-snapshot", "nope"], "'--from-snapshot'"),
        (["block", "snapshot", "get", "nope"], "'ID'"),
        (["block", "snapshot", "create", "nope", "--name", "s"], "'VOLUME_ID'"),
        (["block", "snapshot", "list", "--volume", "nope"], "'--volume'"),
        (["block", "snapshot", "delete", "nope"], "'ID...'"),
    ],
)
def test_a_malformed_id_is_a_usage_error(
    invoke: Invoker, fake: FakeScaleway, args: list[str], parameter: str
) -> None:
    """Exit 2, click's line naming the parameter, and not one request sent."""
    result = invoke.remote(*args)
    assert result.exit_code == 2, result.stderr
    error, _ = error_lines(result.stderr)
    assert error == f"Error: Invalid value for {parameter}: 'nope' is not a UUID."
    assert fake.stats.requests == []


def test_a_malformed_id_with_json(invoke: Invoker) -> None:
    """With --json: the usage error as the one JSON object on stderr, stdout empty."""
    result = invoke("--fake", "--json", "block", "get", "nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    failure = json.loads(result.stderr)
    assert failure["error"] == "Invalid value for 'ID': 'nope' is not a UUID."
    assert failure["hint"].endswith(" block get --help' for help.")
    assert failure["exit_code"] == 2


def test_one_malformed_id_deletes_nothing(invoke: Invoker, fake: FakeScaleway) -> None:
    """A typo among the ids of a delete stops it before any delete: the others stay."""
    kept = fake.block.add_volume("a")["id"]
    result = invoke.remote("block", "delete", "--yes", kept, "bad-id")
    assert result.exit_code == 2
    assert [v["id"] for v in fake.block.volumes()] == [kept]


def test_an_upper_case_id_is_no_usage_error(invoke: Invoker, fake: FakeScaleway) -> None:
    """The check refuses no more than the library does: a UUID in either case goes on."""
    volume = fake.block.add_volume("db")
    result = invoke.remote("block", "get", volume["id"].upper())
    assert result.exit_code != 2, result.stderr
    assert fake.stats.requests


def test_one_id_typed_in_two_cases_is_deleted_once(invoke: Invoker, fake: FakeScaleway) -> None:
    """Ids are read lower-case, as the library sends them: `block delete <id> <ID>`
    names one volume, deleted by one DELETE, and the command succeeds."""
    volume = fake.block.add_volume("db")["id"]
    result = invoke.remote("block", "delete", volume, volume.upper(), "--yes")
    assert result.exit_code == 0, result.stderr
    assert sum(r.method == "DELETE" for r in fake.stats.requests) == 1
    assert fake.block.volumes() == []
