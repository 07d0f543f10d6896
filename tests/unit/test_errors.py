"""The error tree: every non-2xx answer becomes its typed error; the classes and constructors."""

from __future__ import annotations

import ast
import copy
import pickle
import uuid
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import respx

import scaleway_volumes
from scaleway_volumes import (
    APIError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
)
from scaleway_volumes._errors import (
    APIConnectionError,
    APITimeoutError,
    BulkOperationError,
    GoneError,
    PreconditionFailedError,
    Quota,
    QuotaExceededError,
    ResourceStateError,
    ScalewayError,
    TransientStateError,
    WaitTimeoutError,
    error_class_for,
    error_from_response,
    make_status_error,
)

from ..conftest import BASE, TOKEN
from .helpers import make_api, volume_json

VID = str(uuid.uuid4())
PACKAGE = Path(scaleway_volumes.__file__).parent


# -- through the client ------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (410, GoneError),
        (412, PreconditionFailedError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, APIError),
    ],
)
async def test_status_maps_to_class(status: int, cls: type[APIError]) -> None:
    """Each status raises its class, carrying status, type and message."""
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/volumes/{VID}").respond(
            status, json={"type": "some_type", "message": "some message"}
        )
        with pytest.raises(cls) as info:
            await make_api(retry=RetryPolicy(max_retries=0)).get_volume(VID)
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.type == "some_type" and err.message == "some message"
    assert str(status) in str(err) and "some_type" in str(err)
    assert TOKEN not in str(err) and TOKEN not in repr(err)


@pytest.mark.anyio
async def test_field_errors_are_kept_and_shown() -> None:
    """A 400 with fields keeps them and shows them in the message."""
    with respx.mock(base_url=BASE) as mock:
        mock.post("/volumes").respond(
            400,
            json={
                "type": "invalid_request_error",
                "message": "Validation Error",
                "fields": {"size": ["size must be at least 1 GB"], "name": "required"},
            },
        )
        with pytest.raises(InvalidRequestError) as info:
            await make_api().create_volume(name="v", size=10)
    err = info.value
    assert err.fields == {"size": ["size must be at least 1 GB"], "name": ["required"]}
    assert "size must be at least 1 GB" in str(err)
    assert "POST /volumes" in str(err)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "headers", "expect"),
    [
        (b"", {}, "Not Found"),
        (b"<html><body><h1>404 Not Found</h1></body></html>", {"Content-Type": "text/html"}, "404"),
        (b"[1, 2, 3]", {"Content-Type": "application/json"}, "Not Found"),
        (b"\xff\xfe garbage", {}, "garbage"),
    ],
)
async def test_error_bodies_that_are_not_api_json(
    content: bytes, headers: dict[str, str], expect: str
) -> None:
    """Empty, HTML and odd bodies still give a typed error with a useful message."""
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/volumes/{VID}").respond(404, content=content, headers=headers)
        with pytest.raises(NotFoundError) as info:
            await make_api().get_volume(VID)
    assert info.value.type == "unknown"
    assert expect in info.value.message


@pytest.mark.anyio
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirects_are_never_followed(status: int) -> None:
    """A 3xx is an APIError, even on a shared client set to follow redirects."""
    shared = httpx.AsyncClient(follow_redirects=True)
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{BASE}/volumes/{VID}").respond(
            status, headers={"Location": f"https://evil.example/volumes/{VID}"}
        )
        evil = mock.get(f"https://evil.example/volumes/{VID}").respond(
            200, json={"volume": volume_json()}
        )
        with pytest.raises(APIError) as info:
            await make_api(client=shared).get_volume(VID)
    assert info.value.status_code == status
    assert not evil.called
    await shared.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"volumes": []}', b'{"volume": {"id": 1}}', b"", b"null"],
)
async def test_bad_success_bodies_raise_decode_error(content: bytes) -> None:
    """A 2xx that is not the volume envelope raises ResponseDecodeError."""
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/volumes/{VID}").respond(200, content=content)
        with pytest.raises(ResponseDecodeError) as info:
            await make_api().get_volume(VID)
    assert info.value.status_code == 200


@pytest.mark.anyio
async def test_list_decode_error() -> None:
    """A list page that is not a volumes envelope raises ResponseDecodeError."""
    with respx.mock(base_url=BASE) as mock:
        mock.get("/volumes").respond(200, json={"volume": {}})
        with pytest.raises(ResponseDecodeError) as info:
            await make_api().list_volumes()
    assert info.value.path == "$.volumes"


# -- the tree ----------------------------------------------------------------------------

TREE: list[tuple[type[BaseException], type[BaseException]]] = [
    (APIError, ScalewayError),
    (InvalidRequestError, APIError),
    (AuthenticationError, APIError),
    (PermissionDeniedError, APIError),
    (QuotaExceededError, PermissionDeniedError),
    (NotFoundError, APIError),
    (GoneError, NotFoundError),
    (ConflictError, APIError),
    (TransientStateError, ConflictError),
    (PreconditionFailedError, ConflictError),
    (RateLimitError, APIError),
    (ServerError, APIError),
    (APIConnectionError, ScalewayError),
    (APITimeoutError, APIConnectionError),
    (ResponseDecodeError, ScalewayError),
    (BulkOperationError, ScalewayError),
    (ResourceStateError, ScalewayError),
    (WaitTimeoutError, ScalewayError),
    (WaitTimeoutError, TimeoutError),
    (ScalewayError, Exception),
]


@pytest.mark.parametrize(("child", "parent"), TREE)
def test_class_tree(child: type[BaseException], parent: type[BaseException]) -> None:
    """Each error class sits where the tree drawn in the docs puts it."""
    assert issubclass(child, parent)


def test_tree_has_no_other_branches() -> None:
    """No error is both an APIError and a connection or waiter error."""
    assert not issubclass(WaitTimeoutError, APIConnectionError)
    assert not issubclass(APITimeoutError, TimeoutError)
    assert not issubclass(ResourceStateError, APIError)
    assert not issubclass(PreconditionFailedError, TransientStateError)


def test_docstring_draws_every_class() -> None:
    """The module docstring's drawing names every error class of the module."""
    import scaleway_volumes._errors as errors_module

    drawing = errors_module.__doc__ or ""
    for name in errors_module.__all__:
        obj = getattr(errors_module, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert name in drawing, name


@pytest.mark.parametrize(
    ("status", "type_", "cls"),
    [
        (403, "quotas_exceeded", QuotaExceededError),
        (403, "permissions_denied", PermissionDeniedError),
        (409, "transient_state", TransientStateError),
        (409, "conflict", ConflictError),
        (412, "precondition_failed", PreconditionFailedError),
        (410, "expired", GoneError),
        (400, "quotas_exceeded", InvalidRequestError),
        (400, "transient_state", InvalidRequestError),
        (402, None, APIError),
        (599, "transient_state", ServerError),
    ],
)
def test_type_refines_never_leaves_the_status_class(
    status: int, type_: str | None, cls: type[APIError]
) -> None:
    """The body's type picks a subclass of the status's class, never another branch."""
    assert error_class_for(status, type_) is cls


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
    """The error modules depend on nothing of the client, bulk or waiter code."""
    local = {name for name in _imports(module) if name.startswith(".")}
    assert local <= {"._errors", "._error_base", "._api_errors", "._error_body"}, local


def test_make_status_error_is_error_from_response() -> None:
    """The older builder gives the same error as the new one (without headers)."""
    content = b'{"type": "transient_state", "message": "busy", "current_state": "resizing"}'
    old = make_status_error(409, content, reason="Conflict", method="DELETE", path="/v")
    new = error_from_response(409, content, reason="Conflict", method="DELETE", path="/v")
    assert type(old) is type(new) is TransientStateError
    assert str(old) == str(new) and vars(old).keys() == vars(new).keys()
