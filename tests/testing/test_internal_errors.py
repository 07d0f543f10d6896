"""A bug inside the fake while it matches faults or takes a rate token (before it acts)
is handled like any other bug of the fake: a 500 ``internal_error`` over TCP, the
exception in-process, and never a request left counted in ``in_flight``."""

from __future__ import annotations

from typing import NoReturn

import httpx
import pytest

from scaleway_volumes.testing import FAKE_TOKEN, FakeScaleway, Fault
from scaleway_volumes.testing._bucket import RateBucket

WHERE = ["fault", "rate"]


def _break(fake: FakeScaleway, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make fault matching (``"fault"``) or the rate limiter (``"rate"``) raise."""

    def boom(*args: object) -> NoReturn:
        raise RuntimeError("boom")

    if where == "fault":
        fake.add_fault(Fault("respond", path="^/nowhere/"))
        monkeypatch.setattr(Fault, "matches", boom)
    else:
        monkeypatch.setattr(RateBucket, "take", boom)


@pytest.mark.parametrize("where", WHERE)
def test_over_tcp_it_is_a_500_and_the_connection_lives_on(
    where: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The client gets the documented 500, counted in ``stats``; the bug is logged, and
    the same keep-alive connection serves the next request."""
    fake = FakeScaleway()
    _break(fake, where, monkeypatch)
    with fake.serve() as server, httpx.Client(headers={"X-Auth-Token": FAKE_TOKEN}) as http:
        failed = http.get(f"{server.base_url}/volumes")
        assert failed.status_code == 500
        assert failed.json()["type"] == "internal_error"
        assert (fake.stats.in_flight, fake.stats.statuses) == (0, {500: 1})
        monkeypatch.undo()
        assert http.get(f"{server.base_url}/volumes").status_code == 200
    assert fake.stats.connections_opened == 1
    assert "RuntimeError: boom" in caplog.text


@pytest.mark.anyio
@pytest.mark.parametrize("where", WHERE)
async def test_in_process_it_raises_and_leaves_in_flight(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process the bug reaches the caller with its traceback (as documented) and the
    request no longer counts as in flight."""
    fake = FakeScaleway()
    _break(fake, where, monkeypatch)
    async with fake.client() as http:
        with pytest.raises(RuntimeError, match="boom"):
            await http.get("/volumes")
        assert fake.stats.in_flight == 0
        monkeypatch.undo()
        assert (await http.get("/volumes")).status_code == 200
    assert (fake.stats.in_flight, fake.stats.statuses) == (0, {200: 1})
