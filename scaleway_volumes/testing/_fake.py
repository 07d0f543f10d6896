"""FakeScaleway: the shared state, the request pipeline (faults, throttling, latency)
and the dispatch of each request to the Instance or the Block Storage API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from . import _shapes as shapes
from ._actions import outcome_of
from ._block import FakeBlockStorage
from ._block_routes import BlockRoutes
from ._block_state import BlockStore
from ._bucket import Phase, RateBucket
from ._core import (
    Clock,
    Fault,
    Limit,
    Outcome,
    Pending,
    RecordedRequest,
    Response,
    Seconds,
    Stats,
    check_zone,
)
from ._instance import InstanceVolumes, server_summary
from ._rate_clock import RateClock
from ._values import check_clock

if TYPE_CHECKING:
    from ._server import FakeServer

__all__ = ["FAKE_ORGANIZATION", "FAKE_TOKEN", "FakeScaleway"]

#: Organization (and default project) id that owns volumes unless told otherwise.
FAKE_ORGANIZATION = "11111111-2222-4333-8444-555555555555"
#: The token a fake accepts unless told otherwise: a UUID, as Scaleway secret keys are
#: (the official SDK refuses any other secret key before sending a request).
FAKE_TOKEN = "fa4ec0de-0000-4000-8000-000000000000"

IN_PROCESS_ROOT = "http://fake.scaleway.invalid"

_INSTANCE_PREFIX = "/instance/v1/zones/"
_BLOCK_PREFIX = "/block/v1/zones/"
_THROTTLED = shapes.THROTTLED


class FakeScaleway:
    """An in-memory imitation of the Scaleway Instance and Block Storage volume APIs.

    Serve it in-process with :meth:`client`/:meth:`transport` (no sockets) or over real TCP
    with :meth:`serve`; both see the same volumes, faults and :attr:`stats`. The Instance
    API answers on ``/volumes[/{id}]`` (the seed's paths) and
    ``/instance/v1/zones/{zone}/volumes[/{id}]``; the Block Storage API v1 on
    ``/block/v1/zones/{zone}/`` ``volumes``, ``snapshots`` and ``volume-types``. Faults,
    latency, the rate limiter (one bucket: the real limit is per credentials) and
    :attr:`stats` cover both APIs. A resource lives in the zone of the path that created
    it and is found only there; ``zone`` is the zone of :attr:`base_url`, of the seed's
    paths and of the helpers' resources.

    ``token`` is the only accepted ``X-Auth-Token`` (default :data:`FAKE_TOKEN`; any
    non-empty string may be given; ``None`` accepts any non-empty one, as the command
    line's ``--token ''`` does; ``""`` itself is a ``ValueError``: it would refuse every
    request). ``zone`` is a non-empty name without ``/`` (``ValueError`` otherwise).
    ``legacy=True`` renders Instance volumes with the seven seed fields only and lists them
    whatever the filters (the seed takes none). ``latency``
    seconds are slept before every request is handled; ``rate_limit`` (requests per
    second, finite, token bucket of ``rate_burst`` capacity, an int >= 1) answers excess
    requests with a bare 429. ``token``, ``zone``, ``latency``, ``rate_limit`` and
    ``rate_burst`` may be changed at any time, checked on assignment (a refused value
    changes nothing); a ``rate_burst`` given without a rate waits for ``rate_limit`` or
    :attr:`rate_schedule` to set one.

    Block Storage knobs (attributes too, checked on every assignment; see
    ``docs/testing.md``): ``block_create_time``, ``block_resize_time``,
    ``block_snapshot_time`` and ``block_delete_time`` are the seconds a volume or snapshot
    spends ``creating``, ``updating`` (after a size change), ``snapshotting``/``creating``
    and ``deleting``; ``block_deleted_retention`` how long a deleted one is still listed
    with ``include_deleted=true``; ``block_quota_volumes`` and ``block_quota_size``
    (bytes) make creates beyond either, and growths beyond the size quota, answer 403
    ``quotas_exceeded``.
    ``clock`` (seconds since the epoch, default ``time.time``; see :class:`ManualClock`;
    checked on assignment) dates everything and drives every Block transition; the rate
    limiter runs on real time, plus the time a test's virtual clock (trio's
    ``MockClock``, an asyncio loop on virtual time) moves on while in-process requests
    are made under it. :attr:`block` holds the Block helpers.

    Thread-safe: the TCP server runs in its own thread while tests poke at the state.
    """

    latency = Seconds()
    block_create_time = Seconds()
    block_resize_time = Seconds()
    block_snapshot_time = Seconds()
    block_delete_time = Seconds()
    block_deleted_retention = Seconds()
    block_quota_volumes = Limit()
    block_quota_size = Limit()

    def __init__(
        self,
        token: str | None = FAKE_TOKEN,
        *,
        zone: str = "fr-par-1",
        organization: str = FAKE_ORGANIZATION,
        legacy: bool = False,
        latency: float = 0.0,
        rate_limit: float | None = None,
        rate_burst: int | None = None,
        block_create_time: float = 0.0,
        block_resize_time: float = 0.0,
        block_snapshot_time: float = 0.0,
        block_delete_time: float = 0.0,
        block_deleted_retention: float = 60.0,
        block_quota_volumes: int | None = None,
        block_quota_size: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.token = token
        self.zone = zone
        self.organization = organization
        self.legacy = legacy
        self.latency = latency
        #: Set to False to stop recording requests in :attr:`stats` (long benchmark runs).
        self.record_requests = True
        self.faults: list[Fault] = []
        # Reentrant: a request acts under it (``_complete``), and the stores take it too.
        self._lock = threading.RLock()
        self.stats = Stats(self._lock)
        self.clock = time.time if clock is None else clock
        self.block_create_time = block_create_time
        self.block_resize_time = block_resize_time
        self.block_snapshot_time = block_snapshot_time
        self.block_delete_time = block_delete_time
        self.block_deleted_retention = block_deleted_retention
        self.block_quota_volumes = block_quota_volumes
        self.block_quota_size = block_quota_size
        self._block_store = BlockStore(self, self._lock)
        #: Helpers to arrange and inspect the Block Storage state (see FakeBlockStorage).
        self.block = FakeBlockStorage(self._block_store)
        self._instance = InstanceVolumes(self)
        self._volumes: dict[str, dict[str, Any]] = {}
        # Rendered JSON per volume id; dropped whenever the volume changes.
        self._rendered: dict[str, bytes] = {}
        self._rendered_legacy: dict[str, bytes] = {}
        self._bucket = RateBucket(RateClock())
        self.rate_limit = rate_limit
        self.rate_burst = rate_burst
        # Bumped by reset(): a request that arrived before it is never applied.
        self._generation = 0
        # In-process completions waiting in timer threads (their clients gave up).
        self._timers: set[threading.Timer] = set()

    # -- configuration -------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        """The only accepted ``X-Auth-Token``; ``None`` accepts any non-empty one."""
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"token must be a string or None, not {value!r}")
        if value == "":
            raise ValueError("token must not be empty: None accepts any token")
        self._token = value

    @property
    def zone(self) -> str:
        """The zone of :attr:`base_url`, of the seed's paths and of the helpers' resources."""
        return self._zone

    @zone.setter
    def zone(self, value: str) -> None:
        self._zone = check_zone(value)

    @property
    def clock(self) -> Clock:
        """Seconds since the epoch: dates and transitions follow it, rate limits do not."""
        return self._clock

    @clock.setter
    def clock(self, value: Clock) -> None:
        self._clock = check_clock(value)

    @property
    def rate_limit(self) -> float | None:
        """Sustained requests per second allowed before 429s (``None``: unlimited)."""
        return self._bucket.rate

    @rate_limit.setter
    def rate_limit(self, value: float | None) -> None:
        with self._lock:
            self._bucket.rate = value

    @property
    def rate_burst(self) -> int | None:
        """Token bucket capacity; ``None`` means ``max(1, int(rate_limit / 10))``."""
        return self._bucket.burst

    @rate_burst.setter
    def rate_burst(self, value: int | None) -> None:
        with self._lock:
            self._bucket.burst = value

    @property
    def rate_schedule(self) -> tuple[tuple[float, float], ...]:
        """``(seconds after the first request, rate)`` steps that change ``rate_limit``.

        May be set as the command line's ``"3:50,6:100"`` too. ``rate_phases()`` tells the
        requests and 429s of each step.
        """
        return self._bucket.schedule

    @rate_schedule.setter
    def rate_schedule(self, steps: Iterable[tuple[float, float]] | str) -> None:
        with self._lock:
            self._bucket.schedule = steps

    def _capacity(self) -> float:
        return self._bucket.capacity

    def rate_phases(self) -> list[Phase]:
        """Requests and 429s counted per step of the rate schedule (one step without one)."""
        with self._lock:
            return [attrs.evolve(phase) for phase in self._bucket.phases]

    @property
    def base_url(self) -> str:
        """Base URL of the in-process transport, in the path shape of this fake's mode."""
        if self.legacy:
            return IN_PROCESS_ROOT
        return f"{IN_PROCESS_ROOT}/instance/v1/zones/{self.zone}"

    @property
    def block_base_url(self) -> str:
        """Base URL of the Block Storage API on the in-process transport (any mode)."""
        return f"{IN_PROCESS_ROOT}/block/v1/zones/{self.zone}"

    # -- transports ----------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """Return an httpx transport that calls the fake directly (asyncio or trio, no socket)."""
        from ._inprocess import InProcessTransport

        return InProcessTransport(self)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """Return an ``httpx.AsyncClient`` wired to the in-process transport.

        Unless given in ``kwargs``, ``base_url`` defaults to :attr:`base_url` and the
        ``X-Auth-Token`` header to the fake's token; other kwargs go to ``AsyncClient``.
        """
        kwargs.setdefault("base_url", self.base_url)
        headers = httpx.Headers(kwargs.pop("headers", None))
        if "x-auth-token" not in headers:
            headers["X-Auth-Token"] = self.token if self.token is not None else "any-token"
        return httpx.AsyncClient(transport=self.transport(), headers=headers, **kwargs)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
        """Start a real HTTP/1.1 server on ``host:port`` (0: any free port) in a thread.

        Returns once it listens. Close it with ``close()`` or use it as a (sync or async)
        context manager. ``host`` must not be empty (``ValueError``): give ``"0.0.0.0"``
        or ``"::"`` to listen on every interface.
        """
        from ._server import FakeServer

        return FakeServer(self, host, port)

    # -- direct state access -------------------------------------------------------------

    def add_volume(
        self,
        name: str = "x",
        size: int = 10_000_000_000,
        volume_type: str = "l_ssd",
        tags: Iterable[str] = (),
        server: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Store an Instance volume without going through the API; return a copy of its JSON.

        ``tags`` is an iterable of strings (a lone string is a ``TypeError``, not split into
        letters). ``server`` is a server name to attach the volume to. ``overrides`` replace
        any other volume field (``id``, ``organization``, ``project``, ``state``,
        ``creation_date``...).
        Any ``volume_type`` is stored, ``b_ssd`` included (volumes made before 2025 exist).
        """
        return self._instance.add(name, size, volume_type, tags, server, overrides)

    def attach(self, volume_id: str, server_name: str = "srv-1") -> None:
        """Mark an Instance volume as attached to the server named ``server_name``."""
        self._instance.set_server(volume_id, server_summary(server_name))

    def detach(self, volume_id: str) -> None:
        """Mark an Instance volume as attached to no server."""
        self._instance.set_server(volume_id, None)

    @property
    def volumes(self) -> list[dict[str, Any]]:
        """Copies of every stored Instance volume (full JSON) in creation order."""
        return self._instance.all()

    def get(self, volume_id: str) -> dict[str, Any] | None:
        """A copy of the stored Instance volume ``volume_id``, or ``None``."""
        return self._instance.get(volume_id)

    def add_fault(self, fault: Fault) -> Fault:
        """Script ``fault`` (checked after the faults added before it) and return it."""
        if not isinstance(fault, Fault):
            raise TypeError(f"add_fault takes a Fault, not {fault!r}")
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every scripted fault."""
        with self._lock:
            self.faults.clear()

    def reset(self) -> None:
        """Forget volumes and snapshots of both APIs, faults and stats, and refill the rate
        limiter's bucket. Settings (times, quotas, clock, token...) are kept.

        A request still waiting out a delay before acting (a fault's or ``latency``) is
        forgotten too: it is never applied and its connection closes unanswered. One whose
        in-process client already gave up stops counting in ``stats.in_flight`` at once;
        the others when their delay ends.
        """
        with self._lock:
            self._generation += 1
            forgotten = list(self._timers)
            self._timers.clear()
            # Their completion will not run: they end here, as dropped requests.
            self.stats.in_flight -= len(forgotten)
            self._block_store.clear()
            self._instance.clear()
            self.faults.clear()
            self._bucket.refill()
        for timer in forgotten:
            timer.cancel()
        self.stats.reset()

    # -- request pipeline (called by the transports) -------------------------------------

    def _begin(self, request: RecordedRequest) -> Pending:
        """Record a fully read request and decide its fault, throttling and initial delay.

        The request is in flight from this call on, even if it raises (a bug of the fake):
        the transport ends it with one call of :meth:`_done` either way.
        """
        stats = self.stats
        fault = None
        early = None
        with self._lock:
            stats.in_flight += 1
            if stats.in_flight > stats.max_in_flight:
                stats.max_in_flight = stats.in_flight
            generation = self._generation
            if self.record_requests:
                stats.requests.append(request)
            for candidate in self.faults:
                if candidate.remaining != 0 and candidate.matches(request):
                    fault = candidate
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    break
            if fault is None and not self._bucket.take():
                stats.throttled += 1
                early = _THROTTLED
        delay = self.latency
        if fault is not None and fault.action != "act_then_delay":
            delay += fault.delay
        return Pending(request, fault, early, delay, generation)

    def _complete(self, pending: Pending, root: str) -> Outcome:
        """Act on a request whose initial delay is over; ``root`` is ``scheme://host``."""
        # Under the lock from the check to the act: a reset() from the test's thread
        # comes before (the request is forgotten) or after (its work is cleared).
        with self._lock:
            if pending.generation != self._generation:
                # reset() came during its delay: it belongs to a test that is over.
                return Outcome(None)
            if pending.early is not None:
                return Outcome(pending.early)
            fault = pending.fault
            if fault is None:
                return Outcome(self._dispatch(pending.request, root))
            return outcome_of(fault, lambda: self._dispatch(pending.request, root))

    def _done(self, status: int | None) -> None:
        """Account for a request whose answer was sent (``status``) or dropped (``None``)."""
        with self._lock:
            self.stats.in_flight -= 1
            if status is not None:
                self.stats.statuses[status] += 1

    def _defer(self, delay: float, finish: Callable[[], None]) -> None:
        """Call ``finish`` (which acts and calls :meth:`_done`) in a timer thread after
        ``delay`` seconds, unless :meth:`reset` comes first and ends the request itself."""

        def run() -> None:
            with self._lock:
                if timer not in self._timers:
                    return  # reset() took it over
                self._timers.discard(timer)
            finish()

        timer = threading.Timer(delay, run)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _connection(self, delta: int) -> None:
        with self._lock:
            if delta > 0:
                self.stats.connections_opened += 1
            self.stats.open_connections += delta

    # -- the APIs ------------------------------------------------------------------------

    def _dispatch(self, request: RecordedRequest, root: str) -> Response:
        supplied = request.headers.get("x-auth-token")
        if not supplied or (self.token is not None and supplied != self.token):
            return shapes.AUTH_DENIED
        path = request.path
        for api_prefix in (_BLOCK_PREFIX, _INSTANCE_PREFIX):
            if path.startswith(api_prefix):
                # Each zone has its own resources: those created under its path.
                zone, sep, tail = path[len(api_prefix) :].partition("/")
                if not zone or not sep:
                    return shapes.unknown_path(path)
                if api_prefix == _BLOCK_PREFIX:
                    return BlockRoutes(self._block_store, zone).dispatch(request, tail)
                prefix = path[: len(api_prefix) + len(zone) + 1]
                return self._instance.dispatch(request, root, prefix, tail, zone)
        if not path.startswith("/"):
            return shapes.unknown_path(path)
        # The seed's paths name no zone: they reach the fake's own.
        return self._instance.dispatch(request, root, "/", path[1:], self.zone)
