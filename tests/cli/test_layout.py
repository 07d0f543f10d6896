"""The CLI package's shape: what it may import, no cycles, every command documented."""

from __future__ import annotations

import ast
from pathlib import Path

import click

from scaleway_volumes.cli import build_cli
from scaleway_volumes.cli._app import COMMANDS

PACKAGE = Path(__file__).resolve().parents[2] / "scaleway_volumes" / "cli"
# The library is redesigned under the CLI: it relies only on these (the
# configuration resolver and the hints are written for the CLI).
ALLOWED_LIBRARY_MODULES = {
    "scaleway_volumes",
    "scaleway_volumes.testing",
    "scaleway_volumes._constants",
    "scaleway_volumes._config",
    "scaleway_volumes._hints",
}


def _imports(path: Path) -> list[tuple[str, int]]:
    """``(module, level)`` of every import in ``path``, function-level ones included.

    ``from . import a, b`` counts as importing ``a`` and ``b`` at level 1.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is None:
            found += [(alias.name, node.level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def _modules() -> dict[str, Path]:
    return {path.stem: path for path in sorted(PACKAGE.glob("*.py"))}


def test_library_names_come_only_from_public_modules_and_defaults() -> None:
    """The CLI imports the library only via its public modules, defaults, config and hints."""
    for name, path in _modules().items():
        for module, level in _imports(path):
            if level == 0 and module.startswith("scaleway_volumes"):
                assert module in ALLOWED_LIBRARY_MODULES, f"{name} imports {module}"
            assert level <= 1, f"{name} reaches outside the cli package: {module}"


def test_no_import_cycles_inside_the_package() -> None:
    """Sibling modules import each other without a cycle, and never the package itself."""
    modules = _modules()
    graph = {
        name: {module for module, level in _imports(path) if level == 1}
        for name, path in modules.items()
    }
    for name, edges in graph.items():
        assert edges <= set(modules) - {"__init__"}, f"{name} imports from the package itself"
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for edge in graph[name]:
            visit(edge, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())
    assert graph["_app"] >= {"_volumes", "_block", "_demo", "_config"}


def test_every_registered_command_is_in_the_group_and_documented() -> None:
    """The group holds exactly the registry's commands, each with a one-line help."""
    group = build_cli()
    assert isinstance(group, click.Group)
    assert sorted(group.commands) == sorted(command.name or "" for command in COMMANDS)
    for command in COMMANDS:
        summary = command.get_short_help_str(limit=200)
        assert summary and not summary.endswith("..."), command.name


def test_help_shows_the_user_paragraph_only() -> None:
    """Notes for maintainers after a form feed in a docstring stay out of --help."""
    for command in COMMANDS:
        user, _, notes = (command.callback.__doc__ or "").partition("\f")
        shown = command.get_help(click.Context(command))
        assert " ".join(user.split()[:4]) in shown
        if notes.strip():
            assert " ".join(notes.split()[:4]) not in shown
