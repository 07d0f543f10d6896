"""The error classes: their constructors, what they carry, pickling, and module boundaries."""

from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path
from typing import Any

import attrs
import pytest

import scaleway_volumes
from scaleway_volumes._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BulkOperationError,
    GoneError,
    PreconditionFailedError,
    Quota,
    QuotaExceededError,
    RateLimitError,
    ResourceStateError,
    ResponseDecodeError,
    ScalewayError,
    TransientStateError,
    WaitTimeoutError,
    error_from_response,
)

VID = "49aba4c8-5344-4a1a-845c-fb63c7cc91d4"
PACKAGE = Path(scaleway_volumes.__file__).parent

# -- constructors ------------------------------------------------------------------------


def test_base_carries_outcome_and_marker_from_construction() -> None:
    """ScalewayError takes outcome_unknown and marker_tag as keywords; both default off."""
    plain = ScalewayError("boom")
    assert (plain.message, plain.outcome_unknown, plain.marker_tag) == ("boom", False, None)
    marked = ScalewayError("boom", outcome_unknown=True, marker_tag="scw-vol-1")
    assert marked.outcome_unknown and marked.marker_tag == "scw-vol-1"
    assert str(marked) == "boom"


def test_older_constructor_keywords_still_work() -> None:
    """Every keyword the classes took before is still accepted, with the same meaning."""
    api = APIError(
        "bad", status_code=400, type="t", fields={"a": ["b"]}, method="GET", path="/x", body={}
    )
    assert (api.status_code, api.type, api.fields, api.method, api.path) == (
        400,
        "t",
        {"a": ["b"]},
        "GET",
        "/x",
    )
    assert str(api) == "400 t: bad (a: b) [GET /x]"
    limited = RateLimitError("slow", retry_after=2.5, status_code=429)
    assert limited.retry_after == 2.5 and "retry after 2.5 s" in str(limited)
    conn = APIConnectionError(
        "reset", outcome_unknown=True, marker_tag="m", method="POST", path="/volumes"
    )
    assert conn.outcome_unknown and conn.marker_tag == "m"
    assert str(conn) == "reset [POST /volumes]"
    assert isinstance(APITimeoutError("late"), APIConnectionError)
    decode = ResponseDecodeError("not a volume", path="$.volume", status_code=200)
    assert (str(decode), decode.path, decode.status_code) == (
        "not a volume at $.volume",
        "$.volume",
        200,
    )


def test_api_error_takes_every_answer_attribute() -> None:
    """APIError keeps details, help, request id, headers and the resource it is about."""
    err = APIError(
        "resource is not found",
        status_code=404,
        type="not_found",
        details=[{"k": "v"}],
        help_message="Check the id.",
        headers={"X-Request-Id": "rid-1"},
        resource="volume",
        resource_id=VID,
        outcome_unknown=True,
        marker_tag="tag",
    )
    assert err.details == [{"k": "v"}] and err.help_message == "Check the id."
    assert err.request_id == "rid-1" and err.headers["x-request-id"] == "rid-1"
    assert (err.resource, err.resource_id) == ("volume", VID)
    assert err.outcome_unknown and err.marker_tag == "tag"
    assert f"(volume {VID}; k=v). Check the id. [request id rid-1]" in str(err)


def test_subclass_keywords() -> None:
    """Each precise class takes its own attribute as a keyword."""
    quota = QuotaExceededError("q", status_code=403, quotas=[Quota("volumes", 10, 10)])
    assert quota.quotas == [Quota("volumes", 10, 10)]
    from_details = QuotaExceededError(
        "q", status_code=403, details=[{"resource": "volumes", "quota": 10, "current": 9}]
    )
    assert from_details.quotas == [Quota("volumes", 10, 9)]
    busy = TransientStateError("busy", status_code=409, current_state="resizing")
    assert busy.current_state == "resizing" and "state resizing" in str(busy)
    pre = PreconditionFailedError("p", status_code=412, precondition="resource_still_in_use")
    assert pre.precondition == "resource_still_in_use"
    gone = GoneError("g", status_code=410, expired_since="2024-01-01T00:00:00Z")
    assert gone.expired_since is not None and not isinstance(gone.expired_since, str)
    assert gone.expired_since.isoformat() == "2024-01-01T00:00:00+00:00"


def test_quota_is_frozen() -> None:
    """A Quota cannot be changed once read."""
    quota = Quota("volumes_sbs_total_size", 1, 1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        quota.current = 0  # type: ignore[misc]


@attrs.define
class _Result:
    succeeded: list[Any] = attrs.field(factory=list)
    failed: list[tuple[Any, BaseException]] = attrs.field(factory=list)


def test_bulk_error_keeps_the_result_and_says_if_any_outcome_is_unknown() -> None:
    """BulkOperationError keeps its result; outcome_unknown is set if one failure's is."""
    known = _Result(failed=[("a", ValueError("bad"))])
    assert not BulkOperationError("1 failed", known).outcome_unknown
    unknown = _Result(
        failed=[("a", ValueError("x")), ("b", APITimeoutError("t", outcome_unknown=True))]
    )
    err = BulkOperationError("2 failed", unknown)
    assert err.result is unknown and err.outcome_unknown and str(err) == "2 failed"


def test_resource_state_error_says_what_happened_and_what_to_do() -> None:
    """A failure state names the resource, the state, what was wanted and what to do."""

    @attrs.frozen
    class BlockVolume:
        id: str
        status: str

    volume = BlockVolume(VID, "error")
    err = ResourceStateError(state="error", resource=volume, expected=["available"])
    assert (err.state, err.resource, err.resource_id, err.expected) == (
        "error",
        volume,
        VID,
        ("available",),
    )
    assert str(err).startswith(f"volume {VID} reached the state 'error' instead of available")
    assert "delete it and create it again" in str(err)
    locked = ResourceStateError(state="locked", resource=VID, kind="snapshot")
    assert locked.resource_id == VID and str(locked).startswith(f"snapshot {VID}")
    assert "contact Scaleway support" in str(locked)
    assert str(ResourceStateError("custom", state="error", resource=VID)) == "custom"


def test_wait_timeout_error_is_a_timeout_error_with_the_last_state() -> None:
    """WaitTimeoutError is caught by ``except TimeoutError`` and tells what it saw."""
    with pytest.raises(TimeoutError) as info:
        raise WaitTimeoutError(
            resource_id=VID, last_state="resizing", timeout=300.0, expected="available"
        )
    err = info.value
    assert isinstance(err, WaitTimeoutError) and isinstance(err, ScalewayError)
    assert (err.resource_id, err.last_state, err.timeout) == (VID, "resizing", 300.0)
    assert f"resource {VID} is still 'resizing' after 300 s (waiting for available)" in str(err)
    assert "longer timeout" in str(err)
    never = WaitTimeoutError(resource_id=VID, last_state=None, timeout=1.5, kind="volume")
    assert str(never).startswith(f"volume {VID} is not seen in any state after 1.5 s")


ALL_KINDS: list[ScalewayError] = [
    ScalewayError("x", outcome_unknown=True, marker_tag="m"),
    error_from_response(
        403,
        b'{"type": "quotas_exceeded", "message": "q", "details": [{"resource": "r", "quota": 1}]}',
        headers={"X-Request-Id": "rid"},
        method="POST",
        path="/volumes",
        outcome_unknown=True,
        marker_tag="m",
        note="a note",
    ),
    error_from_response(410, b'{"type": "expired", "expired_since": "2024-01-01T00:00:00Z"}'),
    error_from_response(429, b"", retry_after=3.0),
    APITimeoutError("late", outcome_unknown=True, marker_tag="m", method="POST", path="/v"),
    ResponseDecodeError("bad", path="$.volume", status_code=200),
    BulkOperationError("1 failed", _Result(failed=[("a", ValueError("bad"))])),
    ResourceStateError(state="error", resource=VID),
    WaitTimeoutError(resource_id=VID, last_state="creating", timeout=5.0),
]


@pytest.mark.parametrize("err", ALL_KINDS, ids=lambda e: type(e).__name__)
def test_errors_survive_pickle_and_copy(err: ScalewayError) -> None:
    """Every error pickles and copies with its class, message and attributes."""
    for clone in (pickle.loads(pickle.dumps(err)), copy.copy(err), copy.deepcopy(err)):
        assert type(clone) is type(err) and str(clone) == str(err)
        assert vars(clone).keys() == vars(err).keys()
        assert clone.outcome_unknown == err.outcome_unknown
        assert clone.marker_tag == err.marker_tag


# -- the modules -------------------------------------------------------------------------


def _imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["_errors", "_error_base", "_api_errors", "_error_body"])
def test_error_modules_import_no_client_or_bulk_code(module: str) -> None:
    """The error modules depend on nothing of the client, bulk or waiter code (the
    timestamp reader they share with the decoders is a leaf module)."""
    local = {name for name in _imports(module) if name.startswith(".")}
    allowed = {"._errors", "._error_base", "._api_errors", "._error_body", "._timestamps"}
    assert local <= allowed, local
