"""What a fault's action makes of the request it fires on: the Outcome to send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._core import (
    DEFAULT_ERROR_PAGE,
    DEFAULT_MALFORMED,
    DRIP,
    JSON,
    TRUNCATE,
    Fault,
    Outcome,
    Response,
    dumps,
)

__all__ = ["outcome_of"]


def outcome_of(fault: Fault, act: Callable[[], Response]) -> Outcome:
    """The outcome ``fault`` scripts for its request; ``act()`` applies the request and
    returns the API's answer, called only by the actions that act."""
    action = fault.action
    if action == "respond":
        return Outcome(_scripted(fault, b""))
    if action == "drop":
        return Outcome(None)
    response = act()
    if action == "delay":
        return Outcome(response)
    if action == "act_then_drop":
        return Outcome(None)
    if action == "act_then_error":
        return Outcome(_scripted(fault, DEFAULT_ERROR_PAGE))
    if action == "act_then_delay":
        return Outcome(response, post_delay=fault.delay)
    if action == "malformed":
        return Outcome(Response(response.status, _raw(fault.body), JSON, response.headers))
    if action == "truncate":
        return Outcome(response, mode=TRUNCATE)
    return Outcome(response, mode=DRIP, chunk=fault.chunk, interval=fault.interval)


def _scripted(fault: Fault, default_body: bytes) -> Response:
    body = fault.body
    headers = tuple((fault.headers or {}).items())
    content_type: str | None
    if isinstance(body, dict):
        raw, content_type = dumps(body), JSON
    elif body is None:
        raw = default_body
        content_type = "text/html" if default_body else None
    else:
        raw = body.encode() if isinstance(body, str) else body
        content_type = "text/plain"
    if any(k.lower() == "content-type" for k, _ in headers):
        content_type = None
    return Response(fault.status, raw, content_type, headers)


def _raw(body: bytes | str | dict[str, Any] | None) -> bytes:
    if body is None:
        return DEFAULT_MALFORMED
    if isinstance(body, dict):
        return dumps(body)
    return body.encode() if isinstance(body, str) else body
