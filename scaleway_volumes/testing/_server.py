"""A small, fast HTTP/1.1 server for FakeScaleway on a raw asyncio.Protocol."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from http import HTTPStatus
from types import TracebackType
from typing import Any

from . import _shapes as shapes
from ._core import NORMAL, TRUNCATE, Handler, Outcome, Pending, RecordedRequest, Response, http_date

__all__ = ["FakeServer"]

_log = logging.getLogger("scaleway_volumes.testing")

_MAX_HEAD = 64 * 1024
_STATUS_LINES = {
    s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode("latin-1") for s in HTTPStatus
}


def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    return line if line is not None else f"HTTP/1.1 {status} Unknown\r\n".encode("latin-1")


def _encode_head(response: Response, length: int, keep_alive: bool) -> bytes:
    head = [
        _status_line(response.status),
        f"Content-Length: {length}\r\nDate: {http_date()}\r\n".encode("latin-1"),
    ]
    if response.content_type is not None:
        head.append(f"Content-Type: {response.content_type}\r\n".encode("latin-1"))
    for key, value in response.headers:
        head.append(f"{key}: {value}\r\n".encode("latin-1"))
    if not keep_alive:
        head.append(b"Connection: close\r\n")
    head.append(b"\r\n")
    return b"".join(head)


class _BadRequest(Exception):
    pass


def _dechunk(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at ``start``; None until it is complete."""
    parts: list[bytes] = []
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
        except ValueError:
            raise _BadRequest from None
        pos = eol + 2
        if size == 0:
            # Skip (ignored) trailers up to the blank line.
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return b"".join(parts), eol + 2
                pos = eol + 2
        if len(buf) < pos + size + 2:
            return None
        parts.append(bytes(buf[pos : pos + size]))
        pos += size + 2


class _Connection(asyncio.Protocol):
    def __init__(self, core: _ServerCore) -> None:
        self._core = core
        self._fake = core.fake
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._root = core.root_url
        # True while a request is being answered asynchronously; later pipelined
        # requests wait in the buffer so that responses keep their order.
        self.busy = False
        self.closed = False
        self.lost = asyncio.get_running_loop().create_future()

    @property
    def idle(self) -> bool:
        return not self.busy and not self._buf and not self.closed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._core.connections.add(self)
        self._fake._connection(+1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._core.connections.discard(self)
        self._fake._connection(-1)
        if not self.lost.done():
            self.lost.set_result(None)

    def close(self) -> None:
        if not self.closed and self._transport is not None:
            self.closed = True
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self.busy:
            self._process()

    def _process(self) -> None:
        fake = self._fake
        while not self.busy and not self.closed:
            try:
                parsed = self._parse()
            except _BadRequest:
                assert self._transport is not None
                self._transport.write(_encode_head(Response(400, b"", None), 0, keep_alive=False))
                self.close()
                return
            if parsed is None:
                return
            request, keep_alive, root = parsed
            pending = fake._begin(request)
            if pending.pre_delay > 0:
                self.busy = True
                self._core.spawn(self._answer(request, pending, None, keep_alive, root))
                return
            try:
                outcome = fake._complete(pending, root)
                response = outcome.response
                if response is None or outcome.post_delay > 0 or outcome.mode != NORMAL:
                    self.busy = True
                    self._core.spawn(self._answer(request, None, outcome, keep_alive, root))
                    return
                data = _encode_head(response, len(response.body), keep_alive)
                if request.method != "HEAD":
                    data += response.body
            except Exception:
                fake._done(self._fail(request, keep_alive, started=False))
                continue
            assert self._transport is not None
            # Counted before the write: a client must never see an answer that the stats
            # do not show yet.
            fake._done(response.status)
            self._transport.write(data)
            if not keep_alive:
                self.close()

    def _fail(self, request: RecordedRequest, keep: bool, started: bool) -> int | None:
        """Answer 500 after an unexpected exception (a bug of the fake, logged with its
        traceback) so the client gets an answer; returns the status sent, if any."""
        _log.exception("FakeScaleway failed to answer %s %s", request.method, request.path)
        if self.closed or self._transport is None:
            return None
        if started:
            # Part of an answer is out: the connection can no longer carry a correct one.
            self.close()
            return None
        failed = shapes.INTERNAL_ERROR
        head = _encode_head(failed, len(failed.body), keep)
        self._transport.write(head if request.method == "HEAD" else head + failed.body)
        if not keep:
            self.close()
        return failed.status

    async def _answer(
        self,
        request: RecordedRequest,
        pending: Pending | None,
        outcome: Outcome | None,
        keep: bool,
        root: str,
    ) -> None:
        fake = self._fake
        status: int | None = None
        accounted = started = False
        try:
            if outcome is None:
                assert pending is not None
                await asyncio.sleep(pending.pre_delay)
                outcome = fake._complete(pending, root)
            if outcome.post_delay > 0:
                await asyncio.sleep(outcome.post_delay)
            response = outcome.response
            if response is None or self.closed:
                self.close()
                return
            assert self._transport is not None
            body = response.body
            head = _encode_head(response, len(body), keep)
            if request.method == "HEAD" or outcome.mode == NORMAL:
                # A HEAD answer has no body to truncate or drip (RFC 9110, 9.3.2).
                fake._done(response.status)
                accounted = True
                self._transport.write(head if request.method == "HEAD" else head + body)
            elif outcome.mode == TRUNCATE:
                status = response.status
                self._transport.write(head + body[: len(body) // 2])
                self.close()
                return
            else:
                started = True
                self._transport.write(head)
                step = outcome.chunk
                for offset in range(0, len(body), step):
                    if offset:
                        await asyncio.sleep(outcome.interval)
                    if self._transport.is_closing():
                        return
                    self._transport.write(body[offset : offset + step])
                status = response.status
            if not keep:
                self.close()
        except Exception:
            status = self._fail(request, keep, started=started or accounted)
        finally:
            if not accounted:
                fake._done(status)
            self.busy = False
        if not self.closed and self._buf:
            self._process()

    def _parse(self) -> tuple[RecordedRequest, bool, str] | None:
        buf = self._buf
        while buf[:2] == b"\r\n":
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > _MAX_HEAD:
                raise _BadRequest
            return None
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise _BadRequest from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest
            key = key.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            decoded = _dechunk(buf, start)
            if decoded is None:
                return None
            body, consumed = decoded
        else:
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise _BadRequest from None
            consumed = start + length
            if len(buf) < consumed:
                return None
            body = bytes(buf[start:consumed])
        del buf[:consumed]
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.1":
            keep_alive = "close" not in connection
        else:
            keep_alive = "keep-alive" in connection
        path, _, query = target.partition("?")
        host = headers.get("host")
        root = f"http://{host}" if host else self._root
        return RecordedRequest(method, path, query, headers, body, "tcp"), keep_alive, root


class _ServerCore:
    """The server proper, living in one running asyncio loop."""

    def __init__(self, fake: Handler) -> None:
        self.fake = fake
        self.connections: set[_Connection] = set()
        self.root_url = ""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        # The loop only keeps weak references to tasks.
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.root_url = f"http://{shown}:{self.port}"

    def base_url(self) -> str:
        if self.fake.legacy:
            return self.root_url
        return f"{self.root_url}/instance/v1/zones/{self.fake.zone}"

    def block_base_url(self) -> str:
        return f"{self.root_url}/block/v1/zones/{self.fake.zone}"

    async def _close_all(self, connections: list[_Connection]) -> None:
        for connection in connections:
            connection.close()
        waiters = [c.lost for c in connections]
        if waiters:
            await asyncio.wait(waiters, timeout=2)

    async def drop_idle(self) -> int:
        idle = [c for c in self.connections if c.idle]
        await self._close_all(idle)
        return len(idle)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._close_all(list(self.connections))


class FakeServer:
    """A :class:`FakeScaleway` served over TCP by a background thread (see ``serve()``)."""

    def __init__(self, fake: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self._core = _ServerCore(fake)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._closed = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, args=(host, port), name="FakeScaleway-server", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        self._raise_startup_error()

    def _raise_startup_error(self) -> None:
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self, host: str, port: int) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self._core.start(host, port))
            except BaseException as exc:
                self._error = exc
                return
            finally:
                self._ready.set()
            loop.run_forever()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        finally:
            loop.close()

    @property
    def root_url(self) -> str:
        """``http://host:port`` of the server."""
        return self._core.root_url

    @property
    def base_url(self) -> str:
        """Root URL plus ``/instance/v1/zones/<zone>`` (just the root URL for a legacy fake)."""
        return self._core.base_url()

    @property
    def block_base_url(self) -> str:
        """Root URL plus ``/block/v1/zones/<zone>``: the Block Storage API (any mode)."""
        return self._core.block_base_url()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._core.port

    def drop_idle_connections(self) -> int:
        """Close every keep-alive connection with no request in progress; return how many.

        Simulates a server or load balancer timing out idle connections: the client gets
        no warning. Returns once the connections are closed.
        """
        if self._closed:
            return 0
        future = asyncio.run_coroutine_threadsafe(self._core.drop_idle(), self._loop)
        return future.result(timeout=5)

    def close(self) -> None:
        """Stop listening and close every open connection (safe to call more than once)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        future = asyncio.run_coroutine_threadsafe(self._core.stop(), self._loop)
        try:
            future.result(timeout=5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> FakeServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<FakeServer {self.root_url} {state}>"
