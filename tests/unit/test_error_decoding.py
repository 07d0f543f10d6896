"""error_from_response: the answer shapes the API sends, bodies that are not its JSON."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._errors import (
    APIError,
    AuthenticationError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    Quota,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TransientStateError,
    error_class_for,
    error_from_response,
)

VOLUME_ID = "49aba4c8-5344-4a1a-845c-fb63c7cc91d4"
# A request id as the API gateway sends it (from a recorded Block API answer).
REQUEST_ID = "f84ca9a1-9df5-4607-88ce-afc63c2d39bc"
STILL_IN_USE_HELP = "the volume is attached to a server: detach it before deleting it"
# Recorded from the Block API: a volume created from a snapshot with a smaller size.
SMALLER_THAN_SNAPSHOT = {
    "help_message": "size, when provided, must be equal to or larger than the size of the "
    "source snapshot. Here the requested volume size is '10000000000' whereas snapshot "
    "size is '20000000000'",
    "message": "precondition is not respected",
    "precondition": "resource_not_usable",
    "type": "precondition_failed",
}


def decode(status: int, body: Any, **kwargs: Any) -> APIError:
    """The error for a JSON body, as the client would build it."""
    kwargs.setdefault("headers", {"Content-Type": "application/json", "X-Request-Id": REQUEST_ID})
    return error_from_response(status, json.dumps(body).encode(), **kwargs)


# -- recorded shapes ---------------------------------------------------------------------


def test_precondition_still_in_use() -> None:
    """412 resource_still_in_use: its class, precondition and help in the message."""
    err = decode(
        412,
        {
            "type": "precondition_failed",
            "message": "precondition is not respected",
            "precondition": "resource_still_in_use",
            "help_message": STILL_IN_USE_HELP,
        },
        method="DELETE",
        path=f"/volumes/{VOLUME_ID}",
    )
    assert type(err) is PreconditionFailedError
    assert (err.type, err.precondition, err.help_message) == (
        "precondition_failed",
        "resource_still_in_use",
        STILL_IN_USE_HELP,
    )
    assert str(err) == (
        "412 precondition_failed: precondition is not respected "
        f"(precondition resource_still_in_use). {STILL_IN_USE_HELP} "
        f"[DELETE /volumes/{VOLUME_ID}; request id {REQUEST_ID}]"
    )


def test_precondition_not_usable() -> None:
    """412 resource_not_usable keeps the API's explanation of the size rule."""
    err = decode(412, SMALLER_THAN_SNAPSHOT)
    assert isinstance(err, PreconditionFailedError) and err.precondition == "resource_not_usable"
    assert SMALLER_THAN_SNAPSHOT["help_message"] in str(err)
    assert err.body == SMALLER_THAN_SNAPSHOT


def test_invalid_arguments_fill_fields() -> None:
    """400 invalid_arguments details become fields; the argument and its help are shown."""
    help_ = "volume_type must be one of sbs_5k, sbs_15k"
    details = [{"argument_name": "volume_type", "reason": "constraint", "help_message": help_}]
    err = decode(
        400, {"type": "invalid_arguments", "message": "invalid argument(s)", "details": details}
    )
    assert type(err) is InvalidRequestError
    assert err.fields == {"volume_type": [f"constraint: {help_}"]}
    assert err.details == details
    assert f"(volume_type: constraint: {help_})" in str(err)


def test_old_fields_and_new_details_merge() -> None:
    """The older fields object and invalid_arguments details merge into one dict."""
    err = decode(
        400,
        {
            "type": "invalid_request_error",
            "message": "Validation Error",
            "fields": {"size": ["too small"], "name": "required"},
            "details": [
                {"argument_name": "size", "reason": "constraint"},
                {"argument_name": "tags", "help_message": "at most 50"},
                {"argument_name": "", "reason": "ignored"},
                "not a detail",
            ],
        },
    )
    assert err.fields == {
        "size": ["too small", "constraint"],
        "name": ["required"],
        "tags": ["at most 50"],
    }
    assert "size: too small, constraint" in str(err)


def test_quotas_exceeded() -> None:
    """403 quotas_exceeded: QuotaExceededError with the quota named in the message."""
    err = decode(
        403,
        {
            "type": "quotas_exceeded",
            "message": "quota(s) exceeded for this resource",
            "details": [
                {
                    "resource": "volumes_sbs_total_size",
                    "quota": 1000000000000,
                    "current": 1000000000000,
                }
            ],
        },
    )
    assert type(err) is QuotaExceededError and isinstance(err, PermissionDeniedError)
    assert err.quotas == [Quota("volumes_sbs_total_size", 1000000000000, 1000000000000)]
    assert "quota volumes_sbs_total_size: 1000000000000 used of 1000000000000" in str(err)


def test_quotas_with_odd_fields() -> None:
    """Missing, fractional, textual or boolean quota numbers do not break the error."""
    err = decode(
        403,
        {
            "type": "quotas_exceeded",
            "message": "quota(s) exceeded",
            "details": [
                {"resource": "a", "quota": "10", "current": 10.0},
                {"resource": "b", "quota": 1.5, "current": True},
                {"resource": 7},
                {"quota": 3},
            ],
        },
    )
    assert isinstance(err, QuotaExceededError)
    assert err.quotas == [Quota("a", 10, 10), Quota("b", None, None), Quota("unknown", None, None)]
    assert "quota a: 10 used of 10" in str(err) and "quota b: ? used of ?" in str(err)


def test_transient_state() -> None:
    """409 transient_state: TransientStateError with the resource and its state."""
    err = decode(
        409,
        {
            "type": "transient_state",
            "message": "resource is in a transient state",
            "resource": "volume",
            "resource_id": VOLUME_ID,
            "current_state": "resizing",
        },
    )
    assert type(err) is TransientStateError
    assert (err.current_state, err.resource, err.resource_id) == ("resizing", "volume", VOLUME_ID)
    assert f"(volume {VOLUME_ID}; state resizing)" in str(err)


def test_expired() -> None:
    """410 expired: GoneError, a NotFoundError, with expired_since as an aware datetime."""
    err = decode(
        410,
        {
            "type": "expired",
            "message": "resource has expired",
            "resource": "snapshot",
            "resource_id": VOLUME_ID,
            "expired_since": "2024-01-01T00:00:00Z",
        },
    )
    assert type(err) is GoneError and isinstance(err, NotFoundError)
    assert err.expired_since == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert "expired since 2024-01-01T00:00:00+00:00" in str(err)


def test_expired_with_unreadable_timestamp_keeps_the_text() -> None:
    """An expired_since that is not ISO 8601 is kept as sent."""
    err = decode(410, {"type": "expired", "message": "gone", "expired_since": "last Tuesday"})
    assert isinstance(err, GoneError) and err.expired_since == "last Tuesday"


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (
            {
                "type": "not_found",
                "message": "resource is not found",
                "resource": "volume",
                "resource_id": VOLUME_ID,
            },
            f"404 not_found: resource is not found (volume {VOLUME_ID})",
        ),
        (
            {"type": "unknown_resource", "message": f'"{VOLUME_ID}" not found'},
            f'404 unknown_resource: "{VOLUME_ID}" not found',
        ),
    ],
)
def test_not_found_shapes(body: dict[str, Any], shown: str) -> None:
    """Both the Block and the Instance 404 shapes give a NotFoundError."""
    err = decode(404, body)
    assert type(err) is NotFoundError and str(err).startswith(shown)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (
            {
                "type": "denied_authentication",
                "message": "invalid authentication",
                "method": "api_key",
                "reason": "expired",
            },
            "401 denied_authentication: invalid authentication (api_key has expired)",
        ),
        ({"type": "invalid_auth", "message": "Invalid token"}, "401 invalid_auth: Invalid token"),
    ],
)
def test_authentication_shapes(body: dict[str, Any], shown: str) -> None:
    """Both 401 shapes give an AuthenticationError; the gateway's reason is shown."""
    err = decode(401, body, method="GET", path="/volumes")
    assert type(err) is AuthenticationError
    assert str(err).startswith(shown)
    assert err.method == "GET", "the body's auth method never replaces the HTTP method"


def test_permission_details_are_shown() -> None:
    """permissions_denied details name the action and resource refused."""
    err = decode(
        403,
        {
            "type": "permissions_denied",
            "message": "insufficient permissions",
            "details": [{"resource": "block", "action": "write"}],
        },
    )
    assert type(err) is PermissionDeniedError and "(write block denied)" in str(err)


def test_many_details_are_cut_short() -> None:
    """A message lists five fields or details, then how many more there are."""
    details = [{"argument_name": f"arg{i}", "reason": "required"} for i in range(8)]
    err = decode(400, {"type": "invalid_arguments", "message": "m", "details": details})
    assert len(err.fields) == 8
    assert "arg4: required; 3 more)" in str(err) and "arg5" not in str(err)


# -- bodies that are not the API's JSON --------------------------------------------------

NGINX_502 = b"""<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
<script>var tracking = "x";</script>
</body>
</html>
"""


def test_html_gateway_page_is_readable() -> None:
    """A gateway's HTML 502 page becomes its reason and text, without markup."""
    err = error_from_response(
        502, NGINX_502, reason="Bad Gateway", headers={"Content-Type": "text/html"}
    )
    assert type(err) is ServerError and err.type == "unknown" and err.body is None
    assert err.message == "Bad Gateway: 502 Bad Gateway 502 Bad Gateway nginx"
    assert "<" not in str(err) and "tracking" not in str(err)


def test_empty_429_is_readable() -> None:
    """A bare 429 is a RateLimitError with the reason phrase and the retry delay."""
    err = error_from_response(429, b"", reason="Too Many Requests", retry_after=1.5)
    assert type(err) is RateLimitError
    assert (err.message, err.retry_after, err.type) == ("Too Many Requests", 1.5, "unknown")
    assert str(err) == "429 unknown: Too Many Requests (retry after 1.5 s)"


def test_plain_text_and_no_reason() -> None:
    """Plain text is quoted after the reason; with no reason, a generic one."""
    text = b"upstream connect error or disconnect/reset before headers. reset reason: overflow"
    err = error_from_response(503, text, reason="Service Unavailable")
    assert err.message == f"Service Unavailable: {text.decode()}"
    assert error_from_response(500, b"").message == "HTTP error"


def test_long_bodies_are_excerpted() -> None:
    """A long body is quoted in at most 200 characters, on one line."""
    err = error_from_response(500, b"word\n\t " * 1000, reason="Internal Server Error")
    quoted = err.message.removeprefix("Internal Server Error: ")
    assert len(quoted) == 200 and quoted.endswith("…") and "\n" not in quoted


def test_escape_sequences_never_reach_the_message() -> None:
    """Terminal escape sequences and newlines in a body or a JSON message become spaces."""
    raw = error_from_response(500, b"\x1b[31mred\x1b[0m\r\nline", reason="Error")
    assert "\x1b" not in str(raw) and "\n" not in str(raw)
    api = decode(400, {"type": "t", "message": "two\nlines\x1b[2J", "help_message": "a\rb"})
    assert str(api).isprintable()


def test_deeply_nested_json_does_not_raise() -> None:
    """A body nested beyond the JSON parser's recursion limit is quoted, not raised."""
    err = error_from_response(400, b"[" * 100_000, reason="Bad Request")
    assert isinstance(err, InvalidRequestError) and err.message.startswith("Bad Request: [[[")


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "text",
        None,
        {"type": 3, "message": ["x"], "details": {"a": 1}, "fields": "f", "help_message": 1},
        {"type": "", "message": ""},
    ],
)
def test_json_of_other_shapes_falls_back(body: Any) -> None:
    """JSON that is not an error object, or has odd members, keeps the fallbacks,
    and its text as an excerpt (a gateway's JSON string says what went wrong)."""
    err = decode(404, body, reason="Not Found")
    expected = "Not Found" if body is None else f"Not Found: {json.dumps(body)}"
    assert (err.type, err.message, err.fields, err.details, err.help_message) == (
        "unknown",
        expected,
        {},
        [],
        None,
    )


def test_a_gateways_json_string_is_kept() -> None:
    """docs/errors.md: JSON that is not an object keeps a short excerpt."""
    err = error_from_response(504, b'"upstream request timeout"', reason="Gateway Timeout")
    assert err.message == 'Gateway Timeout: "upstream request timeout"'


def test_bad_arguments_are_named() -> None:
    """A status that is not an int or content that is not bytes is a TypeError naming it."""
    with pytest.raises(TypeError, match="status_code"):
        error_from_response("404", b"")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="status_code"):
        error_from_response(True, b"")
    with pytest.raises(TypeError, match="content"):
        error_from_response(404, "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="headers"):
        error_from_response(404, b"", headers=[("a", "b")])  # type: ignore[arg-type]


# -- properties --------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
detail_keys = st.sampled_from(
    ["argument_name", "reason", "help_message", "resource", "quota", "current", "action", "x"]
)
details = st.lists(st.dictionaries(detail_keys, scalars, max_size=5) | scalars, max_size=8)
error_objects = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(
            ["quotas_exceeded", "transient_state", "precondition_failed", "expired", "x"]
        )
        | scalars,
        "message": scalars,
        "help_message": scalars,
        "details": details | scalars,
        "fields": st.dictionaries(st.text(max_size=8), st.lists(scalars, max_size=3) | scalars)
        | scalars,
        "resource": scalars,
        "resource_id": scalars,
        "precondition": scalars,
        "current_state": scalars,
        "expired_since": scalars,
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    error_objects.map(lambda v: json.dumps(v).encode()),
    st.recursive(scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)).map(
        lambda v: json.dumps(v).encode()
    ),
)
header_maps = st.dictionaries(
    st.sampled_from(["X-Request-Id", "x-auth-token", "Content-Type", "Retry-After"])
    | st.text(min_size=1, max_size=10),
    st.text(max_size=20),
    max_size=5,
)


@given(
    st.integers(min_value=400, max_value=599),
    bodies,
    header_maps,
    st.none() | st.floats(min_value=0, max_value=1e6),
)
def test_any_answer_gives_the_status_class(
    status: int, content: bytes, headers: dict[str, str], retry_after: float | None
) -> None:
    """Any status from 400 to 599 and any body give an APIError of the status's class."""
    err = error_from_response(
        status, content, headers=headers, reason="Reason", retry_after=retry_after
    )
    assert isinstance(err, APIError) and isinstance(err, error_class_for(status))
    assert err.status_code == status
    assert isinstance(err.type, str) and isinstance(err.message, str) and err.message
    assert all(isinstance(k, str) and isinstance(v, list) for k, v in err.fields.items())
    assert all(isinstance(d, dict) for d in err.details)
    assert "x-auth-token" not in err.headers
    text = str(err)
    assert text.isprintable() and text.startswith(f"{status} ")
    assert str(pickle.loads(pickle.dumps(err))) == text
