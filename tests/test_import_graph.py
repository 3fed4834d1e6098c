"""The house's import rules, read from the source (imports inside functions included):
no cycle between modules, rooms import only downwards (docs/architecture.md), and few
function-local imports of project modules, each with a comment saying why."""
from __future__ import annotations

import ast
import pathlib

import networkx as nx

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("ir", "backends", "tracer")

#: Rooms from the bottom up; a room may import itself and the rooms listed before it, except
#: that the NumPy and ONNX backends are siblings that never import each other.
ROOMS = ["ir", "backends.numpy", "backends.onnx", "backends", "tracer.core", "tracer.ops", "tracer.autograd",
         "tracer.nn", "tracer.optim", "tracer.utils", "tracer.jit", "tracer.onnx", "tracer", "tracer.cli"]
SIBLINGS = {frozenset({"backends.numpy", "backends.onnx"})}

#: Function-local imports of project modules allowed in the whole code base.
LOCAL_PROJECT_IMPORTS = 3


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def room_of(module: str) -> str:
    """The deepest room whose name prefixes the module (``tracer.__main__`` is the CLI's)."""
    if module == "tracer.__main__":
        return "tracer.cli"
    best = None
    for room in ROOMS:
        if module == room or module.startswith(room + "."):
            if best is None or len(room) > len(best):
                best = room
    return best


def _may_import(src_room: str, dst_room: str) -> bool:
    if src_room == dst_room:
        return True
    if frozenset({src_room, dst_room}) in SIBLINGS:
        return False
    return ROOMS.index(dst_room) < ROOMS.index(src_room)


def _resolve(node, module: str, is_package: bool, known) -> list[str]:
    """The project modules an import statement names (a name that is a submodule counts as it)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] in PACKAGES]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        parts = parts if is_package else parts[:-1]
        parts = parts[:len(parts) - node.level + 1]
        base = ".".join(parts + ([base] if base else []))
    if base.split(".")[0] not in PACKAGES:
        return []
    targets = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        targets.append(sub if sub in known else base)
    return targets


class _Imports(ast.NodeVisitor):
    def __init__(self):
        self.depth = 0
        self.found = []  # (node, inside a function)

    def _scope(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _scope

    def visit_Import(self, node):
        self.found.append((node, self.depth > 0))

    visit_ImportFrom = visit_Import


def _scan():
    modules = _modules()
    edges, local = [], []
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        visitor = _Imports()
        visitor.visit(ast.parse(text, filename=str(path)))
        for node, inside in visitor.found:
            targets = _resolve(node, name, path.name == "__init__.py", modules)
            for target in targets:
                edges.append((name, target, node.lineno))
            if inside:
                line = lines[node.lineno - 1]
                above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                commented = "#" in line or above.startswith("#")
                local.append((name, node.lineno, bool(targets), commented))
    return modules, edges, local


def test_no_import_cycles():
    _, edges, _ = _scan()
    g = nx.DiGraph((a, b) for a, b, _ in edges if a != b)
    cycles = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert not cycles, "import cycles (split the shared piece into a lower module): " + "; ".join(
        " <-> ".join(sorted(c)) for c in cycles)


def test_rooms_import_only_downwards():
    _, edges, _ = _scan()
    breaks = [f"{a}:{line} imports {b} ({room_of(a)} may not import {room_of(b)})"
              for a, b, line in edges if not _may_import(room_of(a), room_of(b))]
    assert not breaks, "room breaks:\n" + "\n".join(breaks)


def test_every_module_is_in_a_room():
    modules, _, _ = _scan()
    assert [m for m in modules if room_of(m) is None] == []


def test_function_local_imports_are_few_and_explained():
    _, _, local = _scan()
    unexplained = [f"{m}:{line}" for m, line, _, commented in local if not commented]
    assert not unexplained, "function-local imports need a one-line reason as a comment: " + ", ".join(unexplained)
    project = [f"{m}:{line}" for m, line, is_project, _ in local if is_project]
    assert len(project) <= LOCAL_PROJECT_IMPORTS, "function-local project imports: " + ", ".join(project)


def test_the_room_table_knows_a_cycle_and_a_break():
    """The checks above can fail: a made-up cycle and an upward import are caught."""
    g = nx.DiGraph([("ir.a", "ir.b"), ("ir.b", "ir.a")])
    assert any(len(c) > 1 for c in nx.strongly_connected_components(g))
    assert not _may_import("ir", "tracer.core")
    assert not _may_import("backends.onnx", "backends.numpy")
    assert not _may_import("tracer.core", "tracer.ops")
    assert _may_import("tracer.cli", "tracer")
    assert room_of("tracer.core.tensor") == "tracer.core" and room_of("tracer.testing") == "tracer"
