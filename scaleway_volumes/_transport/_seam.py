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
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, Protocol

from .._compat import fast_join

__all__ = ["ClientSender", "Reply", "Sender", "TransportFailure", "http_module_of"]


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
        "_get_client",
        "_headers",
        "_json_headers",
        "_not_sent",
        "_request",
        "_request_error",
        "_timeout_error",
    )

    def __init__(
        self,
        get_client: Callable[[], Any],
        module: ModuleType,
        base_url: str,
        headers: Sequence[tuple[str, str]],
    ) -> None:
        self._get_client = get_client
        self._request = module.Request
        self._base = module.URL(base_url)
        # Built once: the client copies a Headers object cheaply, a list it re-normalises.
        self._headers = module.Headers(list(headers))
        self._json_headers = module.Headers([*headers, ("Content-Type", "application/json")])
        self._not_sent = (module.ConnectError, module.ConnectTimeout, module.PoolTimeout)
        self._timeout_error = module.TimeoutException
        self._request_error = module.RequestError

    async def send(
        self,
        method: str,
        path: str,
        query: str | None,
        body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> Reply:
        """Send one request through the client; raise ``TransportFailure`` if no answer came."""
        request = self._request(
            method,
            fast_join(self._base, path, query),
            headers=self._json_headers if body is not None else self._headers,
            content=body,
            extensions={"timeout": timeouts},
        )
        try:
            response: Reply = await self._get_client().send(
                request, auth=None, follow_redirects=False
            )
        except self._request_error as exc:
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise TransportFailure(
                message,
                sent=not isinstance(exc, self._not_sent),
                timed_out=isinstance(exc, self._timeout_error),
            ) from exc
        return response
