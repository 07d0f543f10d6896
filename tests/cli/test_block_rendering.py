"""Pure pieces of the Block commands and the demo: prices, request kinds, the report."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import Money
from scaleway_volumes.cli._block_output import price
from scaleway_volumes.cli._demo_report import KINDS, DemoReport, request_kind
from scaleway_volumes.testing import FakeScaleway, RecordedRequest

from .conftest import Invoker

GB = 10**9


@given(st.integers(0, 10**6), st.integers(0, 10**9 - 1), st.sampled_from(["EUR", "USD"]))
def test_price_is_the_exact_amount(units: int, nanos: int, currency: str) -> None:
    """The text reads back as the exact amount, in plain digits, with its currency."""
    money = Money(currency, units=units, nanos=nanos)
    text = price(money)
    amount, shown_currency = text.split(" ")
    assert Decimal(amount) == money.amount
    assert "E" not in amount and shown_currency == currency
    assert price(None) == "-"


paths = st.sampled_from(
    [
        "/block/v1/zones/fr-par-1/volumes",
        "/block/v1/zones/fr-par-1/volumes/0f0e",
        "/block/v1/zones/fr-par-1/snapshots",
        "/block/v1/zones/fr-par-1/snapshots/0f0e",
        "/block/v1/zones/fr-par-1/volume-types",
    ]
)
queries = st.sampled_from(["", "page=1", "volume_ids=a&volume_ids=b&page_size=100", "name=x"])
methods = st.sampled_from(["GET", "POST", "PATCH", "DELETE"])


@given(methods, paths, queries)
def test_request_kinds(method: str, path: str, query: str) -> None:
    """Each request has one kind; polls are volume lists by id, creates volume POSTs."""
    request = RecordedRequest(method, path, query, {}, b"", "tcp")
    kind = request_kind(request)
    assert kind in KINDS
    collection = path.endswith("/volumes")
    assert (kind == "create") == (method == "POST" and collection)
    assert (kind == "poll") == (method == "GET" and collection and "volume_ids=" in query)
    assert (kind == "delete") == (method == "DELETE")


@given(
    st.integers(1, 5),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 1),
    st.integers(0, 1),
    st.integers(0, 2),
)
def test_report_ok_only_when_everything_went_through(
    count: int, created: int, deleted: int, snapshots: int, resized: int, failed: int
) -> None:
    """ok means: all created, listed and deleted, one snapshot made and deleted, one resize."""
    report = DemoReport(count=count, size=GB, settle_time=0.0)
    report.created = report.listed = created
    report.deleted, report.snapshots, report.deleted_snapshots = deleted, snapshots, snapshots
    report.resized, report.failed = resized, failed
    expected = created == deleted == count and snapshots == resized == 1 and failed == 0
    assert report.ok == expected
    assert report.as_dict()["ok"] == expected


def test_report_counts_what_the_fake_received() -> None:
    """The JSON's requests add up by kind; a phase not run shows as such."""
    received = [
        RecordedRequest("POST", "/block/v1/zones/z/volumes", "", {}, b"", "tcp"),
        RecordedRequest("GET", "/block/v1/zones/z/volumes", "volume_ids=a", {}, b"", "tcp"),
        RecordedRequest("DELETE", "/block/v1/zones/z/volumes/a", "", {}, b"", "tcp"),
    ]
    report = DemoReport(count=1, size=GB, settle_time=0.2)
    report.count_requests(received)
    shown = report.as_dict()
    assert shown["requests"] == 3
    assert shown["requests_by_kind"] == {"create": 1, "poll": 1, "list": 0, "delete": 1, "other": 0}
    assert "snapshot    0 taken and available (not run)" in report.lines()


def test_record_shows_references_one_per_line(invoke: Invoker, fake: FakeScaleway) -> None:
    """`block get` of an attached volume shows its reference's fields; none shows '-'."""
    volume = fake.block.add_volume("db", 20 * GB)
    fake.block.add_reference(volume["id"])
    snapshot = fake.block.add_snapshot(volume["id"], "snap")
    shown = invoke.remote("block", "get", volume["id"]).stdout
    [line] = [line for line in shown.splitlines() if "references" in line]
    assert "product_resource_type=instance_server" in line and "type=exclusive" in line
    shown = invoke.remote("block", "snapshot", "get", snapshot["id"]).stdout
    [line] = [line for line in shown.splitlines() if "references" in line]
    assert line.split("│")[2].strip() == "-"
