"""The generic poll loop of every ``wait_for_*``, with scripted fetches and no HTTP."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scaleway_volumes import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResourceStateError,
    ResponseDecodeError,
    ServerError,
    WaitTimeoutError,
)
from scaleway_volumes._states import BLOCK_VOLUME_STATES, BLOCK_VOLUME_TRANSIENT
from scaleway_volumes._waiters import check_wait_timeout, poll_again, wait_for

pytestmark = pytest.mark.anyio


class Res:
    """A resource with a status, as a poll returns it."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.id = "f929fe39-63f8-4be8-a80e-1e9c8ae22a76"


class Script:
    """A fetch that answers the scripted states in turn (None: 404; an exception: raised),
    then repeats the last."""

    def __init__(self, *states: str | Exception | None) -> None:
        self.states = list(states)
        self.calls = 0

    async def __call__(self) -> Res:
        state = self.states[min(self.calls, len(self.states) - 1)]
        self.calls += 1
        if state is None:
            raise NotFoundError("gone", status_code=404)
        if isinstance(state, Exception):
            raise state
        return Res(state)


def ones() -> Iterator[float]:
    yield 0.0
    while True:
        yield 1.0


async def run(fetch: Script, **kwargs: Any) -> Res | None:
    kwargs.setdefault("until", None)
    kwargs.setdefault("limit", 300.0)
    result: Res | None = await wait_for(
        fetch,
        lambda res: res.status,
        resource_id=Res("x").id,
        kind="volume",
        transient=BLOCK_VOLUME_TRANSIENT,
        states=BLOCK_VOLUME_STATES,
        delays=kwargs.pop("delays", ones()),
        **kwargs,
    )
    return result


async def test_first_poll_at_once_then_the_schedule(no_sleep: list[float]) -> None:
    """Polls at 0, then after each delay; returns the resource in its settled state."""
    fetch = Script("creating", "creating", "available")
    result = await run(fetch)
    assert result is not None and result.status == "available"
    assert fetch.calls == 3 and no_sleep == [1.0, 1.0]


@pytest.mark.parametrize(
    ("states", "until", "expected", "calls"),
    [
        (["creating", "in_use"], None, "in_use", 2),
        (["available", "in_use"], "in_use", "in_use", 2),
        (["available", "error"], {"error"}, "error", 2),
        (["deleting", "deleted"], ("deleted", "error"), None, 2),
        (["deleting", "deleted"], "deleted", None, 2),
        (["deleting", None], ["deleted"], None, 2),
        (["available", None], ("available", "deleted"), "available", 1),
    ],
)
async def test_outcomes(
    no_sleep: list[float], states: list[str | None], until: Any, expected: str | None, calls: int
) -> None:
    """Settled or asked-for states end the wait; 'deleted' asked for returns None."""
    fetch = Script(*states)
    result = await run(fetch, until=until)
    assert (None if result is None else result.status) == expected
    assert fetch.calls == calls


async def test_failure_state_raises_with_the_resource(no_sleep: list[float]) -> None:
    """error when waiting for available: ResourceStateError with the last resource."""
    with pytest.raises(ResourceStateError) as info:
        await run(Script("creating", "error"), until="available")
    assert info.value.state == "error" and isinstance(info.value.resource, Res)
    assert info.value.expected == ("available",)


async def test_gone_while_waiting_for_a_state(no_sleep: list[float]) -> None:
    """A 404 when 'deleted' was not asked for re-raises the NotFoundError."""
    with pytest.raises(NotFoundError):
        await run(Script("creating", None))


@pytest.mark.parametrize("until", [None, "available", ("available", "error")])
async def test_status_deleted_is_gone_like_a_404(no_sleep: list[float], until: Any) -> None:
    """Status 'deleted' when 'deleted' was not asked for: the NotFoundError a 404 gives
    (not a settled resource, not a ResourceStateError), with a note on what was seen."""
    fetch = Script("creating", "deleted", "available")
    with pytest.raises(NotFoundError) as info:
        await run(fetch, until=until)
    error = info.value
    assert not isinstance(error, ResourceStateError) and fetch.calls == 2
    assert (error.status_code, error.type, error.message) == (
        404,
        "not_found",
        "resource is not found",
    )
    assert (error.resource, error.resource_id) == ("volume", Res("x").id)
    assert (error.method, error.path) == ("GET", f"/volumes/{Res('x').id}")
    assert "status 'deleted'" in str(error)


async def test_a_misspelt_until_sends_nothing(no_sleep: list[float]) -> None:
    """A state the resource cannot have is refused before the first poll."""
    fetch = Script("available")
    with pytest.raises(ValueError, match="did you mean 'available'"):
        await run(fetch, until="availble")
    assert fetch.calls == 0


async def test_virtual_timeout_under_set_testing(no_sleep: list[float]) -> None:
    """Skipped waits still count: a 2.5 s timeout allows polls at 0, 1 and 2 s, and the
    one due at 3 s comes just before the timeout instead (at 2.25 s: half the time left,
    at most ``LAST_POLL_LEAD`` before it), the last."""
    fetch = Script("creating")
    with pytest.raises(WaitTimeoutError) as info:
        await run(fetch, limit=2.5)
    assert fetch.calls == 4 and no_sleep == [1.0, 1.0, 0.25]
    assert info.value.last_state == "creating" and info.value.timeout == 2.5


async def test_a_hung_poll_is_bounded_by_the_wall_clock() -> None:
    """A poll that never answers ends at the timeout, with no state seen."""

    async def hang() -> Res:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    with pytest.raises(WaitTimeoutError) as info:
        await wait_for(
            hang,
            lambda res: res.status,
            resource_id="x",
            kind="volume",
            until=None,
            limit=0.05,
            transient=BLOCK_VOLUME_TRANSIENT,
            states=BLOCK_VOLUME_STATES,
        )
    assert info.value.last_state is None and "not seen" in str(info.value)


async def test_cancellation_propagates() -> None:
    """Cancelled between polls: the cancel reaches the caller, no poll after it."""
    fetch = Script("creating")
    with anyio.move_on_after(0.05) as scope:
        await run(fetch)
    assert scope.cancelled_caught and fetch.calls == 1


def rate_limited(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("too many requests", status_code=429, retry_after=retry_after)


def server_error(status: int = 500, retry_after: float | None = None) -> ServerError:
    return ServerError("internal error", status_code=status, retry_after=retry_after)


async def test_transient_poll_errors_do_not_end_the_wait(no_sleep: list[float]) -> None:
    """A 429, a 5xx, a network error and a request timeout (each after the pipeline's
    retries) between two states: the wait polls on, as scheduled, and returns."""
    fetch = Script(
        "creating",
        rate_limited(),
        server_error(502),
        APIConnectionError("connection refused"),
        APITimeoutError("no answer within the 120 s deadline"),
        "available",
    )
    result = await run(fetch)
    assert result is not None and result.status == "available"
    assert fetch.calls == 6 and no_sleep == [1.0] * 5


@given(status=st.integers(500, 599), answered=st.booleans(), timed_out=st.booleans())
def test_poll_again_decides_by_what_another_poll_could_change(
    status: int, answered: bool, timed_out: bool
) -> None:
    """A 429 always passes; a 5xx only if the pipeline resends it (500, 502, 503, 504:
    a 501 answers every poll alike); a network failure or timeout only once a poll was
    answered (before, a wrong base_url or port is likelier than a blip)."""
    assert poll_again(rate_limited(), answered)
    assert poll_again(server_error(status), answered) == (status in {500, 502, 503, 504})
    network = (APITimeoutError if timed_out else APIConnectionError)("connection refused")
    assert poll_again(network, answered) == answered
    others = (
        AuthenticationError("no", status_code=401),
        PermissionDeniedError("no", status_code=403),
        ResponseDecodeError("?"),
    )
    for other in others:
        assert not poll_again(other, answered)


async def test_a_network_failure_before_any_answer_ends_the_wait(no_sleep: list[float]) -> None:
    """The first poll fails on the network (after the pipeline's retries): raised at once,
    as by any other call, not polled for the rest of the wait."""
    error = APIConnectionError("connection refused")
    fetch = Script(error, "available")
    with pytest.raises(APIConnectionError) as info:
        await run(fetch)
    assert info.value is error and fetch.calls == 1 and no_sleep == []


async def test_failed_polls_are_logged_once_per_run(
    no_sleep: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """A wait polling through failures says so: a WARNING at the first failed poll of a
    run, DEBUG for the next ones of that run (every 5 s in a long outage), and a WARNING
    again after a poll that answered."""
    caplog.set_level(logging.DEBUG, logger="scaleway_volumes")
    fetch = Script(rate_limited(), server_error(502), "creating", server_error(500), "available")
    await run(fetch)
    polls = [r for r in caplog.records if "polling again" in r.getMessage()]
    assert [r.levelno for r in polls] == [logging.WARNING, logging.DEBUG, logging.WARNING]
    assert "volume " in polls[0].getMessage() and "429" in polls[0].getMessage()


async def test_polls_that_flap_warn_three_times_in_a_wait(
    no_sleep: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """Polls failing every other time (a flapping proxy): three WARNINGs, the third
    saying that the rest go to DEBUG, then DEBUG only, not one per failure."""
    caplog.set_level(logging.DEBUG, logger="scaleway_volumes")
    fetch = Script(*([server_error(502), "creating"] * 6), "available")
    await run(fetch)
    polls = [r for r in caplog.records if "polling again" in r.getMessage()]
    assert [r.levelno for r in polls] == [logging.WARNING] * 3 + [logging.DEBUG] * 3
    assert [r.getMessage().endswith("are logged at DEBUG") for r in polls[:3]] == [
        False,
        False,
        True,
    ]


async def test_a_model_given_counts_as_seen_and_answered(no_sleep: list[float]) -> None:
    """Given the model (not its id), the wait has seen its state and heard from the API:
    a network failure is polled through, and a timeout keeps the model's state."""
    fetch = Script(APIConnectionError("connection refused"))
    with pytest.raises(WaitTimeoutError) as info:
        await run(fetch, limit=2.5, given=Res("creating"))
    assert info.value.last_state == "creating" and fetch.calls == 4


async def test_a_state_reached_after_the_last_full_wait_is_seen(no_sleep: list[float]) -> None:
    """Available between the last scheduled poll and the timeout: the last poll, just
    before the timeout, sees it (it used to end the wait with the state before)."""
    fetch = Script("creating", "creating", "creating", "available")
    result = await run(fetch, limit=2.5)
    assert result is not None and result.status == "available"
    assert fetch.calls == 4 and no_sleep == [1.0, 1.0, 0.25]


async def test_a_retry_after_delays_the_next_poll(no_sleep: list[float]) -> None:
    """A poll error's Retry-After (a 429's or a 503's) is the least wait before the next
    poll; one shorter than the schedule's changes nothing."""
    fetch = Script(rate_limited(61.0), server_error(503, 3.0), rate_limited(0.2), "available")
    result = await run(fetch)
    assert result is not None and result.status == "available"
    assert no_sleep == [61.0, 3.0, 1.0]


async def test_a_retry_after_past_the_time_left_ends_the_wait(no_sleep: list[float]) -> None:
    """Asked to come back in 61 s with 5 s left: the wait waits out its 5 s, polls no more,
    and raises WaitTimeoutError caused by (and naming) the 429."""
    error = rate_limited(61.0)
    fetch = Script(error)
    with pytest.raises(WaitTimeoutError) as info:
        await run(fetch, limit=5.0)
    assert fetch.calls == 1 and len(no_sleep) == 1 and 4.9 < no_sleep[0] <= 5.0
    assert info.value.__cause__ is error and info.value.last_state is None
    assert f"its last poll failed: {error}" in str(info.value)


async def test_a_timeout_after_failing_polls_keeps_the_last_state(
    no_sleep: list[float],
) -> None:
    """Seen 'creating', then only failed polls until the timeout: WaitTimeoutError with
    'creating' as the last state and the last poll's error as cause and in the text."""
    last = server_error(500)
    fetch = Script("creating", server_error(502), last)
    with pytest.raises(WaitTimeoutError) as info:
        await run(fetch, limit=2.5)
    error = info.value
    assert fetch.calls == 4 and error.last_state == "creating" and error.__cause__ is last
    assert "still 'creating'" in str(error) and str(last) in str(error)
    assert isinstance(error, TimeoutError)


async def test_a_poll_that_answers_again_clears_the_error(no_sleep: list[float]) -> None:
    """A failed poll followed by one that answers: the timeout is about the state alone
    (no cause, nothing about a failed poll)."""
    fetch = Script(server_error(500), "creating")
    with pytest.raises(WaitTimeoutError) as info:
        await run(fetch, limit=2.5)
    assert info.value.__cause__ is None and "last poll failed" not in str(info.value)
    assert info.value.last_state == "creating"


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("bad token", status_code=401),
        PermissionDeniedError("forbidden", status_code=403),
        InvalidRequestError("bad request", status_code=400),
        ResponseDecodeError("not JSON"),
    ],
    ids=["401", "403", "400", "undecodable"],
)
async def test_other_poll_errors_propagate_at_once(no_sleep: list[float], error: Exception) -> None:
    """An error that polling again will not cure ends the wait at once, as it is."""
    fetch = Script("creating", error, "available")
    with pytest.raises(type(error)) as info:
        await run(fetch)
    assert info.value is error and fetch.calls == 2 and no_sleep == [1.0]


# The smallest int float() refuses (OverflowError): halfway past the largest float.
TOO_BIG_FOR_A_FLOAT = 2**1024 - 2**970


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-5, 5),
        st.integers(-(10**400), 10**400),
        st.integers(TOO_BIG_FOR_A_FLOAT - 5, TOO_BIG_FOR_A_FLOAT + 5),
        st.booleans(),
        st.none(),
        st.text(max_size=3),
    )
)
@example(10**400)
@example(-(10**400))
def test_timeout_is_a_positive_number(value: object) -> None:
    """Accepted exactly when a positive int or float (inf included, NaN and bool not); an
    int too large for a float is inf (no bound), never an OverflowError."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if ok:
        big = isinstance(value, int) and value >= TOO_BIG_FOR_A_FLOAT
        expected = math.inf if big else float(value)  # type: ignore[arg-type]
        assert check_wait_timeout(value) == expected
    else:
        with pytest.raises(ValueError, match="timeout"):
            check_wait_timeout(value)
