"""A deadline passing after refusals (nothing acted) is told from one that may have acted."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest

from scaleway_volumes import APITimeoutError, RetryPolicy
from scaleway_volumes._create import create_once
from scaleway_volumes._pipeline import PACING, SENT, Attempts, Pipeline, waited

pytestmark = pytest.mark.anyio


class Answers:
    """A ``Sender`` answering every attempt with ``status``."""

    def __init__(self, status: int) -> None:
        self.status = status
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
        return httpx.Response(self.status, json={"message": "no"})


def pipeline(status: int, retry: RetryPolicy) -> Pipeline:
    return Pipeline(sender=Answers(status), retry=retry, timeout={}, deadline=0.2, limiter=None)


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("method", ["DELETE", "PATCH"])
async def test_a_deadline_in_the_backoff_after_a_refusal(
    long_backoff: RetryPolicy, method: str, status: int
) -> None:
    """Answered 429 or 503, then backing off when the deadline passed: nothing acted."""
    with pytest.raises(APITimeoutError) as info:
        await pipeline(status, long_backoff).call(method, "/volumes/x")
    error = info.value
    assert error.outcome_unknown is False, str(error)
    assert str(error) == (
        f"no success within the 0.2 s deadline (1 attempt(s) sent, the last answered "
        f"{status}; the next was not sent) [{method} /volumes/x]"
    )


async def test_a_create_in_the_backoff_after_a_429_was_not_created(
    long_backoff: RetryPolicy,
) -> None:
    """The create's own deadline error says it was not created (and no marker)."""
    with pytest.raises(APITimeoutError) as info:
        await create_once(
            pipeline(429, long_backoff),
            "/volumes",
            b"{}",
            what="volume 'x'",
            marker="scaleway-volumes:create=" + "0" * 32,
            lookup=None,
            decode=lambda reply: reply,
        )
    error = info.value
    assert error.outcome_unknown is False and error.marker_tag is None, str(error)
    assert "(1 attempt(s) sent, the last answered 429; the next was not sent)" in str(error)
    assert "it was not created" in str(error)


async def test_a_deadline_in_the_backoff_after_a_500_to_a_delete_is_unknown(
    long_backoff: RetryPolicy,
) -> None:
    """A 500 to a DELETE may have been acted on: still unknown."""
    with pytest.raises(APITimeoutError) as info:
        await pipeline(500, long_backoff).call("DELETE", "/volumes/x")
    assert info.value.outcome_unknown is True


def test_waited_and_expired_unknown_follow_the_stage() -> None:
    """In flight: unknown, "N attempt(s) sent". Answered: the status, and where the next
    one was. A 2xx or an ambiguous create (``unsure``), or ``acted``: unknown."""
    attempts = Attempts()
    attempts.sends, attempts.stage = 1, SENT
    assert waited(attempts) == "(1 attempt(s) sent)"
    assert attempts.expired_unknown("DELETE") and not attempts.expired_unknown("GET")
    attempts.stage, attempts.answer = PACING, 429
    assert waited(attempts) == (
        "(1 attempt(s) sent, the last answered 429; the next was waiting for the rate limiter)"
    )
    assert not attempts.expired_unknown("DELETE")
    attempts.stage = ""
    assert waited(attempts) == "(1 attempt(s) sent, the last answered 429; the next was not sent)"
    attempts.unsure = True
    assert attempts.expired_unknown("POST")
    attempts.unsure, attempts.acted = False, True
    assert attempts.expired_unknown("DELETE")
