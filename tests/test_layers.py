"""The package's layers, held by reading every module's imports (the ast module; no new dependency).

The rules (docs/internals.md, "Layers"):
  (a) core/ is pure: no os, subprocess, sqlite3, click, requests or GitPython, and
      nothing of hourly_hooks outside core/ but errors;
  (b) only git/ starts git through subprocess;
  (c) output/ renders: no click, no subprocess or GitPython, no git/, store or history;
  (d) core/, git/, output/ and btcpay/ never import commands/ or cli;
  (e) nothing imports a higher layer (LAYERS) unless UPWARD_ALLOWED says why, and no
      import cycle among module-level imports (imports inside functions run later,
      so they cannot make one);
  (f) store.py is SQLite only: it imports nothing of git/.
Every import counts for (a) to (f), inside functions too; only `if TYPE_CHECKING:`
imports are left out of the cycle check, since they never run.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "hourly_hooks"

# Lowest first. A module belongs to the entry whose name, or a package of it, names it.
LAYERS = [
    ("the base", ["hourly_hooks", "hourly_hooks.beside", "hourly_hooks.errors", "hourly_hooks.pipes", "hourly_hooks.private",
                  "hourly_hooks.zones", "hourly_hooks.core"]),
    ("git", ["hourly_hooks.git"]),
    ("history and configuration", ["hourly_hooks.store", "hourly_hooks.history", "hourly_hooks.config",
                                   "hourly_hooks.trust", "hourly_hooks.rate_keys", "hourly_hooks.completion"]),
    ("output, hooks and BTCPay", ["hourly_hooks.output", "hourly_hooks.hooks", "hourly_hooks.btcpay"]),
    ("what the commands call", ["hourly_hooks.clocking", "hourly_hooks.status", "hourly_hooks.demo",
                                "hourly_hooks.verification"]),
    ("the command layer", ["hourly_hooks.commands", "hourly_hooks.cli", "hourly_hooks.__main__",
                           "hourly_hooks.hook"]),
]

# (importer, imported) -> why this upward import is allowed.
UPWARD_ALLOWED = {
    ("hourly_hooks.config.keys", "hourly_hooks.btcpay.hosts"):
        "the host URL's one normal form; hosts.py imports no requests, so checking btcpay.host stays cheap",
}

# Modules besides git/ that may import subprocess, and why.
SUBPROCESS_ALLOWED: Dict[str, str] = {
    "hourly_hooks.pipes": "the pager (less) that long output goes through on a terminal, as git's does",
}

PURE_FORBIDDEN = {"os", "subprocess", "sqlite3", "click", "requests", "git"}
OUTPUT_FORBIDDEN = {"click", "subprocess", "git"}


class Import(NamedTuple):
    name: str       # the module imported, resolved ("hourly_hooks.core.markers", "os")
    line: int
    runs_at_import: bool  # at module level, not under `if TYPE_CHECKING:` nor in a function


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def module_name(path: Path) -> str:
    parts = ("hourly_hooks",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def real_sources() -> Dict[str, str]:
    return {module_name(path): path.read_text(encoding="utf-8")
            for path in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in path.parts}


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports_of(module: str, source: str, known: set) -> Iterator[Import]:
    """Every import of a module's source, each resolved to the module it loads."""
    packages = {module_name(path) for path in PACKAGE.rglob("__init__.py")}
    package = module if module in packages else module.rsplit(".", 1)[0]

    def resolve_from(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        return importlib.util.resolve_name("." * node.level + (node.module or ""), package)

    def walk(node: ast.AST, at_import: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            runs = at_import and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) \
                and not _is_type_checking(child)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name, child.lineno, at_import)
            elif isinstance(child, ast.ImportFrom):
                base = resolve_from(child)
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    yield Import(full if full in known else base, child.lineno, at_import)
            yield from walk(child, runs)

    yield from walk(ast.parse(source), True)


def layer_of(module: str) -> int:
    best = None
    for rank, (_, members) in enumerate(LAYERS):
        for member in members:
            hit = module == member if member == "hourly_hooks" else in_package(module, member)
            if hit and (best is None or len(member) > len(best[1])):
                best = (rank, member)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")
    return best[0]


def rule_breaches(module: str, imported: str) -> List[str]:
    """The rules (a) to (f) an import breaks, each as its text."""
    top = imported.split(".")[0]
    ours = in_package(imported, "hourly_hooks")
    broken = []
    if in_package(module, "hourly_hooks.core") and (
            top in PURE_FORBIDDEN or (ours and not in_package(imported, "hourly_hooks.core")
                                      and imported != "hourly_hooks.errors")):
        broken.append("(a) core/ is pure: no os, subprocess, sqlite3, click, requests or GitPython, "
                      "and nothing of hourly_hooks outside core/ but errors")
    if top == "subprocess" and not in_package(module, "hourly_hooks.git") and module not in SUBPROCESS_ALLOWED:
        broken.append("(b) only git/ starts git: go through hourly_hooks.git.run")
    if in_package(module, "hourly_hooks.output") and (
            top in OUTPUT_FORBIDDEN or any(in_package(imported, f"hourly_hooks.{name}")
                                           for name in ("git", "store", "history"))):
        broken.append("(c) output/ renders what it is given: no click, no subprocess or GitPython, "
                      "no git/, store or history")
    if module == "hourly_hooks.store" and in_package(imported, "hourly_hooks.git"):
        broken.append("(f) store.py is SQLite only: history.py asks git (through git/) and hands the store rows")
    if any(in_package(module, f"hourly_hooks.{name}") for name in ("core", "git", "output", "btcpay")) and (
            in_package(imported, "hourly_hooks.commands") or in_package(imported, "hourly_hooks.cli")):
        broken.append("(d) core/, git/, output/ and btcpay/ never import commands/ or cli")
    if ours and layer_of(imported) > layer_of(module) and (module, imported) not in UPWARD_ALLOWED:
        broken.append(f"(e) no import upward: {LAYERS[layer_of(module)][0]} may not import "
                      f"{LAYERS[layer_of(imported)][0]} (pass it in or move it down, or list it in "
                      "UPWARD_ALLOWED with a reason)")
    return broken


def cycle(graph: Dict[str, List[str]]) -> Optional[List[str]]:
    """One import cycle of the graph (its modules, the first repeated last), or None."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for target in graph.get(node, []):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def violations(sources: Dict[str, str]) -> List[str]:
    """Every rule an import of these modules breaks, one line each naming module, import and rule."""
    known = set(sources) | set(real_sources())
    found = []
    graph: Dict[str, List[str]] = {}
    for module, source in sorted(sources.items()):
        for imp in imports_of(module, source, known):
            for rule in rule_breaches(module, imp.name):
                found.append(f"{module} imports {imp.name} (line {imp.line}): {rule}")
            if imp.runs_at_import and imp.name in sources and imp.name != module:
                graph.setdefault(module, []).append(imp.name)
    loop = cycle(graph)
    if loop:
        found.append("(e) import cycle among module-level imports: " + " -> ".join(loop)
                     + " (import one of them inside the function that needs it, or move the shared part down)")
    return found


def test_the_package_keeps_its_layers():
    assert violations(real_sources()) == []


def test_every_module_has_a_layer():
    for module in real_sources():
        layer_of(module)


def test_every_allowance_is_still_needed():
    # A listed exception the code no longer needs is removed, not kept "just in case".
    sources = real_sources()
    known = set(sources)
    edges = {(module, imp.name) for module, source in sources.items() for imp in imports_of(module, source, known)}
    assert [pair for pair in UPWARD_ALLOWED if pair not in edges] == []
    uses = {module for module, source in sources.items()
            for imp in imports_of(module, source, known) if imp.name == "subprocess"}
    assert [module for module in SUBPROCESS_ALLOWED if module not in uses] == []


# Each rule, shown failing on a module that breaks it (synthetic source, checked beside the real package).
@pytest.mark.parametrize("module, source, rule", [
    ("hourly_hooks.core.bad", "import os\n", "(a) core/ is pure"),
    ("hourly_hooks.core.bad", "def f():\n    import sqlite3\n", "(a) core/ is pure"),
    ("hourly_hooks.core.bad", "from hourly_hooks import store\n", "(a) core/ is pure"),
    ("hourly_hooks.core.bad", "import git\n", "(a) core/ is pure"),
    ("hourly_hooks.status", "def f():\n    import subprocess\n", "(b) only git/ starts git"),
    ("hourly_hooks.hooks.bad", "from subprocess import run\n", "(b) only git/ starts git"),
    ("hourly_hooks.output.bad", "import click\n", "(c) output/ renders"),
    ("hourly_hooks.output.bad", "from hourly_hooks.git.run import run_git\n", "(c) output/ renders"),
    ("hourly_hooks.output.bad", "def f():\n    from hourly_hooks import history\n", "(c) output/ renders"),
    ("hourly_hooks.btcpay.bad", "def f():\n    from hourly_hooks.commands import options\n", "(d) core/, git/"),
    ("hourly_hooks.git.bad", "from hourly_hooks.cli import main\n", "(d) core/, git/"),
    ("hourly_hooks.store", "from hourly_hooks.output import render\n", "(e) no import upward"),
    ("hourly_hooks.store", "from hourly_hooks.git.log import stream_rows\n", "(f) store.py is SQLite only"),
    ("hourly_hooks.status", "from hourly_hooks.commands.options import load_timesheet\n", "(e) no import upward"),
])
def test_each_rule_names_the_module_the_import_and_the_rule(module, source, rule):
    found = violations({module: source})
    assert len(found) >= 1 and all(line.startswith(f"{module} imports ") for line in found)
    assert any(rule in line for line in found), found


def test_an_import_cycle_is_named_and_one_inside_a_function_is_not_one():
    cyclic = {"hourly_hooks.output.a": "from hourly_hooks.output import b\n",
              "hourly_hooks.output.b": "import hourly_hooks.output.a\n"}
    assert violations(cyclic) == ["(e) import cycle among module-level imports: hourly_hooks.output.a -> "
                                  "hourly_hooks.output.b -> hourly_hooks.output.a (import one of them inside "
                                  "the function that needs it, or move the shared part down)"]
    lazy = dict(cyclic, **{"hourly_hooks.output.b": "def f():\n    import hourly_hooks.output.a\n"})
    assert violations(lazy) == []
    typing_only = dict(cyclic, **{"hourly_hooks.output.b": "if TYPE_CHECKING:\n    import hourly_hooks.output.a\n"})
    assert violations(typing_only) == []


def test_an_allowed_exception_is_allowed_and_only_it():
    assert violations({"hourly_hooks.store": "import subprocess\n"}) != []  # the store is SQLite only
    assert violations({"hourly_hooks.config.keys": "def f():\n    from hourly_hooks.btcpay.hosts import x\n"}) == []
    assert violations({"hourly_hooks.config.keys": "def f():\n    from hourly_hooks.btcpay import ledger\n"}) != []
