"""reset() between tests: a request the fake still holds from before (its client gave up,
or still waits, while the fake sleeps out a delay) is forgotten, never applied later."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import anyio
import httpx
import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FakeScaleway, Fault, RecordedRequest

from ..waiting import eventually
from .conftest import Target

pytestmark = pytest.mark.anyio

GB = 1_000_000_000
BLOCK = "/block/v1/zones/fr-par-1"
BODY = {"name": "from-test-a", "project_id": FAKE_ORGANIZATION, "from_empty": {"size": 10 * GB}}


async def test_reset_forgets_a_request_its_client_gave_up_on(target: Target) -> None:
    """Test A times out on a create the fake still sleeps on; after reset(), test B never
    sees that volume appear, and the request stops counting in ``in_flight``."""
    fake = target.fake
    fake.add_fault(Fault("delay", method="POST", delay=0.5))
    before = set(threading.enumerate())
    async with target.client(BLOCK, timeout=httpx.Timeout(5, read=0.01)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/volumes", json=BODY)
    # Over TCP the server's thread may read the request after the client gave up.
    await eventually(lambda: len(fake.stats.requests) == 1)
    fake.reset()
    if target.kind == "inprocess":
        # The transport's pending completion is cancelled, not left to run.
        assert fake.stats.in_flight == 0
        for thread in set(threading.enumerate()) - before:
            if isinstance(thread, threading.Timer):
                thread.join()
    # Over TCP the server's sleep ends, then it drops the forgotten request.
    await eventually(lambda: fake.stats.in_flight == 0)
    assert fake.block.volumes() == []
    assert fake.stats.statuses == {}


async def test_a_request_whose_delay_spans_reset_is_dropped(target: Target) -> None:
    """A client still waiting when reset() comes gets no answer (the connection closes,
    as for a ``drop`` fault) and the create is not applied."""
    fake = target.fake
    fake.add_fault(Fault("delay", method="POST", delay=1.0))
    async with target.client(BLOCK, timeout=5) as http:

        async def reset_once_received() -> None:
            await eventually(lambda: fake.stats.in_flight == 1)
            fake.reset()

        async with anyio.create_task_group() as tg:
            tg.start_soon(reset_once_received)
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post("/volumes", json=BODY)
        assert fake.block.volumes() == []
        # The fake serves as usual afterwards.
        assert (await http.get("/volumes")).json()["total_count"] == 0
    await eventually(lambda: fake.stats.in_flight == 0)


class _ResettingOnAct(FakeScaleway):
    """Calls ``reset()`` from another thread (the test's, between two tests) just as a
    held create is about to act, and gives it half a second to run first."""

    reset_thread: threading.Thread | None = None

    def _dispatch(self, request: RecordedRequest, root: str) -> Any:
        if request.method == "POST" and self.reset_thread is None:
            self.reset_thread = threading.Thread(target=self.reset)
            self.reset_thread.start()
            self.reset_thread.join(0.5)
        return super()._dispatch(request, root)


def test_a_reset_as_a_held_request_acts_clears_its_work() -> None:
    """A reset() that comes as a held create passes its check and acts waits for the
    act (the request is checked and acts under the fake's lock) and then clears what
    it made: nothing from one test lands in the next."""
    fake = _ResettingOnAct(latency=0.05)
    with fake.serve() as server:
        body = {"name": "old-test", "project_id": fake.organization, "from_empty": {"size": GB}}
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(
                f"{server.block_base_url}/volumes",
                json=body,
                headers={"X-Auth-Token": fake.token or ""},
                timeout=5,
            )
    assert fake.reset_thread is not None
    fake.reset_thread.join(5)
    assert not fake.reset_thread.is_alive()
    assert fake.block.volumes() == []
