"""An httpx transport that hands requests straight to a FakeScaleway, without sockets."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import anyio
import httpx

from ._core import DRIP, TRUNCATE, Handler, Pending, RecordedRequest, http_date

__all__ = ["InProcessTransport"]

_log = logging.getLogger("scaleway_volumes.testing")


class InProcessTransport(httpx.AsyncBaseTransport):
    """Serve httpx requests from a :class:`FakeScaleway` in the caller's event loop.

    Works under asyncio and trio. The request's read timeout is honoured for the fake's
    delays (raising ``httpx.ReadTimeout``) since no socket would otherwise enforce it; a
    request given up on while the server still "sleeps" before acting is nevertheless
    applied once that delay is over, as a real server would, unless the fake's
    ``reset()`` comes first. An exception raised by the fake itself (a bug) reaches the
    caller with its traceback, where the TCP server logs it and answers 500.
    """

    def __init__(self, fake: Handler) -> None:
        self._fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        headers: dict[str, str] = {}
        for key, value in request.headers.multi_items():
            key = key.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        recorded = RecordedRequest(request.method, path, query, headers, body, "inprocess")
        root = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        fake = self._fake
        timeout = request.extensions.get("timeout") or {}
        budget: float | None = timeout.get("read")
        status: int | None = None
        handed_over = False
        try:
            # In flight from here on, even if _begin fails: the finally clause ends it.
            pending = fake._begin(recorded)
            if pending.pre_delay > 0:
                started = time.monotonic()
                try:
                    with anyio.fail_after(budget):
                        await anyio.sleep(pending.pre_delay)
                except BaseException as exc:
                    # The server received the request: like the TCP fake it acts once its
                    # delay is over even though the client has stopped waiting.
                    left = pending.pre_delay - (time.monotonic() - started)
                    self._finish_later(pending, max(0.0, left), root)
                    handed_over = True
                    if isinstance(exc, TimeoutError):
                        raise httpx.ReadTimeout("timed out", request=request) from None
                    raise
                if budget is not None:
                    budget -= pending.pre_delay
            outcome = fake._complete(pending, root)
            if outcome.post_delay > 0:
                try:
                    with anyio.fail_after(budget):
                        await anyio.sleep(outcome.post_delay)
                except TimeoutError:
                    raise httpx.ReadTimeout("timed out", request=request) from None
            response = outcome.response
            if response is None:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
            raw = response.body
            out_headers = [("Content-Length", str(len(raw))), ("Date", http_date())]
            if response.content_type is not None:
                out_headers.append(("Content-Type", response.content_type))
            out_headers.extend(response.headers)
            if request.method == "HEAD":
                # Like the TCP server: the GET's headers and no body, to cut or drip or not.
                status = response.status
                return httpx.Response(status, headers=out_headers, content=b"")
            if outcome.mode == TRUNCATE:
                stream: httpx.AsyncByteStream = _Truncated(raw[: len(raw) // 2], request)
            elif outcome.mode == DRIP:
                stream = _Drip(raw, outcome.chunk, outcome.interval, timeout.get("read"), request)
            else:
                status = response.status
                return httpx.Response(status, headers=out_headers, content=raw)
            status = response.status
            return httpx.Response(status, headers=out_headers, stream=stream)
        finally:
            if not handed_over:
                fake._done(status)

    def _finish_later(self, pending: Pending, delay: float, root: str) -> None:
        fake = self._fake

        def finish() -> None:
            try:
                fake._complete(pending, root)
            except Exception:
                # No caller is left to raise to: log the fake's bug like the TCP server.
                request = pending.request
                _log.exception("FakeScaleway failed to answer %s %s", request.method, request.path)
            finally:
                fake._done(None)

        # The fake runs it, so that its reset() can cancel it.
        fake._defer(delay, finish)


class _Truncated(httpx.AsyncByteStream):
    def __init__(self, part: bytes, request: httpx.Request) -> None:
        self._part = part
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._part:
            yield self._part
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body",
            request=self._request,
        )


class _Drip(httpx.AsyncByteStream):
    def __init__(
        self,
        body: bytes,
        chunk: int,
        interval: float,
        read_timeout: float | None,
        request: httpx.Request,
    ) -> None:
        self._body = body
        self._chunk = chunk
        self._interval = interval
        self._read_timeout = read_timeout
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body, step = self._body, self._chunk
        for offset in range(0, len(body), step):
            if offset:
                # Like a socket read timeout, the wait for each piece is bounded.
                try:
                    with anyio.fail_after(self._read_timeout):
                        await anyio.sleep(self._interval)
                except TimeoutError:
                    raise httpx.ReadTimeout("timed out", request=self._request) from None
            yield body[offset : offset + step]
