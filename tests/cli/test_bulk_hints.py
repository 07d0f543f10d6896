"""Bulk commands: a line per failed item, then one hint for them all, never one per item."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from scaleway_volumes import AsyncVolumeAPI, ScalewayError
from scaleway_volumes.testing import FakeScaleway, Fault, transient_state_body

from .conftest import Invoker, error_lines
from .test_error_hints import COLLECTION, INVALID_BODY, QUOTA_BODY

pytestmark = pytest.mark.usefixtures("no_sleep")

COUNT = 30
QUOTA_HINT = (
    "The quota volumes_l_ssd_total_size (90000000000 of 100000000000 used) is full: "
    "delete what is no longer needed, or ask for a higher quota on the Quotas page of "
    "the Scaleway console."
)


def _create_many(invoke: Invoker, *extra: str) -> Any:
    return invoke.remote(
        *extra, "create", "--name-prefix", "q", "--count", str(COUNT), "--size", "20GB"
    )


def _quota(fake: FakeScaleway, times: int | None = None) -> None:
    fake.add_fault(
        Fault("respond", method="POST", path=COLLECTION, status=403, body=QUOTA_BODY, times=times)
    )


def test_many_failures_print_the_hint_once(invoke: Invoker, fake: FakeScaleway) -> None:
    """30 quota failures: 30 item lines, the count, then the quota hint once, last."""
    _quota(fake)
    result = _create_many(invoke)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert sum(line.startswith("failed to create q") for line in lines) == COUNT
    assert sum("hint" in line.lower() for line in lines) == 1
    error, hint = error_lines(result.stderr)
    assert error == f"Error: {COUNT} of {COUNT} creates failed"
    assert hint == f"hint: {QUOTA_HINT}"
    assert fake.volumes == []


def test_many_failures_in_json(invoke: Invoker, fake: FakeScaleway) -> None:
    """--json: every failed item carries its hint on stdout; stderr ends in one JSON failure."""
    _quota(fake)
    result = _create_many(invoke, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert len(document["failed"]) == COUNT
    assert {item["hint"] for item in document["failed"]} == {QUOTA_HINT}
    assert not any(line.startswith("hint:") for line in result.stderr.splitlines())
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure == {
        "error": f"{COUNT} of {COUNT} creates failed",
        "hint": QUOTA_HINT,
        "exit_code": 1,
    }


def test_mixed_failures_hint_the_most_common(invoke: Invoker, fake: FakeScaleway) -> None:
    """20 quota and 10 invalid-argument failures: the quota hint, saying it is for 20 of 30."""
    _quota(fake, times=20)
    fake.add_fault(
        Fault("respond", method="POST", path=COLLECTION, status=400, body=INVALID_BODY, times=None)
    )
    result = _create_many(invoke)
    assert result.exit_code == 1
    _, hint = error_lines(result.stderr)
    assert hint == f"hint: (20 of the {COUNT} failures) {QUOTA_HINT}"
    assert result.stderr.count("403 quotas_exceeded") == 20
    assert result.stderr.count("400 invalid_arguments") == 10


def test_partial_delete_hints_detach(invoke: Invoker, fake: FakeScaleway) -> None:
    """Deleting 4 volumes of which 3 are attached: 1 deleted, 3 lines, one 'detach' hint."""
    attached = [fake.add_volume(f"a{i}", server="srv-1")["id"] for i in range(3)]
    free = fake.add_volume("free")["id"]
    result = invoke.remote("delete", "--yes", *attached, free)
    assert result.exit_code == 1
    assert result.stdout == f"deleted {free}\n"
    assert result.stderr.count("failed to delete") == 3
    error, hint = error_lines(result.stderr)
    assert error == "Error: 3 of 4 deletes failed"
    assert hint is not None and hint.startswith("hint: It is still in use")
    assert sorted(v["id"] for v in fake.volumes) == sorted(attached)


def test_outcome_unknown_creates_name_one_of_them(invoke: Invoker, fake: FakeScaleway) -> None:
    """Each ambiguous create has its own tag: the hint names the item it shows the tag of."""
    fake.add_fault(Fault("act_then_drop", method="POST", path=COLLECTION, times=None))
    fake.add_fault(
        Fault("respond", method="GET", path=COLLECTION, status=503, body=b"", times=None)
    )
    result = invoke.remote("create", "--name-prefix", "u", "--count", "3", "--size", "20GB")
    assert result.exit_code == 1
    _, hint = error_lines(result.stderr)
    assert hint is not None
    shown = re.fullmatch(
        r"hint: \(for (u\d); likewise for the other 2\) It may have been created anyway: "
        r"list what carries the tag (\S+) \(scaleway-volumes list --tag \2\).*",
        hint,
    )
    assert shown is not None, hint
    item_line = next(
        line
        for line in result.stderr.splitlines()
        if line.startswith(f"failed to create {shown[1]}:")
    )
    assert shown[2] in item_line
    assert len(fake.volumes) == 3


def test_ctrl_c_report_ends_with_a_hint(
    invoke: Invoker, fake: FakeScaleway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in a bulk delete: what was done, what failed, then the hint for the failures."""
    free = fake.add_volume("tmp-0")["id"]
    fake.add_volume("tmp-1", server="srv-1")

    async def bulk(self: AsyncVolumeAPI, items: Any, **kwargs: Any) -> Any:
        first, second = sorted(items, key=lambda v: v.name)
        await self.delete_volume(first)
        kwargs["on_item"](0, first, first.id)
        try:
            await self.delete_volume(second)
        except ScalewayError as error:  # the fake's own 412: the volume is attached
            kwargs["on_item"](1, second, error)
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncVolumeAPI, "delete_volumes", bulk)
    result = invoke.remote("delete", "--name-prefix", "tmp-", "--yes")
    assert result.exit_code == 130
    lines = result.stderr.splitlines()
    assert f"  deleted {free}" in lines
    assert lines[-2].startswith("  failed: ") and "412 precondition_failed" in lines[-2]
    assert lines[-1].startswith("hint: It is still in use")


def test_demo_failure_ends_with_a_hint(invoke: Invoker, demo_faults: Callable[..., None]) -> None:
    """A demo whose resize meets a busy volume: its error line, then the hint for it."""
    busy = transient_state_body("volume", "anything", "snapshotting")
    demo_faults(Fault("respond", method="PATCH", status=409, times=None, body=busy))
    result = invoke("demo", "--count", "2", "--latency", "0", "--settle-time", "0")
    assert result.exit_code == 1
    assert "failed to resize" in result.stderr
    error, hint = error_lines(result.stderr)
    assert error == "Error: the demo did not go through cleanly (see above)"
    assert hint == "hint: The volume is busy (snapshotting): wait until it settles, then try again."
