"""Every Python example of docs/block-storage.md runs, unchanged, against the fake over TCP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaleway_volumes.testing import FakeScaleway, FakeServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "block-storage.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def scw_env(fake: FakeScaleway, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """Point the SCW_* variables the examples rely on at a loopback fake."""
    with fake.serve() as server:
        monkeypatch.setenv("SCW_API_URL", server.root_url)
        monkeypatch.setenv("SCW_SECRET_KEY", str(fake.token))
        monkeypatch.setenv("SCW_DEFAULT_PROJECT_ID", fake.organization)
        yield server


def test_doc_has_examples() -> None:
    """The guide shows a client, volumes, snapshots, waiters and bulk examples."""
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
@pytest.mark.usefixtures("scw_env")
def test_doc_example_runs(index: int, fake: FakeScaleway) -> None:
    """The example executes (its own asserts included), talks to the API, leaves nothing."""
    namespace: dict[str, object] = {"__name__": f"block_doc_{index}"}
    exec(compile(BLOCKS[index], f"docs/block-storage.md block {index}", "exec"), namespace)
    assert fake.stats.requests, "the example talked to the API"
    assert fake.block.volumes() == [] and fake.block.snapshots() == []
