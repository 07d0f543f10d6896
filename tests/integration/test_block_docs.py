"""Every Python example of docs/block-storage.md runs, unchanged, against the fake over TCP.

So do those of docs/configuration.md, errors.md, marker-tag.md and rate-limiting.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(name: str) -> list[str]:
    """The ```python blocks of ``docs/<name>``, in order."""
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), re.S)


BLOCKS = python_blocks("block-storage.md")
OTHER_BLOCKS = [
    pytest.param(name, code, create_fails, id=f"{name}-{index}{'-create-504' * create_fails}")
    for name in ("configuration.md", "errors.md", "marker-tag.md", "rate-limiting.md")
    for index, code in enumerate(python_blocks(name))
    # An example that handles an unknown create outcome runs twice: as it goes, and
    # with its create answered 504 (not found after it: the outcome is unknown).
    for create_fails in ((False, True) if "outcome_unknown" in code else (False,))
]


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


def test_other_docs_have_examples() -> None:
    """Configuration, errors, the marker tag and rate limiting each show code."""
    assert {param.values[0] for param in OTHER_BLOCKS} == {
        "configuration.md",
        "errors.md",
        "marker-tag.md",
        "rate-limiting.md",
    }


@pytest.mark.parametrize(("name", "code", "create_fails"), OTHER_BLOCKS)
@pytest.mark.usefixtures("scw_env")
def test_other_doc_example_runs(
    name: str, code: str, create_fails: bool, fake: FakeScaleway
) -> None:
    """The example executes and leaves nothing behind; one that catches an unknown
    create outcome also runs its handler, after a create answered 504."""
    if create_fails:
        fake.add_fault(Fault("respond", method="POST", path="/volumes$", status=504))
    namespace: dict[str, object] = {"__name__": f"doc_{name}"}
    exec(compile(code, f"docs/{name}", "exec"), namespace)
    if "anyio.run(" in code and "FakeScaleway(" not in code:
        assert fake.stats.requests, "the example talked to the API"
    if create_fails:
        assert fake.stats.statuses.get(504) == 1, "the create met the fault"
    assert fake.volumes == [] and fake.block.volumes() == [] and fake.block.snapshots() == []
