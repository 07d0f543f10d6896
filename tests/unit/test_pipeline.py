"""The pipeline over the seam: a scripted Sender, no HTTP at all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import httpx
import pytest

import scaleway_volumes
from scaleway_volumes import APIConnectionError, RateLimitError, RetryPolicy, ServerError
from scaleway_volumes._pipeline import Attempts, MaybeActed, Pipeline
from scaleway_volumes._transport import TransportFailure

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]


class ScriptedSender:
    """Answers from a script: an int status, or a TransportFailure to raise."""

    def __init__(self, *script: int | TransportFailure) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, str, str | None]] = []

    async def send(
        self,
        method: str,
        path: str,
        query: str | None,
        body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> httpx.Response:
        self.sent.append((method, path, query))
        step = self.script.pop(0)
        if isinstance(step, TransportFailure):
            raise step
        if step == -1:  # hang until cancelled
            await anyio.sleep_forever()
        return httpx.Response(step, json={"type": "x", "message": "m"})


class RecordingLimiter:
    """Counts acquires and the statuses released."""

    def __init__(self) -> None:
        self.acquired = 0
        self.released: list[int | None] = []

    async def acquire(self) -> object:
        self.acquired += 1
        return self.acquired

    def release(self, permit: object, status: int | None) -> None:
        self.released.append(status)


def make(sender: Any, limiter: Any = None, **policy: Any) -> Pipeline:
    return Pipeline(
        sender=sender,
        retry=RetryPolicy(**policy),
        timeout={},
        deadline=5.0,
        limiter=limiter,
    )


async def test_every_attempt_goes_through_the_limiter() -> None:
    """acquire before each attempt, release with its status (None: no answer)."""
    failure = TransportFailure("refused", sent=False, timed_out=False)
    limiter = RecordingLimiter()
    pipeline = make(ScriptedSender(503, failure, 200), limiter)
    reply = await pipeline.call("GET", "/volumes")
    assert reply.status_code == 200
    assert limiter.acquired == 3
    assert limiter.released == [503, None, 200]


async def test_cancelled_attempt_releases_its_permit() -> None:
    """A request cancelled in flight gives its permit back, status None."""
    limiter = RecordingLimiter()
    pipeline = make(ScriptedSender(-1), limiter)
    with anyio.move_on_after(0.05):
        await pipeline.call("GET", "/volumes")
    assert limiter.acquired == 1 and limiter.released == [None]


async def test_bare_429_within_budget_does_not_use_retries() -> None:
    """With a throttle budget, bare 429s are resent without counting as retries
    (given retries at all: ``max_retries=0`` turns these resends off too)."""
    sender = ScriptedSender(429, 429, 429, 200)
    attempts = Attempts()
    pipeline = make(sender, max_retries=1)
    await pipeline.call("POST", "/volumes", body=b"{}", attempts=attempts, throttle_budget=5)
    assert len(sender.sent) == 4 and attempts.throttled == 3 and attempts.count == 1


async def test_bare_429_without_budget_is_a_rate_limit_error() -> None:
    """A single call meeting bare 429s retries, then raises RateLimitError."""
    sender = ScriptedSender(429, 429)
    with pytest.raises(RateLimitError) as info:
        await make(sender, max_retries=1).call("GET", "/volumes")
    assert info.value.retry_after is None and len(sender.sent) == 2


async def test_post_maybe_sent_is_handed_back_not_resent() -> None:
    """A create that may have acted raises MaybeActed (the create layer checks)."""
    dropped = TransportFailure("reset", sent=True, timed_out=False)
    for step, later in ((dropped, False), (TransportFailure("t", sent=True, timed_out=True), True)):
        sender = ScriptedSender(step)
        with pytest.raises(MaybeActed) as info:
            await make(sender).request("POST", "/volumes", None, b"{}", Attempts())
        assert info.value.may_land_later is later and len(sender.sent) == 1
    sender = ScriptedSender(502)
    with pytest.raises(MaybeActed) as status_info:
        await make(sender).request("POST", "/volumes", None, b"{}", Attempts())
    assert isinstance(status_info.value.error, ServerError)
    assert status_info.value.reply is not None


async def test_get_connection_failures_exhaust_into_api_connection_error() -> None:
    """A GET whose connections keep failing ends as APIConnectionError, not sent."""
    failure = TransportFailure("refused", sent=False, timed_out=False)
    sender = ScriptedSender(failure, failure)
    with pytest.raises(APIConnectionError) as info:
        await make(sender, max_retries=1).call("GET", "/volumes")
    assert info.value.outcome_unknown is False and len(sender.sent) == 2


async def test_set_testing_records_waits_instead_of_sleeping() -> None:
    """set_testing(True, record=...) makes waits instant and lists their lengths."""
    waits: list[float] = []
    scaleway_volumes.set_testing(True, record=waits)
    try:
        sender = ScriptedSender(503, 503, 200)
        await make(sender, backoff_initial=1.0, backoff_max=1.0).call("GET", "/volumes")
    finally:
        scaleway_volumes.set_testing(False)
    assert len(waits) == 2 and all(0.0 <= w <= 1.0 for w in waits)
