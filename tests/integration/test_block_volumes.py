"""AsyncBlockAPI volume operations against the fake over loopback TCP, on asyncio and trio."""

from __future__ import annotations

from contextlib import aclosing

import pytest

from scaleway_volumes import (
    AsyncBlockAPI,
    BlockVolume,
    BlockVolumeType,
    InvalidRequestError,
    NotFoundError,
    PreconditionFailedError,
    QuotaExceededError,
    RetryPolicy,
    TransientStateError,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault, transient_state_body

from .block_helpers import GB, MARKER, MISSING, make_block, query, requests

pytestmark = pytest.mark.anyio

PROJECT = "6170692e-7363-616c-6577-61792e636f6d"
# Settle waits of 409 transient_state answers, fast enough for a test.
QUICK = RetryPolicy(backoff_initial=0.01, backoff_max=0.02)


# -- create ---------------------------------------------------------------------------


async def test_create_from_empty_sends_the_recorded_shape(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The body is name, project_id, tags (with the marker), from_empty; the answer decodes."""
    async with make_block(fake, server) as api:
        volume = await api.create_volume(name="db", size=20 * GB, tags=["prod"])
    (post,) = requests(fake, "POST")
    body = post.json()
    assert list(body) == ["name", "project_id", "tags", "from_empty"]
    assert body["project_id"] == fake.organization
    assert body["from_empty"] == {"size": 20 * GB}
    assert body["tags"][0] == "prod" and body["tags"][1].startswith(MARKER)
    assert post.headers["content-type"] == "application/json"
    assert isinstance(volume, BlockVolume)
    assert (volume.name, volume.size, volume.status) == ("db", 20 * GB, "creating")
    assert volume.tags == ("prod",)  # the marker is the library's, not shown
    assert [v["id"] for v in fake.block.volumes()] == [volume.id]


async def test_create_with_perf_iops_and_explicit_project(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """perf_iops picks the type; an explicit project wins over the default."""
    async with make_block(fake, server) as api:
        volume = await api.create_volume(
            name="fast", size=10 * GB, perf_iops=15000, project=PROJECT
        )
    assert requests(fake, "POST")[0].json()["perf_iops"] == 15000
    assert (volume.type, volume.perf_iops, volume.project_id) == ("sbs_15k", 15000, PROJECT)


async def test_default_project_comes_before_organization(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """project= of the API is the default project_id; organization only when it is absent."""
    async with make_block(fake, server, project=PROJECT) as api:
        volume = await api.create_volume(name="p", size=10 * GB)
    assert volume.project_id == PROJECT


async def test_create_from_snapshot_with_and_without_size(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """from_snapshot takes a model or an id; size is sent only when given."""
    source = fake.block.add_volume("src", 10 * GB)
    snapshot_id = fake.block.add_snapshot(source["id"])["id"]
    async with make_block(fake, server) as api:
        snapshot = await api.get_snapshot(snapshot_id)
        same = await api.create_volume(name="r1", from_snapshot=snapshot)
        bigger = await api.create_volume(name="r2", from_snapshot=snapshot_id, size=30 * GB)
        with pytest.raises(PreconditionFailedError) as info:
            await api.create_volume(name="r3", from_snapshot=snapshot_id, size=5 * GB)
    first, second, _ = (r.json() for r in requests(fake, "POST"))
    assert first["from_snapshot"] == {"snapshot_id": snapshot_id}
    assert second["from_snapshot"] == {"snapshot_id": snapshot_id, "size": 30 * GB}
    assert "from_empty" not in first
    assert (same.size, same.parent_snapshot_id) == (10 * GB, snapshot_id)
    assert bigger.size == 30 * GB
    assert info.value.precondition == "resource_not_usable"
    assert len(fake.block.volumes()) == 3


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "x"}, ValueError),  # neither size nor from_snapshot
        ({"name": "", "size": GB}, ValueError),
        ({"name": "x", "size": 1.5}, TypeError),
        ({"name": "x", "size": -1}, ValueError),
        ({"name": "x", "size": GB, "perf_iops": "5000"}, TypeError),
        ({"name": "x", "size": GB, "perf_iops": 0}, ValueError),
        ({"name": "x", "from_snapshot": "../snapshots"}, ValueError),
        ({"name": "x", "size": GB, "tags": "prod"}, TypeError),
        ({"name": "x", "size": GB, "project": ""}, ValueError),
    ],
)
async def test_bad_create_arguments_send_nothing(
    fake: FakeScaleway, server: FakeServer, kwargs: dict[str, object], error: type[Exception]
) -> None:
    """Types and shapes are checked before any request, naming the argument."""
    async with make_block(fake, server) as api:
        with pytest.raises(error):
            await api.create_volume(**kwargs)  # type: ignore[arg-type]
    assert fake.stats.requests == []


async def test_create_without_any_project_is_a_clear_error(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """No project and no organization anywhere: ValueError saying how to set one."""
    async with AsyncBlockAPI(fake.token, base_url=server.block_base_url) as api:
        with pytest.raises(ValueError, match="project"):
            await api.create_volume(name="x", size=GB)
        with pytest.raises(ValueError, match="project"):
            await api.create_snapshot(MISSING, name="s")
    assert fake.stats.requests == []


async def test_quota_exceeded(fake: FakeScaleway, server: FakeServer) -> None:
    """A create past the quota is QuotaExceededError with the quotas, and is not retried."""
    fake.block_quota_volumes = 1
    async with make_block(fake, server) as api:
        await api.create_volume(name="one", size=GB)
        with pytest.raises(QuotaExceededError) as info:
            await api.create_volume(name="two", size=GB)
    assert [q.resource for q in info.value.quotas] == ["block_volumes"]
    assert len(requests(fake, "POST")) == 2 and len(fake.block.volumes()) == 1


async def test_create_marker_off_sends_no_marker(fake: FakeScaleway, server: FakeServer) -> None:
    """create_marker=False: the body carries only the caller's tags (or none)."""
    async with make_block(fake, server, create_marker=False) as api:
        await api.create_volume(name="plain", size=GB)
        await api.create_volume(name="tagged", size=GB, tags=["a"])
    bodies = [r.json() for r in requests(fake, "POST")]
    assert "tags" not in bodies[0] and bodies[1]["tags"] == ["a"]


# -- get, list ------------------------------------------------------------------------


async def test_get_volume_by_id_or_model(fake: FakeScaleway, server: FakeServer) -> None:
    """get_volume takes an id or a BlockVolume; an unknown id is NotFoundError."""
    stored = fake.block.add_volume("db", 20 * GB, perf_iops=15000, tags=["x"])
    async with make_block(fake, server) as api:
        volume = await api.get_volume(stored["id"])
        again = await api.get_volume(volume)
        with pytest.raises(NotFoundError):
            await api.get_volume(MISSING)
        with pytest.raises(ValueError, match="volume_id"):
            await api.get_volume("a/b")
    assert volume == again
    assert (volume.name, volume.perf_iops, volume.tags, volume.status) == (
        "db",
        15000,
        ("x",),
        "available",
    )


async def test_list_filters(fake: FakeScaleway, server: FakeServer) -> None:
    """name (substring), project, organization, tags (any one matches) reach the API."""
    other_org = "0d3e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    a = fake.block.add_volume("web-1", tags=["web", "prod"])
    b = fake.block.add_volume("web-2", tags=["web"], project_id=PROJECT)
    c = fake.block.add_volume("db-1", tags=["db"], organization=other_org)
    async with make_block(fake, server) as api:
        by_name = await api.list_volumes(name="web")
        by_project = await api.list_volumes(project=PROJECT)
        by_org = await api.list_volumes(organization=other_org)
        by_tags = await api.list_volumes(tags=["prod", "db"])
        everything = await api.list_volumes()
    assert [v.id for v in by_name] == [a["id"], b["id"]]
    assert [v.id for v in by_project] == [b["id"]]
    assert [v.id for v in by_org] == [c["id"]]
    assert {v.id for v in by_tags} == {a["id"], c["id"]}
    assert len(everything) == 3
    sent = [query(r) for r in requests(fake, "GET")]
    assert sent[1]["project_id"] == [PROJECT]
    assert sent[2]["organization_id"] == [other_org]
    assert sent[3]["tags"] == ["prod", "db"]
    assert all(q["page_size"] == ["100"] for q in sent)


async def test_pagination_over_several_pages(fake: FakeScaleway, server: FakeServer) -> None:
    """7 volumes at 3 per page: 3 requests by total_count, every volume once, in order."""
    stored = [fake.block.add_volume(f"v{i}")["id"] for i in range(7)]
    async with make_block(fake, server) as api:
        listed = await api.list_volumes(per_page=3)
        first_two = []
        async with aclosing(api.iter_volumes(per_page=3)) as volumes:
            async for volume in volumes:
                first_two.append(volume.id)
                if len(first_two) == 2:
                    break
    assert [v.id for v in listed] == stored
    pages = [query(r) for r in requests(fake, "GET")]
    assert [(q["page"], q["page_size"]) for q in pages[:3]] == [
        (["1"], ["3"]),
        (["2"], ["3"]),
        (["3"], ["3"]),
    ]
    assert len(pages) == 4, "iter_volumes fetched only the page it needed"
    assert first_two == stored[:2]


async def test_bad_list_arguments(fake: FakeScaleway, server: FakeServer) -> None:
    """per_page outside 1..100, an empty filter or a lone string as tags: refused at once."""
    async with make_block(fake, server) as api:
        for kwargs in ({"per_page": 0}, {"per_page": 101}, {"name": ""}, {"project": ""}):
            with pytest.raises(ValueError):
                await api.list_volumes(**kwargs)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await api.list_volumes(tags="prod")
    assert fake.stats.requests == []


async def test_list_volume_types(fake: FakeScaleway, server: FakeServer) -> None:
    """The zone's types with their IOPS and prices."""
    async with make_block(fake, server) as api:
        kinds = await api.list_volume_types()
    assert all(isinstance(kind, BlockVolumeType) for kind in kinds)
    assert {kind.type: kind.specs.perf_iops for kind in kinds if kind.specs} == {
        "sbs_5k": 5000,
        "sbs_15k": 15000,
    }
    assert all(kind.pricing is not None and kind.pricing.amount > 0 for kind in kinds)


# -- update ---------------------------------------------------------------------------


async def test_update_name_and_tags(fake: FakeScaleway, server: FakeServer) -> None:
    """Only the given fields are sent; tags replace the list."""
    stored = fake.block.add_volume("old", tags=["a"])
    async with make_block(fake, server) as api:
        volume = await api.update_volume(stored["id"], name="new", tags=["b", "c"])
        with pytest.raises(ValueError, match="at least one"):
            await api.update_volume(volume)
    assert requests(fake, "PATCH")[0].json() == {"name": "new", "tags": ["b", "c"]}
    assert (volume.name, volume.tags) == ("new", ("b", "c"))


async def test_size_update_answers_the_old_size_until_settled(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Growth answers the old size with 'updating'; the new size shows once settled."""
    fake.block_resize_time = 0.05
    stored = fake.block.add_volume("grow", 10 * GB)
    async with make_block(fake, server) as api:
        answered = await api.update_volume(stored["id"], size=20 * GB)
        settled = await api.wait_for_volume(answered)
    assert (answered.size, answered.status) == (10 * GB, "updating")
    assert (settled.size, settled.status) == (20 * GB, "available")


async def test_perf_iops_refused_when_not_available(fake: FakeScaleway, server: FakeServer) -> None:
    """perf_iops on a volume that is not available: InvalidRequestError naming perf_iops."""
    busy = fake.block.add_volume("busy", status="in_use")
    idle = fake.block.add_volume("idle")
    async with make_block(fake, server) as api:
        with pytest.raises(InvalidRequestError) as info:
            await api.update_volume(busy["id"], perf_iops=15000)
        changed = await api.update_volume(idle["id"], perf_iops=15000)
    assert "perf_iops" in info.value.fields
    assert (changed.perf_iops, changed.type) == (15000, "sbs_15k")


async def test_patch_and_delete_wait_out_a_transient_state(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """409 transient_state on PATCH and DELETE is retried until the volume settles."""
    fake.block_resize_time = 0.1
    stored = fake.block.add_volume("busy", 10 * GB)
    async with make_block(fake, server, retry=QUICK) as api:
        await api.update_volume(stored["id"], size=20 * GB)  # updating for 0.1 s
        renamed = await api.update_volume(stored["id"], name="renamed")
        await api.update_volume(stored["id"], size=30 * GB)
        await api.delete_volume(stored["id"])
    assert renamed.name == "renamed"
    assert fake.stats.statuses[409] >= 2
    assert len(requests(fake, "PATCH")) >= 4, "the rename was resent after its 409"
    assert len(requests(fake, "DELETE")) >= 2, "the delete was resent after its 409"
    assert fake.stats.statuses[204] == 1
    assert fake.block.get_volume(stored["id"]) is None


async def test_create_is_not_retried_on_transient_state(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A create answered 409 transient_state is the caller's error, never resent."""
    fake.add_fault(
        Fault(
            "respond",
            method="POST",
            path="/volumes$",
            status=409,
            body=transient_state_body("snapshot", MISSING, "creating"),
        )
    )
    async with make_block(fake, server) as api:
        with pytest.raises(TransientStateError) as info:
            await api.create_volume(name="r", from_snapshot=MISSING)
    assert info.value.current_state == "creating"
    assert len(requests(fake, "POST")) == 1


# -- delete ---------------------------------------------------------------------------


async def test_delete_and_missing(fake: FakeScaleway, server: FakeServer) -> None:
    """Delete is 204; a missing volume is NotFoundError unless missing_ok."""
    stored = fake.block.add_volume("gone")
    async with make_block(fake, server) as api:
        await api.delete_volume(stored["id"])
        with pytest.raises(NotFoundError):
            await api.delete_volume(MISSING)
        await api.delete_volume(MISSING, missing_ok=True)
    assert fake.block.volumes() == []


async def test_delete_in_use_is_precondition_failed(fake: FakeScaleway, server: FakeServer) -> None:
    """An attached volume: 412 PreconditionFailedError resource_still_in_use, not retried."""
    stored = fake.block.add_volume("attached")
    fake.block.add_reference(stored["id"])
    async with make_block(fake, server) as api:
        with pytest.raises(PreconditionFailedError) as info:
            await api.delete_volume(stored["id"])
    assert info.value.precondition == "resource_still_in_use"
    assert len(requests(fake, "DELETE")) == 1
    assert len(fake.block.volumes()) == 1


async def test_delete_in_use_without_references_is_precondition_failed(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The official SDK: "The volume must not be in the `in_use` status". A volume the API
    shows in_use is refused (412 resource_still_in_use) even when it lists no reference
    (the fake judged by references alone, and deleted it), and is kept as it was."""
    busy = fake.block.add_volume("busy", status="in_use")
    assert busy["references"] == []
    async with make_block(fake, server) as api:
        with pytest.raises(PreconditionFailedError) as info:
            await api.delete_volume(busy["id"])
    assert info.value.precondition == "resource_still_in_use"
    assert len(requests(fake, "DELETE")) == 1
    assert fake.block.get_volume(busy["id"]) == busy
