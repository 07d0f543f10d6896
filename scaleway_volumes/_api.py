"""What every API object shares: configuration, the client, the pipeline, the lifecycle.

``AsyncVolumeAPI`` and ``AsyncBlockAPI`` are thin layers of operations over
this base; they differ only in their base URL and their resources.
"""

from __future__ import annotations

import copy
import inspect
import platform
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from types import TracebackType
from typing import Any, ClassVar, Literal, TypeVar

import attrs
import httpx

from ._config import Config, api_base_url, resolve_config
from ._constants import DEFAULT_DEADLINE, DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT
from ._create import new_marker
from ._deadline import run_within
from ._error_body import MORE_PAGES_DUE
from ._errors import APITimeoutError
from ._ids import zone_of
from ._pacing import AdaptiveRateLimiter, RateLimiter
from ._pipeline import Pipeline
from ._retry import RetryPolicy
from ._transport import ClientSender, OwnedClient, http_module_of
from ._validate import check_bool, check_deadline, timeout_dict
from ._version import __version__

__all__ = ["BaseAPI"]

Self = TypeVar("Self", bound="BaseAPI")
Other = TypeVar("Other", bound="BaseAPI")
T = TypeVar("T")

# What an API object is made of, apart from its URL and pipeline: what a
# sibling of another API kind shares with it (see `_sibling`).
_SHARED = (
    "_token",
    "_config",
    "organization",
    "project",
    "_user_agent",
    "_create_marker",
    "_client",
    "_owned",
)


class _Unset:
    """The type of ``_UNSET``: an argument not given (``None`` means something)."""


_UNSET = _Unset()


def _check_user_agent(user_agent: object) -> str:
    """``user_agent`` if it can go in a header: printable ASCII, no line break."""
    if not isinstance(user_agent, str):
        raise TypeError(f"user_agent must be a str, got {type(user_agent).__name__}")
    # Else every request fails later (a newline is a header injection both
    # transports refuse, each with its own error), or the constructor with a
    # UnicodeEncodeError that does not name the argument.
    if not all(" " <= char <= "~" for char in user_agent):
        raise ValueError(
            f"user_agent must be printable ASCII with no line breaks, got {user_agent!r}"
        )
    return user_agent


def _check_limiter(limiter: object) -> RateLimiter:
    """The API's limiter: the one given, or a fresh ``AdaptiveRateLimiter``.

    The protocol's runtime check sees only the two names; a limiter that has
    them but cannot be called as the pipeline calls it (a class, a semaphore's
    ``release()``, a plain ``def acquire``) would fail at its first request,
    after a create may have acted: refused here, naming what is wrong.
    """
    if limiter is None:
        return AdaptiveRateLimiter()
    protocol = "the RateLimiter protocol (async acquire(), release(permit, status))"
    if isinstance(limiter, type):
        raise TypeError(
            f"rate_limiter must be a limiter object implementing {protocol}, got the "
            f"class {limiter.__name__}: pass an instance, e.g. {limiter.__name__}()"
        )
    if not isinstance(limiter, RateLimiter):
        raise TypeError(f"rate_limiter must implement {protocol}, got {type(limiter).__name__}")
    name = type(limiter).__name__
    if not inspect.iscoroutinefunction(limiter.acquire):
        raise TypeError(
            f"rate_limiter must implement {protocol}: {name}.acquire must be a "
            "coroutine function (async def)"
        )
    try:
        inspect.signature(limiter.release).bind(None, None)
    except TypeError:
        raise TypeError(
            f"rate_limiter must implement {protocol}: {name}.release cannot be called "
            "with (permit, status)"
        ) from None
    except ValueError:  # no signature to read (a builtin): trust it
        pass
    return limiter


class BaseAPI:
    """Configuration, one pooled client and the request pipeline of an API object."""

    #: The API's path segment: ``instance`` or ``block``.
    _API: ClassVar[Literal["instance", "block"]]

    def __init__(
        self,
        token: str | None = None,
        *,
        zone: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        client: Any = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        user_agent: str | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
        rate_limiter: RateLimiter | None = None,
        profile: str | None = None,
        create_marker: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if environ is not None and not isinstance(environ, Mapping):
            raise TypeError(
                "environ must be a mapping of variable names to values, "
                f"got {type(environ).__name__}"
            )
        config = resolve_config(
            token=token,
            zone=zone,
            organization=organization,
            project=project,
            profile=profile,
            environ=environ,
        )
        self._token = config.require_secret_key()
        self._base_url = api_base_url(config, self._API, base_url)
        self._config = config
        self.organization = config.organization
        self.project = config.project
        if type(max_connections) is not int or max_connections < 1:
            raise ValueError(f"max_connections must be an int >= 1, got {max_connections!r}")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        agent = f"scaleway-volumes/{__version__} httpx/{httpx.__version__}"
        agent += f" python/{platform.python_version()}"
        if user_agent is not None:
            agent += f" {_check_user_agent(user_agent)}"
        self._user_agent = agent
        self._create_marker = check_bool("create_marker", create_marker)
        self._client = client
        self._owned = OwnedClient(max_connections) if client is None else None
        self._pipeline = Pipeline(
            sender=self._make_sender(self._base_url),
            retry=retry or RetryPolicy(),
            timeout=timeout_dict(timeout),
            deadline=check_deadline(deadline),
            limiter=_check_limiter(rate_limiter),
            base_path=httpx.URL(self._base_url).raw_path.decode("ascii"),
        )

    def _sibling(self, cls: type[Other], base_url: str) -> Other:
        """An API of kind ``cls`` at ``base_url`` with this one's everything else.

        Same token, configuration, defaults, options, rate limiter and pool (or
        shared client): ``AsyncVolumeAPI.block`` is built this way.
        """
        other = cls.__new__(cls)
        for name in _SHARED:
            setattr(other, name, getattr(self, name))
        other._base_url = base_url
        other._pipeline = attrs.evolve(
            self._pipeline,
            sender=other._make_sender(base_url),
            base_path=httpx.URL(base_url).raw_path.decode("ascii"),
        )
        return other

    async def _gather_pages(
        self, path: str, listing: Callable[[Pipeline], AsyncGenerator[list[T], None]]
    ) -> list[T]:
        """Every item of the pages ``listing(pipeline)`` yields, all fetched as one call.

        A ``list_*`` call is one call, so the deadline bounds all its pages
        together, retries included, as it bounds one request: the pages are
        fetched by a copy of the pipeline with no deadline of their own, under
        one ``run_within``. Running out is ``APITimeoutError`` saying how many
        pages and items had come. (``iter_*`` bound each page instead: the time
        between pages is the caller's.)
        """
        deadline = self._pipeline.deadline
        found: list[T] = []
        fetched = 0

        async def gather() -> list[T]:
            nonlocal fetched
            pipeline = self._pipeline
            if deadline is not None:
                pipeline = attrs.evolve(pipeline, deadline=None)
            pages = listing(pipeline)
            async with aclosing(pages):
                async for page in pages:
                    found.extend(page)
                    fetched += 1
            return found

        def expired() -> APITimeoutError:
            due = f"; {MORE_PAGES_DUE}" if fetched else ""
            return APITimeoutError(
                f"no answer within the {deadline:g} s deadline for the whole listing "
                f"({fetched} page(s), {len(found)} item(s) fetched{due})",
                outcome_unknown=False,
                method="GET",
                path=path,
            )

        return await run_within(deadline, gather, expired)

    def _new_marker(self) -> str | None:
        """A fresh marker tag for one create, or None when markers are turned off."""
        return new_marker() if self._create_marker else None

    def _make_sender(self, base_url: str) -> ClientSender:
        headers = [
            ("X-Auth-Token", self._token),
            ("User-Agent", self._user_agent),
            ("Accept", "application/json"),
            # Answers are small JSON: compressing them would cost more CPU than it saves.
            ("Accept-Encoding", "identity"),
        ]
        if self._owned is not None:
            return ClientSender(self._owned.get, httpx, base_url, headers, shared=False)
        client = self._client
        return ClientSender(lambda: client, http_module_of(client), base_url, headers)

    # -- configuration ---------------------------------------------------------

    @property
    def config(self) -> Config:
        """The resolved configuration, with where each value came from (secret masked)."""
        return self._config

    @property
    def base_url(self) -> str:
        """The URL every path is appended to."""
        return self._base_url

    @property
    def zone(self) -> str:
        """The zone the requests reach: the one ``base_url`` names, else the configured one.

        A ``base_url`` given explicitly overrides ``zone``:
        ``AsyncBlockAPI(base_url=".../block/v1/zones/nl-ams-1").zone`` is
        ``"nl-ams-1"`` whatever the configuration says (``config.zone``). One that
        names no zone (a proxy) leaves the configured zone.
        """
        return zone_of(self) or self._config.zone

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._pipeline.retry

    @property
    def deadline(self) -> float | None:
        """Seconds one whole call may take, retries included (None: no bound)."""
        return self._pipeline.deadline

    @property
    def rate_limiter(self) -> RateLimiter:
        """The limiter pacing every request of this API (shared by copies and ``.block``)."""
        limiter = self._pipeline.limiter
        assert limiter is not None
        return limiter

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self._base_url!r} token=***>"

    def with_options(
        self: Self,
        *,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | _Unset | None = _UNSET,
        create_marker: bool | None = None,
    ) -> Self:
        """A copy with other timeouts, retries or deadline, sharing this one's pool and limiter.

        ```python
        volume = await api.with_options(deadline=5.0).get_volume(volume_id)
        ```
        """
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = timeout_dict(timeout)
        if retry is not None:
            if not isinstance(retry, RetryPolicy):
                raise TypeError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
            changes["retry"] = retry
        if not isinstance(deadline, _Unset):
            changes["deadline"] = check_deadline(deadline)
        other = copy.copy(self)
        other._pipeline = attrs.evolve(self._pipeline, **changes)
        if create_marker is not None:
            other._create_marker = check_bool("create_marker", create_marker)
        return other

    # -- lifecycle -------------------------------------------------------------

    async def __aenter__(self: Self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the owned connection pool of the running event loop (never a shared
        client), and the pools of loops that have ended. Idempotent.

        The API stays usable: a later call opens a new pool. The pool of
        another loop still running (a thread of its own) is closed by
        ``aclose()`` in that loop, or at exit once that loop has ended.
        """
        if self._owned is not None:
            await self._owned.aclose()
