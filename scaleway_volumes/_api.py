"""What every API object shares: configuration, the client, the pipeline, the lifecycle.

``AsyncVolumeAPI`` and ``AsyncBlockAPI`` are thin layers of operations over
this base; they differ only in their base URL and their resources.
"""

from __future__ import annotations

import copy
import os
import platform
import re
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import attrs
import httpx

from ._constants import (
    DEFAULT_API_URL,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT,
    DEFAULT_ZONE,
    ENV_API_URL,
    ENV_ORGANIZATION,
    ENV_PROJECT,
    ENV_SECRET_KEY,
    ENV_ZONE,
    LEGACY_ZONE_URLS,
)
from ._pipeline import Pipeline
from ._retry import RetryPolicy
from ._transport import ClientSender, OwnedClient, http_module_of
from ._validate import check_deadline, check_optional_str, timeout_dict
from ._version import __version__

__all__ = ["BaseAPI"]

Self = TypeVar("Self", bound="BaseAPI")

_ZONE = re.compile(r"[a-z]{2}-[a-z]{3}-[0-9]{1,2}")
# Printable ASCII without spaces: anything else in a header is a mistake or an injection.
_TOKEN = re.compile(r"[\x21-\x7e]+")


class _Unset:
    """The type of ``_UNSET``: an argument not given (``None`` means something)."""


_UNSET = _Unset()


def _resolve_base_url(zone: str | None, base_url: str | None, api: str) -> tuple[str, str]:
    """(base URL without trailing slash, zone) from the arguments and the environment."""
    zone = zone or os.environ.get(ENV_ZONE) or DEFAULT_ZONE
    if zone not in LEGACY_ZONE_URLS and not _ZONE.fullmatch(zone):
        raise ValueError(
            f"unknown zone {zone!r}: expected a zone such as 'fr-par-1', 'nl-ams-1', "
            f"'pl-waw-1', or a legacy zone {sorted(LEGACY_ZONE_URLS)}"
        )
    if base_url is None:
        if zone in LEGACY_ZONE_URLS:
            base_url = LEGACY_ZONE_URLS[zone]
        else:
            root = os.environ.get(ENV_API_URL) or DEFAULT_API_URL
            base_url = f"{root.rstrip('/')}/{api}/v1/zones/{zone}"
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as err:
        raise ValueError(f"invalid base_url {base_url!r}: {err}") from err
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if url.query or url.fragment:
        raise ValueError(f"base_url must not have a query or fragment, got {base_url!r}")
    return str(url).rstrip("/"), zone


class BaseAPI:
    """Configuration, one pooled client and the request pipeline of an API object."""

    #: The API's path segment: ``instance`` or ``block``.
    _API: ClassVar[str]

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
        rate_limiter: Any = None,
    ) -> None:
        token = token if token is not None else os.environ.get(ENV_SECRET_KEY)
        if not token:
            raise ValueError(
                f"no secret key: pass token=... or set the {ENV_SECRET_KEY} environment variable"
            )
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise ValueError("token must be printable ASCII without spaces")
        self._token = token
        self._base_url, self.zone = _resolve_base_url(zone, base_url, self._API)
        self.organization = check_optional_str(
            "organization", organization or os.environ.get(ENV_ORGANIZATION) or None
        )
        self.project = check_optional_str("project", project or os.environ.get(ENV_PROJECT) or None)
        if type(max_connections) is not int or max_connections < 1:
            raise ValueError(f"max_connections must be an int >= 1, got {max_connections!r}")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        agent = f"scaleway-volumes/{__version__} httpx/{httpx.__version__}"
        agent += f" python/{platform.python_version()}"
        if user_agent:
            agent += f" {user_agent}"
        self._user_agent = agent
        self._client = client
        self._owned = OwnedClient(max_connections) if client is None else None
        self._pipeline = Pipeline(
            sender=self._make_sender(self._base_url),
            retry=retry or RetryPolicy(),
            timeout=timeout_dict(timeout),
            deadline=check_deadline(deadline),
            limiter=rate_limiter,
            base_path=httpx.URL(self._base_url).raw_path.decode("ascii"),
        )

    def _make_sender(self, base_url: str) -> ClientSender:
        headers = [
            ("X-Auth-Token", self._token),
            ("User-Agent", self._user_agent),
            ("Accept", "application/json"),
        ]
        if self._owned is not None:
            return ClientSender(self._owned.get, httpx, base_url, headers)
        client = self._client
        return ClientSender(lambda: client, http_module_of(client), base_url, headers)

    # -- configuration ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL every path is appended to."""
        return self._base_url

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._pipeline.retry

    @property
    def deadline(self) -> float | None:
        """Seconds one whole call may take, retries included (None: no bound)."""
        return self._pipeline.deadline

    @property
    def rate_limiter(self) -> Any:
        """The limiter that paces every request of this API (shared by its copies)."""
        return self._pipeline.limiter

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self._base_url!r} token=***>"

    def with_options(
        self: Self,
        *,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | _Unset | None = _UNSET,
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
        """Close the owned connection pool (never a shared client). Idempotent.

        The API stays usable: a later call opens a new pool.
        """
        if self._owned is not None:
            await self._owned.aclose()
