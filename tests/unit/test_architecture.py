"""The shape of the code: the core never imports click, rich or supv_cli.cli; an import goes down the layers
only; no import cycle between packages nor between the modules of one package.

The core is everything outside supv_cli/cli/ and the ``python -m supv_cli`` entry point.

Checked statically, over every import statement of the source (even inside functions and
``if TYPE_CHECKING`` blocks: an arrow back up is a design problem even when it is lazy), and, for the
CLI libraries, also at run time, by importing every core module in a fresh interpreter and looking at
``sys.modules``. The layers are drawn in docs/architecture.md.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Mapping

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "supv_cli"
FORBIDDEN = ("click", "rich", "supv_cli.cli")


def core_modules() -> list[tuple[str, Path]]:
    """(dotted name, path) of every module outside supv_cli/cli/."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[:2] == ["supv_cli", "cli"] or parts == ["supv_cli", "__main__"]:  # the CLI and its entry point
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def imported_names(path: Path, module: str) -> list[tuple[int, str]]:
    """Every module an import statement of the file names (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names.append((node.lineno, base))
            names.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return names


def forbidden(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in FORBIDDEN)


def test_the_core_is_found() -> None:
    names = {name for name, _ in core_modules()}
    assert {"supv_cli.status", "supv_cli.cluster.session", "supv_cli.plan.executor", "supv_cli.rules"} <= names


@pytest.mark.parametrize(("module", "path"), core_modules(), ids=[name for name, _ in core_modules()])
def test_core_module_imports_no_cli_library(module: str, path: Path) -> None:
    bad = [f"{path.name}:{line}: imports {name}" for line, name in imported_names(path, module) if forbidden(name)]
    assert bad == []


def test_the_static_check_sees_a_lazy_import(tmp_path: Path) -> None:
    # the check must be able to fail: an import inside a function, and a relative one, are seen
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    import rich.table\n    from ..cli import options\n", encoding="utf-8")
    names = [name for _, name in imported_names(module, "supv_cli.cluster.lazy")]
    assert forbidden(names[0]) and any(forbidden(name) for name in names[1:])


def test_importing_the_core_loads_no_cli_library() -> None:
    modules = [name for name, _ in core_modules()]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"roots = {FORBIDDEN!r}\n"
        "print('\\n'.join(sorted(m for m in sys.modules if any(m == r or m.startswith(r + '.') for r in roots))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


#: options several commands share: each is defined once, in supv_cli/cli/options.py (issue 9, Structure)
SHARED_OPTIONS = {"--dry-run", "-q", "--quiet", "--poll-interval", "--start-timeout", "--exit-timeout",
                  "--stop-timeout", "--local", "--json", "--format", "-i", "--instances", "-r", "--rules", "-c",
                  "--config", "-u", "--username", "--password", "--timeout"}
#: the same name on purpose, for another meaning: wait's --timeout is its deadline (cli.md; the per-call
#: timeout is --call-timeout there)
OWN_MEANING = {("wait.py", "--timeout")}


def option_names(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every option name given to ``click.option(...)`` in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "option":
            found.extend((node.lineno, arg.value) for arg in node.args
                         if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("-"))
    return found


def test_shared_options_are_defined_once_in_options_py() -> None:
    defined_elsewhere = [f"{path.name}:{line}: {name}" for path in sorted((PACKAGE / "cli").glob("*.py"))
                         if path.name != "options.py" for line, name in option_names(path)
                         if name in SHARED_OPTIONS and (path.name, name) not in OWN_MEANING]
    assert defined_elsewhere == [], "use the decorators of supv_cli/cli/options.py"
    assert {name for _, name in option_names(PACKAGE / "cli" / "options.py")} >= SHARED_OPTIONS


# ------------------------------------------------------------------------------------ layers and cycles
#: the layer of each part of supv_cli, lowest first (docs/architecture.md, "Layers"): a part is a package
#: or a top-level module. ``selection.py`` (names -> what they select) and ``unanswered.py`` (what silent
#: instances may run) are pure and read snapshots and rules: the layer of status, which they serve
LAYERS = {
    "supv_cli": 0, "supv_cli.errors": 0, "supv_cli.compat": 0, "supv_cli.model": 0,
    "supv_cli.early": 0, "supv_cli.streams": 0,
    "supv_cli.rules": 1, "supv_cli.breed": 1,
    "supv_cli.cluster": 2,
    "supv_cli.status": 3, "supv_cli.selection": 3, "supv_cli.unanswered": 3,
    "supv_cli.plan": 4,
    "supv_cli.controller": 5, "supv_cli.look": 5,
    "supv_cli.cli": 6, "supv_cli.__main__": 6,
}


def all_modules() -> dict[str, Path]:
    """dotted name -> path of every module of supv_cli (a package is its ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = all_modules()


def part_of(module: str) -> str:
    """The package or top-level module of supv_cli that ``module`` belongs to."""
    return ".".join(module.split(".")[:2])


def imports_of(module: str, path: Path, known: Iterable[str]) -> list[tuple[int, str]]:
    """(line, module of supv_cli) of every import of the file, each imported name resolved to the
    longest known module it names (``from supv_cli.cluster import X`` is ``supv_cli.cluster``)."""
    known = set(known)
    found: dict[tuple[int, str], None] = {}
    for line, name in imported_names(path, module):
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            target = ".".join(parts[:end])
            if target in known:
                if target != module:
                    found[(line, target)] = None
                break
    return list(found)


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}, over every import statement (lazy ones included)."""
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        for line, target in imports_of(module, path, modules):
            edges.setdefault(target, line)
    return graph


GRAPH = import_graph(MODULES)


def upward_imports(graph: Mapping[str, Mapping[str, int]], layers: Mapping[str, int], module: str) -> list[str]:
    """The imports of ``module`` that point to a higher layer, as ``module:line -> target (layer a < b)``."""
    mine = layer_of(layers, module)
    return [f"{module}:{line} imports {target} (layer {mine} -> {layer_of(layers, target)})"
            for target, line in sorted(graph[module].items()) if layer_of(layers, target) > mine]


def layer_of(layers: Mapping[str, int], module: str) -> int:
    """The layer of ``module``: its part's, but a ``__main__`` (an entry point: ``python -m supv_cli`` or the
    controller's lean process, ``python -m supv_cli.controller``) is on the top layer, as the CLI."""
    return max(layers.values()) if module.endswith(".__main__") else layers[part_of(module)]


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The shortest cycle (``[a, b, ..., a]``) through each node that is in one, each cycle once (from its
    smallest node), sorted; a graph without cycles gives ``[]``."""
    nodes = sorted(graph)
    reach: dict[str, set[str]] = {}
    for node in nodes:
        seen: set[str] = set()
        todo = [node]
        while todo:
            for target in graph.get(todo.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        reach[node] = seen
    found: dict[frozenset[str], list[str]] = {}
    for node in nodes:
        if node in reach[node]:
            group = {other for other in reach[node] if node in reach.get(other, set())}
            cycle = _shortest_cycle(graph, node, group)
            first = cycle.index(min(cycle))
            found.setdefault(frozenset(cycle), cycle[first:-1] + cycle[:first + 1])
    return sorted(found.values())


def _shortest_cycle(graph: Mapping[str, Iterable[str]], start: str, group: set[str]) -> list[str]:
    """The shortest path from ``start`` back to itself inside ``group`` (breadth first)."""
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for target in sorted(graph.get(node, ())):
            if target == start:
                return paths[node] + [start]
            if target in group and target not in paths:
                paths[target] = paths[node] + [target]
                todo.append(target)
    raise AssertionError(f"{start} is in no cycle")


def package_graph(graph: Mapping[str, Mapping[str, int]]) -> dict[str, set[str]]:
    """part -> the parts it imports (``supv_cli.plan`` -> ``supv_cli.controller``...)."""
    parts: dict[str, set[str]] = {}
    for module, targets in graph.items():
        edges = parts.setdefault(part_of(module), set())
        edges.update(part_of(target) for target in targets if part_of(target) != part_of(module))
    return parts


def module_graph(graph: Mapping[str, Mapping[str, int]], package: str) -> dict[str, set[str]]:
    """The modules of one package and their imports of each other (its ``__init__`` is one of them)."""
    inside = {module for module in graph if module == package or module.startswith(package + ".")}
    return {module: {target for target in graph[module] if target in inside} for module in inside}


PACKAGES = sorted(part for part in LAYERS
                  if part != "supv_cli" and part in MODULES and MODULES[part].name == "__init__.py")
#: the cycle checks, one per place a cycle can be: between the packages, then inside each package
CYCLE_PLACES = ["between packages", *PACKAGES]


def test_every_part_has_a_layer() -> None:
    assert {part_of(module) for module in MODULES} == set(LAYERS), "give a new package or module its layer"
    assert {"supv_cli.model", "supv_cli.model.instances", "supv_cli.plan.executor"} <= set(MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_an_import_goes_down_the_layers_only(module: str) -> None:
    upward = upward_imports(GRAPH, LAYERS, module)
    assert not upward, "\n".join(upward)


def test_the_model_imports_nothing_of_supv_but_errors() -> None:
    allowed = {"supv_cli.errors", "supv_cli.compat"}
    bad = [f"{module} imports {target}" for module, targets in GRAPH.items() if part_of(module) == "supv_cli.model"
           for target in targets if part_of(target) != "supv_cli.model" and target not in allowed]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("place", CYCLE_PLACES)
def test_no_import_cycle(place: str) -> None:
    graph = package_graph(GRAPH) if place == "between packages" else module_graph(GRAPH, place)
    found = [" -> ".join(cycle) for cycle in cycles(graph)]
    assert not found, "import cycles:\n" + "\n".join(found)


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"d"}}, [["a", "b", "c", "a"], ["d", "d"]]),
    ({"a": {"b", "x"}, "b": {"a"}, "x": {"y"}, "y": {"x"}}, [["a", "b", "a"], ["x", "y", "x"]]),
    # two cycles through one node: each is named
    ({"p": {"c", "s"}, "c": {"p"}, "s": {"u"}, "u": {"p"}}, [["c", "p", "c"], ["p", "s", "u", "p"]]),
])
def test_the_cycle_check_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    # a rules module importing the cluster lazily, and the cluster importing the model: one arrow up
    rules = tmp_path / "resolve.py"
    rules.write_text("def f():\n    from supv_cli.cluster.session import ClusterSession\n", encoding="utf-8")
    cluster = tmp_path / "session.py"
    cluster.write_text("from ..model.instances import Instance\n", encoding="utf-8")
    modules = {"supv_cli.rules.resolve": rules, "supv_cli.cluster.session": cluster,
               "supv_cli.model.instances": cluster}
    graph = import_graph(modules)
    assert upward_imports(graph, LAYERS, "supv_cli.rules.resolve") == [
        "supv_cli.rules.resolve:2 imports supv_cli.cluster.session (layer 1 -> 2)"]
    assert upward_imports(graph, LAYERS, "supv_cli.cluster.session") == []
