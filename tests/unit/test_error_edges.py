"""Errors, hints and list decoding at their edges: what a user reads must stay true and safe."""

from __future__ import annotations

import json

import pytest
import respx

from scaleway_volumes import (
    AsyncVolumeAPI,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ScalewayError,
    ServerError,
    ServiceUnavailableError,
)
from scaleway_volumes._convert import decode_volumes, find_marked_page
from scaleway_volumes._errors import InvalidRequestError, error_from_response
from scaleway_volumes._hints import hint

BASE = "http://scw.test/instance/v1/zones/fr-par-1"
ORG = "11111111-1111-1111-1111-111111111111"
VID = "f929fe39-63f8-4be8-a80e-1e9c8ae22a76"


@pytest.fixture
def anyio_backend() -> str:
    """respx mocks httpx's own transport: asyncio is enough here."""
    return "asyncio"


@pytest.mark.anyio
async def test_hint_for_ambiguous_create_without_marker_does_not_say_retry() -> None:
    """create_marker=False and a 504: "try again later" would make a second volume."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        mock.post("/volumes").respond(504, text="gateway timeout")
        async with AsyncVolumeAPI(
            "secret",
            base_url=BASE,
            organization=ORG,
            create_marker=False,
            retry=RetryPolicy(max_retries=0),
        ) as api:
            with pytest.raises(ScalewayError) as info:
                await api.create_volume(name="db", size=10**10)
    err = info.value
    assert err.outcome_unknown and err.marker_tag is None
    assert "it may exist" in str(err)
    advice = hint(err) or ""
    # Same advice as APIConnectionError(outcome_unknown=True) gets: check first.
    assert "try again later" not in advice, advice


def test_hint_for_unknown_outcome_decode_error_without_marker() -> None:
    """An accepted create with an unreadable answer: check first, do not retry."""
    err = ResponseDecodeError("bad", path="$.volume", status_code=201, outcome_unknown=True)
    advice = hint(err) or ""
    assert "may" in advice and "check" in advice, advice


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            412,
            {
                "type": "precondition_failed",
                "message": "m",
                "precondition": "resource_not_usable",
                "help_message": "line1\nline2\x1b[2J",
            },
        ),
        (
            409,
            {
                "type": "transient_state",
                "message": "m",
                "resource": "vol\x1b[31m",
                "current_state": "resizing\r\nFAKE: ok",
            },
        ),
        (
            400,
            {
                "type": "invalid_arguments",
                "message": "m",
                "details": [{"argument_name": "size\n", "reason": "x\x1b]0;t\x07"}],
            },
        ),
        (404, {"type": "not_found", "message": "m", "resource": "volume", "resource_id": "a\nb"}),
    ],
)
def test_hint_is_one_printable_line(status: int, body: dict[str, object]) -> None:
    """The API's words in a hint (help_message, resource, state, fields) cannot split
    the CLI's line or drive the terminal."""
    err = error_from_response(status, json.dumps(body).encode())
    assert str(err).isprintable()
    advice = hint(err)
    assert advice is not None and advice.isprintable(), repr(advice)


@pytest.mark.parametrize("bad", [{}, ""])
def test_instance_list_envelope_must_be_a_list(bad: object) -> None:
    """cattrs would read {} or "" as no volumes."""
    content = json.dumps({"volumes": bad}).encode()
    with pytest.raises(ResponseDecodeError):
        decode_volumes(content, 200)


@pytest.mark.parametrize("bad", [{}, ""])
def test_create_lookup_page_must_be_a_list(bad: object) -> None:
    """A marker lookup reading {} as "not made" would resend the create: a duplicate."""
    content = json.dumps({"volumes": bad}).encode()
    with pytest.raises(ResponseDecodeError):
        find_marked_page(content, 200, "scaleway-volumes:create=abc", "db")


@pytest.mark.anyio
async def test_list_volumes_rejects_dict_envelope() -> None:
    """Through the API: a decode error, not an empty list."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        mock.get("/volumes").respond(200, json={"volumes": {}})
        async with AsyncVolumeAPI("secret", base_url=BASE) as api:
            with pytest.raises(ResponseDecodeError):
                await api.list_volumes()


def test_fields_string_value_is_one_reason() -> None:
    """A lone string is one reason, not a list of its letters."""
    err = InvalidRequestError("bad", status_code=400, fields={"size": "too small"})
    assert err.fields == {"size": ["too small"]}


@pytest.mark.anyio
async def test_long_retry_after_on_503_is_kept() -> None:
    """A 503 asking for longer than max_retry_after is raised at once, with the delay."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        mock.get(f"/volumes/{VID}").respond(
            503, headers={"Retry-After": "3600"}, json={"type": "unavailable", "message": "m"}
        )
        async with AsyncVolumeAPI("secret", base_url=BASE) as api:
            with pytest.raises(ScalewayError) as info:
                await api.get_volume(VID)
    error = info.value
    assert isinstance(error, ServerError) and error.retry_after == 3600
    assert isinstance(error, RateLimitError) and isinstance(error, ServiceUnavailableError)
    assert "retry after 3600 s" in str(error) and "in 3600 s" in (hint(error) or "")
