"""A DELETE meeting 409 ``transient_state`` in ``deleting`` (or ``deleted``) is done as a
404 would be (``missing_ok``, or an earlier attempt may have acted), never waited on
(else it is raised at once); any other transient state is waited out, 30 waits at most
even with no deadline, as the docs say."""

from __future__ import annotations

import math
import re
import uuid
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx

from scaleway_volumes import NotFoundError, RetryPolicy, TransientStateError
from scaleway_volumes._deletes import DeleteBatch, gone
from scaleway_volumes._retry import MAX_SETTLE_WAITS, Action, decide_answer

from ..conftest import BASE
from .helpers import make_api

VID = str(uuid.uuid4())
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.anyio


def busy(state: Any, *, kind: str = "transient_state", status: int = 409) -> httpx.Response:
    """The API's answer that the volume is in ``state``."""
    return httpx.Response(
        status,
        json={
            "type": kind,
            "message": "resource is in a transient state",
            "resource": "instance_volume",
            "resource_id": VID,
            "current_state": state,
        },
    )


@pytest.mark.parametrize(
    ("state", "method", "action"),
    [
        ("deleting", "DELETE", Action.RAISE),
        ("deleted", "DELETE", Action.RAISE),
        ("resizing", "DELETE", Action.SETTLE),
        (None, "DELETE", Action.SETTLE),
        ("deleting", "PATCH", Action.SETTLE),
    ],
)
def test_a_delete_meeting_deleting_is_not_waited_on(
    state: str | None, method: str, action: Action
) -> None:
    """Only a DELETE's 409 in ``deleting``/``deleted`` is raised at once: the resource
    leaves that state only by vanishing; any other is waited out."""
    decision = decide_answer(
        method, 409, policy=RetryPolicy(), attempt=1, transient_state=True, current_state=state
    )
    assert decision.action is action


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NotFoundError("gone", status_code=404), True),
        (TransientStateError("busy", status_code=409, current_state="deleting"), True),
        (TransientStateError("busy", status_code=409, current_state="deleted"), True),
        (TransientStateError("busy", status_code=409, current_state="resizing"), False),
        (TransientStateError("busy", status_code=409), False),
    ],
)
def test_gone_reads_a_404_or_a_deleting_state(error: Exception, expected: bool) -> None:
    """What a DELETE's error says about the resource: gone, or not."""
    assert gone(error) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize("state", ["deleting", "deleted"])
async def test_missing_ok_delete_of_a_volume_being_deleted_is_done_at_once(
    no_sleep: list[float], state: str
) -> None:
    """``missing_ok``: already on its way out counts as gone, with no wait."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.delete(f"/volumes/{VID}").mock(return_value=busy(state))
        await make_api().delete_volume(VID, missing_ok=True)
    assert route.call_count == 1 and no_sleep == []


async def test_a_retry_meeting_deleting_after_a_drop_is_done(no_sleep: list[float]) -> None:
    """The first attempt may have acted (no answer): its retry's 409 ``deleting`` is
    that attempt's doing, so ``missing_ok=False`` succeeds too, after the one backoff."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.delete(f"/volumes/{VID}").mock(
            side_effect=[httpx.RemoteProtocolError("dropped"), busy("deleting")]
        )
        await make_api().delete_volume(VID)
    assert route.call_count == 2 and len(no_sleep) == 1


async def test_a_fresh_strict_delete_of_a_volume_being_deleted_raises_at_once(
    no_sleep: list[float],
) -> None:
    """``missing_ok=False`` and nothing this call sent acted: deleting is somebody
    else's doing, raised at once as the ``TransientStateError`` it is (waiting would
    only end in a ``NotFoundError``, up to 216 s later)."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.delete(f"/volumes/{VID}").mock(return_value=busy("deleting"))
        with pytest.raises(TransientStateError) as info:
            await make_api().delete_volume(VID)
    assert info.value.current_state == "deleting"
    assert route.call_count == 1 and no_sleep == []


async def test_other_transient_states_are_waited_out_even_with_missing_ok(
    no_sleep: list[float],
) -> None:
    """``resizing`` is no deletion: waited out, then deleted."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.delete(f"/volumes/{VID}").mock(
            side_effect=[busy("resizing"), httpx.Response(204)]
        )
        await make_api().delete_volume(VID, missing_ok=True)
    assert route.call_count == 2 and len(no_sleep) == 1


async def test_settle_waits_are_capped_with_no_deadline(no_sleep: list[float]) -> None:
    """``deadline=None`` does not lift the cap: after ``MAX_SETTLE_WAITS`` waits the
    DELETE raises ``TransientStateError``, as the docs say."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.delete(f"/volumes/{VID}").mock(return_value=busy("snapshotting"))
        with pytest.raises(TransientStateError):
            await make_api(deadline=None, retry=RetryPolicy()).delete_volume(VID)
    assert len(no_sleep) == MAX_SETTLE_WAITS == 30
    assert route.call_count == MAX_SETTLE_WAITS + 1


def _cap_seconds(policy: RetryPolicy) -> float:
    """The longest the settle waits of one call take in all: each is drawn up to
    ``backoff_initial`` doubling to ``backoff_max``."""
    return sum(
        min(policy.backoff_max, math.ldexp(policy.backoff_initial, n - 1))
        for n in range(1, MAX_SETTLE_WAITS + 1)
    )


@pytest.mark.parametrize(
    ("doc", "row"),
    [
        ("README.md", "| `TransientStateError` |"),
        ("docs/errors.md", "| `TransientStateError` | the resource is busy"),
        ("docs/block-storage.md", "| PATCH or DELETE of a volume in a transient state"),
    ],
)
def test_the_docs_state_the_settle_cap(doc: str, row: str) -> None:
    """Where the docs promise the wait for a transient state, they give its cap: the
    number of waits, their longest total with the default policy, and that
    ``deadline=None`` does not lift it."""
    lines = [line for line in (ROOT / doc).read_text().splitlines() if line.startswith(row)]
    assert len(lines) == 1, lines
    line = lines[0]
    seconds = round(_cap_seconds(RetryPolicy()))
    assert f"{MAX_SETTLE_WAITS} waits" in line
    assert f"{seconds} s" in line
    assert "`deadline=None`" in line


async def test_batch_waits_for_the_other_items_of_an_id() -> None:
    """``deleted_by_another`` answers once no other item of the id is running."""
    batch = DeleteBatch()
    batch.start("a")
    batch.start("a")
    batch.end("a", False)  # this item's 404
    answers: list[bool] = []

    async def ask() -> None:
        answers.append(await batch.deleted_by_another("a"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        assert answers == []
        batch.end("a", True)
    assert answers == [True]
    assert await batch.deleted_by_another("b") is False
    batch.start("c")
    batch.end("c", False)
    assert await batch.deleted_by_another("c") is False


def test_cap_in_docstrings_matches_the_policy() -> None:
    """The docstrings give the same cap."""
    from scaleway_volumes import AsyncBlockAPI

    seconds = round(_cap_seconds(RetryPolicy()))
    for method in (AsyncBlockAPI.delete_volume, AsyncBlockAPI.delete_volumes):
        text = re.sub(r"\s+", " ", method.__doc__ or "")
        assert f"30 waits of the retry backoff at most ({seconds} s" in text, method
