"""The seam between the request pipeline and HTTP: a whole request in, a whole answer out.

The pipeline (retries, deadlines, pacing) knows nothing of httpx or aiohttp. It
calls ``Sender.send`` and gets either a ``Reply`` or a ``TransportFailure`` that
says truthfully whether the request may have reached the API (``sent``) and
whether it ran out of time (``timed_out``): the two facts every retry decision
needs. ``ClientSender`` is the one implementation: it sends through an
``httpx.AsyncClient`` (or an ``httpx2`` one) with ``client.send``, so a shared
client's event hooks, mounts and mocks see every request.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, Protocol

from .._cancel import sole_cancellation
from .._compat import fast_join
from ._cache import Memo

__all__ = ["ClientSender", "Reply", "Sender", "TransportFailure", "http_module_of"]

# Methods whose requests carry Content-Length even without a body, as httpx sends them.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Reply(Protocol):
    """What the pipeline reads of an answer (an ``httpx.Response`` is one)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def reason_phrase(self) -> str: ...


class TransportFailure(Exception):
    """No answer came back.

    ``sent`` is False only when the request provably never left this machine
    (connection refused, DNS failure, connect or pool timeout): then resending
    is safe for any method. ``timed_out`` marks a timeout, after which the API
    may still act on a request it received.
    """

    def __init__(self, message: str, *, sent: bool, timed_out: bool) -> None:
        super().__init__(message)
        self.sent = sent
        self.timed_out = timed_out


class Sender(Protocol):
    """Sends one request to the API and returns the whole answer."""

    async def send(
        self,
        method: str,
        path: str,
        query: str | None,
        body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> Reply:
        """``path`` is appended to the API's base URL; ``query`` is already encoded."""
        ...


def _no_auth(module: ModuleType) -> Any:
    """An ``Auth`` of ``module`` that adds nothing, in one step.

    ``auth=None`` makes the client look for credentials in the URL and then run
    the base ``Auth`` flow, two generators deep, for every request.
    """

    class NoAuth(module.Auth):  # type: ignore[name-defined,misc]
        async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
            yield request

    return NoAuth()


def http_module_of(client: object) -> ModuleType:
    """The httpx-compatible package a client comes from (``httpx`` or ``httpx2``)."""
    root = type(client).__module__.partition(".")[0]
    module = sys.modules.get(root)
    if module is None or not isinstance(client, getattr(module, "AsyncClient", ())):
        raise TypeError(
            f"client must be an httpx.AsyncClient or an httpx2.AsyncClient, "
            f"got {type(client).__name__}"
        )
    return module


class ClientSender:
    """Sends through an httpx-compatible ``AsyncClient``'s ``send``, and only there.

    ``get_client`` returns the client to use now (the owned client is made per
    event loop). Requests carry our headers only: a shared client's default
    headers, auth and cookies are not applied, and redirects are never
    followed, so the token never leaves the base URL's origin.
    """

    __slots__ = (
        "_base",
        "_byte_stream",
        "_empty",
        "_empty_post_headers",
        "_get_client",
        "_headers",
        "_headers_class",
        "_json_headers",
        "_json_headers_by_length",
        "_no_auth",
        "_not_sent",
        "_request",
        "_request_error",
        "_timeout_error",
        "_urls",
    )

    def __init__(
        self,
        get_client: Callable[[], Any],
        module: ModuleType,
        base_url: str,
        headers: Sequence[tuple[str, str]],
    ) -> None:
        self._get_client = get_client
        self._no_auth = _no_auth(module)
        self._request = module.Request
        self._headers_class = module.Headers
        self._byte_stream = module.ByteStream
        self._empty = module.ByteStream(b"")
        self._base = module.URL(base_url)
        # Requests are built from a stream with every header given, as httpx
        # itself builds the next request of a redirect: ``content=`` would make
        # httpx re-derive Host and Content-Length by scanning the headers several
        # times (a request object cost 22 µs that way, 5 µs this way). The
        # headers are the ones ``content=`` would give (Host first,
        # Content-Length for a body).
        fixed = [("Host", self._base.netloc.decode("ascii")), *headers]
        self._headers = module.Headers(fixed)
        host, *rest = self._headers.raw
        self._empty_post_headers = module.Headers([host, (b"Content-Length", b"0"), *rest])
        self._json_headers = module.Headers([*fixed, ("Content-Type", "application/json")]).raw
        # A request copies a given Headers object cheaply but normalises a list
        # item by item; bodies of one kind have a few lengths, URLs a few paths.
        self._json_headers_by_length: Memo[int, Any] = Memo()
        self._urls: Memo[tuple[str, str | None], Any] = Memo()
        self._not_sent = (module.ConnectError, module.ConnectTimeout, module.PoolTimeout)
        self._timeout_error = module.TimeoutException
        self._request_error = module.RequestError

    def _build(
        self,
        method: str,
        path: str,
        query: str | None,
        body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> Any:
        """The request, its body given as a stream (as httpx builds a redirect's).

        Like any streamed request, its ``content`` is there once read: an event
        hook that wants the body calls ``request.read()`` (mocks do so themselves).
        """
        headers: Any
        if body is not None:
            size = len(body)
            headers = self._json_headers_by_length.get(size)
            if headers is None:
                length = (b"Content-Length", b"%d" % size)
                headers = self._json_headers_by_length.put(
                    size, self._headers_class([*self._json_headers, length])
                )
            stream = self._byte_stream(body)
        else:
            headers = self._empty_post_headers if method in _BODY_METHODS else self._headers
            stream = self._empty
        url = self._urls.get((path, query))
        if url is None:
            url = self._urls.put((path, query), fast_join(self._base, path, query))
        return self._request(
            method, url, headers=headers, stream=stream, extensions={"timeout": timeouts}
        )

    async def send(
        self,
        method: str,
        path: str,
        query: str | None,
        body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> Reply:
        """Send one request through the client; raise ``TransportFailure`` if no answer came."""
        request = self._build(method, path, query, body, timeouts)
        try:
            response: Any = await self._get_client().send(
                request, auth=self._no_auth, follow_redirects=False
            )
        except self._request_error as exc:
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise TransportFailure(
                message,
                sent=not isinstance(exc, self._not_sent),
                timed_out=isinstance(exc, self._timeout_error),
            ) from exc
        except BaseException as exc:
            # Cancelled while httpx's pool connects under trio: the nursery that
            # tries the addresses wraps the cancellation in a group. Callers get
            # the plain cancellation any other await would raise.
            cancelled = sole_cancellation(exc)
            if cancelled is None or cancelled is exc:
                raise
            raise cancelled from None
        # The client wraps the answer's stream in one that points back at the
        # answer: a reference cycle that only the garbage collector can free
        # (15 objects per request, and GC passes that grow with a bulk call's
        # results). The body is read and the response closed, so its stream is
        # spent: an empty one breaks the cycle and frees the answer at once.
        response.stream = self._empty
        reply: Reply = response
        return reply
