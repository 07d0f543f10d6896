"""Reading an error answer: headers, the request id, credentials, and the small readers."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from scaleway_volumes._error_body import ResponseHeaders, as_int, excerpt, parse_timestamp
from scaleway_volumes._errors import error_from_response

from ..conftest import TOKEN

# A request id as the API gateway sends it (from a recorded Block API answer).
REQUEST_ID = "f84ca9a1-9df5-4607-88ce-afc63c2d39bc"


# -- headers -----------------------------------------------------------------------------


def test_request_id_comes_from_the_answer_headers() -> None:
    """X-Request-Id, in any case, becomes request_id and is shown in the message."""
    for name in ("X-Request-Id", "x-request-id", "X-REQUEST-ID"):
        err = error_from_response(500, b"", headers={name: REQUEST_ID})
        assert err.request_id == REQUEST_ID and f"request id {REQUEST_ID}" in str(err)
    assert error_from_response(500, b"").request_id is None
    assert error_from_response(500, b"", headers={"X-Request-Id": ""}).request_id is None


def test_headers_are_read_only_and_case_insensitive() -> None:
    """Headers are looked up in any case and cannot be changed."""
    answer = httpx.Headers([("Content-Type", "text/html"), ("Vary", "a"), ("vary", "b")])
    err = error_from_response(502, b"", headers=answer)
    assert err.headers["content-type"] == err.headers["CONTENT-TYPE"] == "text/html"
    assert err.headers["Vary"] == "a, b"
    assert "Content-Type" in err.headers and 3 not in err.headers  # type: ignore[comparison-overlap]
    assert dict(err.headers) == {"content-type": "text/html", "vary": "a, b"}
    with pytest.raises(TypeError):
        err.headers["x"] = "y"  # type: ignore[index]
    with pytest.raises(KeyError):
        err.headers[b"content-type"]  # type: ignore[index]


def test_credentials_are_never_kept() -> None:
    """Request headers passed by mistake lose the token, authorization and cookies."""
    sent = {
        "X-Auth-Token": TOKEN,
        "Authorization": f"Bearer {TOKEN}",
        "Cookie": f"session={TOKEN}",
        "Set-Cookie": f"session={TOKEN}",
        "Proxy-Authorization": TOKEN,
        "User-Agent": "scaleway-volumes",
    }
    err = error_from_response(401, b"", headers=sent, method="GET", path="/volumes")
    assert dict(err.headers) == {"user-agent": "scaleway-volumes"}
    for text in (str(err), repr(err), repr(err.headers), pickle.dumps(err).decode("latin-1")):
        assert TOKEN not in text


def test_response_headers_take_bytes_and_repeated_names() -> None:
    """Byte names and values are decoded; a repeated name is joined."""
    headers = ResponseHeaders({b"X-Request-Id": b"abc"})  # type: ignore[dict-item]
    assert headers["x-request-id"] == "abc" and len(headers) == 1
    assert repr(ResponseHeaders()) == "ResponseHeaders({})"


# -- the reading helpers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        (5.0, 5),
        (5.5, None),
        ("12", 12),
        (" 7 ", 7),
        ("x", None),
        (True, None),
        (None, None),
        ([1], None),
    ],
)
def test_as_int(value: Any, expected: int | None) -> None:
    """Whole numbers are read from ints, integral floats and digits; nothing else."""
    assert as_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        (
            "2024-01-01T00:00:00.123456+00:00",
            datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc),
        ),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        ("soon", "soon"),
        ("", ""),
        (None, None),
    ],
)
def test_parse_timestamp(value: str | None, expected: datetime | str | None) -> None:
    """ISO 8601 texts become aware datetimes (UTC when no offset); others stay as sent."""
    assert parse_timestamp(value) == expected


def test_excerpt_of_a_page_cut_mid_tag() -> None:
    """A page cut inside a tag loses the partial tag too."""
    assert excerpt(b"<html><body>Oops</body><meta name=") == "Oops"
