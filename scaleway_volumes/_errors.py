"""The exceptions every public method raises, and nothing else.

```
ScalewayError                 .message .outcome_unknown .marker_tag
├── APIError                  .status_code .type .fields .details .help_message
│   │                         .request_id .headers .resource .resource_id .method .path .body
│   ├── InvalidRequestError       400
│   ├── AuthenticationError       401
│   ├── PermissionDeniedError     403
│   │   └── QuotaExceededError        403 quotas_exceeded    .quotas
│   ├── NotFoundError             404
│   │   └── GoneError                 410 expired            .expired_since
│   ├── ConflictError             409
│   │   ├── TransientStateError       409 transient_state    .current_state
│   │   └── PreconditionFailedError   412                    .precondition
│   ├── RateLimitError            429                        .retry_after
│   └── ServerError               5xx
│       └── ServiceUnavailableError   503 with Retry-After  (also a RateLimitError) .retry_after
├── APIConnectionError        network failure after retries  .method .path
│   └── APITimeoutError
├── ResponseDecodeError       a 2xx body that is not the expected JSON envelope  .path
├── BulkOperationError        from BulkResult.raise_for_errors()                 .result
├── ResourceStateError        a waited-for resource reached a failure state      .state .resource
└── WaitTimeoutError          (also a TimeoutError) a wait ran out of time       .last_state
```

A bare ``httpx``, ``json``, ``KeyError`` or cattrs exception never leaves a public
method: the original is kept as ``__cause__`` for debugging. ``error_from_response``
is the one place that turns an HTTP answer into the typed error; ``docs/errors.md``
lists the answer shapes it reads.

Every attribute is set when the error is built: ``outcome_unknown`` says the request
may have been acted on (a create may have made the volume), and ``marker_tag`` is then
the tag the library put on it, so ``list_volumes(tags=[err.marker_tag])`` finds it.
"""

from __future__ import annotations

from ._api_errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    Quota,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    TransientStateError,
    error_class_for,
    error_from_response,
)
from ._error_base import (
    APIConnectionError,
    APITimeoutError,
    BulkOperationError,
    BulkOutcome,
    ResourceStateError,
    ResponseDecodeError,
    ScalewayError,
    WaitTimeoutError,
    reframed,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BulkOperationError",
    "BulkOutcome",
    "ConflictError",
    "GoneError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "Quota",
    "QuotaExceededError",
    "RateLimitError",
    "ResourceStateError",
    "ResponseDecodeError",
    "ScalewayError",
    "ServerError",
    "ServiceUnavailableError",
    "TransientStateError",
    "WaitTimeoutError",
    "error_class_for",
    "error_from_response",
    "reframed",
]
