"""Print the import graph of the ``scaleway_volumes`` package and fail on a cycle.

Every import counts, including those inside functions and under
``TYPE_CHECKING``: a cycle hidden in a function body is still a cycle a
maintainer must understand. Exit status 1 when a cycle exists.

    python scripts/import_graph.py            # the graph, then "no cycle"
    python scripts/import_graph.py --dot      # Graphviz
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = "scaleway_volumes"


def module_name(path: Path, root: Path) -> str:
    """``scaleway_volumes/_transport/_seam.py`` -> ``scaleway_volumes._transport._seam``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, modules: set[str]) -> set[str]:
    """The package's modules that the module at ``path`` imports."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            # `from pkg import sub` imports the submodule `pkg.sub`; `from mod
            # import name` imports `mod` (a name in it).
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                targets.append(sub if sub in modules else module)
        for target in targets:
            # The longest known module the target names (a name imported from
            # a package may be a submodule or an attribute).
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that returns to its start, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def build_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports, for every module under ``root/PACKAGE``."""
    paths = sorted((root / PACKAGE).rglob("*.py"))
    names = {module_name(p, root): p for p in paths}
    modules = set(names)
    graph = {name: imports_of(path, name, modules) for name, path in names.items()}
    # A package's __init__ re-exports; importing `pkg.sub` runs `pkg/__init__` first,
    # but that edge is Python's, not a design dependency: only explicit imports count.
    return graph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print Graphviz instead")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    args = parser.parse_args(argv)
    graph = build_graph(Path(args.root))
    if args.dot:
        print("digraph scaleway_volumes {")
        for node in sorted(graph):
            for target in sorted(graph[node]):
                print(f'  "{node}" -> "{target}";')
        print("}")
    else:
        for node in sorted(graph):
            short = sorted(t.removeprefix(f"{PACKAGE}.") for t in graph[node])
            print(f"{node.removeprefix(PACKAGE + '.') or PACKAGE}: {', '.join(short) or '-'}")
    cycle = find_cycle(graph)
    if cycle:
        print("cycle: " + " -> ".join(cycle), file=sys.stderr)
        return 1
    print(f"no cycle among {len(graph)} modules", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
