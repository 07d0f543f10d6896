"""Block Storage bulk calls: ``create_volumes`` (optionally waiting) and ``delete_volumes``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import aclosing

from . import _block_common as common
from ._block_models import BlockVolume, BlockVolumeSpec
from ._block_volumes import COLLECTION, BlockVolumes, decode_volume, volume_path
from ._bulk import (
    THROTTLE_BUDGET,
    BulkResult,
    ItemCallback,
    Prepared,
    ProgressCallback,
    run_bulk,
)
from ._bulk_args import check_concurrency, check_items
from ._bulk_wait import VolumePoller, settles
from ._constants import DEFAULT_CONCURRENCY, WAIT_TIMEOUT
from ._create import settle_cancelled_create
from ._decode_block import VolumeStatus, decode_block_volume_statuses
from ._deletes import bulk_deleter
from ._errors import ScalewayError
from ._later import Later
from ._listing import counted_get, pages
from ._pipeline import Attempts
from ._poll_schedule import BATCH
from ._slots import Slots
from ._transport import Reply
from ._validate import check_bool
from ._waiters import check_wait_timeout

__all__ = ["PENDING_PER_SLOT", "BlockBulk"]

# With ``wait=True``, how many created volumes per unit of ``concurrency`` may
# wait to become available while the others keep creating: enough that
# creates at full speed are not held up by volumes taking ~10x a create's
# time to settle, and a bound on the items in memory.
PENDING_PER_SLOT = 20


def _decode_poll_page(reply: Reply) -> tuple[list[BlockVolume | VolumeStatus], int | None]:
    return decode_block_volume_statuses(reply.content, reply.status_code, settles)


class BlockBulk(BlockVolumes):
    """The bulk operations of ``AsyncBlockAPI`` (see there for the constructor)."""

    async def create_volumes(
        self,
        specs: Iterable[BlockVolumeSpec],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        wait: bool = False,
        wait_timeout: float = WAIT_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback[BlockVolumeSpec, BlockVolume] | None = None,
    ) -> BulkResult[BlockVolumeSpec, BlockVolume]:
        """Create many volumes, ``concurrency`` requests in flight at most.

        ``specs`` may be a lazy iterable (memory stays proportional to
        ``concurrency`` plus the results); every spec runs even when others
        fail, and the ``BulkResult`` keeps input order. No create is ever
        duplicated (see ``create_volume``).

        With ``wait=True`` the result holds volumes that reached ``available``:
        a volume that ends in ``error`` or ``locked`` is a failed item
        (``ResourceStateError``), one not available after ``wait_timeout``
        seconds (default 300) a failed item with ``WaitTimeoutError``. Workers
        keep creating while one poller per call watches the volumes created so
        far, up to 100 per request (``GET /volumes?volume_ids=...``), each
        volume at ages about doubling from 0.1 s (at most 5 s apart), so the
        polls add a fraction of a request per volume. While creates are in
        flight, polls wait for them (1 s at most): the last volume's wait
        decides when the call ends, and the polls' work would slow the
        creates. ``on_progress(done, total)`` counts an item when it reached
        its end: created and, with ``wait``, available or failed. A poll's
        error that no poll mends (401, 403, a 501, an unreadable answer) ends
        the wait of the volumes it covered: each fails with its own
        ``WaitTimeoutError`` naming it (it exists), the poll's error as cause.

        ```python
        specs = (BlockVolumeSpec(f"data-{i}", size=20 * 10**9) for i in range(500))
        result = await api.create_volumes(specs, concurrency=32, wait=True)
        result.raise_for_errors()
        ```

        Cancelled (or interrupted: Ctrl-C raises ``KeyboardInterrupt`` itself,
        not in an exception group), each item in flight is settled and reported
        through ``on_item``, not ``on_progress``: an item already created with
        its volume (it exists, available or not); one mid-create is looked up
        by its marker tag.
        """
        check_items(specs, "specs", "BlockVolumeSpec items")
        concurrency = check_concurrency(concurrency)
        if not check_bool("wait", wait):
            return await run_bulk(
                self._bulk_create_item(None, None),
                specs,
                concurrency=concurrency,
                on_progress=on_progress,
                on_item=on_item,
            )
        timeout = check_wait_timeout(wait_timeout, "wait_timeout")
        # The workers' creates and the poller's requests share ``concurrency``
        # slots, the poller's served first so ready volumes are seen in time.
        slots = Slots(concurrency)
        polls = _Polls(self)
        poller = VolumePoller(polls.list_by_ids, polls.get_one, slots, timeout=timeout)
        # Each worker hands its created volume to the poller and goes on creating:
        # the items under way are bounded, not the workers.
        result: BulkResult[BlockVolumeSpec, BlockVolume] = await poller.running(
            lambda: run_bulk(
                self._bulk_create_item(slots, poller),
                specs,
                concurrency=concurrency,
                on_progress=on_progress,
                on_item=on_item,
                max_under_way=concurrency * (1 + PENDING_PER_SLOT),
            )
        )
        result.throttled += polls.throttled
        return result

    def _bulk_create_item(
        self, slots: Slots | None, poller: VolumePoller | None
    ) -> Callable[[BlockVolumeSpec], Prepared]:
        def prepare(spec: BlockVolumeSpec) -> Prepared:
            if not isinstance(spec, BlockVolumeSpec):
                raise TypeError(
                    f"create_volumes takes BlockVolumeSpec items, got {type(spec).__name__}"
                )
            marker = self._new_marker()
            body = self._volume_body(
                spec.name,
                spec.size,
                spec.perf_iops,
                spec._snapshot_source(),
                spec.project,
                spec.tags,
                marker,
            )
            item = _BulkCreate(self, spec.name, body, marker)
            attempts = Attempts()
            if slots is None or poller is None:
                return item.create(attempts), item, attempts
            return item.create_and_hand_over(attempts, slots, poller), item, attempts

        return prepare

    async def delete_volumes(
        self,
        volumes: Iterable[str | BlockVolume],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        missing_ok: bool = True,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback[str | BlockVolume, str] | None = None,
    ) -> BulkResult[str | BlockVolume, str]:
        """Delete many volumes (ids or ``BlockVolume``s), ``concurrency`` at a time at most.

        ``.succeeded`` lists the deleted ids in input order; a volume already
        gone (or already ``deleting``) counts as deleted unless
        ``missing_ok=False``. Even then, a volume this call deleted counts as
        deleted for every item that names it (an id given twice) and for an
        item whose retried DELETE finds it gone. A volume still attached is a
        failed item (``PreconditionFailedError``); one in a transient state
        (``snapshotting``) is waited for within the call's deadline, but for
        30 waits of the retry backoff at most (216 s in all at most with the
        default ``RetryPolicy``, half that on average; ``deadline=None`` does
        not lift this cap): then the item fails with ``TransientStateError``.
        Cancelled with ``missing_ok=False``, an item whose volume is found gone
        is reported as an error with ``outcome_unknown``: the 404 cannot tell
        whether this call deleted it.

        ```python
        doomed = await api.list_volumes(tags=["ci"])
        result = await api.delete_volumes(doomed, concurrency=32)
        ```
        """
        check_items(volumes, "volumes", "volume ids or BlockVolumes")
        return await run_bulk(
            bulk_deleter(
                self._pipeline, self._volume_path, missing_ok=missing_ok, decode=decode_volume
            ),
            volumes,
            concurrency=concurrency,
            on_progress=on_progress,
            on_item=on_item,
        )


class _Polls:
    """The poller's requests of one ``create_volumes(wait=True)`` call.

    Sent like the call's creates: a bare 429 is flow control, resent at the
    rate limiter's pace (up to ``THROTTLE_BUDGET`` per request) rather than
    spending a retry, and counted in ``throttled`` for the call's ``BulkResult``.
    """

    __slots__ = ("_pipeline", "throttled")

    def __init__(self, api: BlockBulk) -> None:
        self._pipeline = api._pipeline
        self.throttled = 0

    def _count(self, throttled: int) -> None:
        self.throttled += throttled

    async def list_by_ids(self, volume_ids: Sequence[str]) -> list[BlockVolume | VolumeStatus]:
        """The volumes among ``volume_ids`` that the API lists (one request for up to 100).

        Only those the poll settles are decoded (``settles``); the others come
        as their id and status. A server that ignores the page size is listed
        page by page, as ``Paginator`` decides.
        """
        found: list[BlockVolume | VolumeStatus] = []
        listing = pages(
            self._pipeline,
            COLLECTION,
            [("volume_ids", volume_id) for volume_id in volume_ids],
            BATCH,
            _decode_poll_page,
            page_size_param=common.PAGE_SIZE_PARAM,
            throttle_budget=THROTTLE_BUDGET,
            throttled=self._count,
        )
        async with aclosing(listing):
            async for page in listing:
                found += page
        return found

    async def get_one(self, volume_id: str) -> BlockVolume:
        """One volume by a GET of its own (one the listing did not show)."""
        reply = await counted_get(
            self._pipeline,
            volume_path(volume_id),
            None,
            throttle_budget=THROTTLE_BUDGET,
            throttled=self._count,
        )
        return decode_volume(reply)


class _BulkCreate:
    """One spec of ``create_volumes``: its create, and (called) what it did if cancelled.

    An object rather than closures over the spec (a closure is a function, a
    tuple and a cell per variable), and its own settle function rather than a
    bound method: each create in flight keeps fewer objects for the garbage
    collector. Once the volume is handed over to the poller, nothing keeps it:
    the poller's entry says what to report if the call is cancelled.
    """

    __slots__ = ("_api", "_body", "_marker", "_name")

    def __init__(self, api: BlockBulk, name: str, body: bytes, marker: str | None) -> None:
        self._api = api
        self._name = name
        self._body = body
        self._marker = marker

    def create(self, attempts: Attempts) -> Awaitable[BlockVolume]:
        """The create, never duplicated (``BlockVolumes.create_volume``)."""
        return self._api._post_volume(
            self._body, self._name, self._marker, attempts, THROTTLE_BUDGET
        )

    async def create_and_hand_over(
        self, attempts: Attempts, slots: Slots, poller: VolumePoller
    ) -> BlockVolume | Later:
        """Create within one of ``slots``, then hand the volume to ``poller``."""
        await slots.acquire()
        try:
            volume = await self.create(attempts)
        finally:
            slots.release()
        return poller.hand_over(volume)

    async def __call__(self) -> BlockVolume | ScalewayError:
        """What the item did when cancelled mid-create: the volume its marker finds.

        A volume created and handed over is reported by the poller's entry (a
        self-settling ``Later``), and one available at once was recorded.
        """
        lookup = self._api._volume_lookup(self._name, self._marker, THROTTLE_BUDGET)
        return await settle_cancelled_create(f"volume {self._name!r}", self._marker, lookup)
