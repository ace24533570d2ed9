"""The house's layout, read from the source files with ast (not from what Python happens to have
imported): every module imports, no room imports a room that imports it, and click and rich
stay at the doors they belong to.

A room is a module of fwdback/ or a package of it (engines/, render/) taken whole: engines.dask
importing training, which imports engines, is a cycle between two rooms even though no single
module imports itself. Every import counts, those inside functions too: a lazy import puts off
when a cycle bites, not the cycle.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fwdback"


def module_name(path: Path) -> str:
    """fwdback/engines/dask.py -> fwdback.engines.dask; fwdback/engines/__init__.py -> fwdback.engines."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str) -> set[str]:
    """The absolute names module `name` imports anywhere in its source: `from . import x` names
    the submodule x where there is one, else the package."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES)
    return names


def room(name: str) -> str:
    """fwdback.engines.dask -> engines; fwdback.cli -> cli; fwdback -> fwdback (the API's door)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def room_graph() -> dict[str, set[str]]:
    """Each room, the other rooms of fwdback it imports."""
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        inside = {room(other) for other in imported(name) if other.split(".")[0] == "fwdback"}
        graph.setdefault(room(name), set()).update(inside - {room(name)})
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """The rooms `start` imports, directly or through others."""
    seen, waiting = set(), list(graph.get(start, ()))
    while waiting:
        node = waiting.pop()
        if node not in seen:
            seen.add(node)
            waiting.extend(graph.get(node, ()))
    return seen


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of rooms that import one another (each reaches every other), in order of their first room."""
    reach = {node: reachable(graph, node) for node in graph}
    groups: list[set[str]] = []
    for node in sorted(graph):
        group = {other for other in reach[node] if node in reach.get(other, ())}
        if group and group not in groups:
            groups.append(group)
    return groups


# Imports that close a cycle, tolerated while their owners remove them: none now (outputs owns
# the escape for a terminal, terminal_text, which render and diagram import from it).
KNOWN_BACK_EDGES: set[tuple[str, str]] = set()


def test_cycles_finds_two_rooms_importing_each_other_and_none_in_a_chain():
    graph = {"engines": {"training", "stepsize"}, "training": {"engines"}, "stepsize": set()}
    assert cycles(graph) == [{"engines", "training"}]
    assert cycles({"cli": {"run"}, "run": {"training"}, "training": {"engines"}, "engines": set()}) == []


def test_a_relative_import_names_the_module_it_reaches():
    assert "fwdback.engines.gram" in imported("fwdback.engines.rows")
    assert "fwdback.engines" in imported("fwdback.engines.rows")
    assert "fwdback.scaling" in imported("fwdback.engines.rows")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_no_room_imports_a_room_that_imports_it():
    graph = room_graph()
    for source, target in KNOWN_BACK_EDGES:
        assert target in graph[source], f"{source} no longer imports {target}: take it out of KNOWN_BACK_EDGES"
        graph[source].discard(target)
    assert cycles(graph) == []


def test_only_the_command_line_knows_click_and_only_render_knows_rich():
    for name in MODULES:
        roots = {other.split(".")[0] for other in imported(name)}
        assert "click" not in roots or name == "fwdback.cli", name
        assert "rich" not in roots or name.startswith("fwdback.render."), name


def test_nothing_imports_the_command_line_but_python_m_fwdback():
    assert {name for name in MODULES if "fwdback.cli" in imported(name)} == {"fwdback.__main__"}


def test_the_library_trains_through_one_run_and_fwdback_fit_alone():
    # run.fit is the library's run, which both doors call; fwdback.fit (api.py) is the notebook's
    # door onto the estimator. A third module-level fit would train without run.py's checks.
    fits = {name for name, path in MODULES.items()
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef) and node.name == "fit"}
    assert fits == {"fwdback.run", "fwdback.api"}
