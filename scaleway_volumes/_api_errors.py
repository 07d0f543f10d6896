"""The errors of an API answer, and the one function that builds them from it.

``error_from_response`` reads the status, the JSON error body and the headers;
``error_class_for`` maps a status and the body's ``type`` to a class.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import attrs

from ._error_base import ScalewayError
from ._error_body import (
    REQUEST_ID_HEADER,
    ResponseHeaders,
    as_int,
    describe_denial,
    describe_details,
    excerpt,
    one_line,
    parse_body,
    parse_details,
    parse_fields,
    parse_timestamp,
)

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConflictError",
    "GoneError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "Quota",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
    "ServiceUnavailableError",
    "TransientStateError",
    "error_class_for",
    "error_from_response",
]


class APIError(ScalewayError):
    """The API answered with a status that is not a success.

    Attributes, all set at construction:

    - ``status_code``: the HTTP status; ``type`` and ``message``: from the API's
      JSON error body (``"unknown"`` and the reason phrase plus a short excerpt when
      the body is empty or not JSON, as from a gateway's HTML page);
    - ``fields``: each rejected request argument and the API's reasons, from the
      older ``fields`` object and from ``invalid_arguments`` details alike;
    - ``details``: the body's ``details`` list as sent; ``help_message``: the API's
      advice; ``resource`` / ``resource_id``: what the API says the error is about;
    - ``request_id``: the answer's ``X-Request-Id`` header (quote it to support);
      ``headers``: the answer's headers, read-only, case-insensitive, credentials
      dropped;
    - ``method`` / ``path``: the request; ``body``: the decoded JSON body, or None;
    - ``note``: what the library adds before the API's words (e.g. that a create
      may still land), or None.

    ``str(err)`` puts it on one line, for example
    ``412 precondition_failed: precondition is not respected (precondition
    resource_still_in_use). The volume is attached to a server.
    [DELETE /volumes/…; request id 8f…]``.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str = "unknown",
        fields: Mapping[str, Sequence[str]] | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
        help_message: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        resource: str | None = None,
        resource_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
        note: str | None = None,
        outcome_unknown: bool = False,
        marker_tag: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.type = type
        # A lone string is one reason, not a list of its letters.
        self.fields: dict[str, list[str]] = {
            k: [v] if isinstance(v, str) else list(v) for k, v in (fields or {}).items()
        }
        self.details: list[dict[str, Any]] = [dict(d) for d in details or ()]
        self.help_message = help_message
        self.headers: Mapping[str, str] = ResponseHeaders(headers)
        self.request_id = request_id or self.headers.get(REQUEST_ID_HEADER) or None
        self.resource = resource
        self.resource_id = resource_id
        self.method = method
        self.path = path
        self.body = body
        self.note = note
        super().__init__(message, outcome_unknown=outcome_unknown, marker_tag=marker_tag)

    # Text members of a JSON error body this class takes as constructor keywords.
    _body_keys: ClassVar[tuple[str, ...]] = ()

    def _specifics(self) -> list[str]:
        """What this class adds to the bracketed context of the message."""
        return []

    def _render(self) -> str:
        text = f"{self.status_code} {self.type}: {self.message}"
        context = []
        if self.resource or self.resource_id:
            context.append(" ".join(str(p) for p in (self.resource, self.resource_id) if p))
        context += self._specifics()
        context += describe_details(self.fields, self.details)
        if context:
            text += f" ({'; '.join(context)})"
        if self.help_message and self.help_message not in text:
            text += f". {self.help_message}"
        where = [f"{self.method} {self.path}"] if self.method and self.path else []
        if self.request_id:
            where.append(f"request id {self.request_id}")
        if where:
            text += f" [{'; '.join(where)}]"
        if self.note:
            text = f"{self.note.rstrip(' .')}. {text}"
        # The API's words and a gateway's may hold newlines or escape sequences.
        return one_line(text)


class InvalidRequestError(APIError):
    """400: the API rejected the request (``.fields`` names the arguments to fix)."""


class AuthenticationError(APIError):
    """401: the secret key is missing, wrong, expired or revoked.

    The message says which when the API does (``denied_authentication`` bodies
    name the ``method``, e.g. ``api_key``, and the ``reason``).
    """

    def _specifics(self) -> list[str]:
        return describe_denial(self.body)


class PermissionDeniedError(APIError):
    """403: the key is valid but may not do this (its IAM policy, or the project)."""


@attrs.frozen
class Quota:
    """One quota a ``QuotaExceededError`` names: ``current`` in use of ``quota`` allowed.

    ``quota`` and ``current`` are ``None`` when the API left them out or sent
    something that is not a whole number.
    """

    resource: str
    quota: int | None = None
    current: int | None = None

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> Quota:
        """Read one ``{"resource", "quota", "current"}`` detail, tolerating odd values."""
        resource = detail.get("resource")
        return cls(
            resource=resource if isinstance(resource, str) and resource else "unknown",
            quota=as_int(detail.get("quota")),
            current=as_int(detail.get("current")),
        )


class QuotaExceededError(PermissionDeniedError):
    """403 ``quotas_exceeded``: a quota of the organization or project is full.

    ``quotas`` lists the ``Quota`` items the API named (read from ``details`` unless
    given). A quota can be raised in the Scaleway console.
    """

    def __init__(
        self, message: str, *, quotas: Iterable[Quota] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        if quotas is None:
            quotas = (Quota.from_detail(d) for d in self.details if "resource" in d)
        self.quotas: list[Quota] = list(quotas)


class NotFoundError(APIError):
    """404: no such resource (or path); ``resource`` / ``resource_id`` say which."""


class GoneError(NotFoundError):
    """410 ``expired``: the resource existed but has expired.

    ``expired_since`` is an aware ``datetime`` when the API sent a readable
    timestamp, the text as sent when not, ``None`` when absent.
    """

    _body_keys = ("expired_since",)

    def __init__(
        self, message: str, *, expired_since: datetime | str | None = None, **kwargs: Any
    ) -> None:
        self.expired_since = parse_timestamp(expired_since)
        super().__init__(message, **kwargs)

    def _specifics(self) -> list[str]:
        since = self.expired_since
        if since is None:
            return []
        return [f"expired since {since.isoformat() if isinstance(since, datetime) else since}"]


class ConflictError(APIError):
    """409 (and 412, as ``PreconditionFailedError``): the resource's state forbids this."""


class TransientStateError(ConflictError):
    """409 ``transient_state``: the resource is busy (``current_state``, e.g. resizing).

    It settles on its own; the library retries PATCH and DELETE within the call's
    deadline, never a create.
    """

    _body_keys = ("current_state",)

    def __init__(self, message: str, *, current_state: str | None = None, **kwargs: Any) -> None:
        self.current_state = current_state
        super().__init__(message, **kwargs)

    def _specifics(self) -> list[str]:
        return [f"state {self.current_state}"] if self.current_state else []


class PreconditionFailedError(ConflictError):
    """412 ``precondition_failed``: ``precondition`` says which one.

    ``resource_still_in_use``: detach or delete what uses it first;
    ``resource_not_usable``: the resource cannot serve this request (``help_message``
    says why, e.g. a size smaller than the source snapshot).
    """

    _body_keys = ("precondition",)

    def __init__(self, message: str, *, precondition: str | None = None, **kwargs: Any) -> None:
        self.precondition = precondition
        super().__init__(message, **kwargs)

    def _specifics(self) -> list[str]:
        return [f"precondition {self.precondition}"] if self.precondition else []


class _AsksForDelay(APIError):
    """An answer that may carry ``Retry-After`` (429, 503): ``retry_after``, in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    def _specifics(self) -> list[str]:
        return [] if self.retry_after is None else [f"retry after {self.retry_after:g} s"]


class RateLimitError(_AsksForDelay):
    """429: too many requests, after retries.

    ``retry_after`` is the delay in seconds the API asked for, or ``None`` when it
    gave none (the Scaleway gateway usually gives none).
    """


class ServerError(_AsksForDelay):
    """5xx: the API failed, after retries where retrying was safe.

    ``retry_after`` is the delay in seconds the answer asked for, else ``None``;
    a 503 that asked for one is a ``ServiceUnavailableError``.
    """


class ServiceUnavailableError(ServerError, RateLimitError):
    """503 with ``Retry-After``: the API is unavailable and said when to come back.

    Both a ``ServerError`` (its status) and a ``RateLimitError``: ``retry_after``
    is the delay in seconds it asked for. Raised after retries, or at once when
    that delay is longer than ``RetryPolicy.max_retry_after``, so
    ``except RateLimitError`` sees every answer that names a delay.

    ```python
    try:
        volume = await api.get_volume(volume_id)
    except RateLimitError as err:  # a 429, or a 503 with Retry-After
        await anyio.sleep(err.retry_after or 60)
    ```
    """


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    412: PreconditionFailedError,
    429: RateLimitError,
}

# A body's ``type`` refines the status's class, never leaves it.
_TYPE_CLASSES: dict[tuple[int, str], type[APIError]] = {
    (403, "quotas_exceeded"): QuotaExceededError,
    (409, "transient_state"): TransientStateError,
}


def error_class_for(
    status_code: int, type: str | None = None, *, retry_after: float | None = None
) -> type[APIError]:
    """The one place that maps an HTTP status (and the body's ``type``) to a class.

    The result is always a subclass of the status's class: the ``type`` only
    picks a more precise one (403 ``quotas_exceeded`` is a ``QuotaExceededError``),
    and so does a 503's ``retry_after`` (a ``ServiceUnavailableError``).
    """
    if type is not None and (status_code, type) in _TYPE_CLASSES:
        return _TYPE_CLASSES[status_code, type]
    if status_code == 503 and retry_after is not None:
        return ServiceUnavailableError
    if status_code >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status_code, APIError)


def error_from_response(
    status_code: int,
    content: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    reason: str = "",
    method: str | None = None,
    path: str | None = None,
    retry_after: float | None = None,
    outcome_unknown: bool = False,
    marker_tag: str | None = None,
    note: str | None = None,
) -> APIError:
    """Build the typed error for a non-2xx answer from its status, raw body and headers.

    Reads the API's JSON error shapes (``type``, ``message``, ``help_message``,
    ``fields``, ``details``, ``resource``, ``resource_id``, ``precondition``,
    ``current_state``, ``expired_since``) and degrades to the reason phrase plus a
    short excerpt for HTML, other non-JSON bodies and JSON that is no API error.
    ``headers`` must be the *answer's* headers: the request id comes from them, and
    credential headers are dropped. ``note`` is a sentence put before the message
    (what the library knows that the API does not, e.g. that a create may still
    land). Never raises for any body.

    ```python
    err = error_from_response(404, b'{"type": "not_found", "message": "resource is not found"}')
    assert isinstance(err, NotFoundError)
    ```
    """
    if not isinstance(status_code, int) or isinstance(status_code, bool):
        raise TypeError(f"status_code must be an int, got {type(status_code).__name__}")
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise TypeError(f"content must be bytes, got {type(content).__name__}")
    body, quoted = parse_body(bytes(content))
    if body is not None and not (isinstance(body, dict) and _text(body.get("message"))):
        # JSON that is not the API's error (a gateway's string or array) says
        # what went wrong only in its text: keep an excerpt, as for non-JSON.
        quoted = excerpt(bytes(content))
    message = reason or "HTTP error"
    if quoted:
        message = f"{message}: {quoted}"
    fields: dict[str, list[str]] = {}
    extras: dict[str, Any] = {}
    err_type = "unknown"
    if isinstance(body, dict):
        err_type = _text(body.get("type")) or err_type
        message = _text(body.get("message")) or message
        details = parse_details(body.get("details"))
        fields = parse_fields(body.get("fields"), details)
        extras = {
            "details": details,
            "help_message": _text(body.get("help_message")),
            "resource": _text(body.get("resource")),
            "resource_id": _text(body.get("resource_id")),
        }
    cls = error_class_for(status_code, err_type, retry_after=retry_after)
    if isinstance(body, dict):
        extras.update((key, body[key]) for key in cls._body_keys if _text(body.get(key)))
    if issubclass(cls, _AsksForDelay):
        extras["retry_after"] = retry_after
    return cls(
        message,
        status_code=status_code,
        type=err_type,
        fields=fields,
        headers=headers,
        method=method,
        path=path,
        body=body,
        note=note,
        outcome_unknown=outcome_unknown,
        marker_tag=marker_tag,
        **extras,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
