"""hint(): one sentence telling a command-line user what to do next, for each error kind."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scaleway_volumes
from scaleway_volumes._error_body import LIMITER_HELD
from scaleway_volumes._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BulkOperationError,
    ConflictError,
    PermissionDeniedError,
    Quota,
    QuotaExceededError,
    ResourceStateError,
    ResponseDecodeError,
    ScalewayError,
    WaitTimeoutError,
    error_from_response,
)
from scaleway_volumes._hints import hint

VOLUME_ID = "49aba4c8-5344-4a1a-845c-fb63c7cc91d4"


def answer(status: int, body: dict[str, Any] | None = None, **kwargs: Any) -> APIError:
    """The error the client builds for this answer."""
    content = json.dumps(body).encode() if body is not None else b""
    return error_from_response(status, content, **kwargs)


@attrs.define
class _Result:
    succeeded: list[Any] = attrs.field(factory=list)
    failed: list[tuple[Any, BaseException]] = attrs.field(factory=list)


CASES: list[tuple[BaseException, list[str]]] = [
    (answer(401, {"type": "denied_authentication"}), ["SCW_SECRET_KEY", "--profile"]),
    (answer(403, {"type": "permissions_denied"}), ["policy", "project"]),
    (
        answer(
            403,
            {
                "type": "quotas_exceeded",
                "details": [{"resource": "volumes_sbs_total_size", "quota": 1000, "current": 1000}],
            },
        ),
        ["volumes_sbs_total_size (1000 of 1000 used)", "higher quota", "Scaleway console"],
    ),
    (QuotaExceededError("q", status_code=403), ["A quota", "higher quota"]),
    (
        QuotaExceededError("q", status_code=403, quotas=[Quota("a"), Quota("b", 2, 1)]),
        ["a (? of ? used), b (1 of 2 used)"],
    ),
    (
        answer(412, {"type": "precondition_failed", "precondition": "resource_still_in_use"}),
        ["detach it first"],
    ),
    (
        answer(
            412,
            {
                "type": "precondition_failed",
                "precondition": "resource_not_usable",
                "help_message": "size must be at least the snapshot's",
            },
        ),
        ["size must be at least the snapshot's"],
    ),
    (
        answer(412, {"type": "precondition_failed", "precondition": "resource_not_usable"}),
        ["in its current state"],
    ),
    (answer(412, {"type": "precondition_failed"}), ["condition", "state"]),
    (
        answer(409, {"type": "transient_state", "resource": "volume", "current_state": "resizing"}),
        ["volume is busy (resizing)", "settles"],
    ),
    (
        answer(409, {"type": "transient_state", "resource": "volume", "current_state": "deleting"}),
        ["volume is already being deleted", "nothing to retry"],
    ),
    (answer(409, {"type": "conflict"}), ["state"]),
    (
        answer(
            400,
            {
                "type": "invalid_arguments",
                "details": [
                    {"argument_name": "volume_type", "reason": "constraint"},
                    {"argument_name": "size", "reason": "required"},
                ],
            },
        ),
        ["Fix the value of volume_type (constraint), and also size"],
    ),
    (answer(400, {"type": "invalid_request_error", "fields": {"size": []}}), ["of size,"]),
    (answer(400), ["arguments", "--help"]),
    (answer(429, retry_after=2.0), ["--concurrency", "in 2 s"]),
    (answer(429), ["--concurrency", "in a minute"]),
    (
        answer(404, {"type": "not_found", "resource": "volume", "resource_id": VOLUME_ID}),
        [f"No such volume {VOLUME_ID}", "--zone"],
    ),
    (answer(404), ["No such resource", "zone"]),
    (
        answer(410, {"type": "expired", "expired_since": "2024-01-01T00:00:00Z"}),
        ["expired since 2024-01-01T00:00:00+00:00", "create a new one"],
    ),
    (answer(410, {"type": "expired", "expired_since": "last week"}), ["since last week"]),
    (answer(410), ["It has expired and"]),
    (answer(503, headers={"X-Request-Id": "rid-9"}), ["try again later", "request id rid-9"]),
    (answer(500), ["try again later", "contact support."]),
    (
        APIConnectionError("reset", outcome_unknown=True, marker_tag="scw-volumes-create-1"),
        ["scaleway-volumes list --tag scw-volumes-create-1", "before trying again"],
    ),
    (
        APITimeoutError("late", outcome_unknown=True, marker_tag="scw-volumes-create-2"),
        ["list --tag scw-volumes-create-2"],
    ),
    (
        answer(504, outcome_unknown=True, marker_tag="scw-volumes-create-3"),
        ["list --tag scw-volumes-create-3"],
    ),
    (APIConnectionError("reset", outcome_unknown=True), ["may have gone through"]),
    (APIConnectionError("refused"), ["network", "--base-url"]),
    (APITimeoutError("late"), ["did not answer in time"]),
    (
        APITimeoutError(
            "no answer within the 1 s deadline for the whole listing "
            "(2 page(s), 200 item(s) fetched; more were due)"
        ),
        ["more pages than its deadline allowed", "longer deadline"],
    ),
    (
        APITimeoutError(
            "no answer within the 1 s deadline for the whole listing (0 page(s), 0 item(s) fetched)"
        ),
        ["did not answer in time", "check the network"],
    ),
    (
        APITimeoutError(f"no answer within the 1 s deadline ({LIMITER_HELD})"),
        ["rate limiter held", "lower the concurrency"],
    ),
    (
        APITimeoutError(
            "no answer within the 1 s deadline (nothing was sent: 2 attempt(s) failed to "
            "connect, the last with [Errno 111] Connection refused)"
        ),
        ["could not be reached", "--base-url"],
    ),
    (
        APITimeoutError(
            "no success within the 1 s deadline (1 attempt(s) sent, the last answered 429; "
            "the next was waiting for the rate limiter)"
        ),
        ["refused the request", "nothing was done"],
    ),
    (ResponseDecodeError("bad", path="$.volume"), ["--base-url"]),
    (
        WaitTimeoutError(resource_id=VOLUME_ID, last_state="resizing", timeout=300.0),
        [f"The resource {VOLUME_ID} is still 'resizing' after 300 s", "longer timeout"],
    ),
    (
        WaitTimeoutError(resource_id=VOLUME_ID, last_state=None, timeout=1.0, kind="volume"),
        [f"The volume {VOLUME_ID} is not settled after 1 s"],
    ),
    (
        ResourceStateError(state="error", resource=VOLUME_ID),
        [f"The resource {VOLUME_ID} is in the error state", "delete it"],
    ),
    (ResourceStateError(state="locked", resource=VOLUME_ID), ["locked", "support"]),
    (ResourceStateError(state="odd", resource=None), ["The resource is in the state 'odd'"]),
    (
        BulkOperationError("2 failed", _Result(failed=[("a", answer(429)), ("b", answer(401))])),
        ["--concurrency"],
    ),
]


@pytest.mark.parametrize(("error", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_each_kind_gets_its_advice(error: BaseException, expected: list[str]) -> None:
    """The hint of each error kind names the fix for that kind."""
    text = hint(error)
    assert text is not None
    for part in expected:
        assert part in text, (part, text)
    assert "\n" not in text and text.endswith(".")


@pytest.mark.parametrize(
    "error",
    [
        ValueError("x"),
        KeyboardInterrupt(),
        ScalewayError("x"),
        answer(418),
        answer(302),
        BulkOperationError("none", _Result()),
    ],
    ids=lambda v: type(v).__name__,
)
def test_no_advice_where_there_is_none(error: BaseException) -> None:
    """Errors with no useful next step get None, not a vague sentence."""
    assert hint(error) is None


def test_most_precise_class_wins() -> None:
    """A quota error gets the quota advice, not the generic permission one."""
    quota = answer(403, {"type": "quotas_exceeded"})
    plain = answer(403)
    assert isinstance(quota, PermissionDeniedError) and hint(quota) != hint(plain)
    busy = answer(409, {"type": "transient_state"})
    assert isinstance(busy, ConflictError) and hint(busy) != hint(answer(409))


def test_hint_only_reads_the_error() -> None:
    """hint leaves the error as it was and gives the same answer every time."""
    error = answer(
        400, {"type": "invalid_arguments", "details": [{"argument_name": "a", "reason": "r"}]}
    )
    before = copy.deepcopy(vars(error))
    assert hint(error) == hint(error)
    assert vars(error) == before


def test_a_snapshot_in_use_is_waited_for_not_detached() -> None:
    """A snapshot is in use while a volume is restored from it: nothing to detach."""
    body = {"type": "precondition_failed", "precondition": "resource_still_in_use"}
    snapshot = error_from_response(
        412, json.dumps(body).encode(), method="DELETE", path="/snapshots/x"
    )
    volume = error_from_response(412, json.dumps(body).encode(), method="DELETE", path="/volumes/x")
    assert "restored from this snapshot" in (hint(snapshot) or "")
    assert "detach" not in (hint(snapshot) or "")
    assert "detach it first" in (hint(volume) or "")


def test_hints_module_imports_only_the_errors() -> None:
    """_hints depends on the error classes, the one-line cleaning of the API's words
    (``_error_body.one_line``) and the standard library, nothing else."""
    source = Path(scaleway_volumes.__file__).parent / "_hints.py"
    local = {
        "." * node.level + (node.module or "")
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level
    }
    assert local == {"._errors", "._error_body"}


@given(
    st.integers(min_value=400, max_value=599),
    st.binary(max_size=100)
    | st.fixed_dictionaries(
        {"type": st.sampled_from(["quotas_exceeded", "transient_state", "expired", "x"])},
        optional={"details": st.lists(st.dictionaries(st.text(max_size=5), st.integers()))},
    ).map(lambda v: json.dumps(v).encode()),
)
def test_every_answer_gets_a_one_line_hint_or_none(status: int, content: bytes) -> None:
    """Any API answer's error gets None or one sentence; mapped statuses always one."""
    text = hint(error_from_response(status, content))
    mapped = status in {400, 401, 403, 404, 409, 410, 412, 429} or status >= 500
    assert (text is not None) == mapped
    assert text is None or (text and "\n" not in text)
