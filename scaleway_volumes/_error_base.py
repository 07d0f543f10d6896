"""The base error, and the errors that do not come from an API answer.

``ScalewayError`` is the base of every error the library raises; the errors of an
API answer (``APIError`` and its tree) live in ``_api_errors``. The whole tree is
drawn in ``_errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "BulkOperationError",
    "BulkOutcome",
    "ResourceStateError",
    "ResponseDecodeError",
    "ScalewayError",
    "WaitTimeoutError",
    "reframed",
]


def _restore(cls: type[ScalewayError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(state)
    return err


_E = TypeVar("_E", bound="ScalewayError")


def reframed(error: _E, **changes: Any) -> _E:
    """A new error like ``error`` (same class, same attributes) but for ``changes``.

    Its text is rendered again from the changed attributes. ``error`` itself is
    untouched: an error's attributes do not change once it is built.

    ```python
    unknown = reframed(rate_limited, outcome_unknown=True, marker_tag=marker)
    ```
    """
    state = error.__dict__.copy()
    state.update(changes)
    copy: _E = _restore(type(error), error.args, state)
    copy.args = (copy._render(),)
    return copy


class ScalewayError(Exception):
    """Base class of every error this library raises.

    ``message`` is the text the error was built with. ``outcome_unknown`` is true
    when the request may have reached the API and been acted on (a create may have
    made the volume); ``marker_tag`` is then the tag the library put on the resource,
    so ``list_volumes(tags=[err.marker_tag])`` finds it before anything is created
    again.
    """

    def __init__(
        self, message: str, *, outcome_unknown: bool = False, marker_tag: str | None = None
    ) -> None:
        self.message = message
        self.outcome_unknown = outcome_unknown
        self.marker_tag = marker_tag
        super().__init__(self._render())

    def _render(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors defeat Exception's default pickling (it calls
        # cls(*args)); errors cross process pools and copy.copy, so rebuild from state.
        return (_restore, (type(self), self.args, self.__dict__.copy()))


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
        self.method = method
        self.path = path
        super().__init__(message, outcome_unknown=outcome_unknown, marker_tag=marker_tag)

    def _render(self) -> str:
        if self.method and self.path:
            return f"{self.message} [{self.method} {self.path}]"
        return self.message


class APITimeoutError(APIConnectionError):
    """The request, or the whole call, ran out of time."""


class ResponseDecodeError(ScalewayError):
    """A 2xx response whose body is not the JSON envelope the API documents.

    ``path`` is a JSONPath-like location of the first problem (``$.volume.size``);
    ``status_code`` is the HTTP status of the response. The answer to a create
    that cannot be read, nor the resource found, is ``outcome_unknown``: the API
    said it made it, so ``marker_tag`` names the tag to look it up by.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str = "$",
        status_code: int | None = None,
        outcome_unknown: bool = False,
        marker_tag: str | None = None,
    ) -> None:
        self.path = path
        self.status_code = status_code
        super().__init__(message, outcome_unknown=outcome_unknown, marker_tag=marker_tag)

    def _render(self) -> str:
        return f"{self.message} at {self.path}"


class BulkOutcome(Protocol):
    """What ``BulkOperationError`` needs of a result: ``BulkResult`` is one.

    Declared here so that this module does not depend on the bulk helpers.
    """

    @property
    def succeeded(self) -> Sequence[Any]:
        """The outputs of the items that succeeded."""
        ...

    @property
    def failed(self) -> Sequence[tuple[Any, BaseException]]:
        """The ``(input, exception)`` pairs of the items that failed."""
        ...


_R = TypeVar("_R", bound=BulkOutcome)


class BulkOperationError(ScalewayError, Generic[_R]):
    """Raised by ``BulkResult.raise_for_errors()``; ``result`` holds every outcome.

    ``outcome_unknown`` is true when at least one failed item may still have been
    acted on (look at each item's error). Caught as ``except BulkOperationError``,
    ``result`` is typed ``Any``; it is the ``BulkResult`` that raised.
    """

    def __init__(self, message: str, result: _R) -> None:
        self.result = result
        unknown = any(getattr(err, "outcome_unknown", False) for _, err in result.failed)
        super().__init__(message, outcome_unknown=unknown)


def _kind_of(resource: object) -> str:
    if resource is None or isinstance(resource, str):
        return "resource"
    # BlockVolume -> volume, BlockSnapshot -> snapshot, Volume -> volume.
    return type(resource).__name__.removeprefix("Block").lower()


def _wanted(expected: Iterable[str] | str) -> tuple[str, ...]:
    return (expected,) if isinstance(expected, str) else tuple(expected)


_STATE_ADVICE = {
    "error": "it will not recover on its own: delete it and create it again, "
    "or contact Scaleway support with its id",
    "locked": "Scaleway locked it: contact Scaleway support with its id",
}


class ResourceStateError(ScalewayError):
    """A resource being waited for reached a failure state (``error``, ``locked``).

    ``state`` is that state, ``resource`` the last model object fetched (or the
    id when there is none), ``resource_id`` its id, ``expected`` the states that
    were waited for, ``kind`` what it is (``volume``, ``snapshot``; by default from
    the model's class). Waiting longer will not help.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        state: str,
        resource: object,
        resource_id: str | None = None,
        expected: Iterable[str] | str = (),
        kind: str | None = None,
    ) -> None:
        self.state = state
        self.resource = resource
        if resource_id is None:
            found = resource if isinstance(resource, str) else getattr(resource, "id", None)
            resource_id = found if isinstance(found, str) else None
        self.resource_id = resource_id
        self.expected = _wanted(expected)
        self.kind = kind or _kind_of(resource)
        if message is None:
            message = f"{self.kind} {resource_id or '?'} reached the state {state!r}"
            if self.expected:
                message += f" instead of {' or '.join(self.expected)}"
            message += f": {_STATE_ADVICE.get(state, 'check it in the Scaleway console')}"
        super().__init__(message)


class WaitTimeoutError(ScalewayError, TimeoutError):
    """A wait ran out of time before the resource reached the wanted state.

    ``last_state`` is the last state seen (``None`` if none was), ``resource_id``
    the id, ``timeout`` the seconds waited, ``expected`` the states waited for,
    ``kind`` what the resource is (``volume``, ``snapshot``). The resource may
    still get there: wait again with a longer timeout.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        resource_id: str,
        last_state: str | None,
        timeout: float,
        expected: Iterable[str] | str = (),
        kind: str = "resource",
    ) -> None:
        self.resource_id = resource_id
        self.last_state = last_state
        self.timeout = timeout
        self.expected = _wanted(expected)
        self.kind = kind
        if message is None:
            seen = f"still {last_state!r}" if last_state else "not seen in any state"
            message = f"{kind} {resource_id} is {seen} after {timeout:g} s"
            if self.expected:
                message += f" (waiting for {' or '.join(self.expected)})"
            message += (
                "; it may still get there: wait again with a longer timeout, "
                "or check it in the Scaleway console"
            )
        super().__init__(message)
