"""Value types shared by the fake's state machine and its two transports."""

from __future__ import annotations

import collections
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any, Protocol, overload

from ._values import checked_headers

__all__ = [
    "ACTIONS",
    "Fault",
    "ManualClock",
    "RecordedRequest",
    "Stats",
    "check_zone",
]

#: Every action a :class:`Fault` can take.
ACTIONS = frozenset(
    {
        "respond",
        "drop",
        "act_then_drop",
        "act_then_error",
        "delay",
        "act_then_delay",
        "malformed",
        "truncate",
        "slow_drip",
    }
)

DEFAULT_ERROR_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
DEFAULT_MALFORMED = b'{"volume": {"id": '

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One HTTP request as the fake received it.

    ``path`` is the raw (still percent-encoded) path without the query string, ``query``
    the raw query string (no leading ``?``), ``headers`` maps lower-case names to values
    (repeated headers joined with ``", "``), ``transport`` is ``"tcp"`` or ``"inprocess"``.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    transport: str

    def json(self) -> Any:
        """Return the request body parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.body)


def seconds_value(name: str, value: object) -> float:
    """``value`` as a duration: TypeError unless a number, ValueError unless finite and >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {value!r}")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    return float(value)


def whole_value(name: str, value: object, low: int) -> int:
    """``value`` as an int >= ``low``: TypeError unless an int (bools are not), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, not {value!r}")
    return value


def check_zone(zone: object) -> str:
    """``zone`` if a path can name it (a non-empty string without ``/``), else an error."""
    if not isinstance(zone, str):
        raise TypeError(f"zone must be a string, not {zone!r}")
    if not zone or "/" in zone:
        raise ValueError(f"zone must be a non-empty name without '/' (fr-par-1...), not {zone!r}")
    return zone


#: The fields of a Fault that say what it does (read-only once it is made).
_FAULT_SETTINGS = frozenset(
    {"action", "method", "path", "body_contains", "times", "status", "body", "headers"}
    | {"delay", "chunk", "interval"}
)


@dataclass(eq=False)
class Fault:
    """A scripted misbehaviour for requests that match ``method``, ``path`` and ``body_contains``.

    ``path`` is a regular expression searched (``re.search``) in the request path without
    its query string; ``method`` is compared case-insensitively; ``body_contains`` (``str``
    or ``bytes``) must be a substring of the raw request body. A fault fires at most
    ``times`` times (an int >= 0; ``None`` means forever); ``remaining`` counts down and
    ``hits`` counts up as it fires. Faults are checked in insertion order before
    authentication and rate limiting, so a matching fault always gets its scripted
    behaviour (and is never throttled).

    ``delay`` is slept before acting for every action except ``"act_then_delay"``, where it
    is slept after acting, before the response is sent. ``status`` (100 to 599)/``body``/
    ``headers`` shape the answer of ``"respond"`` and ``"act_then_error"`` (a ``dict`` body
    is sent as JSON; ``headers`` maps ``str`` names to ``str`` values, kept as a copy);
    ``body`` is the raw payload of ``"malformed"``; ``chunk`` (an int >= 1)/``interval``
    pace ``"slow_drip"``. ``delay`` and ``interval`` are finite seconds >= 0.

    A value the fake could not act on is a ``TypeError`` or ``ValueError`` here, not a
    fault that misbehaves later. The settings above are read-only once the fault is made
    (``AttributeError``): make a changed copy with ``dataclasses.replace(fault, times=3)``
    (fresh counters) and add it instead. ``remaining`` may still be set, e.g. to 0 to
    disarm the fault.
    """

    action: str
    method: str | None = None
    path: str | None = None
    body_contains: str | bytes | None = None
    times: int | None = 1
    status: int = 502
    body: bytes | str | dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    delay: float = 0.0
    chunk: int = 1
    interval: float = 0.05
    remaining: int | None = field(init=False, default=None)
    hits: int = field(init=False, default=0)
    _path_re: re.Pattern[str] | None = field(init=False, default=None, repr=False)
    _needle: bytes | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; expected one of {ACTIONS}")
        for name in ("method", "path"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string or None, not {value!r}")
        if self.body_contains is not None and not isinstance(self.body_contains, (str, bytes)):
            raise TypeError(f"body_contains must be str, bytes or None, not {self.body_contains!r}")
        if self.times is not None:
            whole_value("times", self.times, 0)
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise TypeError(f"status must be an int, not {self.status!r}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status (100 to 599), not {self.status!r}")
        if self.body is not None and not isinstance(self.body, (bytes, str, dict)):
            raise TypeError(f"body must be bytes, str, dict or None, not {self.body!r}")
        if self.headers is not None:
            # A copy: a later change to the caller's dict would skip these checks.
            self.headers = checked_headers(self.headers)
        seconds_value("delay", self.delay)
        seconds_value("interval", self.interval)
        whole_value("chunk", self.chunk, 1)
        self.remaining = self.times
        if self.path is not None:
            try:
                self._path_re = re.compile(self.path)
            except re.error as exc:
                raise ValueError(f"path is not a valid regular expression: {exc}") from None
        if isinstance(self.body_contains, str):
            self._needle = self.body_contains.encode()
        else:
            self._needle = self.body_contains
        if self.method is not None:
            self.method = self.method.upper()
        # From here on the settings are fixed: _path_re and _needle are derived from them.
        self.__dict__["_sealed"] = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FAULT_SETTINGS and self.__dict__.get("_sealed", False):
            raise AttributeError(
                f"Fault.{name} cannot change once the fault is made: add "
                f"dataclasses.replace(fault, {name}=...) instead (and remove this one)"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in _FAULT_SETTINGS:
            raise AttributeError(f"Fault.{name} cannot be deleted")
        object.__delattr__(self, name)

    def matches(self, request: RecordedRequest) -> bool:
        """Tell whether this fault would fire for ``request`` (ignores ``remaining``)."""
        if self.method is not None and request.method.upper() != self.method:
            return False
        if self._path_re is not None and self._path_re.search(request.path) is None:
            return False
        return self._needle is None or self._needle in request.body


class Stats:
    """Counters of what the fake saw and sent, shared by both transports.

    ``open_connections`` and ``in_flight`` are gauges of the present and survive
    :meth:`reset` (the fake's ``reset()`` ends at once the in-process requests it forgets
    whose client already gave up); everything else starts again from zero.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.connections_opened = 0
        self.open_connections = 0
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.statuses: collections.Counter[int] = collections.Counter()
        self.throttled = 0

    def reset(self) -> None:
        """Forget recorded requests and zero the counters (the gauges keep their values)."""
        with self._lock:
            self.connections_opened = 0
            self.requests = []
            self.max_in_flight = self.in_flight
            self.statuses = collections.Counter()
            self.throttled = 0

    def __repr__(self) -> str:
        return (
            f"Stats(connections_opened={self.connections_opened}, "
            f"open_connections={self.open_connections}, requests={len(self.requests)}, "
            f"in_flight={self.in_flight}, max_in_flight={self.max_in_flight}, "
            f"statuses={dict(self.statuses)}, throttled={self.throttled})"
        )


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: tuple[tuple[str, str], ...] = ()


NORMAL, TRUNCATE, DRIP = 0, 1, 2


@dataclass(slots=True)
class Outcome:
    # response None means: close the connection without answering.
    response: Response | None
    post_delay: float = 0.0
    mode: int = NORMAL
    chunk: int = 1
    interval: float = 0.0


@dataclass(slots=True)
class Pending:
    request: RecordedRequest
    fault: Fault | None
    early: Response | None
    pre_delay: float
    # The fake's reset count when the request arrived: reset() forgets older requests.
    generation: int = 0


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def json_response(status: int, obj: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, dumps(obj), JSON, headers)


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """Current time as an RFC 7231 ``Date`` value, formatted at most once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def iso_timestamp(seconds: float) -> str:
    """``seconds`` since the epoch as the Instance API writes dates (``...123456+00:00``)."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="microseconds")


def rfc3339(seconds: float) -> str:
    """``seconds`` since the epoch as the Block API writes dates (``...123456Z``)."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ManualClock:
    """A clock that moves only when told to, for deterministic state-machine tests.

    Pass it as ``FakeScaleway(clock=...)``: every timestamp the fake writes and every
    state transition it computes then follows this clock instead of the wall clock::

        clock = ManualClock()
        fake = FakeScaleway(clock=clock, block_create_time=5)
        ...                      # a created Block volume stays "creating"
        clock.advance(5)         # ...and is "available" from now on

    ``start`` is in seconds since the epoch (default: the current time); it and every
    step must be finite (``ValueError`` otherwise).
    """

    def __init__(self, start: float | None = None) -> None:
        now = time.time() if start is None else float(start)
        if not math.isfinite(now):
            raise ValueError(f"start must be a finite number of seconds, not {start!r}")
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (finite, never backwards)."""
        self.now += seconds_value("seconds", seconds)

    def __repr__(self) -> str:
        return f"ManualClock({self.now!r})"


Clock = Callable[[], float]


class Seconds:
    """A class attribute holding a duration in seconds, checked on every assignment."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name
        self._slot = "_" + name

    @overload
    def __get__(self, obj: None, objtype: type) -> Seconds: ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> float: ...
    def __get__(self, obj: object, objtype: type | None = None) -> float | Seconds:
        if obj is None:
            return self
        value: float = getattr(obj, self._slot)
        return value

    def __set__(self, obj: object, value: float) -> None:
        setattr(obj, self._slot, seconds_value(self._name, value))


class Limit:
    """A class attribute holding a non-negative integer or ``None`` (no limit)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name
        self._slot = "_" + name

    @overload
    def __get__(self, obj: None, objtype: type) -> Limit: ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> int | None: ...
    def __get__(self, obj: object, objtype: type | None = None) -> int | Limit | None:
        if obj is None:
            return self
        value: int | None = getattr(obj, self._slot)
        return value

    def __set__(self, obj: object, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{self._name} must be an int or None, not {value!r}")
        if value is not None and value < 0:
            raise ValueError(f"{self._name} must be >= 0 or None, not {value!r}")
        setattr(obj, self._slot, value)


class Handler(Protocol):
    """What the transports (in-process and TCP) need of a fake: its five hooks.

    ``FakeScaleway`` implements it; the transports depend on this protocol, not
    on the fake's module, so the fake can build them without an import cycle.
    A request is in flight from the call of ``_begin`` (even one that raises) until the
    transport's one call of ``_done``, or until ``reset()`` drops a ``_defer``-ed one.
    """

    legacy: bool
    zone: str

    def _begin(self, request: RecordedRequest) -> Pending: ...

    def _complete(self, pending: Pending, root: str) -> Outcome: ...

    def _done(self, status: int | None) -> None: ...

    def _defer(self, delay: float, finish: Callable[[], None]) -> None: ...

    def _connection(self, delta: int) -> None: ...
