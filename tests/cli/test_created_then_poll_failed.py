"""A `--wait` for a resource the command just created, stopped by a poll the API refused.

A 401, a 403 or a 501 is not polled through (the library raises it at once, or in
bulk ends the volume's wait with a `WaitTimeoutError` whose `__cause__` it is): the
resource exists all the same (and is billed), so the failure names it (`"id"` with
`--json`), and the hint is the advice for the refused poll, then the command that
waits for it once that is fixed, never "create it again".
"""

from __future__ import annotations

import json

import pytest

from scaleway_volumes import PermissionDeniedError, WaitTimeoutError
from scaleway_volumes.cli._errors import hint
from scaleway_volumes.testing import FakeScaleway, Fault

from .conftest import Invoker, error_lines

pytestmark = pytest.mark.usefixtures("no_sleep")
ONE = ("block", "create", "--name", "one", "--size", "1GB", "--wait")
PERMISSION = "The key is valid but may not do this"


def _refuse_polls(fake: FakeScaleway, status: int = 403) -> None:
    # Only the GETs: the create is answered, the volume exists.
    fake.add_fault(Fault("respond", method="GET", path=r"/volumes", status=status, times=None))


@pytest.mark.parametrize("status", [401, 403])
def test_single_create_json_failure_names_the_volume(
    invoke: Invoker, fake: FakeScaleway, status: int
) -> None:
    """`--json block create --name --wait` whose poll is refused: the failure has "id",
    as a `--count` create's items do."""
    fake.block_create_time = 5.0
    _refuse_polls(fake, status)
    result = invoke.remote("--json", *ONE)
    assert result.exit_code == 1
    [made] = fake.block.volumes()
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure["id"] == made["id"]
    assert failure["exit_code"] == 1
    assert str(status) in failure["error"]


def test_single_create_text_says_the_volume_exists(invoke: Invoker, fake: FakeScaleway) -> None:
    """Without --json: the Error line names the volume made and says it exists; the hint
    is the 403's advice, then how to wait for it once fixed, not to create it again."""
    fake.block_create_time = 5.0
    _refuse_polls(fake)
    result = invoke.remote(*ONE)
    assert result.exit_code == 1
    [made] = fake.block.volumes()
    error, advice = error_lines(result.stderr)
    assert f"created {made['id']} one, which exists" in error
    assert "403" in error
    assert advice is not None
    assert advice.startswith(f"hint: {PERMISSION}")
    assert f"block get {made['id']} --wait`" in advice
    assert "running the create again would make a second volume" in advice


def test_a_404_while_waiting_claims_no_volume(invoke: Invoker, fake: FakeScaleway) -> None:
    """A poll answered 404 says the volume is gone: the line names what was created,
    but `--json` has no "id" (it names only what exists) and the hint no "exists"."""
    fake.block_create_time = 5.0
    fake.add_fault(Fault("respond", method="GET", path=r"/volumes/", status=404, times=None))
    result = invoke.remote("--json", *ONE)
    assert result.exit_code == 1
    [made] = fake.block.volumes()
    failure = json.loads(result.stderr.splitlines()[-1])
    assert made["id"] in failure["error"] and "404" in failure["error"]
    assert "id" not in failure
    assert "exists" not in (failure["hint"] or "")


def test_snapshot_create_json_failure_names_the_snapshot(
    invoke: Invoker, fake: FakeScaleway
) -> None:
    """`block snapshot create --wait` whose poll is refused: "id" is the snapshot's, and
    the hint names `block snapshot get <id> --wait`."""
    volume = fake.block.add_volume("db")
    fake.block_snapshot_time = 5.0
    fake.add_fault(Fault("respond", method="GET", path=r"/snapshots/", status=403, times=None))
    args = ("block", "snapshot", "create", volume["id"], "--name", "s", "--wait")
    result = invoke.remote("--json", *args)
    assert result.exit_code == 1
    [snapshot] = fake.block.snapshots()
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure["id"] == snapshot["id"]
    assert failure["hint"].startswith(PERMISSION)
    assert f"`scaleway-volumes block snapshot get {snapshot['id']} --wait`" in failure["hint"]


def test_bulk_hint_after_a_refused_poll_is_about_the_refusal(
    invoke: Invoker, fake: FakeScaleway
) -> None:
    """A `--count` create whose polls are refused: the one hint is the 403's advice (a
    bare `block get --wait` would meet the same 403), still saying the volumes exist."""
    fake.block_create_time = 5.0
    _refuse_polls(fake)
    args = ("block", "create", "--name-prefix", "w", "--count", "2", "--size", "1GB", "--wait")
    result = invoke.remote(*args)
    assert result.exit_code == 1
    _, advice = error_lines(result.stderr)
    assert advice is not None and PERMISSION in advice
    assert "exists" in advice and "running the create again would make a second volume" in advice
    as_json = invoke.remote("--json", *args)
    for item in json.loads(as_json.stdout)["failed"]:
        assert item["hint"].startswith(PERMISSION), item
        assert item["id"] in item["hint"]


def test_hint_of_a_wait_stopped_by_a_refused_poll() -> None:
    """The hint of a `WaitTimeoutError` whose cause is an API error starts with that
    error's advice; one without a cause still says to wait again."""
    volume_id = "00000000-0000-4000-8000-000000000007"
    stopped = WaitTimeoutError(
        resource_id=volume_id, last_state="creating", timeout=0.5, kind="volume"
    )
    plain = hint(stopped)
    assert plain is not None and plain.startswith(f"The volume {volume_id} exists but is still")
    stopped.__cause__ = PermissionDeniedError("forbidden", status_code=403)
    advice = hint(stopped)
    assert advice is not None and advice.startswith(PERMISSION)
    assert f"`scaleway-volumes block get {volume_id} --wait`" in advice
    assert "running the create again would make a second volume" in advice
