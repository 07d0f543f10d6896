"""Deletes: a 404 after an attempt that may have acted is success; bulk items settle on cancel."""

from __future__ import annotations

from collections.abc import Callable

from ._bulk import THROTTLE_BUDGET, Prepared
from ._errors import APIConnectionError, NotFoundError, ScalewayError
from ._pipeline import Attempts, Pipeline
from ._transport import Reply

__all__ = ["delete_resource", "prepare_delete"]


async def delete_resource(
    pipeline: Pipeline,
    path: str,
    *,
    missing_ok: bool,
    attempts: Attempts | None = None,
    throttle_budget: int = 0,
) -> None:
    """``DELETE path``. A 404 is success with ``missing_ok``, or after an attempt that
    may have deleted it (a retry that finds it gone: that attempt did it)."""
    attempts = attempts if attempts is not None else Attempts()
    try:
        await pipeline.call("DELETE", path, attempts=attempts, throttle_budget=throttle_budget)
    except NotFoundError:
        if not (missing_ok or attempts.acted):
            raise


# Statuses of a Block resource whose DELETE was accepted: on its way out, or gone.
_GOING = frozenset({"deleting", "deleted"})


def prepare_delete(
    pipeline: Pipeline,
    path: str,
    *,
    missing_ok: bool,
    decode: Callable[[Reply], object],
) -> Prepared:
    """One item of a bulk delete: its job (the id once deleted) and how to settle it.

    Cancelled in flight, the item is gone if a ``GET path`` (its answer read by
    ``decode``) no longer finds it or finds it ``deleting`` or ``deleted`` (the
    DELETE was accepted: Block volumes and snapshots stay a while in
    ``deleting``); if it still exists otherwise, the DELETE may yet land, so
    the outcome is unknown. That GET takes bare 429s as the bulk call's flow
    control, as the DELETEs do.
    """
    resource_id = path.rpartition("/")[2]
    attempts = Attempts()

    async def delete() -> str:
        await delete_resource(
            pipeline,
            path,
            missing_ok=missing_ok,
            attempts=attempts,
            throttle_budget=THROTTLE_BUDGET,
        )
        return resource_id

    async def settle() -> str | ScalewayError:
        try:
            found = decode(await pipeline.call("GET", path, throttle_budget=THROTTLE_BUDGET))
        except NotFoundError:
            return resource_id
        except ScalewayError as exc:
            seen = f"checking whether it is gone failed ({exc})"
        else:
            if getattr(found, "status", None) in _GOING:
                return resource_id
            seen = "it still existed when checked"
        return APIConnectionError(
            f"cancelled while deleting {resource_id}; {seen}, but the DELETE may still take effect",
            outcome_unknown=True,
        )

    return delete(), settle, attempts
