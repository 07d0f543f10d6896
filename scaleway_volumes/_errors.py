"""The exceptions every public method raises, and nothing else.

```
ScalewayError
├── APIError                .status_code .type .message .fields
│   ├── InvalidRequestError     400
│   ├── AuthenticationError     401
│   ├── PermissionDeniedError   403
│   ├── NotFoundError           404
│   ├── ConflictError           409, 412
│   ├── RateLimitError          429          .retry_after
│   └── ServerError             5xx
├── APIConnectionError      network failure after retries   .outcome_unknown
│   └── APITimeoutError
├── ResponseDecodeError     a 2xx body that is not the expected JSON envelope   .path
└── BulkOperationError      from BulkResult.raise_for_errors()                  .result
```

A bare ``httpx``, ``json``, ``KeyError`` or cattrs exception never leaves a public
method: the original is kept as ``__cause__`` for debugging.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._bulk import BulkResult

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BulkOperationError",
    "ConflictError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ScalewayError",
    "ServerError",
]

# How much of an unexpected body an error message quotes: enough to recognise an
# HTML error page or a proxy's text, never a whole document.
_EXCERPT = 200


class ScalewayError(Exception):
    """Base class of every error this library raises."""


class APIError(ScalewayError):
    """The API answered with a status that is not a success.

    ``status_code`` is the HTTP status, ``type`` and ``message`` come from the
    API's JSON error body (``"unknown"`` and the reason phrase when the body is
    empty or not JSON, as from an HTML error page), ``fields`` maps each rejected
    request field to the API's reasons (empty when there are none).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str = "unknown",
        fields: dict[str, list[str]] | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
    ) -> None:
        self.status_code = status_code
        self.type = type
        self.message = message
        self.fields: dict[str, list[str]] = fields or {}
        self.method = method
        self.path = path
        self.body = body
        # Set when a create failed so that the volume may exist (see APIConnectionError).
        self.outcome_unknown = False
        self.marker_tag: str | None = None
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.status_code} {self.type}: {self.message}"
        if self.fields:
            details = "; ".join(
                f"{name}: {', '.join(reasons)}" for name, reasons in self.fields.items()
            )
            text += f" ({details})"
        if self.method and self.path:
            text += f" [{self.method} {self.path}]"
        return text


class InvalidRequestError(APIError):
    """400: the API rejected the request (bad field, business rule such as a size limit)."""


class AuthenticationError(APIError):
    """401: the secret key is missing, wrong or revoked."""


class PermissionDeniedError(APIError):
    """403: the key is valid but may not do this."""


class NotFoundError(APIError):
    """404: no such volume (or path)."""


class ConflictError(APIError):
    """409 or 412: the volume's state forbids this (for example, it is attached to a server)."""


class RateLimitError(APIError):
    """429: too many requests, after retries.

    ``retry_after`` is the delay in seconds the API asked for, or ``None`` when it
    gave none (the Scaleway gateway usually gives none).
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(APIError):
    """5xx: the API failed, after retries where retrying was safe."""


class APIConnectionError(ScalewayError):
    """The request did not complete at the network level, after retries.

    ``outcome_unknown`` is true when the request may have reached the API and
    been acted on (for a create: the volume may exist). ``marker_tag`` is then
    the tag the library put on the volume, so it can be found with
    ``list_volumes(tags=[err.marker_tag])``.
    """

    def __init__(
        self,
        message: str,
        *,
        outcome_unknown: bool = False,
        marker_tag: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.outcome_unknown = outcome_unknown
        self.marker_tag = marker_tag
        self.method = method
        self.path = path
        text = message
        if method and path:
            text += f" [{method} {path}]"
        super().__init__(text)


class APITimeoutError(APIConnectionError):
    """The request, or the whole call, ran out of time."""


class ResponseDecodeError(ScalewayError):
    """A 2xx response whose body is not the JSON envelope the API documents.

    ``path`` is a JSONPath-like location of the first problem (``$.volume.size``);
    ``status_code`` is the HTTP status of the response.
    """

    def __init__(self, message: str, *, path: str = "$", status_code: int | None = None) -> None:
        self.message = message
        self.path = path
        self.status_code = status_code
        super().__init__(f"{message} at {path}")


class BulkOperationError(ScalewayError):
    """Raised by ``BulkResult.raise_for_errors()``; ``result`` holds every outcome."""

    def __init__(self, message: str, result: BulkResult[Any, Any]) -> None:
        self.result = result
        super().__init__(message)


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: ConflictError,
    429: RateLimitError,
}


def error_class_for(status_code: int) -> type[APIError]:
    """The one place that maps an HTTP status to an error class."""
    if status_code >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status_code, APIError)


def make_status_error(
    status_code: int,
    content: bytes,
    *,
    reason: str = "",
    method: str | None = None,
    path: str | None = None,
    retry_after: float | None = None,
) -> APIError:
    """Build the typed error for a non-2xx response from its raw body.

    Accepts the API's JSON error shape ``{"type", "message", "fields"?}``, and
    degrades to the reason phrase plus an excerpt for empty, HTML or other
    non-JSON bodies.
    """
    cls = error_class_for(status_code)
    err_type = "unknown"
    message = reason or "HTTP error"
    fields: dict[str, list[str]] = {}
    body: Any = None
    try:
        body = json.loads(content) if content else None
    except ValueError:
        excerpt = content[:_EXCERPT].decode("utf-8", "replace").strip()
        if excerpt:
            message = f"{message}: {' '.join(excerpt.split())}"
    if isinstance(body, dict):
        if isinstance(body.get("type"), str):
            err_type = body["type"]
        if isinstance(body.get("message"), str):
            message = body["message"]
        fields = _parse_fields(body.get("fields"))
    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "type": err_type,
        "fields": fields,
        "method": method,
        "path": path,
        "body": body,
    }
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after
    return cls(message, **kwargs)


def _parse_fields(raw: Any) -> dict[str, list[str]]:
    if not isinstance(raw, dict):
        return {}
    fields: dict[str, list[str]] = {}
    for name, reasons in raw.items():
        if isinstance(reasons, list):
            fields[str(name)] = [str(r) for r in reasons]
        else:
            fields[str(name)] = [str(reasons)]
    return fields
