"""One sentence that tells a command-line user what to do next about an error.

```python
try:
    ...
except ScalewayError as err:
    print(f"error: {err}")
    if (advice := hint(err)) is not None:
        print(f"hint: {advice}")
```

``hint`` is a pure function of the error: no I/O, no state. It names the CLI's
options (``--concurrency``, ``--profile``, ``--zone``) and environment variables
where they are the fix.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch

from ._error_body import (
    CONNECT_FAILED,
    GOING,
    LIMITER_HELD,
    MORE_PAGES_DUE,
    NEXT_HELD,
    NEXT_NOT_SENT,
    one_line,
)
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BulkOperationError,
    ConflictError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    QuotaExceededError,
    RateLimitError,
    ResourceStateError,
    ResponseDecodeError,
    ScalewayError,
    ServerError,
    ServiceUnavailableError,
    TransientStateError,
    WaitTimeoutError,
)

__all__ = ["UNREACHABLE", "hint"]

#: The advice when no request reached the API; the CLI names where its URL came from.
UNREACHABLE = "The API could not be reached: check the network, a proxy or --base-url, then retry."


def hint(error: BaseException) -> str | None:
    """What to do next about ``error``, in one sentence; ``None`` when there is no advice.

    An error whose outcome is unknown and that carries a marker tag (a create that
    may have landed) always gets the advice to look for that tag first; otherwise
    the most precise error class decides (a ``QuotaExceededError`` gets the quota
    advice, not the generic permission one). A ``BulkOperationError`` gets the
    hint of its first failed item (its own ``outcome_unknown`` only says that
    some item's is).
    """
    if isinstance(error, BulkOperationError):
        failed = error.result.failed
        return hint(failed[0][1]) if failed else None
    if isinstance(error, ScalewayError) and error.outcome_unknown:
        tag = error.marker_tag
        if not tag:
            # A create with no marker (create_marker=False) that may have landed:
            # "try again later" would make a second one.
            return _MAY_HAVE_ACTED
        return one_line(
            f"It may have been created anyway: list what carries the tag {tag} "
            f"(scaleway-volumes list --tag {tag}; for Block Storage `block list --tag` or "
            f"`block snapshot list --tag`) before trying again, or you may get two."
        )
    advice = _advice(error)
    # Advice quotes the API's own words (help_message, resource, state, fields):
    # printed as one line, they must not split it or drive the terminal.
    return None if advice is None else one_line(advice)


@singledispatch
def _advice(error: BaseException) -> str | None:
    return None


@_advice.register
def _authentication(error: AuthenticationError) -> str:
    return (
        "Check the secret key: set SCW_SECRET_KEY (or --token), or pick the profile "
        "that holds the right key with --profile; if the key expired or was revoked, "
        "create a new one in the Scaleway console."
    )


@_advice.register
def _permission(error: PermissionDeniedError) -> str:
    return (
        "The key is valid but may not do this: give it a policy that allows it in this "
        "project (IAM in the Scaleway console), or use a key of the right project "
        "(--profile, SCW_DEFAULT_PROJECT_ID)."
    )


@_advice.register
def _quota(error: QuotaExceededError) -> str:
    named = [f"{q.resource} ({_count(q.current)} of {_count(q.quota)} used)" for q in error.quotas]
    if not named:
        full = "A quota of the organization or project is full"
    elif len(named) == 1:
        full = f"The quota {named[0]} is full"
    else:
        full = f"The quotas {', '.join(named)} are full"
    return (
        f"{full}: delete what is no longer needed, or ask for a higher quota on the "
        "Quotas page of the Scaleway console."
    )


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


@_advice.register
def _precondition(error: PreconditionFailedError) -> str:
    if error.precondition == "resource_still_in_use":
        if error.path and "/snapshots/" in error.path:
            # A snapshot is never attached: what uses it is a volume restored from it.
            return (
                "A volume is being restored from this snapshot: wait until that volume is "
                "available, then try again."
            )
        return (
            "It is still in use (attached to a server, or something depends on it): "
            "detach it first, then try again."
        )
    if error.precondition == "resource_not_usable":
        why = f": {error.help_message}" if error.help_message else " in its current state"
        return f"It cannot be used for this{why}; change the request accordingly."
    return (
        "A condition the API checks first is not met: check the resource's state "
        "and the arguments, then try again."
    )


@_advice.register
def _transient(error: TransientStateError) -> str:
    what = error.resource or "resource"
    if error.current_state in GOING:
        # It leaves that state only by vanishing: "try again" would meet a 404.
        return (
            f"The {what} is already being deleted (a DELETE was accepted): it will be "
            "gone shortly, and there is nothing to retry."
        )
    state = f" ({error.current_state})" if error.current_state else ""
    return f"The {what} is busy{state}: wait until it settles, then try again."


@_advice.register
def _conflict(error: ConflictError) -> str:
    return (
        "The resource's state does not allow this now (it may be attached or busy): "
        "check its state, then try again."
    )


@_advice.register
def _invalid(error: InvalidRequestError) -> str:
    if not error.fields:
        return "The API rejected the arguments: check them against the command's --help."
    name, reasons = next(iter(error.fields.items()))
    why = f" ({'; '.join(reasons)})" if reasons else ""
    others = [n for n in error.fields if n != name]
    also = f", and also {', '.join(others)}" if others else ""
    return f"Fix the value of {name}{why}{also}, then try again."


@_advice.register
def _rate_limit(error: RateLimitError) -> str:
    when = f"in {error.retry_after:g} s" if error.retry_after is not None else "in a minute"
    return f"The API is rate-limiting these requests: lower --concurrency, or try again {when}."


@_advice.register
def _not_found(error: NotFoundError) -> str:
    what = " ".join(p for p in (error.resource, error.resource_id) if p) or "resource"
    return (
        f"No such {what} here: check the id and the zone (--zone, SCW_DEFAULT_ZONE); "
        "it may have been deleted."
    )


@_advice.register
def _gone(error: GoneError) -> str:
    since = error.expired_since
    if isinstance(since, datetime):
        since = since.isoformat()
    when = f" since {since}" if since else ""
    return f"It has expired{when} and cannot be used any more: create a new one."


@_advice.register
def _server(error: ServerError) -> str:
    quote = f" and quote the request id {error.request_id}" if error.request_id else ""
    when = "later" if error.retry_after is None else f"in {error.retry_after:g} s"
    return f"Scaleway's API failed: try again {when}; if it keeps failing, contact support{quote}."


@_advice.register
def _unavailable(error: ServiceUnavailableError) -> str:
    # Both a ServerError and a RateLimitError: dispatch needs its own entry, and
    # the API being down (not this caller's pace) is the news.
    return _server(error)


_MAY_HAVE_ACTED = "The request may have gone through: check the resource before trying again."


@_advice.register
def _connection(error: APIConnectionError) -> str:
    if error.outcome_unknown:
        return _MAY_HAVE_ACTED
    return UNREACHABLE


@_advice.register
def _timeout(error: APITimeoutError) -> str:
    if error.outcome_unknown:
        return _connection(error)
    if LIMITER_HELD in error.message:
        return (
            "The rate limiter held the request until its deadline passed (nothing was sent): "
            "lower the concurrency, or give the call a longer deadline."
        )
    if CONNECT_FAILED in error.message:
        # Every attempt was refused before the deadline: nothing was slow.
        return _connection(error)
    if NEXT_HELD in error.message or NEXT_NOT_SENT in error.message:
        # Answered with refusals (429, 503) until the deadline: nothing acted.
        return (
            "The API refused the request (rate limit or unavailable) until the deadline "
            "passed; nothing was done: lower the concurrency, or try again later with a "
            "longer deadline."
        )
    if MORE_PAGES_DUE in error.message:
        # Pages were coming: the listing is longer than one call's deadline.
        return (
            "The listing had more pages than its deadline allowed: narrow it with a name or "
            "tag filter, or give the call a longer deadline (iter_* bounds each page instead)."
        )
    return "The API did not answer in time: check the network, then try again."


@_advice.register
def _decode(error: ResponseDecodeError) -> str:
    return (
        "The API answered with something this client does not understand: check "
        "--base-url, and report it with the command and its output if it persists."
    )


@_advice.register
def _wait_timeout(error: WaitTimeoutError) -> str:
    state = f"still {error.last_state!r}" if error.last_state else "not settled"
    return (
        f"The {error.kind} {error.resource_id} is {state} after {error.timeout:g} s: "
        "wait again with a longer timeout, or look at it in the Scaleway console."
    )


@_advice.register
def _failure_state(error: ResourceStateError) -> str:
    who = f"The {error.kind} {error.resource_id or ''}".rstrip()
    if error.state == "locked":
        return f"{who} is locked by Scaleway: contact Scaleway support with its id."
    if error.state == "error":
        return (
            f"{who} is in the error state and will not recover: delete it and create it "
            "again, and contact Scaleway support if it happens again."
        )
    return f"{who} is in the state {error.state!r}: look at it in the Scaleway console."
