"""After a `--wait` that ran out of time (or ended in error), the resource exists.

So the hint names a command that waits for it again (`block get ID --wait`,
`block snapshot get ID --wait`) and warns that running the create again would
make a second one; `--json` failures carry its id as a field, and a bulk
create's line for the item says it was created, not that creating it failed.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

import scaleway_volumes
from scaleway_volumes import WaitTimeoutError
from scaleway_volumes.cli._errors import hint
from scaleway_volumes.testing import FakeScaleway, Fault

from .conftest import Invoker, error_lines

# Waits are instant in testing mode (``no_sleep``: the waits asked for count as time),
# so a bound of 5 s costs no wall time, and the first poll is never cut short.
pytestmark = pytest.mark.usefixtures("no_sleep")
SLOW = ("--wait", "--wait-timeout", "5")


def _command_in(hint_line: str) -> list[str]:
    """The arguments of the `scaleway-volumes ...` command quoted in a hint."""
    match = re.search(r"`scaleway-volumes ([^`]+)`", hint_line)
    assert match is not None, hint_line
    return shlex.split(match[1])


def test_single_create_hint_names_a_command_that_waits_again(
    invoke: Invoker, fake: FakeScaleway
) -> None:
    """The hint's `block get <id> --wait`, run once the volume settles, shows it; the
    hint also says that creating it again would make a second volume."""
    fake.block_create_time = 3600
    result = invoke.remote("block", "create", "--name", "w", "--size", "10GB", *SLOW)
    assert result.exit_code == 1
    _, advice = error_lines(result.stderr)
    [volume] = fake.block.volumes()
    assert advice is not None
    assert f"`scaleway-volumes block get {volume['id']} --wait`" in advice
    assert "running the create again would make a second volume" in advice
    fake.block.set_volume_status(volume["id"], "available")
    again = invoke.remote("--json", *_command_in(advice))
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "available"
    assert len(fake.block.volumes()) == 1


def test_block_get_wait_waits(invoke: Invoker, fake: FakeScaleway) -> None:
    """`block get --wait` on a volume still creating: it waits, and fails in time with
    the same advice, rather than showing it 'creating'."""
    volume = fake.block.add_volume("w", status="creating")
    result = invoke.remote("block", "get", volume["id"], *SLOW)
    assert result.exit_code == 1
    error, advice = error_lines(result.stderr)
    assert "still 'creating'" in error
    assert advice is not None and f"block get {volume['id']} --wait" in advice


def test_block_get_wait_returns_the_settled_volume(invoke: Invoker, fake: FakeScaleway) -> None:
    """A volume that becomes available while `block get --wait` polls is shown available."""
    scaleway_volumes.set_testing(False)  # the volume settles in real time: polls wait
    fake.block_create_time = 0.3
    created = invoke.remote("--json", "block", "create", "--name", "w", "--size", "10GB")
    volume_id = json.loads(created.stdout)["created"][0]["id"]
    result = invoke.remote("--json", "block", "get", volume_id, "--wait")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "available"


def test_snapshot_hint_names_block_snapshot_get(invoke: Invoker, fake: FakeScaleway) -> None:
    """A snapshot not available in time: `block snapshot get <id> --wait` waits for it."""
    volume = fake.block.add_volume("db")
    fake.block_snapshot_time = 3600
    result = invoke.remote("block", "snapshot", "create", volume["id"], "--name", "s", *SLOW)
    assert result.exit_code == 1
    _, advice = error_lines(result.stderr)
    [snapshot] = fake.block.snapshots()
    assert advice is not None
    assert f"`scaleway-volumes block snapshot get {snapshot['id']} --wait`" in advice
    assert "a second snapshot" in advice
    fake.block.set_snapshot_status(snapshot["id"], "available")
    again = invoke.remote("--json", *_command_in(advice))
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "available"


def test_bulk_json_failures_carry_the_id(invoke: Invoker, fake: FakeScaleway) -> None:
    """Each item not available in time has the id of its volume, which exists, as "id"."""
    fake.block_create_time = 3600
    args = ("block", "create", "--name-prefix", "w", "--count", "2", "--size", "10GB")
    result = invoke.remote("--json", *args, *SLOW)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["created"] == []
    existing = {v["name"]: v["id"] for v in fake.block.volumes()}
    assert {f["input"]["name"]: f["id"] for f in document["failed"]} == existing


def test_bulk_text_says_created_but_not_available(invoke: Invoker, fake: FakeScaleway) -> None:
    """Without --json, each line names the volume made and its id, not "failed to create"."""
    fake.block_create_time = 3600
    args = ("block", "create", "--name-prefix", "w", "--count", "2", "--size", "10GB")
    result = invoke.remote(*args, *SLOW)
    assert result.exit_code == 1
    for volume in fake.block.volumes():
        line = (
            f"created {volume['name']} ({volume['id']}) but it was not available "
            "within 5 s (still 'creating')"
        )
        assert line in result.stderr.splitlines()
    assert "failed to create" not in result.stderr


def test_single_json_failure_carries_the_id(invoke: Invoker, fake: FakeScaleway) -> None:
    """One create --json --wait that times out: the failure object has "id" too."""
    fake.block_create_time = 3600
    result = invoke.remote("--json", "block", "create", "--name", "w", "--size", "10GB", *SLOW)
    assert result.exit_code == 1
    [volume] = fake.block.volumes()
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure["id"] == volume["id"]
    assert failure["exit_code"] == 1


def test_a_volume_in_error_gives_its_id_too(invoke: Invoker, fake: FakeScaleway) -> None:
    """A wait that ends in the error state names the volume it watched as "id"."""
    # The fake answers every GET of a volume with a copy in error (another id).
    broken = FakeScaleway().block.add_volume("db", status="error")
    fake.add_fault(
        Fault("respond", method="GET", path=r"/volumes/[^/]+$", status=200, body=broken, times=None)
    )
    result = invoke.remote("--json", "block", "create", "--name", "db", "--size", "1GB", "--wait")
    assert result.exit_code == 1
    [volume] = fake.block.volumes()
    assert json.loads(result.stderr.splitlines()[-1])["id"] == volume["id"]


def test_other_failures_have_no_id(invoke: Invoker, fake: FakeScaleway) -> None:
    """ "id" is only for a resource that exists: an unknown id's 404 has none."""
    result = invoke.remote("--json", "block", "get", "00000000-0000-4000-8000-000000000007")
    assert result.exit_code == 1
    assert "id" not in json.loads(result.stderr)


def test_a_long_wait_suggests_a_longer_one() -> None:
    """After the default 300 s, `--wait` alone would wait no longer: the command doubles it."""
    error = WaitTimeoutError(
        resource_id="00000000-0000-4000-8000-000000000007",
        last_state="creating",
        timeout=300,
        kind="volume",
    )
    advice = hint(error)
    assert advice is not None
    assert "block get 00000000-0000-4000-8000-000000000007 --wait --wait-timeout 600`" in advice


def test_a_resize_timeout_does_not_mention_creating_again() -> None:
    """A volume still 'updating' was not being created: no warning about a second one."""
    error = WaitTimeoutError(
        resource_id="00000000-0000-4000-8000-000000000007",
        last_state="updating",
        timeout=5,
        kind="volume",
    )
    advice = hint(error)
    assert advice is not None
    assert "block get 00000000-0000-4000-8000-000000000007 --wait`" in advice
    assert "create" not in advice


def test_a_wait_that_saw_nothing_claims_no_volume(invoke: Invoker, fake: FakeScaleway) -> None:
    """Every poll of `block get ID --wait` failed (a 500) until the timeout: nothing was
    seen, so neither the hint nor `--json` says a volume exists (no `block get --wait`
    advice, no "id")."""
    volume = fake.block.add_volume("w", status="creating")
    fake.add_fault(Fault("respond", method="GET", status=500, times=None))
    result = invoke.remote("block", "get", volume["id"], *SLOW)
    assert result.exit_code == 1
    error, advice = error_lines(result.stderr)
    assert "not seen in any state" in error and "last poll failed" in error
    assert advice is None or "exists" not in advice
    as_json = invoke.remote("--json", "block", "get", volume["id"], *SLOW)
    assert as_json.exit_code == 1 and "id" not in json.loads(as_json.stderr)


@pytest.mark.parametrize("failure", ["503", "dropped"])
def test_a_created_volume_whose_polls_all_fail_is_still_named(
    invoke: Invoker, fake: FakeScaleway, failure: str
) -> None:
    """`block create --wait` made a volume (its create was answered: it was seen
    'creating'), then every poll failed (a 503, or the connection dropped) until the
    timeout: the volume exists and is billed, so `--json` carries its id and the hint
    how to wait for it, not to create it again."""
    fake.block_create_time = 3600
    if failure == "503":
        fake.add_fault(Fault("respond", method="GET", path=r"/volumes/", status=503, times=None))
    else:
        fake.add_fault(Fault("drop", method="GET", path=r"/volumes/", times=None))
    args = ("block", "create", "--name", "w", "--size", "10GB", *SLOW)
    as_json = invoke.remote("--json", *args)
    assert as_json.exit_code == 1, as_json.stderr
    [volume] = fake.block.volumes()
    # The failure is the last line (the progress line "created ..., waiting" before it).
    assert json.loads(as_json.stderr.splitlines()[-1])["id"] == volume["id"]
    text = invoke.remote(*args)
    _, advice = error_lines(text.stderr)
    made = [v for v in fake.block.volumes() if v["id"] != volume["id"]]
    assert advice is not None and f"block get {made[0]['id']} --wait" in advice
