"""The core never imports click, rich or supv_cli.cli.

The core is everything outside supv_cli/cli/ and the ``python -m supv_cli`` entry point.

Checked twice: statically, over every import statement of the source (even inside functions and
``if TYPE_CHECKING`` blocks: an arrow back up is a design problem even when it is lazy), and at run time,
by importing every core module in a fresh interpreter and looking at ``sys.modules``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
