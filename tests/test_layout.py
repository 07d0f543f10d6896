"""The codebase's standing rules, checked: no import cycle, private names only in _compat."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "scaleway_volumes"
sys.path.insert(0, str(ROOT / "scripts"))

import import_graph  # noqa: E402

# Private names of dependencies that the package once reached into; only
# `_compat.py` may use them (each workaround there names its upstream issue).
PRIVATE_NAMES = re.compile(
    r"(?<=[\w)\]])(?<!self)(?:\._uri_reference|\._transport_for_url|\._transport\b|\._retry_connection"
    r"|\._connector\b|\._conns\b|\._closed\b|\._sock\b|\._pool\b|\._requests\b"
    r"|\._connections\b|\._connect_failed\b)"
)


#: docs/architecture.md: modules are kept under about 450 lines.
MAX_MODULE_LINES = 500


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_no_import_cycle() -> None:
    """scripts/import_graph.py finds no cycle, function-level imports included."""
    graph = import_graph.build_graph(ROOT)
    assert "scaleway_volumes._pipeline" in graph
    assert import_graph.find_cycle(graph) is None


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path: Path) -> None:
    """A module past 500 lines holds more than one concern: split it (docs/architecture.md)."""
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"


def test_the_cycle_finder_finds_cycles() -> None:
    """The checker itself reports a cycle when there is one."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert import_graph.find_cycle(graph) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_private_names_of_dependencies_only_in_compat(path: Path) -> None:
    """No module but _compat touches a dependency's private attributes."""
    if path.name == "_compat.py":
        return
    text = path.read_text(encoding="utf-8")
    assert not PRIVATE_NAMES.findall(text), f"{path.name} uses a dependency's private name"


def test_nothing_cites_files_outside_the_repository() -> None:
    """The repository stands alone: no reference to the design notes it grew from."""
    outside = re.compile(r"CONTRACT\.md|PERF-NOTES\.md|\.\./shared")
    offenders = [
        str(path.relative_to(ROOT))
        for pattern in (
            "scaleway_volumes/**/*.py",
            "tests/**/*.py",
            "benchmarks/*.py",
            "benchmarks/*.md",
            "docs/*.md",
            "*.md",
            "*.toml",
            ".ci/*",
        )
        for path in ROOT.glob(pattern)
        if path.is_file()
        and path.name != Path(__file__).name
        and outside.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
