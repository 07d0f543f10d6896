"""Every Python block of README.md runs, unchanged, against the fake over loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaleway_volumes.testing import FakeScaleway, FakeServer

from .redis_server import RedisServer, redis_server_binary

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def api_env(fake: FakeScaleway, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """Point the SCW_* variables the examples rely on at a loopback fake."""
    with fake.serve() as server:
        monkeypatch.setenv("SCW_API_URL", server.root_url)
        monkeypatch.setenv("SCW_SECRET_KEY", str(fake.token))
        monkeypatch.setenv("SCW_DEFAULT_ORGANIZATION_ID", fake.organization)
        yield server


def test_readme_has_examples() -> None:
    """The README shows code: a usage, FastAPI, worker, bulk and testing example."""
    assert len(BLOCKS) >= 5


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """A real redis-server for the blocks that use one (skipped where none is installed)."""
    if "redis://" not in BLOCKS[request.node.callspec.params["index"]]:
        yield None
        return
    server = RedisServer(redis_server_binary(), tmp_path)
    server.start()
    yield server.url
    server.stop()


@pytest.mark.parametrize("index", range(len(BLOCKS)))
@pytest.mark.usefixtures("api_env")
def test_readme_block_runs(index: int, fake: FakeScaleway, redis_url: str | None) -> None:
    """The block executes without error; what it created it also cleaned up."""
    namespace: dict[str, object] = {"__name__": f"readme_block_{index}"}
    code = BLOCKS[index]
    if redis_url is not None:
        code = code.replace("redis://localhost:6379/0", redis_url)
    exec(compile(code, f"README.md block {index}", "exec"), namespace)
    app = namespace.get("app")
    if app is not None:
        from fastapi.testclient import TestClient

        volume = fake.add_volume(name="from-readme")
        with TestClient(app) as client:  # type: ignore[arg-type]
            shown = client.get(f"/volumes/{volume['id']}").json()
            missing = client.get("/volumes/f929fe39-63f8-4be8-a80e-1e9c8ae22a76").json()
        assert shown == {"id": volume["id"], "name": "from-readme", "size": volume["size"]}
        assert missing == {"error": "no such volume"}
        return
    if "FakeScaleway(" in BLOCKS[index]:
        return  # the testing example brings its own fake and checks it itself
    assert fake.stats.requests, "the example talked to the API"
    assert fake.volumes == [], "the example leaves nothing behind"
    assert fake.block.volumes() == [] and fake.block.snapshots() == [], "nor Block volumes"
