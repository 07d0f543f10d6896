"""The seam between the request pipeline and HTTP: a whole request in, a whole answer out.

The pipeline (retries, deadlines, pacing) knows nothing of httpx or aiohttp. It
calls ``Sender.send`` and gets either a ``Reply`` or a ``TransportFailure`` that
says truthfully whether the request may have reached the API (``sent``) and
whether it ran out of time (``timed_out``): the two facts every retry decision
needs. ``ClientSender`` is the one implementation: it sends through an
``httpx.AsyncClient`` (or an ``httpx2`` one) with ``client.send``, so a shared
client's event hooks, mounts and mocks see every request.

A client the user shares is trusted less than the owned one: its transport may
be anyone's (see ``ClientSender._proves_not_sent``), its hooks may read the
request or raise for the answer, and its owner may close it first.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from functools import partial
from types import ModuleType
from typing import Any, Protocol

import aiohttp
import anyio

from .._cancel import sole_cancellation
from .._compat import body_stream, fast_join
from ._cache import Memo
from ._closed import PoolClosedError
from ._secret import forget_token, token_masked, token_masking_headers

__all__ = ["ClientSender", "Reply", "Sender", "TransportFailure", "http_module_of"]

# Methods whose requests carry Content-Length even without a body, as httpx sends them.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# The packages a shared client may come from.
_HTTP_PACKAGES = frozenset({"httpx", "httpx2"})
# Where a "not sent" error of a shared client may come from and be believed:
# httpx's and httpx2's own pools (their verdict on whether they sent), and
# respx, which raises the exception a test gives ``from`` its own SideEffectError
# (respx/router.py): the test says it was not sent.
_TRUSTED_ORIGINS = frozenset({"httpcore", "httpcore2", "respx"})
# What a shared client's transport may raise that is not its package's error:
# an app's own transport lets the socket's OSError through (ConnectionResetError,
# ssl.SSLError, TimeoutError), and httpx-aiohttp lets through every aiohttp error
# its map leaves out (a ClientResponseError for a malformed status line).
# asyncio.TimeoutError is TimeoutError itself from 3.11 on, its own class on 3.10.
# Under trio a broken stream raises anyio's or trio's classes; trio stays optional,
# and unloaded raises nothing, so ``_foreign_errors`` looks for it when one is raised.
_ANYIO_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)
_FOREIGN_ERRORS = (OSError, asyncio.TimeoutError, aiohttp.ClientError, *_ANYIO_ERRORS)
_TIMEOUTS: tuple[type[BaseException], ...] = (TimeoutError, asyncio.TimeoutError)
# httpx's errors for a shared client's connection of an earlier loop (maybe sent on).
_OTHER_LOOP = ("Event loop is closed", "attached to a different loop")
_LOOP_HINT = " (the shared client= holds connections of another event loop; create it in the loop that uses it, or omit client=)"  # noqa: E501


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
    may still act on a request it received. ``permanent`` says no resend can
    get an answer either (a shared client its owner closed): raise at once.
    ``at_once`` says a resend needs no backoff: this process closed the pool
    the request waited in (``aclose``), nothing is wrong with the API.
    """

    def __init__(
        self,
        message: str,
        *,
        sent: bool,
        timed_out: bool,
        permanent: bool = False,
        at_once: bool = False,
    ) -> None:
        super().__init__(message)
        self.sent = sent
        self.timed_out = timed_out
        self.permanent = permanent
        self.at_once = at_once

    def __reduce__(self) -> Any:
        # The keyword-only flags defeat Exception's own pickling; the state sets them.
        return (partial(TransportFailure, sent=True, timed_out=False), (str(self),), self.__dict__)


class _HookedReply:
    """An answer a response hook raised ``HTTPStatusError`` for, with the body it was read with."""

    __slots__ = ("content", "headers", "reason_phrase", "status_code")

    def __init__(self, response: Any, content: bytes) -> None:
        self.status_code: int = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self.reason_phrase: str = response.reason_phrase
        self.content = content


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
    """The httpx-compatible package a client comes from (``httpx`` or ``httpx2``).

    Found along the class's MRO, so a subclass (``httpx_aiohttp.HttpxAiohttpClient``,
    an app's own) counts as the package's ``AsyncClient`` it derives from.
    """
    for cls in type(client).__mro__:
        root = cls.__module__.partition(".")[0]
        if cls.__name__ == "AsyncClient" and root in _HTTP_PACKAGES:
            module = sys.modules.get(root)
            if module is not None and getattr(module, "AsyncClient", None) is cls:
                return module
    raise TypeError(
        f"client must be an httpx.AsyncClient or an httpx2.AsyncClient, got {type(client).__name__}"
    )


def _foreign_errors() -> tuple[type[BaseException], ...]:
    trio = sys.modules.get("trio")
    if trio is None:
        return _FOREIGN_ERRORS
    return (*_FOREIGN_ERRORS, trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError)


def _timeouts() -> tuple[type[BaseException], ...]:
    trio = sys.modules.get("trio")
    return _TIMEOUTS if trio is None else (*_TIMEOUTS, trio.TooSlowError)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class ClientSender:
    """Sends through an httpx-compatible ``AsyncClient``'s ``send``, and only there.

    ``get_client`` returns the client to use now (the owned client is made per
    event loop); ``shared`` says it is the user's (``shared=False``: ours, whose
    transports we know). Requests carry our headers only: a shared client's default
    headers, auth and cookies are not applied, and redirects are never
    followed, so the token never leaves the base URL's origin.
    """

    __slots__ = (
        "_base",
        "_byte_stream",
        "_client_errors",
        "_empty",
        "_empty_post_headers",
        "_get_client",
        "_headers",
        "_headers_class",
        "_json_headers",
        "_json_headers_by_length",
        "_masking_headers",
        "_no_auth",
        "_not_sent",
        "_request",
        "_request_error",
        "_response_not_read",
        "_shared",
        "_status_error",
        "_timeout_error",
        "_urls",
    )

    def __init__(
        self,
        get_client: Callable[[], Any],
        module: ModuleType,
        base_url: str,
        headers: Sequence[tuple[str, str]],
        *,
        shared: bool = True,
    ) -> None:
        self._get_client = get_client
        self._no_auth = _no_auth(module)
        self._request = module.Request
        self._headers_class = module.Headers
        # A ByteStream whose async iteration leaves no generator for trio to
        # warn of when a request is cancelled mid-send (see _compat).
        self._byte_stream = body_stream(module)
        self._empty = self._byte_stream(b"")
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
        # A refused proxy CONNECT (ProxyError) never reached the API either.
        self._not_sent = (
            module.ConnectError,
            module.ConnectTimeout,
            module.PoolTimeout,
            module.ProxyError,
        )
        self._timeout_error = module.TimeoutException
        self._request_error = module.RequestError
        self._status_error = module.HTTPStatusError
        self._response_not_read = module.ResponseNotRead
        self._client_errors = (
            module.HTTPError,
            module.StreamError,
            module.InvalidURL,
            module.CookieConflict,
        )
        self._shared = shared
        self._masking_headers: Any = token_masking_headers(module) if self._shared else None

    def _build(
        self,
        method: str,
        path: str,
        query: str | None,
        body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> Any:
        """The request, its body given as a stream (as httpx builds a redirect's).

        Like any streamed request, its ``content`` is there once read; ``send``
        reads it for a shared client, whose hooks and transport may look at it.
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
        client = self._get_client()
        request = self._build(method, path, query, body, timeouts)
        if self._shared:
            self._prepare_shared(client, request)
        try:
            response: Any = await client.send(request, auth=self._no_auth, follow_redirects=False)
        except self._request_error as exc:
            self._forget_token(request)
            raise TransportFailure(
                _describe(exc),
                sent=not self._proves_not_sent(exc),
                timed_out=isinstance(exc, self._timeout_error),
                at_once=isinstance(exc, PoolClosedError),
            ) from exc
        except self._status_error as exc:
            # A shared client's response hook raised for the answer (httpx's
            # documented ``raise_for_status`` hook): it is still the API's answer,
            # and the pipeline decides on it as on any other (a 404 is
            # NotFoundError, a 503 is retried).
            return self._hooked_reply(exc.response)
        except self._client_errors as exc:
            # Any other error of the client's package, from a hook or the client
            # itself (a spent stream, a URL it refuses): nothing says the request
            # did not leave, so a create is looked up before any resend.
            self._forget_token(request)
            raise TransportFailure(_describe(exc), sent=True, timed_out=False) from exc
        except _foreign_errors() as exc:
            if not self._shared:
                # The owned client's transports raise httpx's errors only.
                raise
            # Nothing tells where such an error arose, before or after the API
            # read the request (nor whether a hook raised it): it may have been
            # sent, so a GET is retried and a create looked up before a resend.
            self._forget_token(request)
            forget_token(exc)
            raise TransportFailure(
                _describe(exc), sent=True, timed_out=isinstance(exc, _timeouts())
            ) from exc
        except RuntimeError as exc:
            if not self._shared or not any(text in str(exc) for text in _OTHER_LOOP):
                raise
            self._forget_token(request)
            raise TransportFailure(
                f"{_describe(exc)}{_LOOP_HINT}", sent=True, timed_out=False
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

    def _forget_token(self, request: Any) -> None:
        """Take the secret key out of a request that failed.

        The client's error, kept as the ``__cause__`` of the library's, holds
        the request, whose headers' repr (httpx masks ``Authorization`` only)
        would show ``X-Auth-Token``. A resend builds a new request: this one is
        only evidence now.
        """
        request.headers = self._headers_class(token_masked(request.headers))

    def _prepare_shared(self, client: Any, request: Any) -> None:
        """Checks and changes a shared client needs (the owned client pays none of them)."""
        if client.is_closed:
            # The host closed its client first (its shutdown ran before ours):
            # no resend can succeed, and nothing was sent.
            raise TransportFailure(
                "the shared client was closed by its owner",
                sent=False,
                timed_out=False,
                permanent=True,
            )
        # A hook, the transport or a mount may read ``request.content``, as it
        # may on every request the app builds itself (a logging or recording
        # transport does): the body must be there, read.
        request.read()
        # A hook, the transport or a mount may log ``request.headers``: mask the token.
        request.headers = self._masking_headers(request.headers)

    def _proves_not_sent(self, exc: BaseException) -> bool:
        """Whether a failure of the client proves the request never left.

        The owned client's transports map each failure truthfully (the table in
        ``_aiohttp.py``). A shared client's transport may not: httpx-aiohttp's
        error map has ``aiohttp.ClientConnectionError: httpx.ConnectTimeout``
        (httpx_aiohttp/transport.py), so a server that disconnected after
        reading the request says "never sent", and a create resent on that
        word is made twice. So a "not sent" class is believed when httpx's own
        pool raised it (from an httpcore error), when a mock raised it
        (``MockTransport`` raises the exception a test gives as is, respx from
        its own error), or when nothing is under it; one wrapping another
        library's error may have been sent.
        """
        if not isinstance(exc, self._not_sent):
            return False
        if not self._shared:
            return True
        origin = exc.__cause__ if exc.__suppress_context__ else exc.__context__
        return origin is None or type(origin).__module__.partition(".")[0] in _TRUSTED_ORIGINS

    def _hooked_reply(self, response: Any) -> Reply:
        """The answer a response hook raised ``HTTPStatusError`` for, as the pipeline reads it."""
        try:
            content: bytes = response.content
        except self._response_not_read:
            # httpx runs response hooks before it reads the body; only a hook
            # that read it first (``await response.aread()``) leaves it.
            content = b""
        return _HookedReply(response, content)
