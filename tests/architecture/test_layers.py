"""The layering rules of docs/ARCHITECTURE.md, checked on the source with ``ast``.

- ``dhash_gha.core`` imports only the core and ``dhash_gha.errors`` (no I/O layer);
- ``dhash_gha.adapters`` imports the core, adapters and errors;
- ``dhash_gha.context`` imports the core, adapters and errors;
- a step (``dhash_gha.steps.<name>``) imports the core, adapters, the context, errors and
  its own package — never another step;
- ``dhash_gha.compose`` may import steps; nothing in the library imports ``dhash_gha.cli``;
- the library's own imports sit at the top of modules (the CLI's lazy imports excepted),
  and there is no import cycle, so every module imports on its own.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "dhash_gha"
FOUNDATION = ("dhash_gha", "dhash_gha.errors")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (or package attribute's module)
    line: int
    top_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def library_modules() -> list[tuple[str, Path]]:
    return sorted((module_name(p), p) for p in PACKAGE.rglob("*.py") if "_example" not in p.parts)


KNOWN = {name for name, _ in library_modules()}


def resolve(target: str, names: list[str]) -> list[str]:
    """``from a.b import c``: the module ``a.b.c`` when it exists, else ``a.b``."""
    found = [f"{target}.{name}" for name in names if f"{target}.{name}" in KNOWN]
    return found or [target]


def imports_of(name: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` blocks count as top level
        if isinstance(node, ast.If):
            top |= {id(child) for child in node.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "dhash_gha":
                for target in resolve(node.module, [a.name for a in node.names]):
                    yield Import(name, target, node.lineno, id(node) in top)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "dhash_gha":
                    yield Import(name, alias.name, node.lineno, id(node) in top)


ALL_IMPORTS = [imp for name, path in library_modules() for imp in imports_of(name, path)]


def layer(module: str) -> str:
    if module == "dhash_gha.__main__":  # ``python -m dhash_gha``: the CLI's entry point
        return "cli"
    if module in FOUNDATION:
        return "foundation"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "foundation"


# Known breaches, each to be removed by moving the chaining into dhash_gha.compose (see
# docs/ARCHITECTURE.md, "Not yet in place"). The tests fail on any breach not listed here,
# and on a listed one that no longer exists (so the list only shrinks).
KNOWN_BREACHES = frozenset(
    {
        # deploy chains preflight, the automatic rollback and the monitor itself
        ("dhash_gha.steps.deploy", "dhash_gha.steps.monitor"),
        ("dhash_gha.steps.deploy", "dhash_gha.steps.preflight"),
        ("dhash_gha.steps.deploy", "dhash_gha.steps.rollback"),
        ("dhash_gha.steps.deploy.plan", "dhash_gha.steps.preflight"),
        # the monitor's default effects; the composition should inject them
        ("dhash_gha.steps.monitor.responses", "dhash_gha.steps.rollback"),
        ("dhash_gha.steps.monitor.responses", "dhash_gha.steps.incident"),
        ("dhash_gha.steps.monitor.responses", "dhash_gha.adapters.channels"),
        # the pre-merge run still calls five of its checks through the CLI, in-process
        ("dhash_gha.compose.premerge", "dhash_gha.cli"),
    }
)


def breaches(found: list[tuple[str, str, int]]) -> list[str]:
    """Breaches not in KNOWN_BREACHES, and listed ones that are gone."""
    return [f"{m}:{line} imports {t}" for m, t, line in found if (m, t) not in KNOWN_BREACHES]


ALLOWED = {
    "foundation": {"foundation"},
    "core": {"foundation", "core"},
    "adapters": {"foundation", "core", "adapters"},
    "context": {"foundation", "core", "adapters"},
    "steps": {"foundation", "core", "adapters", "context", "steps"},
    "compose": {"foundation", "core", "adapters", "context", "steps", "compose"},
    "cli": {"foundation", "core", "adapters", "context", "steps", "compose", "cli"},
}


def step_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "steps" else None


def test_every_layer_imports_only_what_it_may() -> None:
    found = [
        (imp.module, imp.target, imp.line)
        for imp in ALL_IMPORTS
        if imp.target != "dhash_gha"
        and layer(imp.target) not in ALLOWED.get(layer(imp.module), set())
    ]
    assert breaches(found) == []


def test_steps_never_import_other_steps() -> None:
    found = [
        (imp.module, imp.target, imp.line)
        for imp in ALL_IMPORTS
        if step_of(imp.module)
        and step_of(imp.target)
        and step_of(imp.module) != step_of(imp.target)
    ]
    assert breaches(found) == []


def test_library_imports_sit_at_the_top_of_modules() -> None:
    found = [
        (imp.module, imp.target, imp.line)
        for imp in ALL_IMPORTS
        if not imp.top_level and layer(imp.module) != "cli"
    ]
    assert breaches(found) == []


def test_there_is_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for imp in ALL_IMPORTS:
        if imp.target in KNOWN and imp.target != imp.module:
            graph.setdefault(imp.module, set()).add(imp.target)
    # a package's __init__ importing its own submodules is how packages re-export
    for source in list(graph):
        graph[source] = {t for t in graph[source] if not t.startswith(source + ".")}
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" → ".join([*trail[trail.index(target) :], target]))
            elif state.get(target) is None:
                visit(target, [*trail, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


@pytest.mark.slow
def test_every_module_imports_on_its_own() -> None:
    """In a fresh interpreter each, so no module relies on another having been imported first."""
    names = [name for name, _ in library_modules() if not name.endswith("__main__")]
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('dhash_gha')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *names], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip() == ""


def test_the_cli_is_imported_by_nothing_in_the_library() -> None:
    assert importlib.util.find_spec("dhash_gha.cli") is not None
    found = [
        (imp.module, imp.target, imp.line)
        for imp in ALL_IMPORTS
        if layer(imp.target) == "cli" and layer(imp.module) != "cli"
    ]
    assert breaches(found) == []


def test_every_known_breach_still_exists() -> None:
    """A breach that was mended leaves the list, so it can never come back unnoticed."""
    seen = {(imp.module, imp.target) for imp in ALL_IMPORTS}
    assert sorted(KNOWN_BREACHES - seen) == []
