"""Every non-2xx answer through the client becomes its typed error; the class tree."""

from __future__ import annotations

import uuid

import httpx
import pytest
import respx

import scaleway_volumes._errors as errors_module
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
    ServiceUnavailableError,
)
from scaleway_volumes._errors import (
    APIConnectionError,
    APITimeoutError,
    BulkOperationError,
    GoneError,
    PreconditionFailedError,
    QuotaExceededError,
    ResourceStateError,
    ScalewayError,
    TransientStateError,
    WaitTimeoutError,
    error_class_for,
    error_from_response,
)
from scaleway_volumes._hints import hint

from ..conftest import BASE, TOKEN
from .helpers import make_api, volume_json

VID = str(uuid.uuid4())


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
    assert not issubclass(ResourceStateError, APIError)
    assert not issubclass(PreconditionFailedError, TransientStateError)


def test_docstring_draws_every_class() -> None:
    """The module docstring's drawing names every error class of the module."""
    drawing = errors_module.__doc__ or ""
    for name in errors_module.__all__:
        obj = getattr(errors_module, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert name in drawing, name


def test_a_503_naming_a_delay_is_both_a_server_and_a_rate_limit_error() -> None:
    """The contract: a 503's Retry-After over the cap raises RateLimitError; its
    status keeps it a ServerError; a 503 naming no delay, or a 500, stays a ServerError."""
    assert error_class_for(503, retry_after=3600.0) is ServiceUnavailableError
    assert error_class_for(503) is ServerError
    assert error_class_for(500, retry_after=5.0) is ServerError
    assert error_class_for(429, retry_after=5.0) is RateLimitError
    error = error_from_response(503, b"", retry_after=3600.0)
    assert isinstance(error, ServerError) and isinstance(error, RateLimitError)
    assert error.retry_after == 3600.0
    assert (
        hint(error)
        == hint(error_from_response(500, b"", retry_after=3600.0))
        != hint(error_from_response(500, b""))
    )


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
