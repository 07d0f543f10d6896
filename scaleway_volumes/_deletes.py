"""Deletes: an answer saying it is gone, after an attempt that may have acted, is success;
the items of one bulk delete share what they deleted; bulk items settle on cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio

from ._bulk import THROTTLE_BUDGET, Prepared
from ._error_body import GOING
from ._errors import APIConnectionError, NotFoundError, ScalewayError, TransientStateError
from ._pipeline import Attempts, Pipeline
from ._transport import Reply
from ._validate import check_bool

__all__ = ["DeleteBatch", "bulk_deleter", "delete_resource", "gone", "prepare_delete"]

T = TypeVar("T")


def gone(error: ScalewayError) -> bool:
    """Whether ``error``, raised by a DELETE, says the resource is gone: a 404, or a
    409 ``transient_state`` in ``deleting`` or ``deleted`` (a DELETE was accepted
    already; the pipeline does not wait that state out, ``_error_body.GOING``)."""
    if isinstance(error, NotFoundError):
        return True
    return isinstance(error, TransientStateError) and error.current_state in GOING


def _never() -> bool:
    return False


async def delete_resource(
    pipeline: Pipeline,
    path: str,
    *,
    missing_ok: bool,
    attempts: Attempts | None = None,
    throttle_budget: int = 0,
    deleted_elsewhere: Callable[[], bool] = _never,
) -> None:
    """``DELETE path``. Gone (``gone``: a 404, or a 409 saying it is ``deleting``
    or ``deleted``) is success with ``missing_ok``, after an attempt that may
    have deleted it (a retry that finds it gone: that attempt did it), or when
    ``deleted_elsewhere()`` (another item of the same bulk call deleted it);
    otherwise that error is raised (someone else is deleting it, or it never
    existed)."""
    check_bool("missing_ok", missing_ok)
    attempts = attempts if attempts is not None else Attempts()
    try:
        await pipeline.call("DELETE", path, attempts=attempts, throttle_budget=throttle_budget)
    except ScalewayError as error:
        if not (gone(error) and (missing_ok or attempts.acted or deleted_elsewhere())):
            raise


class DeleteBatch:
    """What the items of one bulk delete call did to each id: the ids they
    deleted, and how many of them are deleting each id now (an id given twice).

    One id's items run side by side: a 404 (or 409 ``deleting``) to one of them
    may be another's doing, which only its answer tells. The set of ids deleted
    grows with the call's successes (one entry per id, each the string its
    result holds already). ``uncertain`` keeps, by id, the error of an item
    that failed after its DELETE may have acted (``outcome_unknown``): another
    item's 404 may then be its doing, and is no proof it never existed.
    """

    __slots__ = ("_changed", "_running", "deleted", "uncertain")

    def __init__(self) -> None:
        self.deleted: set[str] = set()
        self.uncertain: dict[str, ScalewayError] = {}
        self._running: dict[str, int] = {}
        # Set when an item ends; made only when some item waits for another.
        self._changed: anyio.Event | None = None

    def start(self, resource_id: str) -> None:
        """An item begins deleting ``resource_id``."""
        self._running[resource_id] = self._running.get(resource_id, 0) + 1

    def end(self, resource_id: str, deleted: bool) -> None:
        """That item is over; ``deleted`` if it deleted the resource (or counts as having)."""
        left = self._running[resource_id] - 1
        if left:
            self._running[resource_id] = left
        else:
            del self._running[resource_id]
        if deleted:
            self.deleted.add(resource_id)
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def deleted_by_another(self, resource_id: str) -> bool:
        """Whether another item deleted ``resource_id``, once those still
        deleting it are over (the caller's own item must be ``end``-ed first)."""
        while resource_id not in self.deleted and resource_id in self._running:
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()
        return resource_id in self.deleted


def prepare_delete(
    pipeline: Pipeline,
    path: str,
    *,
    missing_ok: bool,
    decode: Callable[[Reply], object],
    batch: DeleteBatch,
) -> Prepared:
    """One item of a bulk delete: its job (the id once deleted) and how to settle it.

    ``batch`` is shared by the call's items: an id another item of the call
    deleted counts as deleted when found gone, even with ``missing_ok=False``.

    Cancelled in flight, the item is deleted if a ``GET path`` (its answer read
    by ``decode``) no longer finds it, or finds it ``deleting`` or ``deleted``
    (Block volumes and snapshots stay a while in ``deleting``), with
    ``missing_ok`` or when another item of the call deleted it. With
    ``missing_ok=False`` that answer cannot tell this item's DELETE from
    another's (or, a 404, from a resource that never existed): the outcome is
    unknown, unless the DELETE never left (then it is an error). Still there
    otherwise, the outcome is unknown too: the DELETE may yet land. That GET
    takes bare 429s as the bulk call's flow control, as the DELETEs do.
    """
    resource_id = path.rpartition("/")[2]
    attempts = Attempts()

    def deleted_elsewhere() -> bool:
        return resource_id in batch.deleted

    async def delete() -> str:
        batch.start(resource_id)
        ended = deleted = False
        try:
            await delete_resource(
                pipeline,
                path,
                missing_ok=missing_ok,
                attempts=attempts,
                throttle_budget=THROTTLE_BUDGET,
                deleted_elsewhere=deleted_elsewhere,
            )
            deleted = True
        except ScalewayError as error:
            if not gone(error):
                if error.outcome_unknown:
                    batch.uncertain[resource_id] = error
                raise
            # Gone, not by this item: by another of the call whose answer may
            # not have come yet? Wait for those to end before saying which.
            batch.end(resource_id, False)
            ended = True
            if not await batch.deleted_by_another(resource_id):
                other = batch.uncertain.get(resource_id)
                if other is None:
                    raise
                raise APIConnectionError(
                    f"{resource_id} was gone, and another item of this call naming it may "
                    f"have deleted it: its DELETE failed with an unknown outcome ({other})",
                    outcome_unknown=True,
                ) from error
        finally:
            if not ended:
                batch.end(resource_id, deleted)
        return resource_id

    async def settle() -> str | ScalewayError:
        try:
            found = decode(await pipeline.call("GET", path, throttle_budget=THROTTLE_BUDGET))
        except NotFoundError:
            state = "gone"
        except ScalewayError as exc:
            seen = f"checking whether it is gone failed ({exc})"
            return _unknown(resource_id, f"{seen}, but the DELETE may still take effect")
        else:
            status = getattr(found, "status", None)
            if status not in GOING:
                seen = "it still existed when checked"
                return _unknown(resource_id, f"{seen}, but the DELETE may still take effect")
            state = str(status)
        if missing_ok or deleted_elsewhere():
            return resource_id
        # missing_ok=False: gone (or going) may be somebody else's doing, or, for
        # a 404, it may never have existed; only this item's own DELETE counts.
        if not attempts.sent:
            return APIConnectionError(
                f"cancelled before deleting {resource_id}, which was {state} already "
                "(missing_ok=False: not deleted by this call)"
            )
        return _unknown(
            resource_id,
            f"it was {state} when checked, but whether this call deleted it is unknown "
            "(missing_ok=False: another may have, or it may not have existed)",
        )

    return delete(), settle, attempts


def _unknown(resource_id: str, seen: str) -> APIConnectionError:
    return APIConnectionError(
        f"cancelled while deleting {resource_id}; {seen}", outcome_unknown=True
    )


def bulk_deleter(
    pipeline: Pipeline,
    path_of: Callable[[T], str],
    *,
    missing_ok: bool,
    decode: Callable[[Reply], object],
) -> Callable[[T], Prepared]:
    """The ``prepare`` of one bulk delete call (``run_bulk``): ``path_of(item)``
    checks the item and names its resource, ``prepare_delete`` does the rest.

    The call's items share a ``DeleteBatch``: an id given twice is reported
    deleted twice (the DELETE that did not delete it finds it gone), even with
    ``missing_ok=False``.
    """
    check_bool("missing_ok", missing_ok)
    batch = DeleteBatch()

    def prepare(item: T) -> Prepared:
        return prepare_delete(
            pipeline, path_of(item), missing_ok=missing_ok, decode=decode, batch=batch
        )

    return prepare
