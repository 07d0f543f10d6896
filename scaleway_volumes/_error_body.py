"""Reading an error answer: its body, its headers, and the short texts a message shows.

Pure functions with no I/O and no error classes, so that ``_errors`` stays about the
classes and every reading rule here can be tested on its own.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from ._timestamps import parse_datetime

__all__ = [
    "CREDENTIAL_HEADERS",
    "CONNECT_FAILED",
    "GOING",
    "LIMITER_HELD",
    "NEXT_HELD",
    "NEXT_NOT_SENT",
    "REQUEST_ID_HEADER",
    "ResponseHeaders",
    "as_int",
    "describe_denial",
    "describe_details",
    "excerpt",
    "one_line",
    "parse_body",
    "parse_details",
    "parse_fields",
    "parse_timestamp",
]

# How a call whose deadline passed before its rate limiter let it send says so
# (its error is not outcome_unknown; the hint then points at the pacing).
LIMITER_HELD = "still waiting for the rate limiter: nothing was sent"
# ...and one whose attempts all failed to connect (the hint then points at the
# network, not at the pacing or the API's speed).
CONNECT_FAILED = "attempt(s) failed to connect"
# ...and one whose attempts were all answered with a refusal (a 429, a 503), the
# next held by the rate limiter or not yet sent (a backoff): nothing acted.
NEXT_HELD = "the next was waiting for the rate limiter"
NEXT_NOT_SENT = "the next was not sent"
# ...and a ``list_*`` call whose deadline passed after some of its pages came:
# the listing was longer than the deadline, not (only) slow.
MORE_PAGES_DUE = "more were due"

# The ``current_state`` of a 409 ``transient_state`` answer to a DELETE whose
# resource is on its way out, or gone: a DELETE was accepted already, and the
# resource leaves that state only by vanishing (not waited out, ``_retry``).
GOING = frozenset({"deleting", "deleted"})

# The Scaleway API gateway puts a UUID in this header on every answer, errors
# included (seen in recorded answers of the Instance and Block APIs). Scaleway's
# own SDKs (Go, Python, JS) read no request id header at all.
REQUEST_ID_HEADER = "x-request-id"

# Never kept on an error, should a caller hand over request headers by mistake.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "set-cookie", "x-auth-token"}
)

# How much of an unexpected body a message quotes: enough to recognise an HTML
# error page or a proxy's text, never a whole document.
_EXCERPT = 200
# How much of it is read to find that much text once an HTML page's tags are gone.
_WINDOW = 4096
# How many fields or details a message lists before saying how many more there are.
_MAX_ITEMS = 5
# How long the text of one detail of an unknown shape may get in a message.
_MAX_DETAIL = 80

_HTML_SKIPPED = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*(>|$)")


class ResponseHeaders(Mapping[str, str]):
    """An answer's headers, read-only: names lower-cased, looked up in any case.

    Repeated headers are joined with ``", "``; credential headers
    (``X-Auth-Token``, ``Authorization``, cookies) are dropped.
    """

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        if headers is not None and not isinstance(headers, Mapping):
            raise TypeError(f"headers must be a mapping, got {type(headers).__name__}")
        items: dict[str, str] = {}
        for name, value in (headers or {}).items():
            key = _as_text(name).lower()
            if key in CREDENTIAL_HEADERS:
                continue
            text = _as_text(value)
            items[key] = f"{items[key]}, {text}" if key in items else text
        self._items = items

    def __getitem__(self, key: str) -> str:
        if not isinstance(key, str):
            raise KeyError(key)
        return self._items[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._items!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # __slots__ without a __dict__ defeat pickle protocols 0 and 1; the kept
        # items (lower-cased, credentials gone) rebuild the same mapping.
        return (ResponseHeaders, (self._items,))


def _as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def parse_body(content: bytes) -> tuple[Any, str]:
    """The decoded JSON body (``None`` if empty or not JSON) and, if not JSON, an excerpt."""
    if not content:
        return None, ""
    try:
        return json.loads(content), ""
    except (ValueError, RecursionError):
        return None, excerpt(content)


def excerpt(content: bytes) -> str:
    """A short, one-line, printable excerpt of a body; an HTML page loses its markup."""
    text = content[:_WINDOW].decode("utf-8", "replace")
    if text.lstrip().startswith("<"):
        text = html.unescape(_HTML_TAG.sub(" ", _HTML_SKIPPED.sub(" ", text)))
    text = one_line(text)
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def one_line(text: str) -> str:
    """``text`` on one printable line: control characters (a terminal's escape
    sequences, newlines) become spaces, and runs of spaces one."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def parse_details(raw: Any) -> list[dict[str, Any]]:
    """The body's ``details`` entries that are objects, as sent."""
    return [d for d in raw if isinstance(d, dict)] if isinstance(raw, list) else []


def _argument_name(detail: Mapping[str, Any]) -> str | None:
    name = detail.get("argument_name")
    return name if isinstance(name, str) and name else None


def parse_fields(raw: Any, details: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Rejected arguments and their reasons, from both shapes the API sends.

    The older ``{"fields": {"size": ["too small"]}}`` and the newer
    ``invalid_arguments`` details ``[{"argument_name", "reason", "help_message"}]``
    (as ``"reason: help_message"``) merge into one dict.
    """
    fields: dict[str, list[str]] = {}
    if isinstance(raw, dict):
        for name, reasons in raw.items():
            values = reasons if isinstance(reasons, list) else [reasons]
            fields.setdefault(str(name), []).extend(str(r) for r in values)
    for detail in details:
        name = _argument_name(detail)
        if name is None:
            continue
        said = [detail.get("reason"), detail.get("help_message")]
        text = ": ".join(s for s in said if isinstance(s, str) and s)
        fields.setdefault(name, []).append(text or "invalid")
    return fields


def as_int(value: Any) -> int | None:
    """A whole number sent as an int, an integral float or digits; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def parse_timestamp(value: datetime | str | None) -> datetime | str | None:
    """An aware ``datetime`` from an RFC 3339 text (UTC if no offset); the text if unreadable.

    Read as every answer's timestamps are (``parse_datetime``), so the same on
    every supported Python; surrounding whitespace is ignored.
    """
    if not isinstance(value, str):
        return value
    try:
        return parse_datetime(value.strip())
    except ValueError:
        return value


# The reasons the gateway gives in a ``denied_authentication`` body.
_DENIED_BECAUSE = {
    "invalid_argument": "is malformed or empty",
    "not_found": "does not exist",
    "expired": "has expired",
}


def describe_denial(body: Any) -> list[str]:
    """What a ``denied_authentication`` body says is wrong with the key (``api_key expired``)."""
    method = body.get("method") if isinstance(body, dict) else None
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(method, str) or not isinstance(reason, str):
        return []
    return [f"{method} {_DENIED_BECAUSE.get(reason, reason)}"]


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


def _describe_detail(detail: Mapping[str, Any]) -> str:
    resource = detail.get("resource")
    if "quota" in detail or "current" in detail:
        name = resource if isinstance(resource, str) and resource else "unknown"
        used, allowed = as_int(detail.get("current")), as_int(detail.get("quota"))
        return f"quota {name}: {_count(used)} used of {_count(allowed)}"
    action = detail.get("action")
    if isinstance(action, str) and isinstance(resource, str):
        return f"{action} {resource} denied"
    pairs = [f"{k}={v}" for k, v in detail.items() if isinstance(v, (str, int, float)) and v != ""]
    text = ", ".join(pairs)
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def describe_details(fields: Mapping[str, list[str]], details: list[dict[str, Any]]) -> list[str]:
    """Short texts for a message: each rejected argument, then each other detail."""
    parts = [f"{name}: {', '.join(reasons)}" for name, reasons in fields.items()]
    for detail in details:
        if _argument_name(detail) is None:
            text = _describe_detail(detail)
            if text:
                parts.append(text)
    if len(parts) > _MAX_ITEMS:
        parts = [*parts[:_MAX_ITEMS], f"{len(parts) - _MAX_ITEMS} more"]
    return parts
