"""The request pipeline: pacing, one attempt through the seam, the retry loop, errors.

Every request of every API goes through ``Pipeline.request``: it waits for the
rate limiter, sends through the ``Sender`` seam, and applies the pure retry
decisions of ``_retry``. A create that may have acted is never resent here:
``MaybeActed`` hands it back to ``_create``, which finds out first.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Mapping
from functools import partial

import attrs

from ._deadline import run_within
from ._error_body import CONNECT_FAILED, LIMITER_HELD, NEXT_HELD, NEXT_NOT_SENT
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ScalewayError,
    error_from_response,
)
from ._pacing import RateLimiter
from ._retry import (
    MAX_SETTLE_WAITS,
    Action,
    RetryPolicy,
    decide_answer,
    decide_failure,
    parse_retry_after,
    wait,
)
from ._transport import Reply, Sender, TransportFailure

__all__ = ["Attempts", "MaybeActed", "Pipeline", "unsent_cause", "waited"]

log = logging.getLogger("scaleway_volumes")

PACING, SENT = "pacing", "sent"  # ``Attempts.stage``: at the rate limiter, in flight


class MaybeActed(Exception):
    """A create failed in a way that may have created the resource anyway."""

    def __init__(
        self, error: ScalewayError, *, may_land_later: bool, reply: Reply | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        # A timeout (read timeout, 504): the API may still be working on it.
        self.may_land_later = may_land_later
        # The answer, when the ambiguity is a status (500, 502, 504).
        self.reply = reply

    def __reduce__(self) -> tuple[object, ...]:
        # A keyword-only flag defeats Exception's pickling: a stand-in, then the state.
        return (partial(type(self), may_land_later=False), (self.error,), dict(self.__dict__))


class Attempts:
    """Bookkeeping of one call's attempts (a create's resends after checks included)."""

    __slots__ = (
        "acted",
        "answer",
        "count",
        "refused",
        "release_failed",
        "sends",
        "settled",
        "stage",
        "throttled",
        "unsent",
        "unsure",
    )

    def __init__(self) -> None:
        self.count = 0
        self.throttled = 0  # bare 429s resent at the limiter's pace
        self.settled = 0  # waits for a resource in a transient state
        self.acted = False  # an earlier attempt may have been acted on
        # Attempts handed to the transport, less those proven never to have
        # left (a refused connection): until one is, nothing can have reached
        # the API (waiting for the rate limiter or a slot).
        self.sends = 0
        # Attempts proven never to have left (a refused connection), and the
        # last one's failure: a deadline passing in the backoff after them
        # blames the connection, not the rate limiter (``waited``).
        self.unsent = 0
        self.refused: TransportFailure | None = None
        # SENT from an attempt's handing over to its answer or failure, PACING while
        # it waits for the rate limiter; the last one's status (None: no answer).
        self.stage = ""
        self.answer: int | None = None
        self.unsure = False  # one may have acted where ``acted`` misses it: a 2xx, MaybeActed
        self.release_failed = False  # the limiter's release() raised (logged once)

    def add_throttled(self, throttled: int) -> None:
        """Count ``throttled`` bare 429s met by a request made on this call's behalf
        (a create's marker lookup), as a ``throttled`` callback of ``_listing``."""
        self.throttled += throttled

    @property
    def sent(self) -> bool:
        """Whether an attempt may have reached the API."""
        return self.sends > 0

    def unknown(self, method: str, this_attempt: bool) -> bool:
        """Whether a call raising now may have acted: this attempt, or an earlier one.

        A read never acts, so a GET is never ``outcome_unknown``.
        """
        return method != "GET" and (this_attempt or self.acted)

    def expired_unknown(self, method: str) -> bool:
        """Whether a call whose deadline passed now may have acted: not when every
        attempt sent was refused (a 429, a 503, a 409) and the next had not left."""
        return self.unknown(method, self.stage == SENT or self.unsure)


@attrs.frozen
class Pipeline:
    """Sends requests for one API configuration; ``with_options`` copies differ here only.

    ``timeout`` is httpx's timeout dict for each attempt, ``deadline`` bounds a
    whole call (``None``: unbounded), ``limiter`` paces every attempt.
    """

    sender: Sender
    retry: RetryPolicy
    timeout: Mapping[str, float | None]
    deadline: float | None
    limiter: RateLimiter | None
    base_path: str = ""

    def call(
        self,
        method: str,
        path: str,
        *,
        query: str | None = None,
        body: bytes | None = None,
        attempts: Attempts | None = None,
        throttle_budget: int = 0,
    ) -> Awaitable[Reply]:
        """``request`` bounded by the deadline (``APITimeoutError`` when it expires); await it."""
        attempts = attempts if attempts is not None else Attempts()

        def expired() -> APITimeoutError:
            return unsent_cause(
                APITimeoutError(
                    f"{'no answer' if attempts.answer is None else 'no success'} within "
                    f"the {self.deadline:g} s deadline {waited(attempts)}",
                    outcome_unknown=attempts.expired_unknown(method),
                    method=method,
                    path=path,
                ),
                attempts,
            )

        return run_within(
            self.deadline,
            lambda: self.request(
                method, path, query, body, attempts, throttle_budget=throttle_budget
            ),
            expired,
        )

    async def request(
        self,
        method: str,
        path: str,
        query: str | None,
        body: bytes | None,
        attempts: Attempts,
        *,
        throttle_budget: int = 0,
    ) -> Reply:
        """Send with retries until a 2xx answer, which is returned; raise otherwise.

        A POST that fails in a way that may have acted raises ``MaybeActed``.
        """
        policy = self.retry
        while True:
            attempts.count += 1
            try:
                reply = await self._attempt(method, path, query, body, attempts)
            except TransportFailure as failure:
                original = failure.__cause__ or failure  # httpx's (or aiohttp's) own
                if failure.permanent:  # a closed shared client: no resend can succeed
                    raise self._connection_error(failure, method, path, attempts) from original
                decision = decide_failure(
                    method,
                    sent=failure.sent,
                    timed_out=failure.timed_out,
                    policy=policy,
                    attempt=attempts.count,
                )
                attempts.acted = attempts.acted or decision.acted
                if decision.action is Action.CHECK:
                    attempts.unsure = True
                    raise MaybeActed(
                        self._connection_error(failure, method, path, attempts),
                        may_land_later=decision.may_land_later,
                    ) from original
                if decision.action is Action.RAISE:
                    raise self._connection_error(failure, method, path, attempts) from original
                if failure.at_once:
                    log.debug("resending %s %s at once: %s", method, self.base_path + path, failure)
                else:
                    await self.backoff(method, path, str(failure), attempts.count)
                continue
            status = reply.status_code
            if 200 <= status < 300:
                attempts.unsure = True  # it acted: a deadline passing next must not deny it
                return reply
            retry_after = None
            if status == 429 or status == 503:
                retry_after = parse_retry_after(reply.headers.get("retry-after"))
            transient, current_state = _transient_state(reply) if status == 409 else (False, None)
            decision = decide_answer(
                method,
                status,
                policy=policy,
                attempt=attempts.count,
                retry_after=retry_after,
                transient_state=transient,
                current_state=current_state,
                throttled=attempts.throttled,
                throttle_budget=throttle_budget,
                settled=attempts.settled,
            )
            earlier = attempts.unknown(method, False)
            attempts.acted = attempts.acted or decision.acted
            action = decision.action
            if action is Action.RAISE:
                # An earlier attempt may have acted, or this one (a 5xx to a
                # DELETE or PATCH, after which a 404 would mean it did).
                note = None
                if earlier:
                    note = _EARLIER_MAY_HAVE_ACTED
                elif attempts.unknown(method, False):
                    note = _THIS_MAY_HAVE_ACTED
                raise self.status_error(reply, method, path, retry_after, note=note)
            if action is Action.RESEND:
                # The limiter has just slowed down and paces the resend: a bare
                # 429 here is flow control, not a failure.
                attempts.count -= 1
                attempts.throttled += 1
            elif action is Action.RETRY:
                await self.backoff(method, path, str(status), attempts.count, decision.delay)
            elif action is Action.SETTLE:
                attempts.count -= 1
                attempts.settled += 1
                await self.settle(method, path, attempts.settled)
            else:  # Action.CHECK
                attempts.unsure = True
                raise MaybeActed(
                    self.status_error(reply, method, path),
                    may_land_later=decision.may_land_later,
                    reply=reply,
                )

    async def _attempt(
        self, method: str, path: str, query: str | None, body: bytes | None, attempts: Attempts
    ) -> Reply:
        limiter = self.limiter
        attempts.stage = PACING
        permit = await limiter.acquire() if limiter is not None else None
        status: int | None = None
        begin = time.perf_counter()
        attempts.sends += 1
        attempts.stage, attempts.answer = SENT, None  # left by an answer or failure only
        try:
            reply = await self.sender.send(method, path, query, body, self.timeout)
            status = attempts.answer = reply.status_code
            attempts.stage = ""
        except TransportFailure as failure:
            attempts.stage = ""
            kind = type(failure.__cause__ or failure).__name__  # logged as its status
            self._log_attempt(method, path, kind, attempts.count, begin)
            if not failure.sent:  # proven never to have left: as if not handed over
                attempts.sends -= 1
                attempts.unsent += 1
                attempts.refused = failure
            raise
        finally:
            if limiter is not None:
                try:
                    limiter.release(permit, status)
                except Exception:
                    # A user's limiter broke its promise never to raise. The
                    # answer is kept, not replaced by this error: a create's 2xx
                    # lost here would be created again by a caller who retries.
                    if not attempts.release_failed:  # logged once per call
                        attempts.release_failed = True
                        log.error(_RELEASE_RAISED, type(limiter).__name__, exc_info=True)
        self._log_attempt(method, path, status, attempts.count, begin)
        return reply

    def _log_attempt(self, method: str, path: str, status: object, n: int, t0: float) -> None:
        if log.isEnabledFor(logging.DEBUG):
            ms = (time.perf_counter() - t0) * 1000
            where = self.base_path + path
            log.debug("%s %s -> %s (attempt %d, %.1f ms)", method, where, status, n, ms)

    async def backoff(
        self, method: str, path: str, why: str, attempt: int, delay: float | None = None
    ) -> None:
        """Wait before resending after attempt ``attempt``: ``delay``, else the policy's backoff.

        Logged at INFO with the API's full path, which names the API and zone.
        """
        if delay is None:
            delay = self.retry.backoff(attempt)
        log.info(
            "retrying %s %s in %.2f s after %s (attempt %d of %d)",
            method,
            self.base_path + path,
            delay,
            why,
            attempt + 1,
            self.retry.max_retries + 1,
        )
        await wait(delay)

    async def settle(self, method: str, path: str, number: int) -> None:
        """Wait before resending after the ``number``-th answer that the resource is busy.

        A 409 ``transient_state`` (a volume still ``snapshotting``) is no failure
        and uses no retry: up to ``MAX_SETTLE_WAITS`` waits, within the deadline.
        The first wait of a call is logged at INFO, the next ones at DEBUG (a
        bulk delete of busy volumes would otherwise log dozens per volume).
        """
        delay = self.retry.backoff(number)
        log.log(
            logging.INFO if number == 1 else logging.DEBUG,
            "waiting %.2f s for %s %s to leave a transient state (wait %d of at most %d)",
            delay,
            method,
            self.base_path + path,
            number,
            MAX_SETTLE_WAITS,
        )
        await wait(delay)

    @staticmethod
    def status_error(
        reply: Reply,
        method: str,
        path: str,
        retry_after: float | None = None,
        *,
        note: str | None = None,
        marker_tag: str | None = None,
    ) -> APIError:
        """The typed error for a non-2xx answer; ``note`` says the outcome is unknown."""
        return error_from_response(
            reply.status_code,
            reply.content,
            headers=reply.headers,
            reason=reply.reason_phrase,
            method=method,
            path=path,
            retry_after=retry_after,
            outcome_unknown=note is not None,
            marker_tag=marker_tag,
            note=note,
        )

    @staticmethod
    def _connection_error(
        failure: TransportFailure, method: str, path: str, attempts: Attempts
    ) -> APIConnectionError:
        """The error for ``failure``; its ``__cause__`` is the transport's own exception."""
        cls = APITimeoutError if failure.timed_out else APIConnectionError
        what = "timed out" if failure.timed_out else "failed"
        unknown = attempts.unknown(method, failure.sent)
        earlier = unknown and not failure.sent
        error = cls(
            f"request {what}: {failure}" + (f"; {_EARLIER_MAY_HAVE_ACTED}" if earlier else ""),
            outcome_unknown=unknown,
            method=method,
            path=path,
        )
        # Set here too: a create's ``MaybeActed`` carries this error unraised.
        error.__cause__ = failure.__cause__ or failure
        return error


_RELEASE_RAISED = "rate limiter %s: release() raised (it must never raise); the answer is kept"
_EARLIER_MAY_HAVE_ACTED = "an earlier attempt got no clear answer and may have been acted on"
_THIS_MAY_HAVE_ACTED = "the API may have acted on it before failing"


def waited(attempts: Attempts) -> str:
    """What a call whose deadline passed had done, for its message.

    Nothing sent and no attempt failed: the rate limiter (or a slot) held the
    request (``LIMITER_HELD``). Nothing sent but attempts failed before leaving
    (a refused connection): they are why, so the message names the last one's
    failure, and says whether the next attempt was waiting for the rate
    limiter (one more attempt begun than failed) or the deadline passed in the
    backoff after them. Sent: how many, and, the last one answered, its status
    and whether the next was waiting for the rate limiter or not sent yet.
    """
    if attempts.sent:
        text = f"{attempts.sends} attempt(s) sent"
        if attempts.answer is None:  # in flight, or failed
            return f"({text})"
        held = NEXT_HELD if attempts.stage == PACING else NEXT_NOT_SENT
        return f"({text}, the last answered {attempts.answer}; {held})"
    refused = attempts.refused
    if refused is None:
        return f"({LIMITER_HELD})"
    text = f"nothing was sent: {attempts.unsent} {CONNECT_FAILED}, the last with {refused}"
    if attempts.count > attempts.unsent:
        text += "; the next one was waiting for the rate limiter"
    return f"({text})"


def unsent_cause(error: APITimeoutError, attempts: Attempts) -> APITimeoutError:
    """``error`` (a deadline's) with, when nothing was sent, the last refused
    connection's own exception as its ``__cause__``.

    ``run_within`` raises the error ``from`` its own timeout, which replaces
    this cause for as long as it does not keep one the error already has.
    """
    refused = attempts.refused
    if refused is not None and not attempts.sent:
        error.__cause__ = refused.__cause__ or refused
    return error


def _transient_state(reply: Reply) -> tuple[bool, str | None]:
    """Whether a 409's JSON error body is a ``transient_state`` one, and its
    ``current_state`` (None when it names none)."""
    try:
        body = json.loads(reply.content)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply (as parse_body)
        return False, None
    if not isinstance(body, dict) or body.get("type") != "transient_state":
        return False, None
    state = body.get("current_state")
    return True, state if isinstance(state, str) else None
