"""The pure retry decisions: every rule, and hypothesis over all inputs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import RetryPolicy
from scaleway_volumes._retry import MAX_SETTLE_WAITS, Action, decide_answer, decide_failure

METHODS = ("GET", "POST", "PATCH", "DELETE")
policies = st.builds(
    RetryPolicy,
    max_retries=st.integers(0, 6),
    max_retry_after=st.floats(0, 120, allow_nan=False) | st.just(math.inf),
)
retry_afters = st.none() | st.floats(0, 600, allow_nan=False) | st.just(math.inf)


@given(
    method=st.sampled_from(METHODS),
    status=st.integers(100, 599),
    policy=policies,
    attempt=st.integers(1, 10),
    retry_after=retry_afters,
    transient=st.booleans(),
    throttled=st.integers(0, 60),
    budget=st.integers(0, 60),
    settled=st.integers(0, 40),
    state=st.sampled_from([None, "deleting", "deleted", "resizing", "snapshotting"]),
)
def test_answer_decisions_keep_every_promise(
    method: str,
    status: int,
    policy: RetryPolicy,
    attempt: int,
    retry_after: float | None,
    transient: bool,
    throttled: int,
    budget: int,
    settled: int,
    state: str | None,
) -> None:
    """Whatever the answer: a create is never resent blindly, retries stay bounded, a
    DELETE never waits out a state it leaves only by vanishing."""
    decision = decide_answer(
        method,
        status,
        policy=policy,
        attempt=attempt,
        retry_after=retry_after,
        transient_state=transient,
        current_state=state,
        throttled=throttled,
        throttle_budget=budget,
        settled=settled,
    )
    action = decision.action
    assert (action is Action.RETURN) == (200 <= status < 300)
    if action is Action.RETRY:
        assert attempt <= policy.max_retries
        if method == "POST":
            assert status in (429, 503)  # the API did not act
    if action is Action.CHECK:
        assert method == "POST" and status in (500, 502, 504)
        assert decision.may_land_later == (status == 504)
    if action is Action.RESEND:
        assert status == 429 and retry_after is None and throttled < budget
    if action is Action.SETTLE:
        assert status == 409 and transient and method in ("PATCH", "DELETE")
        assert policy.max_retries > 0 and settled < MAX_SETTLE_WAITS
        assert not (method == "DELETE" and state in ("deleting", "deleted"))
    too_long = retry_after is not None and (
        retry_after > policy.max_retry_after or retry_after == math.inf
    )
    if too_long and status in (429, 503):
        assert action is Action.RAISE
    if action is Action.RETRY and decision.delay is not None:
        assert decision.delay == retry_after and retry_after <= policy.max_retry_after
    if decision.acted:
        assert status in (500, 502, 504) and method != "POST"


@given(
    method=st.sampled_from(METHODS),
    sent=st.booleans(),
    timed_out=st.booleans(),
    policy=policies,
    attempt=st.integers(1, 10),
)
def test_failure_decisions_keep_every_promise(
    method: str, sent: bool, timed_out: bool, policy: RetryPolicy, attempt: int
) -> None:
    """A request that never left is resent; one that may have acted is checked (create)."""
    decision = decide_failure(
        method, sent=sent, timed_out=timed_out, policy=policy, attempt=attempt
    )
    if sent and method == "POST":
        assert decision.action is Action.CHECK
        assert decision.may_land_later == timed_out
    elif attempt <= policy.max_retries:
        assert decision.action is Action.RETRY
    else:
        assert decision.action is Action.RAISE
    assert decision.acted == (sent and method != "POST")


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("GET", 500, Action.RETRY),
        ("GET", 502, Action.RETRY),
        ("GET", 504, Action.RETRY),
        ("DELETE", 500, Action.RETRY),
        ("PATCH", 502, Action.RETRY),
        ("POST", 500, Action.CHECK),
        ("POST", 503, Action.RETRY),
        ("POST", 429, Action.RETRY),
        ("GET", 404, Action.RAISE),
        ("POST", 400, Action.RAISE),
        ("DELETE", 412, Action.RAISE),
        ("GET", 200, Action.RETURN),
        ("POST", 201, Action.RETURN),
        ("DELETE", 204, Action.RETURN),
    ],
)
def test_the_rules_by_example(method: str, status: int, expected: Action) -> None:
    """The contract's table of what is retried, by method and status."""
    assert decide_answer(method, status, policy=RetryPolicy(), attempt=1).action is expected


def test_transient_state_waits_for_patch_and_delete_only() -> None:
    """409 transient_state: PATCH and DELETE wait for the resource; a create does not."""
    policy = RetryPolicy()
    for method in ("PATCH", "DELETE"):
        decision = decide_answer(method, 409, policy=policy, attempt=1, transient_state=True)
        assert decision.action is Action.SETTLE
    assert (
        decide_answer("POST", 409, policy=policy, attempt=1, transient_state=True).action
        is Action.RAISE
    )
    assert decide_answer("DELETE", 409, policy=policy, attempt=1).action is Action.RAISE
    off = RetryPolicy(max_retries=0)
    assert (
        decide_answer("DELETE", 409, policy=off, attempt=1, transient_state=True).action
        is Action.RAISE
    )


def test_bare_429_is_resent_within_the_budget_then_counts_as_retries() -> None:
    """Bulk items resend bare 429s at the limiter's pace, up to their budget."""
    policy = RetryPolicy(max_retries=1)
    assert (
        decide_answer("POST", 429, policy=policy, attempt=1, throttled=3, throttle_budget=4).action
        is Action.RESEND
    )
    assert (
        decide_answer("POST", 429, policy=policy, attempt=1, throttled=4, throttle_budget=4).action
        is Action.RETRY
    )
    assert (
        decide_answer("POST", 429, policy=policy, attempt=2, throttled=4, throttle_budget=4).action
        is Action.RAISE
    )
    # A 429 that says when to come back is honoured, not resent at once.
    assert (
        decide_answer(
            "POST", 429, policy=policy, attempt=1, retry_after=2.0, throttle_budget=4
        ).action
        is Action.RETRY
    )
