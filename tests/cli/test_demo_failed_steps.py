"""The demo's summary after a failed step: always printed, failed phases marked.

docs/cli.md: "A failed step prints its line, the summary still follows, and the
command exits 1 with the hint for the failures; a phase that failed shows
(failed)". That holds for a failed item of a bulk phase, for the listing, and for
a whole bulk call that raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from scaleway_volumes import AsyncBlockAPI, PermissionDeniedError, ScalewayError
from scaleway_volumes.testing import Fault

from .conftest import Invoker, error_lines

pytestmark = pytest.mark.usefixtures("no_sleep")
DEMO = ("demo", "--count", "3", "--latency", "0", "--settle-time", "0")
CLEAN_END = "Error: the demo did not go through cleanly (see above)"


def _line(stdout: str, key: str) -> str:
    [line] = [line for line in stdout.splitlines() if line.split()[0] == key]
    return line


def test_a_failed_create_item_marks_the_create_phase(
    invoke: Invoker, demo_faults: Callable[..., None]
) -> None:
    """One create of three refused: `created 2/3 ... (failed)`, not `available in X s`."""
    demo_faults(Fault("respond", method="POST", path="/volumes$", status=403, times=1))
    result = invoke(*DEMO)
    assert result.exit_code == 1
    assert _line(result.stdout, "created") == "created     2/3 Block volumes, available (failed)"
    assert _line(result.stdout, "failed") == "failed      1"


def test_a_failed_delete_item_marks_the_delete_phase(
    invoke: Invoker, demo_faults: Callable[..., None]
) -> None:
    """One volume delete of three refused: `deleted 2/3 ... (failed)`."""
    demo_faults(Fault("respond", method="DELETE", path="/volumes/", status=403, times=1))
    result = invoke(*DEMO)
    assert result.exit_code == 1
    deleted = _line(result.stdout, "deleted")
    assert deleted.startswith("deleted     2/3 volumes")
    assert deleted.endswith("(failed)")


def _refuse_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    # The listing alone (a fault on GET /volumes would refuse the bulk wait's polls too).
    async def refuse(self: AsyncBlockAPI, **kwargs: Any) -> Any:
        raise PermissionDeniedError("forbidden", status_code=403)

    monkeypatch.setattr(AsyncBlockAPI, "list_volumes", refuse)


def test_a_failed_listing_still_prints_the_summary(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing refused: its line on stderr, `listed 0 (failed)`, the tour goes on
    (snapshot, resize, delete), then the Error and exit 1."""
    _refuse_listing(monkeypatch)
    result = invoke(*DEMO)
    assert result.exit_code == 1
    assert "failed to list the demo-* volumes: 403 unknown: forbidden" in result.stderr
    assert _line(result.stdout, "listed") == "listed      0 (failed)"
    assert _line(result.stdout, "deleted").startswith("deleted     3/3 volumes and 1/1 snapshot")
    error, _ = error_lines(result.stderr)
    assert error == CLEAN_END


def test_a_failed_listing_still_prints_the_json_document(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --json, the document is on stdout all the same."""
    _refuse_listing(monkeypatch)
    result = invoke("--json", *DEMO)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["listed"] == 0 and document["failed"] == 1
    assert json.loads(result.stderr.splitlines()[-1])["error"] == CLEAN_END.removeprefix("Error: ")


def test_a_whole_bulk_call_that_raises_still_prints_the_summary(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`delete_volumes` raising as a whole: the delete phase `(failed)`, the summary
    printed, the error's line on stderr, exit 1 (not the raw error alone)."""

    async def refuse(self: AsyncBlockAPI, volumes: Any, **kwargs: Any) -> Any:
        raise ScalewayError("no deletes today")

    monkeypatch.setattr(AsyncBlockAPI, "delete_volumes", refuse)
    result = invoke(*DEMO)
    assert result.exit_code == 1
    assert "failed to delete the demo-* volumes: no deletes today" in result.stderr
    assert _line(result.stdout, "created").startswith("created     3/3")
    assert _line(result.stdout, "deleted").endswith("(failed)")
    error, _ = error_lines(result.stderr)
    assert error == CLEAN_END


def test_ctrl_c_in_the_delete_phase_counts_what_was_deleted(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C once the bulk delete had deleted every volume, before the phase ended:
    the line says `deleted 3`, not `deleted 0`."""
    original = AsyncBlockAPI.delete_volumes

    async def then_interrupted(self: AsyncBlockAPI, volumes: Any, **kwargs: Any) -> Any:
        await original(self, volumes, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(AsyncBlockAPI, "delete_volumes", then_interrupted)
    result = invoke(*DEMO)
    assert result.exit_code == 130
    assert "interrupted during delete: created 3, deleted 3" in result.stderr
