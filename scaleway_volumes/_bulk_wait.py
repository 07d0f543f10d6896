"""``create_volumes(wait=True)``: one poller per bulk call, up to 100 volumes per request.

Workers hand each volume they created to the call's ``VolumePoller`` and go on
with the next item: ``hand_over`` returns a ``Later`` that the poller finishes
with the verdict (no task, no event per volume); they do not poll. The poller
keeps, for each pending volume, when it is next due and a deadline. It sleeps
until the earliest volume is due, then polls every due volume with
``GET /volumes?volume_ids=a&volume_ids=b...`` (100 ids per request, the API's
page size), filling the last request with the oldest of the others, since a
request costs the same with 3 ids or 100.

When each volume is next due is ``PollSchedule``'s decision (capped
exponential backoff, then the age at which volumes of the call were seen
ready).

While creates of the call are in flight, volumes whose turn came wait: the
poller polls once every slot is free again (``Slots.on_all_free``: the workers
are done, or paused at the bound on items under way), or once a volume has
waited ``DEFER_MAX`` (1 s) past its turn, or at a volume's deadline. Polling
beside the creates would take CPU and slots from them (decoding pages,
settling items), and a volume seen ready sooner does not end the call sooner;
polled once the creates are answered, most volumes are ready at their first
poll. All the due volumes of a round are then polled side by side, 100 per
request.

The poller's requests take a slot of the bulk call's bound on requests in
flight (``Slots``) ahead of the queued creates, and go through the pipeline
like the creates (retried, paced by the rate limiter, a bare 429 resent at its
pace and counted in the call's ``throttled``: the caller's ``list_by_ids`` and
``get_one`` see to it). A poll's listing decodes only the volumes it settles
(``settles``); the others are reported by id and status alone, which is all
the poller reads of them.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio
import sniffio

from ._block_models import BlockVolume
from ._cancel import sole_interrupt
from ._constants import WAIT_TIMEOUT
from ._decode_block import VolumeStatus
from ._errors import (
    NotFoundError,
    ResourceStateError,
    ScalewayError,
    WaitTimeoutError,
)
from ._later import Later
from ._poll_schedule import BATCH, POLL_CAP, POLL_INITIAL, PollSchedule, poll_count
from ._retry import wait
from ._slots import Slots
from ._states import BLOCK_VOLUME_TRANSIENT, DELETED, classify
from ._waiters import gone_error, poll_again

__all__ = ["READY", "VolumePoller", "settles"]

T = TypeVar("T")

# How long a bulk create waits for one volume to become available.
# "Reached available": a volume attached meanwhile is in_use, which it only
# reaches from available.
READY = frozenset({"available", "in_use"})
_EXPECTED = ("available",)


def _failed(volume: BlockVolume) -> ScalewayError:
    """The error of a volume that will not become available: gone (``deleted``: the
    ``NotFoundError`` a 404 of its GET gives, as ``wait_for_volume``'s), else
    ``ResourceStateError``."""
    if volume.status == DELETED:
        return gone_error("volume", volume.id)
    return ResourceStateError(state=volume.status, resource=volume, expected=_EXPECTED)


# A listed volume the poll settles comes whole; one still pending, maybe as
# its status alone (see ``settles``).
ListByIds = Callable[[Sequence[str]], Awaitable[list[BlockVolume | VolumeStatus]]]
GetOne = Callable[[str], Awaitable[BlockVolume]]


def loop_clock() -> Callable[[], float]:
    """``anyio.current_time`` of the running event loop, as a function to call again.

    The loop's own clock (what anyio returns: the loop's ``time`` on asyncio,
    ``trio.current_time`` under trio), without anyio's lookup of the backend at
    every call, which costs over ten times the read itself; the poller reads the
    clock for each volume handed over.
    """
    library = sniffio.current_async_library()
    if library == "asyncio":
        return asyncio.get_running_loop().time
    if library == "trio":
        import trio  # only ever running under it: not a dependency

        return trio.current_time
    return anyio.current_time


def settles(status: str) -> bool:
    """Whether a poll seeing ``status`` ends a volume's wait (available, or failed).

    The volumes it does not settle are polled again, so their listing needs
    only their status (``decode_block_volume_statuses``).

    ```python
    settles("available"), settles("error")   # True, True
    settles("creating"), settles("brand_new_state")   # False, False: poll again
    ```
    """
    return classify(status, until=READY, transient=BLOCK_VOLUME_TRANSIENT) != "wait"


def _stopped(entry: _Pending, error: ScalewayError, now: float) -> WaitTimeoutError:
    """The failure of a volume whose wait ``error`` ended: a poll's error no other poll mends.

    The poll's error alone would be shared by every volume of the poll and name
    none, though each exists (and is billed): a caller creating the failed
    specs again would make them twice. So each volume fails with its own
    ``WaitTimeoutError`` (as a wait that runs out of time: ``resource_id``,
    ``last_state``; ``timeout`` is the time waited), saying it was created,
    with the poll's error in its message and as ``__cause__``.
    """
    waited = round(max(now - entry.created, 0.0), 3)
    volume = entry.volume
    stopped = WaitTimeoutError(
        f"volume {volume.id} ({volume.name!r}) was created, but waiting for it to become "
        f"available stopped after {waited:g} s, still {entry.last_state!r}: a poll of it "
        f"failed ({error}); it exists: use it or delete it rather than create it again",
        resource_id=volume.id,
        last_state=entry.last_state,
        timeout=waited,
        expected=_EXPECTED,
        kind="volume",
    )
    stopped.__cause__ = error
    return stopped


class _Pending(Later):
    """One volume being waited for; ``finish`` gives its verdict to whoever handed it over.

    Self-settling: a bulk call cancelled while the volume waits reports the
    volume as created (it exists, available or not).
    """

    __slots__ = ("created", "deadline", "due", "last_state", "pending", "volume")

    self_settling = True

    def __init__(
        self,
        volume: BlockVolume,
        now: float,
        due: float,
        timeout: float,
        pending: dict[str, _Pending],
    ) -> None:
        super().__init__()
        self.volume = volume
        self.last_state: str | None = volume.status
        self.created = now
        self.deadline = now + timeout
        self.due = min(due, self.deadline)
        self.pending = pending

    def abandon(self) -> None:
        """Nobody waits for the verdict any more: stop polling the volume."""
        super().abandon()
        if self.pending.get(self.volume_id) is self:
            del self.pending[self.volume_id]

    @property
    def volume_id(self) -> str:
        """The id of the volume waited for."""
        return self.volume.id

    def settled(self) -> BlockVolume:
        """The volume as created: it exists; whether it became available is unknown."""
        return self.volume


class VolumePoller:
    """Waits for many volumes at once, polling them in batches (see the module docstring).

    ```python
    poller = VolumePoller(list_by_ids, get_volume, slots, timeout=300.0)
    result = await poller.running(lambda: run_bulk(prepare, specs, concurrency=n))
    # each item's job: ``volume = await create(); return poller.hand_over(volume)``
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
        self._plan = PollSchedule(initial, cap)
        self._pending: dict[str, _Pending] = {}
        self._nap: anyio.CancelScope | None = None
        self._nap_until = math.inf
        # Napping until the creates in flight are answered (see ``run``).
        self._deferring = False
        slots.on_all_free(self._creates_answered)
        # Where the poller's time stands: the wall clock, or later when a wait
        # was skipped (``set_testing``), so schedules and deadlines still advance.
        self._virtual = -math.inf
        self._clock: Callable[[], float] | None = None  # read first inside the loop

    def _now(self) -> float:
        clock = self._clock
        if clock is None:
            clock = self._clock = loop_clock()
        return max(clock(), self._virtual)

    # -- the workers' side -----------------------------------------------------

    def hand_over(self, volume: BlockVolume) -> BlockVolume | Later:
        """``volume`` if it is available already, else a ``Later`` the poller finishes
        with the volume once available, or with ``ResourceStateError`` (``error``,
        ``locked``), ``NotFoundError`` (gone: ``deleted``) or ``WaitTimeoutError``
        (past its deadline, or when a poll's error no other poll mends ended
        its wait early: 401, 403, a 501, an unreadable answer, as its ``__cause__``).

        Raises that error at once for a volume created failed or gone. The
        caller need not wait: a bulk call's worker hands its volume over and goes
        on with the next item (``run_bulk`` listens to the ``Later``).
        """
        verdict = classify(volume.status, until=READY, transient=BLOCK_VOLUME_TRANSIENT)
        if verdict == "done":
            return volume
        if verdict == "failed":
            raise _failed(volume)
        # No poll at once: the create's answer was that poll.
        now = self._now()
        due = now + self._plan.next_delay(0.0)
        entry = _Pending(volume, now, due, self._timeout, self._pending)
        self._pending[entry.volume_id] = entry
        if entry.due < self._nap_until and self._nap is not None and not self._deferring:
            self._nap.cancel()  # due before the poller wakes up: wake it now
        return entry

    async def running(self, body: Callable[[], Awaitable[T]]) -> T:
        """``await body()`` with the poller running beside it; stops it when ``body`` ends.

        An exception of ``body`` propagates as itself (not in an exception
        group), and so does a ``KeyboardInterrupt`` or ``SystemExit`` (Ctrl-C).
        """
        failure: Exception | None = None
        result: T | None = None
        interrupt: BaseException | None = None
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self.run)
                try:
                    result = await body()
                except Exception as exc:
                    failure = exc
                tg.cancel_scope.cancel()
        except BaseException as exc:
            # Under trio, Ctrl-C leaves the task group as a group of it.
            interrupt = sole_interrupt(exc)
            if interrupt is None and failure is not None:
                # A callback's error raised while a cancelled call reported its
                # items: it propagates as itself, as without ``wait``.
                raise failure from None
            if interrupt is None or interrupt is exc:
                raise
        if interrupt is not None:
            raise interrupt  # out of the except: its context is not the group that held it
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
            elif not self._slots.all_free and now < (until := self._defer_until(due)):
                # Creates are in flight: poll once they are all answered (the
                # slots tell), or when a volume has waited ``DEFER_MAX`` past its turn.
                self._deferring = True
                try:
                    await self._sleep_until(until, now)
                finally:
                    self._deferring = False
            else:
                await self._round(now)

    def _defer_until(self, due: float) -> float:
        """How long polls may wait for the creates in flight, the earliest turn being ``due``.

        Never past a volume's deadline: the oldest pending volume (the dict is in
        creation order, every volume has the same timeout) has the earliest.
        """
        oldest = next(iter(self._pending.values()))
        return min(due + self._plan.defer_max, oldest.deadline)

    def _creates_answered(self) -> None:
        """The last request in flight was answered: end a nap that waits for that."""
        if self._deferring and self._nap is not None:
            self._nap.cancel()

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
        # The pending dict is in creation order: the due volumes oldest first,
        # then, to fill the last request, the oldest of the others (the most
        # likely to be ready by now).
        due: list[_Pending] = []
        others: list[_Pending] = []
        for entry in self._pending.values():
            (due if entry.due <= now else others).append(entry)
        chosen = due + others[: poll_count(len(due), len(self._pending)) - len(due)]
        async with anyio.create_task_group() as tg:
            for start in range(0, len(chosen), BATCH):
                tg.start_soon(self._poll, chosen[start : start + BATCH], now)

    async def _poll(self, batch: list[_Pending], chosen_at: float) -> None:
        try:
            async with self._slots.hold(first=True):
                # A worker cancelled while this poll waited for its slot has
                # left the pending dict: its volume is not asked for.
                batch = [entry for entry in batch if self._waiting(entry)]
                if not batch:
                    return
                sent = self._now()
                listed = await self._list_by_ids([entry.volume_id for entry in batch])
        except ScalewayError as error:
            now = self._now()
            for entry in batch:
                self._after_error(entry, error, now)
            return
        seen = {item.id: item for item in listed}
        # One reading of the clock for the whole batch (it is not free under
        # anyio), read again only after an await.
        now = self._now()
        self._plan.answered(now - sent)
        for entry in batch:
            if not self._waiting(entry):
                continue  # its worker was cancelled meanwhile
            item = seen.get(entry.volume_id)
            if item is None:
                # Not listed: deleted meanwhile, or not listed yet. Ask for it alone.
                item = await self._get_alone(entry)
                now = self._now()
                if item is None:
                    continue
            self._judge(entry, item, now, early=entry.due > chosen_at)

    def _waiting(self, entry: _Pending) -> bool:
        """Whether ``entry`` is still waited for (not settled, its worker not cancelled)."""
        return self._pending.get(entry.volume_id) is entry

    async def _get_alone(self, entry: _Pending) -> BlockVolume | None:
        """The volume by a GET of its own; None when the GET's error decided the entry."""
        try:
            async with self._slots.hold(first=True):
                return await self._get_one(entry.volume_id)
        except NotFoundError as gone:
            self._settle(entry, gone)
        except ScalewayError as error:
            self._after_error(entry, error, self._now())
        return None

    def _judge(
        self, entry: _Pending, seen: BlockVolume | VolumeStatus, now: float, *, early: bool
    ) -> None:
        entry.last_state = seen.status
        verdict = classify(seen.status, until=READY, transient=BLOCK_VOLUME_TRANSIENT)
        if verdict == "wait":
            # Polled before it was due, to fill a request, and its turn came while
            # the poll was on its way: it is due now, not a backoff after this
            # answer (the last volumes of a call, polled to fill the request just
            # before their turn, are seen a round trip after they are ready, not
            # R/8 later). Otherwise from now on: volumes polled together come due
            # together again.
            if not (early and entry.due <= now):
                self._reschedule(entry, None, now)
            return
        # A listing decodes every volume whose status settles it (``settles``).
        assert isinstance(seen, BlockVolume), seen
        if verdict == "done":
            self._plan.seen_ready(now - entry.created)
            self._settle(entry, seen)
        else:
            self._settle(entry, _failed(seen))

    def _after_error(self, entry: _Pending, error: ScalewayError, now: float) -> None:
        # The next poll may not meet it (the volume was made: the API answered);
        # any other ends the wait of the volumes polled (``_stopped``).
        if poll_again(error, answered=True):
            self._reschedule(entry, error, now)
        else:
            self._settle(entry, _stopped(entry, error, now))

    def _reschedule(self, entry: _Pending, error: ScalewayError | None, now: float) -> None:
        if now < entry.deadline:
            # From now, whether it was due or polled early to fill a request:
            # volumes polled together come due together again.
            entry.due = min(now + self._plan.next_delay(now - entry.created), entry.deadline)
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
        self._pending.pop(entry.volume_id, None)
        entry.finish(outcome, not isinstance(outcome, ScalewayError))
