"""One adaptive rate limit shared by every process and machine using the same Redis.

Needs the ``redis`` extra: ``pip install 'scaleway-volumes[redis]'``.

```python
from scaleway_volumes.redis import RedisRateLimiter

limiter = RedisRateLimiter("redis://cache.internal:6379/0", name="prod-credentials")
api = AsyncVolumeAPI(token, rate_limiter=limiter)
```

The design (keys, scripts, leases, TTLs, fallback) is in docs/rate-limiting.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
import weakref
from types import TracebackType

import anyio
import sniffio

try:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import AuthenticationError, RedisError, ResponseError
    from redis.exceptions import ConnectionError as RedisConnectionError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "scaleway_volumes.redis needs redis-py: pip install 'scaleway-volumes[redis]'"
    ) from exc

from ._pacing._adaptive import AdaptiveRateLimiter, check_rates
from ._pacing._fleet import FleetBook, Lease, Pending
from ._pacing._gate import Gate
from ._pacing._tuning import Tuning
from ._redis_clients import Connection, LoopClients
from ._redis_url import ENCODE_HINT, redact, scheme_problem, scrub, unsafe_password
from ._validate import check_number

__all__ = ["RedisRateLimiter"]

log = logging.getLogger("scaleway_volumes")

# A process never holds slots more than this far ahead of the shared schedule's now.
_MAX_AHEAD = 0.25


class _Unavailable(Exception):
    """Redis cannot be used now: limit in-process."""


def _check_url(url: str) -> None:
    """A ``ValueError`` now (``url`` masked) if redis-py cannot parse it, or would
    misread it: an unencoded ``/``, ``?`` or ``#`` in the password ends the host
    early (``redis://:1234/5@host`` is port 1234); its errors would quote it."""
    problem = scheme_problem(url) or (ENCODE_HINT if unsafe_password(url) else None)
    if problem is None:
        try:
            aioredis.ConnectionPool.from_url(url)  # parses only: no connection, no loop
            return
        except (ValueError, TypeError) as exc:
            # Raised below, not chained: redis-py's words may quote the password.
            problem = ENCODE_HINT if unsafe_password(url, "@") else scrub(str(exc), url)
    raise ValueError(f"invalid Redis URL {redact(url)}: {problem}")


# A year: the longest idle time after which the shared state may expire.
_MAX_TTL_MS = 365 * 24 * 3600 * 1000


def _start(value: object, tuning: Tuning) -> tuple[float, float]:
    """The LEASE script's ``start_rate`` and ``together`` for ``start_rate=value``."""
    if value is None:
        return tuning.fleet_start, tuning.together
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"start_rate must be a number of requests per second, got {value!r}")
    if not 0 <= value < math.inf:
        raise ValueError(
            f"start_rate must be >= 0 and finite (0: unpaced until the first 429), got {value!r}"
        )
    return float(value), 0.0


class RedisRateLimiter:
    """``AdaptiveRateLimiter``'s limit, shared through Redis by every process using ``name``.

    The adaptive state and the schedule of slots live in one Redis hash, changed
    only by two atomic Lua scripts. A process leases a few consecutive slots at a
    time (about ``lease_time`` seconds' worth at the shared rate) and spends them
    locally, so most requests cost no Redis call; a 429 is reported at the next
    ``acquire()``, which makes the fleet's cut at once. Nothing a process holds
    outlives it: slots are moments of a schedule that pass, and the hash expires
    ``ttl`` seconds after the last use, so a killed worker never leaves the
    limit stuck.

    When Redis cannot be reached (or under trio, which redis-py's asyncio client
    does not support), the limiter paces in-process with an
    ``AdaptiveRateLimiter`` started at this process's recent rate, says so once
    in the ``scaleway_volumes`` log, and tries Redis again every
    ``retry_interval`` seconds. The log shows the URL without its password.

    The limiter may be created with no event loop running and used from
    successive event loops: each gets its own Redis client, closed in that loop
    as ``asyncio.run()`` ends it (a loop closed otherwise: when the next loop
    takes over, the last one's by ``await limiter.aclose()``, ``async with``, or
    at exit). One thread at a time, as ``AdaptiveRateLimiter``: a caller that must wait
    while another thread's loop has callers waiting gets a ``RuntimeError``;
    give each thread a limiter (of the same ``name``: they share the limit).

    Args:
        url: a redis-py URL, e.g. ``redis://:password@host:6379/0`` (a
            ``ValueError`` now if redis-py cannot parse it).
        name: the limit's name: processes sharing credentials share a name.
        min_rate, max_rate: as for ``AdaptiveRateLimiter``.
        start_rate: how a new shared limit starts. ``None`` (the default): unpaced,
            each process with ``initial_window`` requests in flight, one more per
            success, until a 429 of its own; but once a second process joins
            within a second of the limit's first use (a fleet starting together),
            paced at 20 req/s for the whole fleet, searching up from there.
            0: always unpaced. Above 0: always paced, from this many requests per
            second (docs/rate-limiting.md).
        initial_window: requests in flight per process before the fleet's first 429
            (default 2: a fleet of N processes starts with 2N).
        key_prefix: prefix of the Redis key (the key is ``key_prefix + name``).
        lease_time: seconds of slots a process takes at a time (default 0.05).
        ttl: seconds after its last use the shared state expires (default 600; from
            0.001 to a year).
        timeout: socket timeout of Redis calls, seconds (default 0.5).
        retry_interval: seconds between attempts to reach Redis again (default 1).
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "default",
        min_rate: float = 0.5,
        max_rate: float | None = None,
        start_rate: float | None = None,
        initial_window: int = 2,
        key_prefix: str = "scaleway_volumes:ratelimit:",
        lease_time: float = 0.05,
        ttl: float = 600.0,
        timeout: float = 0.5,
        retry_interval: float = 1.0,
        tuning: Tuning | None = None,
    ) -> None:
        # A wrong type is a TypeError, an empty string a ValueError, each saying
        # what it got: "url must be a non-empty str, got str" said neither.
        if not isinstance(url, str):
            raise TypeError(f"url must be a Redis URL string, got {type(url).__name__}")
        if not url:
            raise ValueError(
                "url must be a Redis URL (redis://, rediss:// or unix://), got an empty string"
            )
        _check_url(url)
        if not isinstance(name, str):
            raise TypeError(f"name must be a non-empty str, got {type(name).__name__}")
        if not name:
            raise ValueError("name must be a non-empty str, got an empty string")
        if not isinstance(key_prefix, str):
            raise TypeError(f"key_prefix must be a str, got {key_prefix!r}")
        top = check_rates(min_rate, max_rate)
        self._local = AdaptiveRateLimiter(
            min_rate=min_rate, max_rate=max_rate, initial_window=initial_window, tuning=tuning
        )
        if tuning is None:
            tuning = Tuning(initial_window=float(initial_window))
        self._url = url
        self._safe_url = redact(url)
        self.name = name
        self._key = key_prefix + name
        self._lease_time = check_number("lease_time", lease_time, unit="seconds")
        # Redis keeps it in whole milliseconds: less would be an expiry of 0, which
        # deletes the shared state at every call.
        self._ttl_ms = int(check_number("ttl", ttl, unit="seconds") * 1000)
        if not 1 <= self._ttl_ms <= _MAX_TTL_MS:
            raise ValueError(
                f"ttl must be from 0.001 to {_MAX_TTL_MS // 1000} seconds, got {ttl!r}"
            )
        self._timeout = check_number("timeout", timeout, unit="seconds")
        self._retry_interval = check_number("retry_interval", retry_interval, unit="seconds")
        start, together = _start(start_rate, tuning)
        self._book = FleetBook(
            float(initial_window),
            tuning.first_span,
            tuning.catch_up,
            # Only a limit that may start paced once a fleet gathers is worth asking again.
            reprobe=start > 0 and together > 0,
        )
        # The first acquire asks Redis how the fleet is doing: a worker joining a
        # throttled fleet starts paced instead of with a burst.
        self._book.probe = True
        self._gate = Gate(self._book, self._refill)
        self._lease_tail = [
            float(min_rate),
            min(top, 1e18),
            self._lease_time,
            _MAX_AHEAD,
            self._ttl_ms,
            tuning.search_time,
            tuning.cycle,
            tuning.rtts,
            tuning.scale,
            tuning.probe_scale,
            tuning.max_unit,
            tuning.max_step,
            start,
            together,
            # Who asks: the script tells a second process joining from this one asking again.
            float(secrets.randbits(48) or 1),
        ]
        self._throttle_tail = [
            float(min_rate),
            min(top, 1e18),
            self._ttl_ms,
            tuning.first_span,
            tuning.deep,
            tuning.headroom,
            tuning.backoff,
            tuning.tolerance,
            tuning.decrease,
            tuning.hold,
            tuning.scale,
        ]
        # Not in an anyio RunVar, which kept every finished loop and its
        # connection alive: closed in its loop as the loop ends, else (a loop
        # closed without that) when the next loop takes over, the last at exit.
        self._clients = LoopClients()
        weakref.finalize(self, self._clients.abandon)
        self._down = False  # limiting in-process now
        self._trying = False  # a caller is trying Redis again
        self._outage = False  # Redis failed and we said so (reset when it is back)
        self._retry_at = 0.0
        self._told_trio = False

    def __repr__(self) -> str:
        state = "in-process" if self._down else "shared"
        return f"<RedisRateLimiter {self.name!r} at {self._safe_url} ({state})>"

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the Redis connections (the limiter stays usable)."""
        if sniffio.current_async_library() == "asyncio":
            await self._clients.close(asyncio.get_running_loop())
        self._clients.abandon()  # other loops', once ended: closed without them

    @property
    def shared(self) -> bool:
        """False while the limit is kept in-process (Redis unreachable)."""
        return not self._down

    # -- the RateLimiter protocol ---------------------------------------------------------

    async def acquire(self) -> object:
        """Wait until one more request may be sent; return a permit for ``release()``."""
        if self._down:
            # One caller tries Redis again; the others meanwhile do not wait for
            # it (up to ``timeout`` if Redis hangs): they are limited in-process.
            if self._trying or time.monotonic() < self._retry_at:
                return (await self._local.acquire(),)
            self._book.probe = True
        try:
            return await self._gate.wait_turn()
        except _Unavailable:
            return (await self._local.acquire(),)

    def release(self, permit: object, status: int | None) -> None:
        """The request ended with HTTP ``status`` (None: no answer came). Never raises."""
        if type(permit) is float:
            self._book.release(permit, status, self._gate.now())
            self._gate.wake()
        elif type(permit) is tuple and len(permit) == 1:
            self._local.release(permit[0], status)

    # -- talking to Redis -----------------------------------------------------------------

    def _connection(self) -> Connection:
        if sniffio.current_async_library() != "asyncio":
            if not self._told_trio:
                self._told_trio = True
                log.warning(
                    "RedisRateLimiter %r: redis-py needs asyncio; limiting in-process", self.name
                )
            # In-process until the next try (a later asyncio loop shares again).
            self._down = True
            self._retry_at = time.monotonic() + self._retry_interval
            raise _Unavailable
        loop = asyncio.get_running_loop()
        conn = self._clients.by_loop.get(loop)
        if conn is None:
            # An ended loop's sockets are closed without it (``asyncio.run`` per job).
            self._clients.abandon()
            client = aioredis.Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                # A pooled connection the server (its ``timeout``), a proxy or a NAT
                # closed while idle fails the next call: made again at once, once.
                # Not after a timeout: Redis is slow, and a second try doubles it.
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            )
            conn = self._clients.add(loop, client)
        return conn

    async def _refill(self, waiting: int) -> None:
        """Report a pending 429 and lease slots: the gate's step when the book asks."""
        if self._down:
            if time.monotonic() < self._retry_at:
                # Callers already in line when Redis failed: they too wait for the
                # next try, instead of each paying a connection's timeout in turn.
                raise _Unavailable
            self._trying = True
        try:
            await self._exchange(self._connection(), waiting)
        finally:
            self._trying = False

    async def _exchange(self, conn: Connection, waiting: int) -> None:
        """The script calls of a refill; on a Redis error, in-process until the next try."""
        book = self._book
        # What the call on the wire reports: put back if it fails or is cancelled.
        sending: Pending | None = None
        probing = False
        try:
            if book.throttle is not None:
                sending = book.pending()
                args = book.throttle_args(self._gate.now())
                gen, rate, _ = await conn.throttle(
                    keys=[self._key], args=[*args, *self._throttle_tail]
                )
                sending = None
                book.apply_generation(int(gen), float(rate))
            if book.probe or (book.paced and not book.remaining):
                probing, book.probe = book.probe, False
                sending = book.pending()
                ok, thr, sample = book.lease_args()
                want = book.want(waiting, self._gate.now())
                reply = await conn.lease(
                    keys=[self._key], args=[want, ok, thr, sample, 1, *self._lease_tail]
                )
                sending = None
                now = self._gate.now()
                count, delay, interval, gen, rate = reply
                book.apply_lease(
                    Lease(int(count), now + float(delay), float(interval), int(gen), float(rate))
                )
        except BaseException as exc:
            if sending is not None:
                book.restore(sending)
                book.probe = book.probe or probing
            if not isinstance(exc, (RedisError, OSError)):
                raise
            self._go_local(exc, conn)
            # Its sockets may be dead: closed, to be opened anew at the next try.
            # The client and its pool are kept: a new client would make new
            # connections, each building an SSL context (tens of ms, in the loop)
            # for a rediss:// URL, at every try while Redis is down.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await conn.client.connection_pool.disconnect()
            raise _Unavailable from exc
        if self._down:
            self._down = False
        if self._outage:
            self._outage = False
            log.info(
                "RedisRateLimiter %r: %s reachable again, sharing the limit",
                self.name,
                self._safe_url,
            )

    def _go_local(self, exc: BaseException, conn: Connection) -> None:
        """``conn`` failed with ``exc``: limit in-process until the next try, which
        uses ``conn`` again (its pool reconnects)."""
        now = time.monotonic()
        self._retry_at = now + self._retry_interval
        self._down = True
        if not self._outage:
            self._outage = True
            self._local.resume_at(self._book.recent_rate(self._gate.now()))
            # An error of Redis's (ACL, memory, the key's type) is no outage: said
            # so, as it needs a fix there. Tries go on meanwhile, as for an outage.
            # A wrong password is an answer (redis-py files it under ConnectionError).
            auth = isinstance(exc, AuthenticationError)
            refused = auth or isinstance(exc, ResponseError)
            log.warning(
                "RedisRateLimiter %r: %s %s (%s: %s); limiting in-process until it %s",
                self.name,
                self._safe_url,
                "refused the credentials (check the URL's user/password)"
                if auth
                else "refused the limit's script"
                if refused
                else "unreachable",
                type(exc).__name__,
                scrub(str(exc), self._url),
                "accepts them" if auth else "takes it (see its error)" if refused else "is back",
            )
