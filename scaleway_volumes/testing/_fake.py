"""The in-memory Scaleway Instance Volumes API: state, validation and fault scripting."""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import attrs
import httpx

from ._bucket import Phase, RateBucket
from ._core import (
    DEFAULT_ERROR_PAGE,
    DEFAULT_MALFORMED,
    DRIP,
    JSON,
    TRUNCATE,
    Fault,
    Outcome,
    Pending,
    RecordedRequest,
    Response,
    Stats,
    dumps,
    json_response,
)

if TYPE_CHECKING:
    from ._server import FakeServer

__all__ = ["FAKE_ORGANIZATION", "FakeScaleway"]

#: Organization (and default project) id that owns volumes unless told otherwise.
FAKE_ORGANIZATION = "11111111-2222-4333-8444-555555555555"

IN_PROCESS_ROOT = "http://fake.scaleway.invalid"

VOLUME_TYPES = frozenset({"l_ssd", "b_ssd", "sbs_volume", "scratch"})
MIN_SIZE = 1_000_000_000
MAX_SIZE = 10_000_000_000_000
LEGACY_FIELDS = ("export_uri", "id", "name", "organization", "server", "size", "volume_type")
VOLUME_FIELDS = frozenset(
    {
        "id",
        "name",
        "size",
        "volume_type",
        "organization",
        "project",
        "export_uri",
        "server",
        "state",
        "tags",
        "zone",
        "creation_date",
        "modification_date",
    }
)
CREATE_KEYS = frozenset(
    {"name", "size", "volume_type", "organization", "project", "tags"}
    | {"base_snapshot", "base_volume"}
)
UPDATE_KEYS = frozenset({"name", "size", "tags"})

_UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_ZONES_PREFIX = "/instance/v1/zones/"
# Servers get stable ids so that attaching twice to "srv-1" names the same server.
_SERVER_NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")

_AUTH_DENIED = json_response(
    401,
    {
        "type": "invalid_auth",
        "message": "authentication is denied",
        "method": "api_key",
        "reason": "invalid_argument",
    },
)
_THROTTLED = json_response(429, {"message": "rate limit exceeded", "type": "too_many_requests"})
_STILL_IN_USE = json_response(
    412,
    {
        "type": "precondition_failed",
        "precondition": "resource_still_in_use",
        "message": "resource is still in use",
        "help_message": "detach the volume from its server first",
    },
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _is_uuid(value: object) -> bool:
    return isinstance(value, str) and _UUID_RE.match(value) is not None


def _validation_error(fields: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "invalid_request_error", "message": "Validation Error"}
    if fields is not None:
        body["fields"] = fields
    return json_response(400, body)


def _not_found(volume_id: str, resource: str = "instance_volume") -> Response:
    return json_response(
        404,
        {
            "type": "unknown_resource",
            "message": f'"{volume_id}" not found',
            "resource": resource,
            "resource_id": volume_id,
        },
    )


def _method_not_allowed(method: str, allow: str) -> Response:
    return json_response(
        405,
        {"type": "method_not_allowed", "message": f"method {method} not allowed"},
        (("Allow", allow),),
    )


def _check_name(value: object, errors: dict[str, list[str]]) -> None:
    if not isinstance(value, str) or not value:
        errors["name"] = ["must be a non-empty string"]


def _check_size(value: object, errors: dict[str, list[str]]) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        errors["size"] = ["must be an integer"]
    elif value < MIN_SIZE:
        errors["size"] = [f"must be greater than or equal to {MIN_SIZE}"]
    elif value > MAX_SIZE:
        errors["size"] = [f"must be less than or equal to {MAX_SIZE}"]


def _check_tags(value: object, errors: dict[str, list[str]]) -> None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        errors["tags"] = ["must be a list of strings"]


def _parse_body(body: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    # Explicit nulls mean "not set", as for the real API's optional fields.
    return {k: v for k, v in obj.items() if v is not None}


class FakeScaleway:
    """An in-memory imitation of the Scaleway Instance Volumes API.

    Serve it in-process with :meth:`client`/:meth:`transport` (no sockets) or over real TCP
    with :meth:`serve`; both see the same volumes, faults and :attr:`stats`. Requests are
    accepted on ``/volumes[/{id}]`` and ``/instance/v1/zones/{zone}/volumes[/{id}]``.

    ``token`` is the only accepted ``X-Auth-Token`` (``None`` accepts any non-empty one).
    ``legacy=True`` renders volumes with the seven seed fields only. ``latency`` seconds are
    slept before every request is handled; ``rate_limit`` (requests per second, token bucket
    of ``rate_burst`` capacity) answers excess requests with a bare 429. ``latency``,
    ``rate_limit`` and ``rate_burst`` may be changed at any time.

    Thread-safe: the TCP server runs in its own thread while tests poke at the state.
    """

    def __init__(
        self,
        token: str | None = "fake-token",
        *,
        zone: str = "fr-par-1",
        organization: str = FAKE_ORGANIZATION,
        legacy: bool = False,
        latency: float = 0.0,
        rate_limit: float | None = None,
        rate_burst: int | None = None,
    ) -> None:
        self.token = token
        self.zone = zone
        self.organization = organization
        self.legacy = legacy
        self.latency = latency
        #: Set to False to stop recording requests in :attr:`stats` (long benchmark runs).
        self.record_requests = True
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self.stats = Stats(self._lock)
        self._volumes: dict[str, dict[str, Any]] = {}
        # Rendered JSON per volume id; dropped whenever the volume changes.
        self._rendered: dict[str, bytes] = {}
        self._rendered_legacy: dict[str, bytes] = {}
        self._bucket = RateBucket()
        self.rate_limit = rate_limit
        self.rate_burst = rate_burst

    # -- configuration -------------------------------------------------------------------

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

        ``rate_phases()`` tells the requests and 429s of each step.
        """
        return self._bucket.schedule

    @rate_schedule.setter
    def rate_schedule(self, steps: Iterable[tuple[float, float]]) -> None:
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
        context manager.
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
        """Store a volume without going through the API and return a copy of its JSON.

        ``server`` is a server name to attach the volume to. ``overrides`` replace any other
        volume field (``id``, ``organization``, ``project``, ``state``, ``creation_date``...).
        """
        unknown = set(overrides) - VOLUME_FIELDS
        if unknown:
            raise TypeError(f"unknown volume fields: {sorted(unknown)}")
        volume = self._new_volume(name, size, volume_type, list(tags), None, None)
        if server is not None:
            volume["server"] = self._server_summary(server)
        volume.update(overrides)
        with self._lock:
            self._volumes[volume["id"]] = volume
            self._forget(volume["id"])
        return copy.deepcopy(volume)

    def attach(self, volume_id: str, server_name: str = "srv-1") -> None:
        """Mark a volume as attached to the server named ``server_name``."""
        self._set_server(volume_id, self._server_summary(server_name))

    def detach(self, volume_id: str) -> None:
        """Mark a volume as attached to no server."""
        self._set_server(volume_id, None)

    def _set_server(self, volume_id: str, server: dict[str, str] | None) -> None:
        with self._lock:
            volume = self._volumes.get(volume_id)
            if volume is None:
                raise KeyError(volume_id)
            volume["server"] = server
            volume["modification_date"] = _now()
            self._forget(volume_id)

    @staticmethod
    def _server_summary(name: str) -> dict[str, str]:
        return {"id": str(uuid.uuid5(_SERVER_NS, name)), "name": name}

    @property
    def volumes(self) -> list[dict[str, Any]]:
        """Copies of every stored volume (full JSON) in creation order."""
        with self._lock:
            return copy.deepcopy(list(self._volumes.values()))

    def get(self, volume_id: str) -> dict[str, Any] | None:
        """A copy of the stored volume ``volume_id``, or ``None``."""
        with self._lock:
            volume = self._volumes.get(volume_id)
            return copy.deepcopy(volume) if volume is not None else None

    def add_fault(self, fault: Fault) -> Fault:
        """Script ``fault`` (checked after the faults added before it) and return it."""
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every scripted fault."""
        with self._lock:
            self.faults.clear()

    def reset(self) -> None:
        """Forget volumes, faults and stats, and refill the rate limiter's bucket."""
        with self._lock:
            self._volumes.clear()
            self._rendered.clear()
            self._rendered_legacy.clear()
            self.faults.clear()
            self._bucket.refill()
        self.stats.reset()

    # -- request pipeline (called by the transports) -------------------------------------

    def _begin(self, request: RecordedRequest) -> Pending:
        """Record a fully read request and decide its fault, throttling and initial delay."""
        stats = self.stats
        fault = None
        early = None
        with self._lock:
            if self.record_requests:
                stats.requests.append(request)
            stats.in_flight += 1
            if stats.in_flight > stats.max_in_flight:
                stats.max_in_flight = stats.in_flight
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
        return Pending(request, fault, early, delay)

    def _complete(self, pending: Pending, root: str) -> Outcome:
        """Act on a request whose initial delay is over; ``root`` is ``scheme://host``."""
        if pending.early is not None:
            return Outcome(pending.early)
        fault = pending.fault
        if fault is None:
            return Outcome(self._dispatch(pending.request, root))
        action = fault.action
        if action == "respond":
            return Outcome(self._scripted(fault, b""))
        if action == "drop":
            return Outcome(None)
        response = self._dispatch(pending.request, root)
        if action == "delay":
            return Outcome(response)
        if action == "act_then_drop":
            return Outcome(None)
        if action == "act_then_error":
            return Outcome(self._scripted(fault, DEFAULT_ERROR_PAGE))
        if action == "act_then_delay":
            return Outcome(response, post_delay=fault.delay)
        if action == "malformed":
            return Outcome(Response(response.status, _raw(fault.body), JSON, response.headers))
        if action == "truncate":
            return Outcome(response, mode=TRUNCATE)
        return Outcome(response, mode=DRIP, chunk=fault.chunk, interval=fault.interval)

    def _done(self, status: int | None) -> None:
        """Account for a request whose answer was sent (``status``) or dropped (``None``)."""
        with self._lock:
            self.stats.in_flight -= 1
            if status is not None:
                self.stats.statuses[status] += 1

    def _connection(self, delta: int) -> None:
        with self._lock:
            if delta > 0:
                self.stats.connections_opened += 1
            self.stats.open_connections += delta

    @staticmethod
    def _scripted(fault: Fault, default_body: bytes) -> Response:
        body = fault.body
        headers = tuple((fault.headers or {}).items())
        content_type: str | None
        if isinstance(body, dict):
            raw, content_type = dumps(body), JSON
        elif body is None:
            raw = default_body
            content_type = "text/html" if default_body else None
        else:
            raw = body.encode() if isinstance(body, str) else body
            content_type = "text/plain"
        if any(k.lower() == "content-type" for k, _ in headers):
            content_type = None
        return Response(fault.status, raw, content_type, headers)

    # -- the API itself ------------------------------------------------------------------

    def _dispatch(self, request: RecordedRequest, root: str) -> Response:
        supplied = request.headers.get("x-auth-token")
        if not supplied or (self.token is not None and supplied != self.token):
            return _AUTH_DENIED
        path = request.path
        if path.startswith(_ZONES_PREFIX):
            zone, sep, tail = path[len(_ZONES_PREFIX) :].partition("/")
            if not zone or not sep:
                return self._unknown_path(path)
            prefix = path[: len(_ZONES_PREFIX) + len(zone) + 1]
        elif path.startswith("/"):
            tail, prefix = path[1:], "/"
        else:
            return self._unknown_path(path)
        method = request.method
        if tail == "volumes":
            collection = prefix + "volumes"
            if method == "GET":
                return self._list(request, collection)
            if method == "POST":
                return self._create(request, root + collection)
            return _method_not_allowed(method, "GET, POST")
        if not tail.startswith("volumes/"):
            return self._unknown_path(path)
        volume_id = tail[8:]
        if not volume_id or "/" in volume_id:
            return self._unknown_path(path)
        if method not in ("GET", "PATCH", "DELETE"):
            return _method_not_allowed(method, "GET, PATCH, DELETE")
        if _UUID_RE.match(volume_id) is None:
            return _validation_error({"volume_id": ["must be a valid UUID"]})
        if method == "GET":
            with self._lock:
                if volume_id not in self._volumes:
                    return _not_found(volume_id)
                rendered = self._render(volume_id)
            return Response(200, b'{"volume":' + rendered + b"}")
        if method == "PATCH":
            return self._update(request, volume_id)
        with self._lock:
            volume = self._volumes.get(volume_id)
            if volume is None:
                return _not_found(volume_id)
            if volume["server"] is not None:
                return _STILL_IN_USE
            del self._volumes[volume_id]
            self._forget(volume_id)
        return Response(204, b"", None)

    @staticmethod
    def _unknown_path(path: str) -> Response:
        return json_response(404, {"type": "not_found", "message": f"path {path} not found"})

    def _render(self, volume_id: str) -> bytes:
        # Caller holds the lock.
        cache = self._rendered_legacy if self.legacy else self._rendered
        rendered = cache.get(volume_id)
        if rendered is None:
            volume = self._volumes[volume_id]
            if self.legacy:
                rendered = dumps({k: volume.get(k) for k in LEGACY_FIELDS})
            else:
                rendered = dumps(volume)
            cache[volume_id] = rendered
        return rendered

    def _forget(self, volume_id: str) -> None:
        self._rendered.pop(volume_id, None)
        self._rendered_legacy.pop(volume_id, None)

    def _new_volume(
        self,
        name: str,
        size: int,
        volume_type: str,
        tags: list[str],
        organization: str | None,
        project: str | None,
    ) -> dict[str, Any]:
        organization = organization or project or self.organization
        now = _now()
        return {
            "id": str(uuid.uuid4()),
            "name": name,
            "export_uri": None,
            "size": size,
            "volume_type": volume_type,
            "creation_date": now,
            "modification_date": now,
            "organization": organization,
            "project": project or organization,
            "tags": tags,
            "server": None,
            "state": "available",
            "zone": self.zone,
        }

    def _create(self, request: RecordedRequest, collection_url: str) -> Response:
        data = _parse_body(request.body)
        if data is None:
            return _validation_error()
        errors: dict[str, list[str]] = {}
        for key in data.keys() - CREATE_KEYS:
            errors[key] = ["unknown field"]
        _check_name(data.get("name"), errors)
        if "base_snapshot" in data or "base_volume" in data:
            # The fake has no snapshots, so whatever is referenced cannot exist.
            ref = "base_snapshot" if "base_snapshot" in data else "base_volume"
            if not _is_uuid(data[ref]):
                errors[ref] = ["must be a valid UUID"]
        else:
            _check_size(data.get("size"), errors)
        if data.get("volume_type") not in VOLUME_TYPES:
            errors["volume_type"] = [f"must be one of {', '.join(sorted(VOLUME_TYPES))}"]
        organization, project = data.get("organization"), data.get("project")
        if organization is None and project is None:
            errors["project"] = ["one of project or organization is required"]
        for key, value in (("organization", organization), ("project", project)):
            if value is not None and not _is_uuid(value):
                errors[key] = ["must be a valid UUID"]
        if "tags" in data:
            _check_tags(data["tags"], errors)
        if errors:
            return _validation_error(errors)
        if "base_snapshot" in data:
            return _not_found(data["base_snapshot"], "instance_snapshot")
        if "base_volume" in data:
            return _not_found(data["base_volume"], "instance_volume")
        volume = self._new_volume(
            data["name"],
            data["size"],
            data["volume_type"],
            list(data.get("tags", [])),
            organization,
            project,
        )
        volume_id = volume["id"]
        with self._lock:
            self._volumes[volume_id] = volume
            rendered = self._render(volume_id)
        return Response(
            201,
            b'{"volume":' + rendered + b"}",
            JSON,
            (("Location", f"{collection_url}/{volume_id}"),),
        )

    def _update(self, request: RecordedRequest, volume_id: str) -> Response:
        data = _parse_body(request.body)
        if data is None:
            return _validation_error()
        errors: dict[str, list[str]] = {}
        for key in data.keys() - UPDATE_KEYS:
            errors[key] = ["unknown field"]
        if "name" in data:
            _check_name(data["name"], errors)
        if "size" in data:
            _check_size(data["size"], errors)
        if "tags" in data:
            _check_tags(data["tags"], errors)
        with self._lock:
            volume = self._volumes.get(volume_id)
            if volume is None:
                return _not_found(volume_id)
            if "size" in data and "size" not in errors and data["size"] < volume["size"]:
                errors["size"] = ["volume size can only be increased"]
            if errors:
                return _validation_error(errors)
            for key in ("name", "size"):
                if key in data:
                    volume[key] = data[key]
            if "tags" in data:
                volume["tags"] = list(data["tags"])
            volume["modification_date"] = _now()
            self._forget(volume_id)
            rendered = self._render(volume_id)
        return Response(200, b'{"volume":' + rendered + b"}")

    def _list(self, request: RecordedRequest, collection: str) -> Response:
        params = parse_qsl(request.query, keep_blank_values=True)
        query = dict(params)
        errors: dict[str, list[str]] = {}
        page = _int_param(query, "page", 1, 1, None, errors)
        per_page = _int_param(query, "per_page", 50, 1, 100, errors)
        if errors:
            return _validation_error(errors)
        name = query.get("name")
        volume_type = query.get("volume_type")
        organization = query.get("organization")
        project = query.get("project")
        tags = [t for t in query["tags"].split(",") if t] if query.get("tags") else []
        start = (page - 1) * per_page
        with self._lock:
            matching = [
                volume_id
                for volume_id, v in self._volumes.items()
                if (name is None or name in v["name"])
                and (volume_type is None or v["volume_type"] == volume_type)
                and (organization is None or v["organization"] == organization)
                and (project is None or v["project"] == project)
                and all(t in v["tags"] for t in tags)
            ]
            chunk = [self._render(i) for i in matching[start : start + per_page]]
        total = len(matching)
        headers = [("X-Total-Count", str(total))]
        link = _link_header(collection, params, page, per_page, total)
        if link:
            headers.append(("Link", link))
        return Response(200, b'{"volumes":[' + b",".join(chunk) + b"]}", JSON, tuple(headers))


def _raw(body: bytes | str | dict[str, Any] | None) -> bytes:
    if body is None:
        return DEFAULT_MALFORMED
    if isinstance(body, dict):
        return dumps(body)
    return body.encode() if isinstance(body, str) else body


def _int_param(
    query: dict[str, str],
    key: str,
    default: int,
    low: int,
    high: int | None,
    errors: dict[str, list[str]],
) -> int:
    raw = query.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[key] = ["must be an integer"]
        return default
    if value < low:
        errors[key] = [f"must be greater than or equal to {low}"]
    elif high is not None and value > high:
        errors[key] = [f"must be less than or equal to {high}"]
    return value


def _link_header(
    collection: str, params: list[tuple[str, str]], page: int, per_page: int, total: int
) -> str:
    last = max(1, math.ceil(total / per_page))
    kept = [(k, v) for k, v in params if k not in ("page", "per_page")]

    def url(target: int) -> str:
        return f"{collection}?{urlencode([*kept, ('page', target), ('per_page', per_page)])}"

    links = []
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
        links.append(f'<{url(min(page - 1, last))}>; rel="previous"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    return ", ".join(links)
