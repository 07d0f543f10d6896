"""Waiters of both APIs over loopback TCP: every outcome, the schedule, pacing, cancellation.

Under ``no_sleep`` the waits take no time but are recorded, so the schedule is
checked without a clock; the fake's state changes between polls are driven by
a rate limiter that acts after the n-th answer (every poll goes through it).
Polls that fail (429s, 5xx, the network) are in ``test_waiter_poll_errors.py``;
models of another zone and upper-case ids in ``test_model_zones.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from scaleway_volumes import (
    AsyncVolumeAPI,
    BlockSnapshot,
    BlockVolume,
    BlockVolumeSpec,
    NotFoundError,
    ResourceStateError,
    Volume,
    WaitTimeoutError,
)
from scaleway_volumes._waiters import LAST_POLL_LEAD
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault, ManualClock

from ..waiting import eventually
from .block_helpers import MISSING, CountingLimiter, make_block, requests

pytestmark = pytest.mark.anyio


class After(CountingLimiter):
    """A limiter that runs ``actions[n]`` once the n-th request (1-based) has its answer."""

    def __init__(self, actions: dict[int, Callable[[], object]]) -> None:
        super().__init__()
        self.actions = actions

    def release(self, permit: object, status: int | None) -> None:
        """Count, then act if this answer is one we wait for."""
        super().release(permit, status)
        action = self.actions.get(len(self.released))
        if action is not None:
            action()


def gets(fake: FakeScaleway, resource: str = "volumes") -> int:
    return len(requests(fake, "GET", resource))


# -- Block volumes --------------------------------------------------------------------


async def test_waits_for_settled_with_the_backoff_schedule(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """First poll at once, then waits in [d/2, d] doubling from 0.5 s, until it settles."""
    clock = ManualClock()
    fake.clock = clock
    fake.block_create_time = 10
    # Request 1 is the create; polls are 2, 3, 4, 5: it settles before the fifth.
    limiter = After({4: lambda: clock.advance(10)})
    async with make_block(fake, server, rate_limiter=limiter) as api:
        created = await api.create_volume(name="db", size=10**10)
        volume = await api.wait_for_volume(created)
    assert isinstance(volume, BlockVolume) and volume.status == "available"
    assert gets(fake) == 4
    assert len(no_sleep) == 3
    for wait, bound in zip(no_sleep, (0.5, 1.0, 2.0), strict=True):
        assert bound / 2 <= wait <= bound
    assert limiter.acquired == 5, "every poll went through the rate limiter"


async def test_already_settled_is_one_poll(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A settled volume is returned by the first poll, with no wait."""
    stored = fake.block.add_volume("db", status="in_use")
    async with make_block(fake, server) as api:
        volume = await api.wait_for_volume(stored["id"])
    assert volume.status == "in_use" and gets(fake) == 1 and no_sleep == []


@pytest.mark.parametrize("until", ["in_use", ["in_use", "deleted"], ("error",)])
async def test_waits_for_the_states_asked_for(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float], until: object
) -> None:
    """until (a state or a collection) is waited for through settled states, error included."""
    stored = fake.block.add_volume("db")
    wanted = "error" if until == ("error",) else "in_use"

    def change() -> None:
        if wanted == "error":
            fake.block.set_volume_status(stored["id"], "error")
        else:
            fake.block.add_reference(stored["id"])

    async with make_block(fake, server, rate_limiter=After({2: change})) as api:
        volume = await api.wait_for_volume(stored["id"], until=until)  # type: ignore[call-overload]
    assert volume is not None and volume.status == wanted
    assert gets(fake) == 3


@pytest.mark.parametrize("state", ["error", "locked"])
async def test_failure_state_raises_at_once(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float], state: str
) -> None:
    """error/locked not asked for: ResourceStateError on that poll, with the volume."""
    stored = fake.block.add_volume("db", status=state)
    async with make_block(fake, server) as api:
        with pytest.raises(ResourceStateError) as info:
            await api.wait_for_volume(stored["id"], until="available")
    error = info.value
    assert (error.state, error.kind, error.resource_id) == (state, "volume", stored["id"])
    assert isinstance(error.resource, BlockVolume) and error.resource.status == state
    assert error.expected == ("available",)
    assert gets(fake) == 1


async def test_until_deleted_follows_deleting_to_404(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """After a delete: 'deleting' is waited through; the 404 is success and returns None."""
    clock = ManualClock()
    fake.clock = clock
    fake.block_delete_time = 5
    stored = fake.block.add_volume("db")
    limiter = After({3: lambda: clock.advance(5)})  # delete, poll (deleting), poll (deleting)
    async with make_block(fake, server, rate_limiter=limiter) as api:
        await api.delete_volume(stored["id"])
        gone = await api.wait_for_volume(stored["id"], until="deleted")
        assert await api.wait_for_volume(MISSING, until=["deleted"]) is None
    assert gone is None
    assert gets(fake) == 4


async def test_gone_while_waiting_for_another_state_is_not_found(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A 404 when not waiting for deletion: the NotFoundError, at once."""
    async with make_block(fake, server) as api:
        with pytest.raises(NotFoundError):
            await api.wait_for_volume(MISSING)
    assert gets(fake) == 1


def answer_deleted(fake: FakeScaleway, volume: dict[str, object]) -> None:
    """Every GET of the volume answers it with the status 'deleted' (as the API may)."""
    body = {**volume, "status": "deleted"}
    path = f"/volumes/{volume['id']}$"
    fake.add_fault(Fault("respond", method="GET", path=path, status=200, body=body, times=None))


@pytest.mark.parametrize("until", [None, "available", ["in_use", "error"]])
async def test_status_deleted_is_gone_like_a_404(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float], until: object
) -> None:
    """Status 'deleted' when not waiting for deletion: the NotFoundError a 404 gives, at once
    (not a settled volume, nor a ResourceStateError advising support)."""
    stored = fake.block.add_volume("db")
    answer_deleted(fake, stored)
    async with make_block(fake, server) as api:
        with pytest.raises(NotFoundError) as seen:
            await api.wait_for_volume(stored["id"], until=until)  # type: ignore[call-overload]
        with pytest.raises(NotFoundError) as missing:
            await api.wait_for_volume(MISSING)
        assert await api.wait_for_volume(stored["id"], until="deleted") is None
    error, reference = seen.value, missing.value
    assert not isinstance(error, ResourceStateError)
    for name in ("status_code", "type", "message", "resource", "method"):
        assert getattr(error, name) == getattr(reference, name), name
    assert error.resource_id == stored["id"]
    assert error.path == reference.path.replace(MISSING, stored["id"])  # type: ignore[union-attr]
    assert "status 'deleted'" in str(error)
    assert gets(fake) == 3


async def test_a_huge_int_timeout_is_no_bound(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """10**400 s (too large for a float) as a wait's timeout, the API's deadline or its
    request timeout is no bound, not an OverflowError."""
    stored = fake.block.add_volume("db")
    async with make_block(fake, server, deadline=10**400, timeout=10**400) as api:
        volume = await api.wait_for_volume(stored["id"], timeout=10**400)
        snapshot = fake.block.add_snapshot(stored["id"])
        assert (await api.wait_for_snapshot(snapshot["id"], timeout=10**400)).id == snapshot["id"]
    assert volume.status == "available"


async def test_timeout_carries_the_last_state(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """Never settles: WaitTimeoutError (a TimeoutError) with the last state, waits within it."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    async with make_block(fake, server) as api:
        volume = await api.create_volume(name="slow", size=10**10)
        with pytest.raises(WaitTimeoutError) as info:
            await api.wait_for_volume(volume, timeout=4.0)
    error = info.value
    assert isinstance(error, TimeoutError)
    assert (error.last_state, error.resource_id, error.timeout) == ("creating", volume.id, 4.0)
    assert "creating" in str(error)
    # Polls at 0, then after each wait; the last one comes just before the timeout.
    assert 4.0 - LAST_POLL_LEAD - 1e-9 <= sum(no_sleep) < 4.0  # float sum: 3.4999999999999996
    assert gets(fake) == len(no_sleep) + 1


async def test_cancellation_stops_polling_cleanly(fake: FakeScaleway, server: FakeServer) -> None:
    """Cancelled mid-wait (real time): the cancel propagates, no poll follows, API usable."""
    fake.clock = ManualClock()
    fake.block_create_time = 10
    # Every request the client sends goes through its rate limiter: count them there.
    # The fake may record a poll that was on the wire at the cancel whenever its
    # thread gets to it, and a busy host can make that late.
    limiter = CountingLimiter()
    async with make_block(fake, server, rate_limiter=limiter) as api:
        volume = await api.create_volume(name="slow", size=10**10)
        with anyio.move_on_after(0.3) as scope:
            await api.wait_for_volume(volume)
        assert scope.cancelled_caught
        sent = limiter.acquired
        # Polls went at 0 and within [0.25, 0.5] s; the next would come by 1.25 s.
        await anyio.sleep(1.0)
        assert limiter.acquired == sent
        assert (await api.get_volume(volume)).id == volume.id


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"timeout": 0}, ValueError),
        ({"timeout": -1.0}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"timeout": "60"}, ValueError),
        ({"until": ""}, ValueError),
        ({"until": []}, ValueError),
        ({"until": [1]}, ValueError),
        ({"until": "availble"}, ValueError),
        ({"until": "Available"}, ValueError),
        ({"until": ["available", "in-use"]}, ValueError),
    ],
)
async def test_bad_arguments_send_nothing(
    fake: FakeScaleway, server: FakeServer, kwargs: dict[str, object], error: type[Exception]
) -> None:
    """timeout and until (a state the resource can have, in its case) are checked before
    the first poll."""
    async with make_block(fake, server) as api:
        with pytest.raises(error):
            await api.wait_for_volume(MISSING, **kwargs)  # type: ignore[call-overload]
        with pytest.raises(error):
            await api.wait_for_snapshot(MISSING, **kwargs)  # type: ignore[call-overload]
        with pytest.raises(ValueError, match="volume_id"):
            await api.wait_for_volume("../x")
    assert fake.stats.requests == []


# -- Block snapshots ------------------------------------------------------------------


async def test_snapshot_waits_then_deletes(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A new snapshot is creating, then available; after delete, until='deleted' is None."""
    stored = fake.block.add_volume("db")
    async with make_block(fake, server) as api:
        snapshot = await api.create_snapshot(stored["id"], name="s")
        ready = await api.wait_for_snapshot(snapshot)
        await api.delete_snapshot(ready)
        gone = await api.wait_for_snapshot(snapshot, until="deleted")
    assert isinstance(ready, BlockSnapshot) and ready.status == "available"
    assert gone is None


async def test_snapshot_in_error_raises(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """A snapshot that ends in error: ResourceStateError naming a snapshot."""
    volume = fake.block.add_volume("db")
    stored = fake.block.add_snapshot(volume["id"], status="error")
    async with make_block(fake, server) as api:
        with pytest.raises(ResourceStateError) as info:
            await api.wait_for_snapshot(stored["id"])
    assert (info.value.kind, info.value.state) == ("snapshot", "error")
    assert isinstance(info.value.resource, BlockSnapshot)


async def test_bulk_wait_fails_the_volume_seen_deleted(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """create_volumes(wait=True): a volume whose status turns 'deleted' is a failed item
    whose error says it is gone; the others succeed."""
    clock = ManualClock()
    fake.clock = clock
    fake.block_create_time = 10
    box: list[object] = []
    names = [f"bulk-{i}" for i in range(3)]
    async with make_block(fake, server) as api:

        async def run() -> None:
            box.append(
                await api.create_volumes(
                    [BlockVolumeSpec(n, size=10**10) for n in names], wait=True
                )
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await eventually(lambda: len(fake.block.volumes()) == 3)
            (doomed,) = [v for v in fake.block.volumes() if v["name"] == "bulk-1"]
            fake.block.set_volume_status(doomed["id"], "deleted")  # not listed any more
            answer_deleted(fake, doomed)  # but its own GET still answers it
            clock.advance(10)
    (result,) = box
    assert len(result.succeeded) == 2  # type: ignore[attr-defined]
    ((spec, error),) = result.failed  # type: ignore[attr-defined]
    assert spec.name == "bulk-1" and isinstance(error, NotFoundError)
    assert "deleted" in str(error) and error.resource_id == doomed["id"]


# -- Instance volumes -----------------------------------------------------------------


def instance_api(fake: FakeScaleway, server: FakeServer, **kwargs: object) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        **kwargs,  # type: ignore[arg-type]
    )


def answer_state(fake: FakeScaleway, volume: dict[str, object], state: str, times: int) -> None:
    """The next ``times`` GETs of the volume answer it in ``state``."""
    fake.add_fault(
        Fault(
            "respond",
            method="GET",
            path=f"/volumes/{volume['id']}$",
            status=200,
            body={"volume": {**volume, "state": state}},
            times=times,
        )
    )


async def test_instance_waits_through_transient_states(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """snapshotting, then available: returned after the third poll."""
    stored = fake.add_volume(name="local")
    answer_state(fake, stored, "snapshotting", 2)
    async with instance_api(fake, server) as api:
        volume = await api.wait_for_volume(stored["id"])
    assert isinstance(volume, Volume) and volume.state == "available"
    assert len(fake.stats.requests) == 3 and len(no_sleep) == 2


async def test_instance_error_timeout_and_deleted(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """error raises ResourceStateError; stuck times out; a deleted volume's 404 is success."""
    broken = fake.add_volume(name="broken", state="error")
    stuck = fake.add_volume(name="stuck")
    answer_state(fake, stuck, "hotsyncing", 1000)
    async with instance_api(fake, server) as api:
        with pytest.raises(ResourceStateError) as info:
            await api.wait_for_volume(broken["id"])
        with pytest.raises(WaitTimeoutError) as late:
            await api.wait_for_volume(stuck["id"], timeout=2.0)
        await api.delete_volume(broken["id"])
        assert await api.wait_for_volume(broken["id"], until="deleted") is None
    assert isinstance(info.value.resource, Volume) and info.value.state == "error"
    assert late.value.last_state == "hotsyncing"


async def test_instance_until_is_checked_against_instance_states(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """The Instance API has no in_use (nor locked): waiting for it is refused at once."""
    stored = fake.add_volume(name="local")
    async with instance_api(fake, server) as api:
        for until in ("in_use", "Available", ["available", "locked"]):
            with pytest.raises(ValueError, match="until: a volume has no state"):
                await api.wait_for_volume(stored["id"], until=until)  # type: ignore[call-overload]
        assert fake.stats.requests == []
        assert (await api.wait_for_volume(stored["id"], until=["available", "error"])) is not None


async def test_instance_seed_volume_without_state_is_available(
    fake: FakeScaleway, server: FakeServer, no_sleep: list[float]
) -> None:
    """The seed API reports no state: the volume counts as available at once."""
    stored = fake.add_volume(name="seed")
    seed = {k: stored[k] for k in ("id", "name", "size", "volume_type", "organization")}
    fake.add_fault(Fault("respond", method="GET", status=200, body={"volume": seed}))
    async with instance_api(fake, server) as api:
        volume = await api.wait_for_volume(stored["id"], until="available")
    assert volume.state is None and len(fake.stats.requests) == 1
