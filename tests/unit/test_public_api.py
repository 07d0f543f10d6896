"""The names of the public contract are importable from the package root."""

from __future__ import annotations

import re

import scaleway_volumes

CONTRACT_NAMES = [
    "AsyncVolumeAPI",
    "Volume",
    "VolumeServer",
    "VolumeSpec",
    "BulkResult",
    "RetryPolicy",
    "converter",
    "ScalewayError",
    "APIError",
    "InvalidRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
    "APIConnectionError",
    "APITimeoutError",
    "ResponseDecodeError",
    "BulkOperationError",
    "__version__",
    # The second round: Block Storage, waiters, richer errors, rate limiting.
    "AsyncBlockAPI",
    "BlockVolume",
    "BlockSnapshot",
    "BlockVolumeType",
    "BlockVolumeSpec",
    "VolumeReference",
    "ResourceStateError",
    "WaitTimeoutError",
    "QuotaExceededError",
    "Quota",
    "PreconditionFailedError",
    "TransientStateError",
    "GoneError",
    "RateLimiter",
    "AdaptiveRateLimiter",
]


def test_the_redis_limiter_lives_in_its_own_module() -> None:
    """scaleway_volumes.redis.RedisRateLimiter (extra [redis]) is importable."""
    from scaleway_volumes.redis import RedisRateLimiter

    assert callable(RedisRateLimiter)


def test_contract_names_exported() -> None:
    """Every contract name is in __all__ and importable."""
    for name in CONTRACT_NAMES:
        assert name in scaleway_volumes.__all__, name
        assert hasattr(scaleway_volumes, name), name


def test_all_is_exactly_what_is_public() -> None:
    """__all__ names only real attributes, each once, sorted."""
    names = scaleway_volumes.__all__
    assert len(names) == len(set(names))
    assert all(hasattr(scaleway_volumes, n) for n in names)


def test_error_tree() -> None:
    """The exception hierarchy is the one the public contract (docs/errors.md) draws."""
    sv = scaleway_volumes
    for cls in (
        sv.InvalidRequestError,
        sv.AuthenticationError,
        sv.PermissionDeniedError,
        sv.NotFoundError,
        sv.ConflictError,
        sv.RateLimitError,
        sv.ServerError,
    ):
        assert issubclass(cls, sv.APIError)
    for cls in (sv.APIError, sv.APIConnectionError, sv.ResponseDecodeError, sv.BulkOperationError):
        assert issubclass(cls, sv.ScalewayError)
    assert issubclass(sv.APITimeoutError, sv.APIConnectionError)


def test_version_and_typed_marker() -> None:
    """The package has a version and ships py.typed."""
    from importlib.resources import files

    # A release, or the next one's development version (PEP 440).
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+)?", scaleway_volumes.__version__)
    assert files("scaleway_volumes").joinpath("py.typed").is_file()
