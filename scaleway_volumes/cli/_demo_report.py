"""What the demo did, phase by phase, and the summary it prints (or ``--json``).

The request counts come from the fake's own record of what it received, sorted
by kind (``request_kind``): so the summary shows what the batched wait costs
(a few list requests for hundreds of volumes) from the server's side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scaleway_volumes.testing import RecordedRequest

from ._sizes import human_size

__all__ = ["KINDS", "DemoReport", "request_kind"]

KINDS = ("create", "poll", "list", "delete", "other")
"""The kinds of request the summary counts, in the order it shows them."""


def request_kind(request: RecordedRequest) -> str:
    """Which of ``KINDS`` a request the fake received is.

    ``create``: a volume create; ``poll``: a list of volumes by id (the bulk
    wait's batched poll); ``list``: any other volume listing; ``delete``: a
    volume or snapshot delete; ``other``: the rest (snapshot create, single
    reads of the waiters, the resize).
    """
    collection = request.path.endswith("/volumes")
    if request.method == "POST" and collection:
        return "create"
    if request.method == "GET" and collection:
        return "poll" if "volume_ids=" in request.query else "list"
    if request.method == "DELETE":
        return "delete"
    return "other"


@dataclass
class DemoReport:
    """What the demo did, filled in phase by phase; ``lines()`` renders the summary."""

    count: int
    size: int
    settle_time: float
    stage: str = "start"
    created: int = 0
    listed: int = 0
    snapshots: int = 0
    resized: int = 0
    resized_to: int = 0
    deleted: int = 0
    deleted_snapshots: int = 0
    failed: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    failed_phases: set[str] = field(default_factory=set)
    total: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    throttled_met: int = 0
    throttled_server: int = 0
    failures: list[tuple[Any, BaseException]] = field(default_factory=list)

    def count_requests(self, received: Iterable[RecordedRequest]) -> None:
        """Sort the requests the fake received by kind (see ``request_kind``)."""
        self.requests = Counter(request_kind(r) for r in received)

    @property
    def ok(self) -> bool:
        """True when every volume went through every phase and nothing failed."""
        everyone = self.count == self.created == self.listed == self.deleted
        one_each = self.snapshots == self.deleted_snapshots == self.resized == 1
        return not self.failed and everyone and one_each

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (what ``--json demo`` prints)."""
        return {
            "ok": self.ok,
            "count": self.count,
            "settle_time": self.settle_time,
            "created": self.created,
            "listed": self.listed,
            "snapshots": self.snapshots,
            "resized": self.resized,
            "resized_to": self.resized_to,
            "deleted": self.deleted,
            "deleted_snapshots": self.deleted_snapshots,
            "failed": self.failed,
            "seconds": {**self.phases, "total": self.total},
            "requests": sum(self.requests.values()),
            "requests_by_kind": {kind: self.requests[kind] for kind in KINDS},
            "connections": self.connections,
            "throttled": self.throttled_met,
            "server_throttled": self.throttled_server,
        }

    def _took(self, phase: str) -> str:
        if phase in self.failed_phases:
            return "(failed)"
        return f"in {self.phases[phase]:.2f} s" if phase in self.phases else "(not run)"

    def lines(self) -> list[str]:
        """The human summary, one fact per line."""
        took = self._took
        resize = ""
        if self.resized:
            resize = f"({human_size(self.size)} -> {human_size(self.resized_to)}) "
        polls = self.requests["poll"]
        per_volume = f" ({polls / self.created:.2f} per volume)" if self.created else ""
        by_kind = ", ".join(f"{self.requests[kind]} {kind}" for kind in KINDS)
        return [
            f"created     {self.created}/{self.count} Block volumes, available {took('create')}",
            f"waited      {polls} list requests watched them become available{per_volume}",
            f"listed      {self.listed} {took('list')}",
            f"snapshot    {self.snapshots} taken and available {took('snapshot')}",
            f"resized     {self.resized} {resize}{took('resize')}",
            f"deleted     {self.deleted}/{self.created} volumes and "
            f"{self.deleted_snapshots}/{self.snapshots} snapshot {took('delete')}",
            f"failed      {self.failed}",
            f"total       {self.total:.2f} s",
            f"requests    {sum(self.requests.values())}: {by_kind}",
            f"connections {self.connections} TCP connections opened",
            f"429s        {self.throttled_met} met by the bulk calls "
            f"({self.throttled_server} sent by the server, each request sent again)",
        ]
