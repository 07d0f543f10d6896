"""``create_volumes(wait=True)``: one poller per bulk call, up to 100 volumes per request.

Workers hand each volume they created to the call's ``VolumePoller`` and wait
for its verdict; they do not poll. The poller keeps, for each pending volume,
its own schedule (capped exponential backoff with jitter, from ``poll_delays``)
and a deadline. It sleeps until the earliest volume is due, then polls every
due volume with ``GET /volumes?volume_ids=a&volume_ids=b...`` (100 ids per
request, the API's page size), filling the last request with the volumes
due next, since a request costs the same with 3 ids or 100. So the number of
polls grows with the time volumes take to settle, not with their number.

The poller's requests take a slot of the bulk call's bound on requests in
flight (``Slots``) ahead of the queued creates, and go through the pipeline
like any call (retried, paced by the rate limiter).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

import anyio

from ._block_models import BlockVolume
from ._errors import (
    APIConnectionError,
    NotFoundError,
    RateLimitError,
    ResourceStateError,
    ScalewayError,
    ServerError,
    WaitTimeoutError,
)
from ._retry import wait
from ._slots import Slots
from ._states import BLOCK_VOLUME_TRANSIENT, classify, poll_delays

__all__ = ["BATCH", "POLL_CAP", "POLL_INITIAL", "WAIT_TIMEOUT", "VolumePoller", "poll_count"]

T = TypeVar("T")
A = TypeVar("A")

# The Block API's largest page: one list request reports on this many volumes.
BATCH = 100
# A volume's first poll after its create, and the longest gap between two;
# the delays double in between, each drawn in [d/2, d].
POLL_INITIAL = 0.1
POLL_CAP = 5.0
# How long a bulk create waits for one volume to become available.
WAIT_TIMEOUT = 300.0
# "Reached available": a volume attached meanwhile is in_use, which it only
# reaches from available.
READY = frozenset({"available", "in_use"})
_EXPECTED = ("available",)
# Poll errors that the next poll may not meet; any other fails the volumes polled.
_PASSING = (APIConnectionError, ServerError, RateLimitError)

ListByIds = Callable[[Sequence[str]], Awaitable[list[BlockVolume]]]
GetOne = Callable[[str], Awaitable[BlockVolume]]


def poll_count(dues: Sequence[float], now: float, batch: int = BATCH) -> int:
    """How many of the volumes (``dues`` sorted, soonest first) one round polls.

    Every volume due by ``now``, plus the soonest of the others to fill the
    last request of ``batch`` ids: a request costs the same however full.

    ```python
    poll_count([1.0, 2.0, 9.0], now=1.5, batch=2)   # 2: the due one, and one for free
    poll_count([1.0, 2.0, 9.0], now=0.5, batch=2)   # 0: nothing is due
    ```
    """
    due = sum(1 for when in dues if when <= now)
    return min(len(dues), -(-due // batch) * batch)


class _Pending:
    """One volume being waited for, and the worker's way to learn the verdict."""

    __slots__ = ("deadline", "delays", "due", "last_state", "outcome", "settled", "volume_id")

    def __init__(self, volume: BlockVolume, delays: Iterator[float], now: float, timeout: float):
        self.volume_id = volume.id
        self.last_state: str | None = volume.status
        self.delays = delays
        self.deadline = now + timeout
        self.due = min(now + next(delays), self.deadline)
        self.outcome: BlockVolume | ScalewayError | None = None
        self.settled = anyio.Event()


class VolumePoller:
    """Waits for many volumes at once, polling them in batches (see the module docstring).

    ```python
    poller = VolumePoller(list_by_ids, get_volume, slots, timeout=300.0)
    result = await poller.running(lambda: run_bulk(prepare, specs, concurrency=n))
    # each item's job: ``volume = await create(); return await poller.wait(volume)``
    ```
    """

    def __init__(
        self,
        list_by_ids: ListByIds,
        get_one: GetOne,
        slots: Slots,
        *,
        timeout: float = WAIT_TIMEOUT,
        initial: float = POLL_INITIAL,
        cap: float = POLL_CAP,
    ) -> None:
        self._list_by_ids = list_by_ids
        self._get_one = get_one
        self._slots = slots
        self._timeout = timeout
        self._schedule = (initial, cap)
        poll_delays(initial, cap)  # checks them now rather than at the first volume
        self._pending: dict[str, _Pending] = {}
        self._nap: anyio.CancelScope | None = None
        self._nap_until = math.inf
        # Where the poller's time stands: the wall clock, or later when a wait
        # was skipped (``set_testing``), so schedules and deadlines still advance.
        self._virtual = -math.inf
        self.requests = 0

    def _now(self) -> float:
        return max(anyio.current_time(), self._virtual)

    # -- the workers' side -----------------------------------------------------

    async def wait(self, volume: BlockVolume) -> BlockVolume:
        """``volume`` once it is available; raise ``ResourceStateError`` (``error``,
        ``locked``, ``deleted``), ``WaitTimeoutError`` or the poll's error otherwise."""
        verdict = classify(volume.status, until=READY, transient=BLOCK_VOLUME_TRANSIENT)
        if verdict == "done":
            return volume
        if verdict == "failed":
            raise ResourceStateError(state=volume.status, resource=volume, expected=_EXPECTED)
        delays = poll_delays(*self._schedule)
        next(delays)  # no poll at once: the create's answer was that poll
        entry = _Pending(volume, delays, self._now(), self._timeout)
        self._pending[entry.volume_id] = entry
        if entry.due < self._nap_until and self._nap is not None:
            self._nap.cancel()  # due before the poller wakes up: wake it now
        try:
            await entry.settled.wait()
        finally:
            # Cancelled: nobody waits for it any more, so stop polling it.
            self._pending.pop(entry.volume_id, None)
        outcome = entry.outcome
        if isinstance(outcome, ScalewayError):
            raise outcome
        assert outcome is not None
        return outcome

    async def running(self, body: Callable[[], Awaitable[T]]) -> T:
        """``await body()`` with the poller running beside it; stops it when ``body`` ends.

        An exception of ``body`` propagates as itself (not in an exception group).
        """
        failure: Exception | None = None
        result: T | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.run)
            try:
                result = await body()
            except Exception as exc:
                failure = exc
            tg.cancel_scope.cancel()
        if failure is not None:
            raise failure
        return result  # type: ignore[return-value]

    # -- the poller's side -----------------------------------------------------

    async def run(self) -> None:
        """Poll until cancelled: sleep until the next volume is due, then poll the due ones."""
        while True:
            now = self._now()
            due = min((entry.due for entry in self._pending.values()), default=math.inf)
            if due > now:
                await self._sleep_until(due, now)
            else:
                await self._round(now)

    async def _sleep_until(self, until: float, now: float) -> None:
        self._nap_until = until
        with anyio.CancelScope() as nap:
            self._nap = nap
            if until == math.inf:
                await anyio.sleep_forever()  # until a volume comes (``wait`` cancels the nap)
            else:
                await wait(until - now)
                self._virtual = max(self._virtual, until)
        self._nap = None
        self._nap_until = math.inf

    async def _round(self, now: float) -> None:
        entries = sorted(self._pending.values(), key=lambda entry: entry.due)
        chosen = entries[: poll_count([entry.due for entry in entries], now)]
        for start in range(0, len(chosen), BATCH):
            await self._poll(chosen[start : start + BATCH])

    async def _poll(self, batch: list[_Pending]) -> None:
        try:
            volumes = await self._request(self._list_by_ids, [entry.volume_id for entry in batch])
        except ScalewayError as error:
            for entry in batch:
                self._after_error(entry, error)
            return
        seen = {volume.id: volume for volume in volumes}
        for entry in batch:
            if self._pending.get(entry.volume_id) is not entry:
                continue  # its worker was cancelled meanwhile
            volume = seen.get(entry.volume_id)
            if volume is None:
                # Not listed: deleted meanwhile, or not listed yet. Ask for it alone.
                try:
                    volume = await self._request(self._get_one, entry.volume_id)
                except NotFoundError as gone:
                    self._settle(entry, gone)
                    continue
                except ScalewayError as error:
                    self._after_error(entry, error)
                    continue
            self._judge(entry, volume)

    async def _request(self, call: Callable[[A], Awaitable[T]], argument: A) -> T:
        async with self._slots.hold(first=True):
            self.requests += 1
            return await call(argument)

    def _judge(self, entry: _Pending, volume: BlockVolume) -> None:
        entry.last_state = volume.status
        verdict = classify(volume.status, until=READY, transient=BLOCK_VOLUME_TRANSIENT)
        if verdict == "done":
            self._settle(entry, volume)
        elif verdict == "failed":
            error = ResourceStateError(state=volume.status, resource=volume, expected=_EXPECTED)
            self._settle(entry, error)
        else:
            self._reschedule(entry, None)

    def _after_error(self, entry: _Pending, error: ScalewayError) -> None:
        if isinstance(error, _PASSING):
            self._reschedule(entry, error)
        else:
            self._settle(entry, error)

    def _reschedule(self, entry: _Pending, error: ScalewayError | None) -> None:
        now = self._now()
        if now < entry.deadline:
            entry.due = min(now + next(entry.delays), entry.deadline)
            return
        timeout = WaitTimeoutError(
            resource_id=entry.volume_id,
            last_state=entry.last_state,
            timeout=self._timeout,
            expected=_EXPECTED,
            kind="volume",
        )
        timeout.__cause__ = error
        self._settle(entry, timeout)

    def _settle(self, entry: _Pending, outcome: BlockVolume | ScalewayError) -> None:
        entry.outcome = outcome
        self._pending.pop(entry.volume_id, None)
        entry.settled.set()
