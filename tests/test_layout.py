"""The package's shape: no import cycles (module-level or inside functions), data flowing one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "colgen"

#: Layers, lowest first: a module may import only from its own layer or lower ones (the engine's
#: parts sit side by side and must not import each other).
LAYERS = [
    {"errors", "choices", "limits", "stop", "progress", "jsonio", "child"},
    {"model"},
    {"result", "io", "goals"},
    {"space", "backends"},
    {"bnp", "ilp"},
    {"check"},
    {"report"},
    {"api"},
    {"studies", "sweep"},
    {"cli"},
]
SIDE_BY_SIDE = [{"bnp", "ilp"}, {"space", "backends"}, {"studies", "sweep"}]


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Every colgen module ``name`` imports, at any depth of the file (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    if name == "colgen":   # the package's lazy exports are looked up by name, not imported here
        found = set()
    return {m for m in found if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _role(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "colgen"


def test_no_import_cycles():
    graph = _graph()
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:                     # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_data_flows_one_way():
    level = {role: i for i, layer in enumerate(LAYERS) for role in layer}
    wrong = []
    for module, deps in _graph().items():
        role = _role(module)
        if role not in level:
            continue
        for dep in deps:
            other = _role(dep)
            same_layer_apart = any(role in g and other in g and role != other for g in SIDE_BY_SIDE)
            if level.get(other, -1) > level[role] or same_layer_apart:
                wrong.append(f"{module} imports {dep}")
    assert not wrong, wrong


def test_every_role_is_placed():
    roles = {_role(m) for m in _graph()} - {"colgen"}
    assert roles <= {r for layer in LAYERS for r in layer}, roles - {r for layer in LAYERS for r in layer}


def test_help_loads_no_solver():
    code = ("import sys; from colgen.cli.main import parser; parser(); "
            "heavy = [m for m in ('numba', 'highspy', 'gurobipy', 'scipy', 'jsonschema') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"colgen --help imports {out}"
