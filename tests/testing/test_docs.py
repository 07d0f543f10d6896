"""Every Python example of docs/testing.md runs, unchanged, and checks itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_doc_has_examples() -> None:
    """The guide shows in-process, TCP, clock, helper and fault examples."""
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_runs(index: int) -> None:
    """The example executes without error (its own asserts included)."""
    namespace: dict[str, object] = {"__name__": f"testing_doc_block_{index}"}
    exec(compile(BLOCKS[index], f"docs/testing.md block {index}", "exec"), namespace)
