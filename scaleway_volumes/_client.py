"""``AsyncVolumeAPI``: configuration, the pooled client, retries, the operations."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import platform
import re
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast
from urllib.parse import quote, urlencode

import anyio
import httpcore
import httpx
import sniffio

from ._constants import (
    DEFAULT_API_URL,
    DEFAULT_CONCURRENCY,
    DEFAULT_DEADLINE,
    DEFAULT_KEEPALIVE_EXPIRY,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PER_PAGE,
    DEFAULT_TIMEOUT,
    DEFAULT_ZONE,
    ENV_API_URL,
    ENV_ORGANIZATION,
    ENV_PROJECT,
    ENV_SECRET_KEY,
    ENV_ZONE,
    LEGACY_ZONE_URLS,
    MARKER_TAG_PREFIX,
    MAX_PER_PAGE,
)
from ._convert import decode_page, decode_volume, find_marked
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    NotFoundError,
    ResponseDecodeError,
    ScalewayError,
    make_status_error,
)
from ._models import Volume, VolumeSpec
from ._retry import RetryPolicy, parse_retry_after
from ._transport import AiohttpTransport, CancelSafeHTTPTransport
from ._version import __version__

if TYPE_CHECKING:
    from ._bulk import BulkResult, ItemCallback, ProgressCallback, Settle

__all__ = ["AsyncVolumeAPI"]

_Page = TypeVar("_Page")

log = logging.getLogger("scaleway_volumes")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ZONE = re.compile(r"[a-z]{2}-[a-z]{3}-[0-9]{1,2}")
# Printable ASCII without spaces: anything else in a header is a mistake or an injection.
_TOKEN = re.compile(r"[\x21-\x7e]+")

# Failures that prove the request never left this machine: safe to resend for any method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Statuses retried for every method: the API did not act.
_RETRY_ANY = frozenset({429, 503})
# Statuses retried only where resending cannot duplicate anything.
_RETRY_IDEMPOTENT = frozenset({500, 502, 504})
# Bare 429s one item of a bulk call may meet before its retries start counting them.
_MAX_GATED_429 = 50


class RequestGate(Protocol):
    """What a bulk call puts around each request of its items (see ``_bulk``)."""

    async def acquire(self) -> float: ...

    def release(self, started: float, status: int | None) -> None: ...


# Set by a bulk call for the requests its items make, retries and checks included.
current_gate: ContextVar[RequestGate | None] = ContextVar("scaleway_volumes_gate", default=None)


class _Response(Protocol):
    """What the library reads of an answer: an ``httpx.Response`` or a transport ``Reply``."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def reason_phrase(self) -> str: ...


class _Ambiguous(Exception):
    """A create failed in a way that may have created the volume anyway."""

    def __init__(self, error: ScalewayError, *, may_land_later: bool) -> None:
        self.error = error
        # A timeout (read timeout, 504) means the API may still be working on it.
        self.may_land_later = may_land_later
        super().__init__(str(error))


class _Attempts:
    """Retry bookkeeping for one call."""

    __slots__ = ("ambiguous", "count", "policy", "throttled")

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.count = 0
        self.throttled = 0  # bare 429s absorbed by a bulk call's gate
        self.ambiguous = False  # an earlier attempt may have been acted on

    def can_retry(self) -> bool:
        return self.count <= self.policy.max_retries

    async def wait(self, method: str, path: str, why: str, retry_after: float | None) -> None:
        delay = retry_after if retry_after is not None else self.policy.backoff(self.count)
        log.info(
            "retrying %s %s in %.2f s after %s (attempt %d of %d)",
            method,
            path,
            delay,
            why,
            self.count + 1,
            self.policy.max_retries + 1,
        )
        await _sleep(delay)


# Compact JSON bodies; bound once rather than set up by json.dumps per call.
_json_encode = json.JSONEncoder(separators=(",", ":")).encode

# Module-level so tests can skip the waits while checking how long they would be.
_sleep = anyio.sleep


def _check_volume_id(volume_id: str | Volume) -> str:
    if isinstance(volume_id, Volume):
        volume_id = volume_id.id
    if not isinstance(volume_id, str) or not _UUID.fullmatch(volume_id):
        raise ValueError(f"volume_id must be a UUID string or a Volume, got {volume_id!r}")
    return volume_id


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return name


def _check_size(size: object) -> int:
    if type(size) is not int:
        raise TypeError(f"size must be an int number of bytes, got {type(size).__name__}")
    if size <= 0:
        raise ValueError(f"size must be a positive number of bytes, got {size}")
    return size


def _check_tags(tags: Iterable[str] | None) -> list[str] | None:
    if tags is None:
        return None
    if isinstance(tags, (str, bytes)):
        raise TypeError("tags must be an iterable of strings, not a single string")
    checked = list(tags)
    for tag in checked:
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"every tag must be a non-empty string, got {tag!r}")
    return checked


def _check_optional_str(label: str, value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{label} must be a non-empty string, got {value!r}")
    return value


def _resolve_base_url(zone: str | None, base_url: str | None) -> tuple[str, str]:
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
            base_url = f"{root.rstrip('/')}/instance/v1/zones/{zone}"
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as err:
        raise ValueError(f"invalid base_url {base_url!r}: {err}") from err
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if url.query or url.fragment:
        raise ValueError(f"base_url must not have a query or fragment, got {base_url!r}")
    return str(url).rstrip("/"), zone


def _timeout_extension(timeout: float | httpx.Timeout) -> dict[str, float | None]:
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        timeout = httpx.Timeout(float(timeout))
    if not isinstance(timeout, httpx.Timeout):
        raise TypeError(f"timeout must be seconds or an httpx.Timeout, got {timeout!r}")
    return timeout.as_dict()


class _Unset:
    """The type of ``_UNSET``: an argument not given (``None`` means something)."""


_UNSET = _Unset()


def _check_deadline(deadline: float | None) -> float | None:
    if deadline is not None and (isinstance(deadline, bool) or not deadline > 0):
        raise ValueError(f"deadline must be > 0 seconds or None, got {deadline!r}")
    return deadline


def _loop_token() -> object:
    """An object that identifies the running event loop."""
    try:
        return asyncio.get_running_loop()  # a C call: cheap enough for every request
    except RuntimeError:
        import trio

        return trio.lowlevel.current_trio_token()


def _httpx_is_mocked() -> bool:
    """Whether a test library has patched httpx or httpcore to answer for the network.

    respx patches ``AsyncConnectionPool.handle_async_request`` (or, with
    ``using="httpx"``, ``AsyncClient._transport_for_url``); pytest-httpx
    patches ``AsyncHTTPTransport.handle_async_request``. A patched method comes
    from another module.
    """
    return (
        httpcore.AsyncConnectionPool.handle_async_request.__module__ != _HTTPCORE_POOL
        or httpx.AsyncClient._transport_for_url.__module__ != _HTTPX_CLIENT
        or httpx.AsyncHTTPTransport.handle_async_request.__module__ != _HTTPX_TRANSPORT
    )


def _home_module(method: Any, package: str, default: str) -> str:
    # Where the real method lives; the default if a mock was already active on import.
    module = str(getattr(method, "__module__", ""))
    return module if module.startswith(package) else default


_HTTPCORE_POOL = _home_module(
    httpcore.AsyncConnectionPool.handle_async_request,
    "httpcore",
    "httpcore._async.connection_pool",
)
_HTTPX_CLIENT = _home_module(httpx.AsyncClient._transport_for_url, "httpx", "httpx._client")
_HTTPX_TRANSPORT = _home_module(
    httpx.AsyncHTTPTransport.handle_async_request, "httpx", "httpx._transports.default"
)


def _deadline(seconds: float) -> AbstractAsyncContextManager[object]:
    """A scope that raises ``TimeoutError`` after ``seconds``.

    On asyncio (3.11+) ``asyncio.timeout`` costs a third of an anyio cancel
    scope, and this runs once per call; trio (and 3.10) get anyio's.
    """
    if _asyncio_timeout is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return _asyncio_timeout(seconds)
    return _AsyncScope(anyio.fail_after(seconds))


class _AsyncScope:
    """anyio's (synchronous) cancel scope, entered with ``async with``."""

    __slots__ = ("_scope",)

    def __init__(self, scope: AbstractContextManager[object]) -> None:
        self._scope = scope

    async def __aenter__(self) -> object:
        return self._scope.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return self._scope.__exit__(exc_type, exc, tb)


# Python 3.11+; typed by hand because the type check targets 3.10.
_asyncio_timeout = cast(
    "Callable[[float], AbstractAsyncContextManager[object]] | None",
    getattr(asyncio, "timeout", None),
)


class _Pool:
    """The owned ``httpx.AsyncClient``, made lazily in the loop that first needs it.

    One ``AsyncVolumeAPI`` built at import time serves successive event loops (a
    worker running ``asyncio.run`` per job): a client is bound to the loop it was
    made in, so a new loop gets a new client and the old one is let go.
    """

    __slots__ = ("_transport", "client", "loop", "max_connections", "mocked")

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self.client: httpx.AsyncClient | None = None
        self._transport: httpx.AsyncBaseTransport | None = None
        self.loop: object | None = None
        self.mocked = False

    def transport(self) -> httpx.AsyncBaseTransport:
        """The owned client's transport, for the running loop.

        While a test mocks httpx (respx, pytest-httpx), the pool is httpx's own
        and requests go through ``client.send`` (see ``mocked``), so the mock
        sees them: the aiohttp pool would go around it to the real network.
        """
        loop = _loop_token()
        mocked = _httpx_is_mocked()
        if self.client is None or self.loop is not loop or self.mocked is not mocked:
            if self.client is not None:
                self._abandon(self.client)
            self.client, self._transport = self._make_client(stock=mocked)
            self.loop, self.mocked = loop, mocked
        assert self._transport is not None
        return self._transport

    def _make_client(
        self, *, stock: bool = False
    ) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]:
        # Keep as many idle connections as may be busy: with httpx's default of
        # 20, 50 requests in flight open a new connection for almost every
        # request (988 connections for 1000 creates, PERF-NOTES.md).
        limits = httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections,
            keepalive_expiry=DEFAULT_KEEPALIVE_EXPIRY,
        )
        transport: httpx.AsyncBaseTransport
        if sniffio.current_async_library() == "asyncio" and not stock:
            transport = AiohttpTransport(limits=limits)
        else:
            # aiohttp is asyncio-only; under trio httpx's own pool is what there is.
            transport = CancelSafeHTTPTransport(limits=limits)
        client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
        # anyio loads its backend on first use (about 30 ms of imports): pay it
        # with the pool, not inside the first bulk call or deadline.
        anyio.Event()
        return client, transport

    @staticmethod
    def _abandon(client: httpx.AsyncClient) -> None:
        transport = client._transport
        if isinstance(transport, AiohttpTransport):
            transport.abandon()

    async def aclose(self) -> None:
        client, loop = self.client, self.loop
        self.client = self.loop = self._transport = None
        if client is None:
            return
        if loop is _loop_token():
            await client.aclose()
        else:
            self._abandon(client)


class AsyncVolumeAPI:
    """Async client for the Scaleway Volumes API over one pooled ``httpx.AsyncClient``.

    Every method is a coroutine that never blocks the event loop; all share one
    connection pool, so hundreds of concurrent calls reuse a bounded set of
    connections. Works under asyncio and trio, from one event loop at a time
    (successive loops are fine: each gets its own pool).

    ```python
    async with AsyncVolumeAPI() as api:          # token from SCW_SECRET_KEY
        volume = await api.create_volume(name="data", size=20 * 10**9)
        async for v in api.iter_volumes(name="data"):
            print(v.id, v.size)
        await api.delete_volume(volume)
    ```

    Args:
        token: the secret key; default ``$SCW_SECRET_KEY``. ``ValueError`` if neither.
        zone: default ``$SCW_DEFAULT_ZONE``, else ``fr-par-1``. The legacy zones
            ``par1``/``ams1`` talk to the seed API at ``cp-<zone>.scaleway.com``.
        base_url: overrides ``zone``; paths are appended to it, prefix kept.
        organization, project: defaults for create (``$SCW_DEFAULT_ORGANIZATION_ID``,
            ``$SCW_DEFAULT_PROJECT_ID``).
        client: an ``httpx.AsyncClient`` to share; it is used, never closed, and
            its redirect, auth and default-header settings are not applied to
            our requests (the token must not follow a redirect elsewhere).
        max_connections: bound of the owned pool (ignored with ``client``).
        timeout: seconds, or an ``httpx.Timeout`` (default connect 5 s, read 30 s).
        retry: a ``RetryPolicy`` (default: 3 retries).
        user_agent: appended to ``scaleway-volumes/<version>`` in ``User-Agent``.
        deadline: seconds one whole call may take, retries included (default
            120; ``None`` for no limit). Expiry raises ``APITimeoutError``.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        zone: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        client: httpx.AsyncClient | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        user_agent: str | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
    ) -> None:
        token = token if token is not None else os.environ.get(ENV_SECRET_KEY)
        if not token:
            raise ValueError(
                f"no secret key: pass token=... or set the {ENV_SECRET_KEY} environment variable"
            )
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise ValueError("token must be printable ASCII without spaces")
        self._base_url, self.zone = _resolve_base_url(zone, base_url)
        self.organization = _check_optional_str(
            "organization", organization or os.environ.get(ENV_ORGANIZATION) or None
        )
        self.project = _check_optional_str(
            "project", project or os.environ.get(ENV_PROJECT) or None
        )
        if client is not None and not isinstance(client, httpx.AsyncClient):
            raise TypeError(f"client must be an httpx.AsyncClient, got {type(client).__name__}")
        if type(max_connections) is not int or max_connections < 1:
            raise ValueError(f"max_connections must be an int >= 1, got {max_connections!r}")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        self._shared = client
        self._pool = _Pool(max_connections)
        self._timeout = _timeout_extension(timeout)
        self._retry = retry or RetryPolicy()
        self._deadline = _check_deadline(deadline)
        agent = f"scaleway-volumes/{__version__} httpx/{httpx.__version__}"
        agent += f" python/{platform.python_version()}"
        if user_agent:
            agent += f" {user_agent}"
        # Built once: httpx copies a Headers object cheaply, a list it re-normalises.
        plain = [("X-Auth-Token", token), ("User-Agent", agent), ("Accept", "application/json")]
        self._headers = httpx.Headers(plain)
        self._json_headers = httpx.Headers([*plain, ("Content-Type", "application/json")])
        self._header_items = tuple(plain)
        self._json_header_items = (*plain, ("Content-Type", "application/json"))
        parsed_base = httpx.URL(self._base_url)
        self._base_ref = getattr(parsed_base, "_uri_reference", None)
        self._base_path = parsed_base.raw_path.decode("ascii")

    # -- configuration ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL every path is appended to."""
        return self._base_url

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._retry

    def __repr__(self) -> str:
        return f"<AsyncVolumeAPI base_url={self._base_url!r} token=***>"

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | _Unset | None = _UNSET,
    ) -> AsyncVolumeAPI:
        """A copy with other timeouts, retries or deadline, sharing this one's pool.

        ```python
        volume = await api.with_options(deadline=5.0).get_volume(volume_id)
        ```
        """
        other = copy.copy(self)
        if timeout is not None:
            other._timeout = _timeout_extension(timeout)
        if retry is not None:
            if not isinstance(retry, RetryPolicy):
                raise TypeError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
            other._retry = retry
        if not isinstance(deadline, _Unset):
            other._deadline = _check_deadline(deadline)
        return other

    # -- lifecycle -------------------------------------------------------------

    async def __aenter__(self) -> AsyncVolumeAPI:
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
        await self._pool.aclose()

    # -- the HTTP layer --------------------------------------------------------

    def _url(self, path: str, query: str | None) -> httpx.URL:
        """The request URL, built without re-parsing the validated base URL.

        httpx checks a URL string character by character (about a third of the
        client's CPU per request in a profile); our paths are made of validated
        ids and our query is percent-encoded here, so the base URL's parsed
        form is reused with a new path and query.
        """
        base = self._base_ref
        if base is None:  # pragma: no cover - only with an httpx whose internals differ
            return httpx.URL(self._base_url + path + (f"?{query}" if query else ""))
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = base._replace(path=base.path + path, query=query)
        return url

    async def _send_once(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]] | None,
        body: bytes | None,
        attempt: int,
    ) -> _Response:
        shared = self._shared
        transport = self._pool.transport() if shared is None else None
        if transport is not None and self._pool.mocked:
            shared, transport = self._pool.client, None  # through httpx's front door
        query = urlencode(params, quote_via=quote) if params else None
        gate = current_gate.get()
        started = await gate.acquire() if gate is not None else 0.0
        status: int | None = None
        response: _Response
        try:
            begin = time.perf_counter()
            if isinstance(transport, AiohttpTransport):
                # Our own pool on asyncio: straight to aiohttp, no httpx objects.
                url = self._base_url + path + (f"?{query}" if query else "")
                headers = self._json_header_items if body is not None else self._header_items
                response = await transport.fetch(
                    method, url, headers, body, transport.client_timeout(self._timeout)
                )
            else:
                request = httpx.Request(
                    method,
                    self._url(path, query),
                    headers=self._json_headers if body is not None else self._headers,
                    content=body,
                    extensions={"timeout": self._timeout},
                )
                if transport is not None:
                    # Our own client has no auth, hooks, cookies or redirects to
                    # apply: going straight to its pool skips that machinery.
                    response = await transport.handle_async_request(request)
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                else:
                    assert shared is not None
                    response = await shared.send(request, auth=None, follow_redirects=False)
            status = response.status_code
        finally:
            if gate is not None:
                gate.release(started, status)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d (attempt %d, %.1f ms)",
                method,
                self._base_path + path,
                status,
                attempt,
                (time.perf_counter() - begin) * 1000,
            )
        return response

    async def _request(
        self,
        method: str,
        path: str,
        attempts: _Attempts,
        *,
        params: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
    ) -> _Response:
        """Send with retries as CONTRACT.md says; return a 2xx response or raise.

        A POST that fails in a way that may have acted raises ``_Ambiguous``
        instead of being resent: the caller must find out first.
        """
        while True:
            attempts.count += 1
            try:
                response = await self._send_once(method, path, params, body, attempts.count)
            except httpx.TransportError as exc:
                error = _connection_error(exc, method, path)
                if not isinstance(exc, _NOT_SENT):
                    if method == "POST":
                        raise _Ambiguous(
                            error, may_land_later=isinstance(exc, httpx.TimeoutException)
                        ) from exc
                    attempts.ambiguous = True
                if attempts.can_retry():
                    await attempts.wait(method, path, type(exc).__name__, None)
                    continue
                raise error from exc
            status = response.status_code
            if 200 <= status < 300:
                return response
            retry_after: float | None = None
            if status in _RETRY_ANY:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                too_long = retry_after is not None and retry_after > self._retry.max_retry_after
                if (
                    status == 429
                    and retry_after is None
                    and attempts.throttled < _MAX_GATED_429
                    and current_gate.get() is not None
                ):
                    # In a bulk call the gate has just slowed down and paces the
                    # resend: a bare 429 there is flow control, not a failure.
                    attempts.count -= 1
                    attempts.throttled += 1
                    continue
                if not too_long and attempts.can_retry():
                    await attempts.wait(method, path, str(status), retry_after)
                    continue
            elif status in _RETRY_IDEMPOTENT:
                if method == "POST":
                    raise _Ambiguous(
                        self._status_error(response, method, path, None),
                        may_land_later=status == 504,
                    )
                attempts.ambiguous = True
                if attempts.can_retry():
                    await attempts.wait(method, path, str(status), None)
                    continue
            raise self._status_error(response, method, path, retry_after)

    @staticmethod
    def _status_error(
        response: _Response, method: str, path: str, retry_after: float | None
    ) -> APIError:
        return make_status_error(
            response.status_code,
            response.content,
            reason=response.reason_phrase,
            method=method,
            path=path,
            retry_after=retry_after,
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        attempts: _Attempts | None = None,
    ) -> _Response:
        """``_request`` bounded by the call deadline."""
        attempts = attempts or _Attempts(self._retry)
        if self._deadline is None:
            return await self._request(method, path, attempts, params=params, body=body)
        try:
            async with _deadline(self._deadline):
                return await self._request(method, path, attempts, params=params, body=body)
        except TimeoutError as exc:
            raise APITimeoutError(
                f"no answer within the {self._deadline:g} s deadline ({attempts.count} attempt(s))",
                outcome_unknown=method != "GET",
                method=method,
                path=path,
            ) from exc

    # -- single-volume operations ----------------------------------------------

    async def get_volume(self, volume_id: str | Volume) -> Volume:
        """Fetch one volume by id (or refresh a ``Volume``).

        Raises ``NotFoundError`` if it does not exist.
        """
        path = f"/volumes/{_check_volume_id(volume_id)}"
        response = await self._call("GET", path)
        return decode_volume(response.content, response.status_code)

    async def create_volume(
        self,
        *,
        name: str,
        size: int,
        volume_type: str = "l_ssd",
        organization: str | None = None,
        project: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> Volume:
        """Create a volume of ``size`` bytes and return it as the API made it.

        Never creates two volumes for one call. The API has no idempotency key,
        so every create carries one extra tag, ``scaleway-volumes:create=<random>``.
        If an attempt fails in a way that may have created the volume (a dropped
        connection, a 500/502, a read timeout), the library looks the tag up
        before anything else: it returns the volume if it exists and resends only
        if it does not. A volume that merely shares the name is never taken for
        ours. When the outcome cannot be known (a timeout: the create may still
        land later), it raises ``APITimeoutError`` with ``outcome_unknown=True``
        and ``marker_tag`` instead of resending.

        ```python
        volume = await api.create_volume(name="pg-data", size=50 * 10**9, tags=["db"])
        ```
        """
        return await self._create_volume(
            name=name,
            size=size,
            volume_type=volume_type,
            organization=organization,
            project=project,
            tags=tags,
            marker=_new_marker(),
        )

    async def _create_volume(
        self,
        *,
        name: str,
        size: int,
        volume_type: str,
        organization: str | None,
        project: str | None,
        tags: Iterable[str] | None,
        marker: str,
    ) -> Volume:
        body = self._create_body(
            name=name,
            size=size,
            volume_type=volume_type,
            organization=organization,
            project=project,
            tags=tags,
            marker=marker,
        )
        path = "/volumes"
        attempts = _Attempts(self._retry)
        if self._deadline is None:
            return await self._create(path, body, marker, name, attempts)
        try:
            async with _deadline(self._deadline):
                return await self._create(path, body, marker, name, attempts)
        except TimeoutError as exc:
            raise APITimeoutError(
                f"create of {name!r} did not finish within the {self._deadline:g} s deadline; "
                f"the volume may exist: it carries the tag {marker!r}",
                outcome_unknown=True,
                marker_tag=marker,
                method="POST",
                path=path,
            ) from exc

    def _create_body(
        self,
        *,
        name: str,
        size: int,
        volume_type: str,
        organization: str | None,
        project: str | None,
        tags: Iterable[str] | None,
        marker: str,
    ) -> bytes:
        payload: dict[str, Any] = {"name": _check_name(name)}
        organization = _check_optional_str("organization", organization)
        project = _check_optional_str("project", project)
        # The API takes one of project or organization: an explicit one wins,
        # then the default project, then the default organization (as the
        # official SDK resolves it).
        if project is not None or organization is not None:
            if organization is not None:
                payload["organization"] = organization
            if project is not None:
                payload["project"] = project
        elif self.project is not None:
            payload["project"] = self.project
        elif self.organization is not None:
            payload["organization"] = self.organization
        payload["size"] = _check_size(size)
        payload["volume_type"] = _check_optional_str("volume_type", volume_type)
        payload["tags"] = [*(_check_tags(tags) or ()), marker]
        return _json_encode(payload).encode()

    async def _create(
        self, path: str, body: bytes, marker: str, name: str, attempts: _Attempts
    ) -> Volume:
        while True:
            try:
                response = await self._request("POST", path, attempts, body=body)
            except _Ambiguous as ambiguous:
                error = ambiguous.error
                try:
                    found = await self._find_marked(name, marker)
                except ScalewayError as lookup_error:
                    raise APIConnectionError(
                        f"create of {name!r} failed ambiguously ({error}) and checking whether "
                        f"the volume exists failed too ({lookup_error}); it may exist: it "
                        f"carries the tag {marker!r}",
                        outcome_unknown=True,
                        marker_tag=marker,
                        method="POST",
                        path=path,
                    ) from lookup_error
                if found is not None:
                    log.info("create of %r had succeeded despite %s", name, error)
                    return found
                if ambiguous.may_land_later:
                    raise _unknown_outcome(error, name, marker, path) from error
                if not attempts.can_retry():
                    raise error from ambiguous.__cause__
                await attempts.wait("POST", path, f"{error} (volume not created)", None)
                continue
            try:
                return decode_volume(response.content, response.status_code)
            except ResponseDecodeError:
                # The API said it made the volume but the body is unreadable:
                # the volume exists, so find it rather than report a failure
                # that a caller would "fix" by creating it again.
                try:
                    found = await self._find_marked(name, marker)
                except ScalewayError:
                    found = None
                if found is None:
                    raise
                return found

    async def _find_marked(self, name: str, marker: str) -> Volume | None:
        """The volume carrying ``marker``, if the create that set it landed."""
        pages = self._pages(
            name,
            None,
            None,
            None,
            [marker],
            DEFAULT_PER_PAGE,
            lambda content, status: find_marked(content, status, marker, name),
        )
        async with contextlib.aclosing(pages):
            async for found in pages:
                if found is not None:
                    return found
        return None

    async def update_volume(
        self,
        volume_id: str | Volume,
        *,
        name: str | None = None,
        size: int | None = None,
        tags: Iterable[str] | None = None,
    ) -> Volume:
        """Rename, grow or retag a volume (``PATCH``); only the given fields change.

        ``tags`` replaces the whole list. Whether a size is allowed (volumes only
        grow) is the API's to judge: a refusal is an ``InvalidRequestError``.

        ```python
        volume = await api.update_volume(volume, size=volume.size * 2)
        ```
        """
        path = f"/volumes/{_check_volume_id(volume_id)}"
        payload: dict[str, Any] = {}
        if name is not None:
            payload["name"] = _check_name(name)
        if size is not None:
            payload["size"] = _check_size(size)
        if tags is not None:
            payload["tags"] = _check_tags(tags)
        if not payload:
            raise ValueError("update_volume needs at least one of name, size or tags")
        body = _json_encode(payload).encode()
        response = await self._call("PATCH", path, body=body)
        return decode_volume(response.content, response.status_code)

    async def delete_volume(self, volume_id: str | Volume, *, missing_ok: bool = False) -> None:
        """Delete a volume.

        ``NotFoundError`` if it does not exist, unless ``missing_ok``. A retry
        that meets 404 after an attempt that may have gone through counts as
        success: that attempt deleted it.
        """
        path = f"/volumes/{_check_volume_id(volume_id)}"
        attempts = _Attempts(self._retry)
        try:
            await self._call("DELETE", path, attempts=attempts)
        except NotFoundError:
            if missing_ok or attempts.ambiguous:
                return
            raise

    # -- listing ---------------------------------------------------------------

    async def list_volumes(
        self,
        *,
        name: str | None = None,
        volume_type: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        tags: Iterable[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> list[Volume]:
        """Every volume matching the filters, all pages fetched.

        ``name`` matches as a substring; ``tags`` requires every tag given.
        Pages are followed as the API says (``Link``/``X-Total-Count``), with no
        extra request for an empty last page.
        """
        volumes: list[Volume] = []
        async for page in self._pages(
            name, volume_type, organization, project, tags, per_page, decode_page
        ):
            volumes.extend(page)
        return volumes

    async def iter_volumes(
        self,
        *,
        name: str | None = None,
        volume_type: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        tags: Iterable[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncIterator[Volume]:
        """Like ``list_volumes``, but yields volumes as pages arrive, one page in memory.

        ```python
        async for volume in api.iter_volumes(volume_type="b_ssd"):
            if volume.server is None:
                print("unattached:", volume.name)
        ```
        """
        async for page in self._pages(
            name, volume_type, organization, project, tags, per_page, decode_page
        ):
            for volume in page:
                yield volume

    async def _pages(
        self,
        name: str | None,
        volume_type: str | None,
        organization: str | None,
        project: str | None,
        tags: Iterable[str] | None,
        per_page: int,
        decode: Callable[[bytes, int], tuple[int, _Page]],
    ) -> AsyncGenerator[_Page, None]:
        """Each page's decoded content, following pagination as the API says.

        ``decode(content, status)`` returns (items on the page, what to yield).
        """
        if type(per_page) is not int or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be an int from 1 to {MAX_PER_PAGE}, got {per_page!r}")
        filters: list[tuple[str, str]] = []
        for key, value in (
            ("name", name),
            ("volume_type", volume_type),
            ("organization", organization),
            ("project", project),
        ):
            if _check_optional_str(key, value) is not None:
                filters.append((key, value))  # type: ignore[arg-type]
        tag_list = _check_tags(tags)
        if tag_list:
            if any("," in tag for tag in tag_list):
                raise ValueError("a tag filter cannot contain ',' (the API's separator)")
            filters.append(("tags", ",".join(tag_list)))
        page, seen = 1, 0
        while True:
            params = [*filters, ("page", str(page)), ("per_page", str(per_page))]
            response = await self._call("GET", "/volumes", params=params)
            count, found = decode(response.content, response.status_code)
            seen += count
            yield found
            if not count or not _has_next_page(response, seen, count, per_page):
                return
            page += 1

    # -- bulk ------------------------------------------------------------------

    async def create_volumes(
        self,
        specs: Iterable[VolumeSpec],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None,
    ) -> BulkResult[VolumeSpec, Volume]:
        """Create many volumes, ``concurrency`` requests at a time at most.

        ``specs`` may be a lazy iterable; memory stays proportional to
        ``concurrency`` plus the results. Every spec runs even when others fail;
        the ``BulkResult`` keeps input order. On 429s the call slows itself down
        (AIMD) instead of burning retries. ``on_progress(done, total)`` follows
        each item (``total`` is ``None`` for inputs without a length).

        ```python
        specs = [VolumeSpec(name=f"scratch-{i}", size=10**10) for i in range(200)]
        result = await api.create_volumes(specs, concurrency=32)
        result.raise_for_errors()
        ```
        """
        from ._bulk import run_bulk

        def prepare(spec: VolumeSpec) -> tuple[Awaitable[Volume], Settle]:
            if not isinstance(spec, VolumeSpec):
                raise TypeError(f"create_volumes takes VolumeSpec items, got {type(spec).__name__}")
            marker = _new_marker()
            job = self._create_volume(
                name=spec.name,
                size=spec.size,
                volume_type=spec.volume_type,
                organization=spec.organization,
                project=spec.project,
                tags=spec.tags,
                marker=marker,
            )

            async def settle() -> Volume | ScalewayError:
                # Cancelled in flight: the create may have landed. Say so, and
                # return the volume if it is already visible.
                error = APIConnectionError(
                    f"cancelled while creating {spec.name!r}; the volume may exist: "
                    f"it carries the tag {marker!r}",
                    outcome_unknown=True,
                    marker_tag=marker,
                )
                try:
                    found = await self._find_marked(spec.name, marker)
                except ScalewayError:
                    return error
                return found if found is not None else error

            return job, settle

        return await run_bulk(
            prepare, specs, concurrency=concurrency, on_progress=on_progress, on_item=on_item
        )

    async def delete_volumes(
        self,
        volumes: Iterable[str | Volume],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        missing_ok: bool = True,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None,
    ) -> BulkResult[str | Volume, str]:
        """Delete many volumes (ids or ``Volume``s), ``concurrency`` at a time at most.

        ``.succeeded`` lists the deleted ids in input order; a volume already
        gone counts as deleted unless ``missing_ok=False``.

        ```python
        doomed = await api.list_volumes(name="scratch-")
        result = await api.delete_volumes(doomed, concurrency=32)
        ```
        """
        from ._bulk import run_bulk

        def prepare(volume: str | Volume) -> tuple[Awaitable[str], Settle]:
            volume_id = _check_volume_id(volume)

            async def delete() -> str:
                await self.delete_volume(volume_id, missing_ok=missing_ok)
                return volume_id

            async def settle() -> str | ScalewayError:
                # Cancelled in flight: gone if the API no longer has it; if it still
                # has it, the DELETE may yet land, so say neither "kept" nor "gone".
                try:
                    await self.get_volume(volume_id)
                except NotFoundError:
                    return volume_id
                except ScalewayError:
                    pass
                return APIConnectionError(
                    f"cancelled while deleting {volume_id}; it still existed when checked, "
                    "but the DELETE may still take effect",
                    outcome_unknown=True,
                )

            return delete(), settle

        return await run_bulk(
            prepare, volumes, concurrency=concurrency, on_progress=on_progress, on_item=on_item
        )


_LINK_TARGET = re.compile(r"<[^>]*>")
_LINK_REL = re.compile(r'\brel\s*=\s*"?([^";,]*)"?', re.IGNORECASE)


def _links_next(link: str) -> bool:
    """Whether a ``Link`` header has a ``rel="next"`` entry (RFC 8288)."""
    params = _LINK_TARGET.sub("", link)  # a URL may itself contain "rel=next"
    return any("next" in match.group(1).lower().split() for match in _LINK_REL.finditer(params))


def _new_marker() -> str:
    return MARKER_TAG_PREFIX + os.urandom(16).hex()  # what uuid4 draws, without its object


def _has_next_page(response: _Response, seen: int, count: int, per_page: int) -> bool:
    """Whether the API says another page follows, without asking for an empty one."""
    link = response.headers.get("link")
    if link is not None:
        return _links_next(link)
    total = response.headers.get("x-total-count")
    if total is not None:
        try:
            return seen < int(total)
        except ValueError:
            pass
    return count >= per_page


def _connection_error(exc: httpx.TransportError, method: str, path: str) -> APIConnectionError:
    sent = not isinstance(exc, _NOT_SENT)
    what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    message = f"request {what}: {type(exc).__name__}"
    if str(exc):
        message += f": {exc}"
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(message, outcome_unknown=sent and method != "GET", method=method, path=path)


def _unknown_outcome(error: ScalewayError, name: str, marker: str, path: str) -> ScalewayError:
    """The error for a create that timed out and may still land: never resent."""
    text = (
        f"create of {name!r} timed out and is not visible yet; it may still be created: "
        f"look for the tag {marker!r} before creating it again ({error})"
    )
    if isinstance(error, APIError):
        error.message = text
        error.args = (error._render(),)
        error.outcome_unknown = True
        error.marker_tag = marker
        return error
    return APITimeoutError(text, outcome_unknown=True, marker_tag=marker, method="POST", path=path)
