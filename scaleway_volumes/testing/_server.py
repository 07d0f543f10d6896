"""A small, fast HTTP/1.1 server for FakeScaleway on a raw asyncio.Protocol."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

from . import _shapes as shapes
from ._core import NORMAL, TRUNCATE, Handler, Outcome, Pending, RecordedRequest, Response
from ._wire import BadRequest, encode_head, parse_request

__all__ = ["FakeServer"]

_log = logging.getLogger("scaleway_volumes.testing")


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
                parsed = parse_request(self._buf, self._root)
            except BadRequest:
                assert self._transport is not None
                self._transport.write(encode_head(Response(400, b"", None), 0, keep_alive=False))
                self.close()
                return
            if parsed is None:
                return
            request, keep_alive, root = parsed
            try:
                # In flight from here on, even if _begin fails: _done ends it either way.
                pending = fake._begin(request)
                if pending.pre_delay > 0:
                    self.busy = True
                    self._core.spawn(self._answer(request, pending, None, keep_alive, root))
                    return
                outcome = fake._complete(pending, root)
                response = outcome.response
                if response is None or outcome.post_delay > 0 or outcome.mode != NORMAL:
                    self.busy = True
                    self._core.spawn(self._answer(request, None, outcome, keep_alive, root))
                    return
                data = encode_head(response, len(response.body), keep_alive)
                if request.method != "HEAD":
                    data += response.body
            except Exception:
                self._fail(request, keep_alive, started=False)
                continue
            assert self._transport is not None
            # Counted before the write: a client must never see an answer that the stats
            # do not show yet.
            fake._done(response.status)
            self._transport.write(data)
            if not keep_alive:
                self.close()

    def _fail(
        self, request: RecordedRequest, keep: bool, started: bool, accounted: bool = False
    ) -> None:
        """Answer 500 after an unexpected exception (a bug of the fake, logged with its
        traceback) so the client gets an answer, and end the request in the stats unless
        ``accounted`` says it already is."""
        _log.exception("FakeScaleway failed to answer %s %s", request.method, request.path)
        status: int | None = None
        data = b""
        if started:
            # Part of an answer is out: the connection can no longer carry a correct one.
            self.close()
        elif not self.closed and self._transport is not None:
            failed = shapes.INTERNAL_ERROR
            status = failed.status
            head = encode_head(failed, len(failed.body), keep)
            data = head if request.method == "HEAD" else head + failed.body
        if not accounted:
            # Counted before the write, like every answer.
            self._fake._done(status)
        if data:
            assert self._transport is not None
            self._transport.write(data)
            if not keep:
                self.close()

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
            head = encode_head(response, len(body), keep)
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
            self._fail(request, keep, started=started or accounted, accounted=accounted)
            accounted = True
        finally:
            if not accounted:
                fake._done(status)
            self.busy = False
        if not self.closed and self._buf:
            self._process()


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
        if not host:
            # asyncio would listen everywhere, under a URL with no host in it.
            raise ValueError("host must not be empty: '0.0.0.0' or '::' listens everywhere")
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
