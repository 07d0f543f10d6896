"""Bulk create/delete over loopback TCP: order, bounds, failures, pacing, cancellation.

Every test talks to a ``FakeScaleway`` served on 127.0.0.1 and checks the
server-side truth (volumes that exist, requests in flight, connections) as well
as what the caller sees.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import anyio
import httpx
import pytest

from scaleway_volumes import (
    APIConnectionError,
    AsyncVolumeAPI,
    BulkOperationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    Volume,
    VolumeSpec,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault, RecordedRequest

from ..waiting import cancel_once
from .conftest import ApiFactory

GB = 1_000_000_000
MARKER = "scaleway-volumes:create="
asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])


def make_specs(count: int, prefix: str = "bulk") -> list[VolumeSpec]:
    """``count`` valid specs named ``<prefix>-<i>``."""
    return [VolumeSpec(name=f"{prefix}-{i}", size=10 * GB) for i in range(count)]


def marker_of(volume: dict[str, Any]) -> str:
    """The duplicate-guard tag of a volume as the fake stores it."""
    (marker,) = [tag for tag in volume["tags"] if tag.startswith(MARKER)]
    return marker


def assert_no_duplicates(fake: FakeScaleway, names: list[str]) -> None:
    """The fake holds exactly one volume per name in ``names``, each with its own marker."""
    volumes = fake.volumes
    assert Counter(v["name"] for v in volumes) == Counter(names)
    marker_counts = Counter(marker_of(v) for v in volumes)
    assert len(marker_counts) == len(names) and set(marker_counts.values()) == {1}


def is_marker_lookup(request: RecordedRequest) -> bool:
    """Whether ``request`` is a list filtered by a duplicate-guard marker tag."""
    query = parse_qs(request.query)
    return request.method == "GET" and query.get("tags", [""])[0].startswith(MARKER)


async def wait_for_connections(fake: FakeScaleway, at_most: int, within: float = 3.0) -> int:
    """Poll until the fake has at most ``at_most`` open connections; return the count."""
    for _ in range(int(within / 0.02)):
        if fake.stats.open_connections <= at_most:
            break
        await anyio.sleep(0.02)  # the counter lives in the server's thread: poll it
    return fake.stats.open_connections


class Outcomes(dict[int, object]):
    """An ``on_item`` callback that keeps each item's outcome by input index."""

    def __call__(self, index: int, item: object, outcome: object) -> None:
        assert index not in self, f"item {index} reported twice"
        self[index] = outcome


def hold_back_after(fake: FakeScaleway, method: str, count: int, acted: int = 0) -> None:
    """Answer the first ``count`` ``method`` requests at once, and hold every later one
    back for good (30 s): the fake acts at once on the first ``acted`` of those, not at
    all on the others. At concurrency ``count``, once the fake has ``2 * count`` of
    them, ``count`` items are done and ``count`` in flight, and it stays so."""
    fake.add_fault(Fault("delay", method=method, times=count))  # no delay: answered
    if acted:
        fake.add_fault(Fault("act_then_delay", method=method, delay=30.0, times=acted))
    fake.add_fault(Fault("delay", method=method, delay=30.0, times=None))


async def cancel_once_received(
    fake: FakeScaleway, method: str, count: int, call: Callable[[], Awaitable[object]]
) -> None:
    """Run ``call()`` and cancel it once the fake has received ``count`` ``method``
    requests."""
    await cancel_once(lambda: sum(r.method == method for r in fake.stats.requests) >= count, call)


# -- results, order, failures -------------------------------------------------------------


@pytest.mark.anyio
async def test_create_volumes_all_succeed_in_input_order(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """Every spec becomes exactly one volume; ``succeeded`` follows the input order."""
    specs = make_specs(30)
    async with api() as client:
        result = await client.create_volumes(specs, concurrency=6)
    assert result.ok and result.failed == []
    assert [v.name for v in result.succeeded] == [s.name for s in specs]
    assert all(isinstance(v, Volume) and v.size == 10 * GB for v in result.succeeded)
    assert len({v.id for v in result.succeeded}) == 30
    assert {v.id for v in result.succeeded} == {v["id"] for v in fake.volumes}
    assert_no_duplicates(fake, [s.name for s in specs])
    result.raise_for_errors()


@pytest.mark.anyio
@pytest.mark.usefixtures("no_sleep")
async def test_concurrency_bound_holds_with_retries_and_checks(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """At most ``concurrency`` requests reach the server, retries and lookups included."""
    fake.latency = 0.02
    dropped = fake.add_fault(Fault("act_then_drop", method="POST", times=5))
    unavailable = fake.add_fault(Fault("respond", method="POST", status=503, times=5))
    specs = make_specs(100)
    async with api() as client:
        result = await client.create_volumes(specs, concurrency=8)
    assert result.ok, result.failed[:3]
    assert dropped.hits == 5 and unavailable.hits == 5
    lookups = [r for r in fake.stats.requests if r.method == "GET"]
    assert len(lookups) == 5 and all(is_marker_lookup(r) for r in lookups)
    assert 2 <= fake.stats.max_in_flight <= 8
    assert [v.name for v in result.succeeded] == [s.name for s in specs]
    assert_no_duplicates(fake, [s.name for s in specs])


@pytest.mark.anyio
async def test_partial_failure_is_recorded_per_item(fake: FakeScaleway, api: ApiFactory) -> None:
    """Refused specs and non-specs fail alone, in input order; the rest are created."""
    items: list[Any] = make_specs(10)
    items[2] = VolumeSpec(name="too-small-2", size=GB // 1000)
    items[5] = {"name": "not-a-spec", "size": 10 * GB}
    items[7] = VolumeSpec(name="too-small-7", size=1)
    async with api() as client:
        result = await client.create_volumes(items, concurrency=4)
    assert not result.ok
    assert [spec for spec, _ in result.failed] == [items[2], items[5], items[7]]
    errors = [error for _, error in result.failed]
    assert isinstance(errors[0], InvalidRequestError) and "size" in errors[0].fields
    assert isinstance(errors[1], TypeError)
    assert isinstance(errors[2], InvalidRequestError) and errors[2].status_code == 400
    good = [s for i, s in enumerate(items) if i not in (2, 5, 7)]
    assert [v.name for v in result.succeeded] == [s.name for s in good]
    assert_no_duplicates(fake, [s.name for s in good])
    with pytest.raises(BulkOperationError) as info:
        result.raise_for_errors()
    assert info.value.result is result
    assert "3 of 10" in str(info.value)


# -- laziness and progress ----------------------------------------------------------------


@pytest.mark.anyio
async def test_generator_input_is_pulled_lazily(fake: FakeScaleway, api: ApiFactory) -> None:
    """A generator is consumed at most ``concurrency`` items ahead of finished ones."""
    fake.latency = 0.01
    concurrency, count = 4, 40
    progress: list[tuple[int, int | None]] = []
    ahead: list[int] = []

    def specs() -> Iterator[VolumeSpec]:
        for i in range(count):
            # Items handed out so far, this one included, minus items finished.
            ahead.append(i + 1 - len(progress))
            yield VolumeSpec(name=f"lazy-{i}", size=10 * GB)

    def on_progress(done: int, total: int | None) -> None:
        progress.append((done, total))

    async with api() as client:
        result = await client.create_volumes(
            specs(), concurrency=concurrency, on_progress=on_progress
        )
    assert result.ok and [v.name for v in result.succeeded] == [f"lazy-{i}" for i in range(count)]
    assert progress == [(done, None) for done in range(1, count + 1)]
    assert len(ahead) == count and max(ahead) <= concurrency
    assert len(fake.volumes) == count


@pytest.mark.anyio
async def test_on_progress_reports_length_of_sized_input(api: ApiFactory) -> None:
    """``on_progress`` is called once per item with ``total`` the list's length."""
    progress: list[tuple[int, int | None]] = []
    specs: list[Any] = [*make_specs(11), "not a spec"]
    async with api() as client:
        result = await client.create_volumes(
            specs, concurrency=3, on_progress=lambda d, t: progress.append((d, t))
        )
    assert len(result.succeeded) == 11 and len(result.failed) == 1
    assert progress == [(done, 12) for done in range(1, 13)]


# -- delete -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_delete_volumes_mixed_inputs(fake: FakeScaleway, api: ApiFactory) -> None:
    """Ids and Volumes mix; missing ids succeed by default; an attached volume fails alone."""
    ids = [fake.add_volume(name=f"del-{i}")["id"] for i in range(5)]
    fake.attach(ids[3], "srv")
    missing = str(uuid.uuid4())
    async with api() as client:
        volume_1 = await client.get_volume(ids[1])
        volume_4 = await client.get_volume(ids[4])
        inputs: list[str | Volume] = [ids[0], volume_1, missing, ids[2], ids[3], volume_4]
        result = await client.delete_volumes(inputs, concurrency=3)
    assert result.succeeded == [ids[0], ids[1], missing, ids[2], ids[4]]
    ((item, error),) = result.failed
    assert item == ids[3]
    assert isinstance(error, ConflictError) and error.status_code == 412
    assert [v["id"] for v in fake.volumes] == [ids[3]]


@pytest.mark.anyio
async def test_delete_volumes_missing_not_ok(fake: FakeScaleway, api: ApiFactory) -> None:
    """With ``missing_ok=False`` a missing id is a ``NotFoundError`` failure; others go."""
    ids = [fake.add_volume(name=f"del-{i}")["id"] for i in range(4)]
    missing = [str(uuid.uuid4()), str(uuid.uuid4())]
    inputs = [ids[0], missing[0], ids[1], ids[2], missing[1], ids[3]]
    async with api() as client:
        result = await client.delete_volumes(inputs, concurrency=4, missing_ok=False)
    assert result.succeeded == ids
    assert [item for item, _ in result.failed] == missing
    assert all(isinstance(error, NotFoundError) for _, error in result.failed)
    assert fake.volumes == []


# -- rate limits --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_rate_limited_bulk_meets_few_429s(
    fake: FakeScaleway, api: ApiFactory, anyio_backend: str
) -> None:
    """Against a bare-429 bucket the API's limiter finds the rate: all succeed, few 429s.

    How close to the allowed rate it finishes is measured by benchmarks/ratelimit.py,
    not here (a shared machine makes wall-time asserts flaky).
    """
    specs = make_specs(300, "aimd")
    fake.rate_limit = 100  # bare 429, no Retry-After; a full bucket of 10 to start
    async with api() as client:
        started = time.monotonic()
        result = await client.create_volumes(specs, concurrency=50)
        wall = time.monotonic() - started
    print(
        f"\nAIMD {anyio_backend}: wall {wall:.2f} s for 300 creates at 100/s, "
        f"{result.throttled} x 429 (fake: {fake.stats.throttled})"
    )
    assert result.ok, result.failed[:3]
    assert [v.name for v in result.succeeded] == [s.name for s in specs]
    assert_no_duplicates(fake, [s.name for s in specs])
    # The limiter starts with a few requests in flight, so the first wave against
    # a bucket of 10 is small; once it has found the rate it meets only a handful.
    # (Before the limiter, the same call met 60-440 429s.)
    assert result.throttled < 60
    assert result.throttled == fake.stats.throttled
    assert fake.stats.statuses[201] == 300


# -- cancellation -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_cancelled_create_volumes_reports_every_started_item(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """Cancelled mid-way: stops, reports every started item, leaves no stray volume."""
    concurrency = 10
    async with api() as client:
        for round_ in range(2):
            reported = Outcomes()
            specs = make_specs(50, f"cancel{round_}")
            known = {v["id"] for v in fake.volumes}
            fake.stats.reset()
            # Cancelled with a first wave of creates done and a second in flight, half
            # of them made by the fake (the settle finds those), half not.
            fake.clear_faults()
            hold_back_after(fake, "POST", concurrency, acted=concurrency // 2)
            await cancel_once_received(
                fake,
                "POST",
                2 * concurrency,
                partial(client.create_volumes, specs, concurrency=concurrency, on_item=reported),
            )
            requests_at_return = len(fake.stats.requests)
            await anyio.sleep(0.5)  # anything the server was still working on lands
            assert len(fake.stats.requests) == requests_at_return, "a stray task kept sending"

            # Every item handed out was reported: finished, or in flight and settled.
            assert len(reported) == 2 * concurrency
            assert sorted(reported) == list(range(len(reported)))
            created = {o.id: o for o in reported.values() if isinstance(o, Volume)}
            unknown = [o for o in reported.values() if isinstance(o, APIConnectionError)]
            assert (len(created), len(unknown)) == (
                concurrency + concurrency // 2,
                concurrency // 2,
            )
            for error in unknown:
                assert error.outcome_unknown and (error.marker_tag or "").startswith(MARKER)
            # Every volume that exists was reported (or its marker was).
            new = [v for v in fake.volumes if v["id"] not in known]
            unknown_markers = {e.marker_tag for e in unknown}
            strays = [
                v for v in new if v["id"] not in created and marker_of(v) not in unknown_markers
            ]
            assert strays == []
            assert set(created) <= {v["id"] for v in new}
            # Only one POST per item reported, then nothing but marker lookups.
            methods = Counter(r.method for r in fake.stats.requests)
            assert set(methods) <= {"POST", "GET"}
            assert len(created) <= methods["POST"] <= len(reported)
            assert methods["GET"] <= concurrency
            assert all(is_marker_lookup(r) for r in fake.stats.requests if r.method == "GET")
            print(
                f"\ncancel create round {round_}: {len(reported)} reported, "
                f"{len(created)} as Volume, {len(unknown)} unknown, "
                f"{methods['GET']} settle lookups"
            )

            # Still usable, promptly; connections released rather than piling up.
            with anyio.fail_after(5):
                listed = await client.list_volumes(name=f"cancel{round_}-")
                assert {v.id for v in listed} == {v["id"] for v in new}
                if listed:
                    assert await client.get_volume(listed[0].id) == listed[0]
            assert await wait_for_connections(fake, 2 * concurrency + 1) <= 2 * concurrency + 1


@pytest.mark.anyio
async def test_cancel_settle_lookup_failure_still_cancels_cleanly(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """If the settle lookup fails, the call is still just cancelled; items say unknown
    and keep their marker tag."""
    reported = Outcomes()
    async with api() as client:
        fake.add_fault(Fault("respond", method="GET", status=400, times=None))
        # Cancelled with 10 creates done and 10 in flight.
        hold_back_after(fake, "POST", 10, acted=5)
        await cancel_once_received(
            fake,
            "POST",
            20,
            partial(client.create_volumes, make_specs(30), concurrency=10, on_item=reported),
        )
        assert sorted(reported) == list(range(20))
        unknown = [o for o in reported.values() if not isinstance(o, Volume)]
        assert len(unknown) == 10
        assert all(isinstance(o, APIConnectionError) and o.outcome_unknown for o in unknown)
        assert all(
            isinstance(o, APIConnectionError) and (o.marker_tag or "").startswith(MARKER)
            for o in unknown
        )
        fake.clear_faults()
        with anyio.fail_after(5):
            await client.list_volumes()


@pytest.mark.anyio
async def test_cancel_settle_lookups_take_bare_429s_as_flow_control(
    fake: FakeScaleway, api: ApiFactory, no_sleep: list[float]
) -> None:
    """A cancelled bulk create's settle lookups meet the same gateway limit as its
    creates: their bare 429s are resent at the limiter's pace, not spent as retries,
    so a volume made just before the cancel is still found, not reported "may exist"."""
    reported = Outcomes()
    async with api() as client:
        # Cancelled with one create done and one in flight, made by the fake.
        hold_back_after(fake, "POST", 1, acted=1)
        # More bare 429s than the retry policy's 3 retries.
        fake.add_fault(Fault("respond", method="GET", status=429, body=b"", times=5))
        await cancel_once_received(
            fake,
            "POST",
            2,
            partial(client.create_volumes, make_specs(8), concurrency=1, on_item=reported),
        )
    assert sorted(reported) == [0, 1]
    assert all(isinstance(o, Volume) for o in reported.values()), reported
    assert {o.id for o in reported.values()} == {v["id"] for v in fake.volumes}  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_cancelled_delete_volumes_reports_what_is_gone(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """Cancelled mid-way: every volume gone was reported deleted, failures still exist."""
    ids = [fake.add_volume(name=f"doomed-{i}")["id"] for i in range(50)]
    reported = Outcomes()
    async with api() as client:
        # Cancelled with 10 deletes done and 10 in flight, 5 of them acted on.
        hold_back_after(fake, "DELETE", 10, acted=5)
        await cancel_once_received(
            fake,
            "DELETE",
            20,
            partial(client.delete_volumes, ids, concurrency=10, on_item=reported),
        )
        requests_at_return = len(fake.stats.requests)
        await anyio.sleep(0.5)
        assert len(fake.stats.requests) == requests_at_return
        assert sorted(reported) == list(range(20))
        remaining = {v["id"] for v in fake.volumes}
        deleted = {o for o in reported.values() if isinstance(o, str)}
        assert deleted == set(ids) - remaining and len(deleted) == 15
        for index, outcome in reported.items():
            if isinstance(outcome, BaseException):
                assert ids[index] in remaining
        print(f"\ncancel delete: {len(reported)} reported, {len(deleted)} deleted")
        with anyio.fail_after(5):
            assert len(await client.list_volumes()) == len(remaining)


@pytest.mark.anyio
async def test_cancelled_delete_in_flight_is_not_reported_as_surely_kept(
    fake: FakeScaleway, api: ApiFactory
) -> None:
    """A cancelled DELETE that may still land is reported with ``outcome_unknown``."""
    ids = [fake.add_volume(name=f"slow-{i}")["id"] for i in range(20)]
    fake.add_fault(Fault("delay", method="DELETE", delay=0.5, times=None))
    reported = Outcomes()
    async with api() as client:
        # Cancelled with the first five DELETEs received, all of them held back.
        await cancel_once_received(
            fake,
            "DELETE",
            5,
            partial(client.delete_volumes, ids, concurrency=5, on_item=reported),
        )
    await anyio.sleep(0.8)  # the delayed DELETEs land
    remaining = {v["id"] for v in fake.volumes}
    errors = {ids[i]: o for i, o in reported.items() if isinstance(o, APIConnectionError)}
    assert errors
    for volume_id, error in errors.items():
        assert error.outcome_unknown or volume_id in remaining


# -- throughput ---------------------------------------------------------------------------


@pytest.mark.anyio
@asyncio_only
async def test_thousand_creates_reuse_connections(fake: FakeScaleway, api: ApiFactory) -> None:
    """1000 creates at concurrency 50 all succeed over at most 50 connections."""
    fake.latency = 0.02
    specs = make_specs(1000, "many")
    async with api() as client:
        started = time.monotonic()
        result = await client.create_volumes(specs, concurrency=50)
        wall = time.monotonic() - started
    ideal = 1000 / 50 * 0.02
    print(
        f"\n1000 creates: wall {wall:.3f} s, ideal {ideal:.2f} s, ratio {wall / ideal:.2f}, "
        f"{fake.stats.connections_opened} connections, max in flight {fake.stats.max_in_flight}"
    )
    assert result.ok and len(result.succeeded) == 1000
    assert fake.stats.connections_opened <= 50
    assert fake.stats.max_in_flight <= 50
    assert len(fake.volumes) == 1000


# -- arguments ----------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("concurrency", [0, -1, 1.5, True, "8"])
async def test_bad_concurrency_is_refused_before_any_request(
    fake: FakeScaleway, api: ApiFactory, concurrency: Any
) -> None:
    """A concurrency that is not an int >= 1 raises ``ValueError`` and sends nothing."""
    async with api() as client:
        with pytest.raises(ValueError, match="concurrency"):
            await client.create_volumes(make_specs(3), concurrency=concurrency)
        with pytest.raises(ValueError, match="concurrency"):
            await client.delete_volumes([str(uuid.uuid4())], concurrency=concurrency)
    assert fake.stats.requests == []


@pytest.mark.anyio
async def test_string_input_is_refused(fake: FakeScaleway, api: ApiFactory) -> None:
    """A string where an iterable of items belongs raises ``TypeError``, sending nothing."""
    volume_id = fake.add_volume()["id"]
    async with api() as client:
        with pytest.raises(TypeError):
            await client.create_volumes("spec")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await client.delete_volumes(volume_id)  # type: ignore[arg-type]
    assert fake.stats.requests == []
    assert fake.get(volume_id) is not None


# -- shared client ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_bulk_create_with_shared_client(
    fake: FakeScaleway, server: FakeServer, api: ApiFactory
) -> None:
    """A bulk call over a shared ``httpx.AsyncClient`` works and leaves it open."""
    specs = make_specs(40, "shared")
    async with httpx.AsyncClient() as shared:
        async with api(client=shared) as client:
            result = await client.create_volumes(specs, concurrency=8)
        assert result.ok and [v.name for v in result.succeeded] == [s.name for s in specs]
        assert not shared.is_closed
        response = await shared.get(
            f"{server.base_url}/volumes", headers={"X-Auth-Token": str(fake.token)}
        )
        assert response.status_code == 200
    assert_no_duplicates(fake, [s.name for s in specs])


@pytest.mark.anyio
async def test_shared_client_bound_and_reuse_across_apis(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Two APIs on one shared client each keep their own bulk bound."""
    fake.latency = 0.01
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    async with httpx.AsyncClient(limits=limits) as shared:
        first = AsyncVolumeAPI(
            fake.token, base_url=server.base_url, organization=fake.organization, client=shared
        )
        second = AsyncVolumeAPI(
            fake.token, base_url=server.base_url, organization=fake.organization, client=shared
        )
        results: list[Any] = [None, None]

        async def run(index: int, client: AsyncVolumeAPI) -> None:
            results[index] = await client.create_volumes(
                make_specs(30, f"api{index}"), concurrency=4
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, 0, first)
            tg.start_soon(run, 1, second)
        await first.aclose()
        await second.aclose()
        assert not shared.is_closed
    assert all(r.ok for r in results)
    assert fake.stats.max_in_flight <= 8
    assert fake.stats.connections_opened <= 20
    assert len(fake.volumes) == 60
