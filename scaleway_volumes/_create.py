"""Creates that never duplicate: the marker tag, and what to do after an ambiguous failure.

The Scaleway APIs have no idempotency key, so every create carries one extra
tag, ``scaleway-volumes:create=<32 hex digits>``. When an attempt fails in a
way that may have created the resource (a dropped connection, a 500/502/504, a
read timeout), the resource is looked up by that tag before anything else: it
is returned if it exists, and the create is resent only if it does not. A
resource that merely shares the name is never taken for ours. When the outcome
cannot be known (a timeout: the create may still land later; a success whose
answer is unreadable and whose resource cannot be found), the error says so
(``outcome_unknown``, ``marker_tag``) instead of resending, and so does the last
error of a create that ran out of retries after failures that may have acted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio
import attrs

from ._constants import DEFAULT_PER_PAGE, MARKER_TAG_PREFIX
from ._deadline import run_within
from ._decoding import MarkedPage
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ResponseDecodeError,
    ScalewayError,
    reframed,
)
from ._listing import Filters, find_marked
from ._pipeline import Attempts, MaybeActed, Pipeline, unsent_cause, waited
from ._transport import Reply

__all__ = ["create_once", "marker_lookup", "new_marker", "settle_cancelled_create"]

log = logging.getLogger("scaleway_volumes")

T = TypeVar("T")


def new_marker() -> str:
    """A fresh marker tag (what uuid4 draws, without its object)."""
    return MARKER_TAG_PREFIX + os.urandom(16).hex()


def marker_lookup(
    pipeline: Pipeline,
    path: str,
    filters: Filters,
    marker: str | None,
    find: Callable[[Reply, str], MarkedPage[T]],
    *,
    page_size_param: str = "per_page",
    throttle_budget: int = 0,
) -> Callable[[], Awaitable[T | None]] | None:
    """How to find what a create made: None without a marker, else a coroutine function.

    It lists ``path`` filtered by ``filters`` and the marker tag, and
    ``find(reply, marker)`` picks the item whose raw tags hold the marker from
    each page (the server's tag filter is not trusted alone). A bulk create
    passes its ``throttle_budget``: its lookups' bare 429s are flow control too.
    """
    if marker is None:
        return None
    return _MarkerLookup(pipeline, path, filters, marker, find, page_size_param, throttle_budget)


@attrs.define(eq=False)
class _MarkerLookup(Generic[T]):
    """``marker_lookup``'s coroutine function. An object, not a closure: every create
    makes one and keeps it while in flight, and one object is one allocation for the
    garbage collector to track where a closure is a function, a tuple and a cell each."""

    _pipeline: Pipeline
    _path: str
    _filters: Filters
    _marker: str
    _find: Callable[[Reply, str], MarkedPage[T]]
    _page_size_param: str
    _throttle_budget: int

    async def __call__(self) -> T | None:
        return await self.find(None)

    async def find(self, attempts: Attempts | None) -> T | None:
        """The lookup, its bare 429s counted in ``attempts.throttled`` (the create's,
        whose count a bulk call's ``BulkResult.throttled`` adds up)."""
        found: T | None = await find_marked(
            self._pipeline,
            self._path,
            [*self._filters, ("tags", self._marker)],
            DEFAULT_PER_PAGE,
            self._pick,
            page_size_param=self._page_size_param,
            throttle_budget=self._throttle_budget,
            throttled=None if attempts is None else attempts.add_throttled,
        )
        return found

    def _pick(self, reply: Reply) -> MarkedPage[T]:
        return self._find(reply, self._marker)


#: Seconds a cancelled bulk create's marker lookup may take: less than the
#: bulk call's whole settling (``_bulk.SETTLE_TIMEOUT``, 2 s), so that a slow
#: lookup (a project of many volumes) still reports the marker to look for
#: later, not a bare "outcome unknown".
LOOKUP_TIMEOUT = 1.5


async def settle_cancelled_create(
    what: str, marker: str | None, lookup: Callable[[], Awaitable[T | None]] | None
) -> T | ScalewayError:
    """What a create cancelled in flight did: the resource if visible within
    ``LOOKUP_TIMEOUT``, else "may exist", with the marker tag it carries."""
    error = APIConnectionError(
        f"cancelled while creating {what}; it may exist"
        + (f": it carries the tag {marker!r}" if marker else ""),
        outcome_unknown=True,
        marker_tag=marker,
    )
    if lookup is None:
        return error
    found: T | None = None
    with anyio.move_on_after(LOOKUP_TIMEOUT):
        try:
            found = await lookup()
        except ScalewayError:
            return error
    return found if found is not None else error


def create_once(
    pipeline: Pipeline,
    path: str,
    body: bytes,
    *,
    what: str,
    marker: str | None,
    lookup: Callable[[], Awaitable[T | None]] | None,
    decode: Callable[[Reply], T],
    attempts: Attempts | None = None,
    throttle_budget: int = 0,
) -> Awaitable[T]:
    """POST ``body`` to ``path`` once in effect; awaiting it gives the decoded resource.

    ``what`` names the resource in messages (``"volume 'data'"``); ``lookup``
    finds the resource carrying ``marker`` (None: no marker, so an ambiguous
    failure ends as ``outcome_unknown``).
    """
    once = _Once(
        pipeline,
        path,
        body,
        what,
        marker,
        lookup,
        decode,
        attempts if attempts is not None else Attempts(),
        throttle_budget,
    )
    return run_within(pipeline.deadline, once.create, once.expired)


@attrs.define(eq=False)
class _Once(Generic[T]):
    """One ``create_once`` call. An object rather than two closures over its
    arguments (see ``_MarkerLookup``): a bulk call keeps one per create in flight."""

    _pipeline: Pipeline
    _path: str
    _body: bytes
    _what: str
    _marker: str | None
    _lookup: Callable[[], Awaitable[T | None]] | None
    _decode: Callable[[Reply], T]
    _attempts: Attempts
    _throttle_budget: int

    def expired(self) -> APITimeoutError:
        """The error when the call's deadline passes first: the outcome is unknown,
        unless nothing was sent yet (the rate limiter still held the request, or
        every attempt failed to connect) or every attempt sent was refused (a bare
        429, a 503) and the next had not left (held by the rate limiter or a
        backoff): an attempt in flight, or one that may have acted, may have made it."""
        attempts = self._attempts
        text = f"create of {self._what} did not finish within the {self._pipeline.deadline:g} s "
        if not attempts.expired_unknown("POST"):
            error = APITimeoutError(
                f"{text}deadline {waited(attempts)}; it was not created",
                method="POST",
                path=self._path,
            )
            return unsent_cause(error, attempts)
        return APITimeoutError(
            f"{text}deadline {waited(attempts)}; {_may_exist(self._marker)}",
            outcome_unknown=True,
            marker_tag=self._marker,
            method="POST",
            path=self._path,
        )

    async def create(self) -> T:
        """POST until the resource exists, looking it up after each ambiguous failure."""
        pipeline, path, attempts = self._pipeline, self._path, self._attempts
        while True:
            try:
                reply = await pipeline.request(
                    "POST", path, None, self._body, attempts, throttle_budget=self._throttle_budget
                )
            except MaybeActed as ambiguous:
                lookup = None if self._lookup is None else self._look_up
                found = await _check(ambiguous, self._what, self._marker, lookup, path)
                if found is not None:
                    return found
                if attempts.count > pipeline.retry.max_retries:
                    error = _given_up(ambiguous, self._what, self._marker, path)
                    raise error from error.__cause__
                why = f"{ambiguous.error} (not created)"
                await pipeline.backoff("POST", path, why, attempts.count)
                continue
            try:
                return self._decode(reply)
            except ResponseDecodeError as unreadable:
                # The API said it made the resource but the body is unreadable:
                # it exists, so find it rather than report a failure that a
                # caller would "fix" by creating it again; unfound, it is unknown.
                if self._lookup is None:
                    raise self._unreadable(unreadable, "") from unreadable
                try:
                    found = await self._look_up()
                except ScalewayError as lookup_error:
                    raise self._unreadable(
                        unreadable, f" and checking whether it exists failed too ({lookup_error})"
                    ) from unreadable
                if found is None:
                    raise self._unreadable(unreadable, " and it is not visible yet") from unreadable
                return found

    async def _look_up(self) -> T | None:
        """The lookup after an ambiguous failure, counting its bare 429s in the
        create's attempts (a lookup made by ``marker_lookup``; any other cannot)."""
        lookup = self._lookup
        assert lookup is not None
        if isinstance(lookup, _MarkerLookup):
            found: T | None = await lookup.find(self._attempts)
            return found
        return await lookup()

    def _unreadable(self, error: ResponseDecodeError, check: str) -> ResponseDecodeError:
        """``error`` of an accepted create whose resource was not found: outcome unknown."""
        return ResponseDecodeError(
            f"create of {self._what} was accepted but its answer is unreadable{check}; "
            f"{_may_exist(self._marker)}; the answer: {error.message}",
            path=error.path,
            status_code=error.status_code,
            outcome_unknown=True,
            marker_tag=self._marker,
        )


async def _check(
    ambiguous: MaybeActed,
    what: str,
    marker: str | None,
    lookup: Callable[[], Awaitable[T | None]] | None,
    path: str,
) -> T | None:
    """The resource if the ambiguous attempt made it; None if it surely did not; else raise."""
    error = ambiguous.error
    if lookup is None:
        raise _unknown(ambiguous, f"create of {what} failed ambiguously", None, path)
    try:
        found = await lookup()
    except ScalewayError as lookup_error:
        raise _lookup_failed(error, lookup_error, what, marker, path) from lookup_error
    if found is not None:
        log.info("create of %s had succeeded despite %s", what, error)
        return found
    if ambiguous.may_land_later:
        raise _unknown(
            ambiguous, f"create of {what} timed out and is not visible yet", marker, path
        )
    return None


def _may_exist(marker: str | None) -> str:
    if marker is None:
        return "it may exist (created without a marker tag, so it cannot be looked up)"
    return f"it may exist: it carries the tag {marker!r}; look for it before creating it again"


def _lookup_failed(
    error: ScalewayError, lookup_error: ScalewayError, what: str, marker: str | None, path: str
) -> ScalewayError:
    """The error when the check after an ambiguous failure failed too: outcome unknown.

    It is the lookup's error (its class, and for an answer its status, request id
    and ``retry_after``: a 429 stays a ``RateLimitError``, a timeout an
    ``APITimeoutError``), saying what happened before it and carrying the marker.
    Any other failure of the check (a listing that shows no tags, an unreadable
    page) is an ``APIConnectionError``: no class of the library's internals leaks.
    """
    text = f"create of {what} failed ambiguously ({error}) and checking whether it exists failed"
    if isinstance(lookup_error, APIError):  # the API's words stay the message
        return reframed(
            lookup_error,
            note=f"{text}; {_may_exist(marker)}",
            outcome_unknown=True,
            marker_tag=marker,
        )
    message = f"{text} too ({lookup_error.message}); {_may_exist(marker)}"
    if isinstance(lookup_error, APIConnectionError):
        return reframed(lookup_error, message=message, outcome_unknown=True, marker_tag=marker)
    return APIConnectionError(
        message,
        outcome_unknown=True,
        marker_tag=marker,
        method="POST",
        path=path,
    )


def _unknown(ambiguous: MaybeActed, text: str, marker: str | None, path: str) -> ScalewayError:
    """The error for a create whose outcome cannot be known: never resent.

    It keeps the class of the failure (a dropped connection is no timeout) and
    names its cause once: an answer's own error says it, a network failure's
    message is quoted.
    """
    error = ambiguous.error
    if ambiguous.reply is not None:
        result: ScalewayError = Pipeline.status_error(
            ambiguous.reply, "POST", path, note=f"{text}; {_may_exist(marker)}", marker_tag=marker
        )
    else:
        cls = type(error) if isinstance(error, APIConnectionError) else APIConnectionError
        result = cls(
            f"{text} ({error.message}); {_may_exist(marker)}",
            outcome_unknown=True,
            marker_tag=marker,
            method="POST",
            path=path,
        )
    result.__cause__ = error
    return result


def _given_up(ambiguous: MaybeActed, what: str, marker: str | None, path: str) -> ScalewayError:
    """The last ambiguous failure once no retry is left, not seen by the check after it.

    A network failure that may have reached the API stays ``outcome_unknown``,
    so it carries the marker to look the resource up by (``_unknown``). A 500
    or 502 is the API saying it failed: its error is raised as it is.
    """
    error = ambiguous.error
    if not (error.outcome_unknown and isinstance(error, APIConnectionError)):
        return error
    return _unknown(
        ambiguous, f"create of {what} failed and was not visible when checked", marker, path
    )
