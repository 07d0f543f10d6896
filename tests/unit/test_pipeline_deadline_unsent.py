"""A deadline that passes after attempts failed to connect blames them, not the rate limiter.

Every attempt refused before it left (connection refused, DNS failure): nothing
reached the API, but the rate limiter did not hold the request either. The
deadline's error says how many attempts failed to connect and how the last one
failed, and stays not ``outcome_unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import httpx
import pytest

from scaleway_volumes import APITimeoutError, RetryPolicy
from scaleway_volumes._create import create_once
from scaleway_volumes._error_body import LIMITER_HELD
from scaleway_volumes._hints import hint
from scaleway_volumes._pipeline import Attempts, Pipeline, unsent_cause, waited
from scaleway_volumes._transport import TransportFailure

pytestmark = pytest.mark.anyio


class Refusing:
    """A ``Sender`` whose every attempt is refused before it leaves."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(
        self,
        method: str,
        path: str,
        query: str | None,
        body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> httpx.Response:
        self.sent += 1
        failure = TransportFailure("ConnectError: connection refused", sent=False, timed_out=False)
        raise failure from httpx.ConnectError("connection refused")


class HoldsTheSecond:
    """A rate limiter that lets the first attempt go and holds every later one."""

    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self) -> object:
        self.acquired += 1
        if self.acquired > 1:
            await anyio.sleep_forever()
        return None

    def release(self, permit: object, status: int | None) -> None:
        pass


def pipeline(retry: RetryPolicy, limiter: Any = None) -> Pipeline:
    return Pipeline(sender=Refusing(), retry=retry, timeout={}, deadline=0.5, limiter=limiter)


def assert_blames_the_connection(error: APITimeoutError) -> None:
    message = str(error)
    assert error.outcome_unknown is False, message
    assert "nothing was sent: 1 attempt(s) failed to connect" in message, message
    assert "connection refused" in message, message
    assert LIMITER_HELD not in message, message
    # The refused connection's own exception, not the deadline's timeout.
    assert isinstance(error.__cause__, httpx.ConnectError), repr(error.__cause__)
    # ...and the advice is the connection's, not "did not answer in time".
    assert "could not be reached" in (hint(error) or ""), hint(error)


async def test_deadline_in_the_backoff_after_a_refused_connection(
    long_backoff: RetryPolicy,
) -> None:
    """A GET and a create alike: the connection is named, the rate limiter is not."""
    with pytest.raises(APITimeoutError) as get:
        await pipeline(long_backoff).call("GET", "/volumes/x")
    assert_blames_the_connection(get.value)
    assert "rate limiter" not in str(get.value)

    with pytest.raises(APITimeoutError) as create:
        await create_once(
            pipeline(long_backoff),
            "/volumes",
            b"{}",
            what="volume 'x'",
            marker=None,
            lookup=None,
            decode=lambda reply: reply,
        )
    assert_blames_the_connection(create.value)
    assert "it was not created" in str(create.value)
    assert "rate limiter" not in str(create.value)


async def test_deadline_while_the_limiter_holds_the_retry_of_a_refused_attempt() -> None:
    """The retry was waiting for the rate limiter: said after the refused connection."""
    retry = RetryPolicy(max_retries=3, backoff_initial=0.0, backoff_max=0.0)
    with pytest.raises(APITimeoutError) as info:
        await pipeline(retry, HoldsTheSecond()).call("GET", "/volumes/x")
    assert_blames_the_connection(info.value)
    assert "the next one was waiting for the rate limiter" in str(info.value)


def test_waited_says_what_held_a_call_that_sent_nothing() -> None:
    """Nothing tried: the limiter held it. Refused attempts: named, with the last failure,
    which ``unsent_cause`` makes the cause (httpx's own exception)."""
    attempts = Attempts()
    assert waited(attempts) == f"({LIMITER_HELD})"
    refused = TransportFailure("refused", sent=False, timed_out=False)
    refused.__cause__ = httpx.ConnectError("refused")
    attempts.count = attempts.unsent = 2
    attempts.refused = refused
    assert waited(attempts) == (
        "(nothing was sent: 2 attempt(s) failed to connect, the last with refused)"
    )
    error = unsent_cause(APITimeoutError("deadline"), attempts)
    assert error.__cause__ is refused.__cause__
    attempts.sends = 1
    assert waited(attempts) == "(1 attempt(s) sent)"
    assert unsent_cause(APITimeoutError("deadline"), attempts).__cause__ is None
