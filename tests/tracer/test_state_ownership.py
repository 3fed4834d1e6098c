"""A tensor's state has one owner: only ``tracer/core`` writes a tensor's value, version
counter, node, type, autograd flags or a node's metadata; every other room calls
``tracer.core.tensor_state``."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2] / "tracer"
OWNED = {"_value", "_vc", "_node", "_own_node", "_type", "_requires_grad", "_grad", "_retains_grad", "_born", "meta"}


def _writes(tree):
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            while isinstance(target, ast.Subscript):  # t._vc[0] += 1
                target = target.value
            if isinstance(target, ast.Attribute) and target.attr in OWNED:
                yield node.lineno, target.attr


def offenders(root=ROOT) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if "core" in path.relative_to(root).parts[:1]:
            continue
        for line, attr in _writes(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{path.relative_to(root.parent)}:{line} writes .{attr}")
    return found


def test_only_core_writes_tensor_state():
    assert offenders() == []


def test_the_check_sees_a_write(tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "bad.py").write_text("def f(t, v):\n    t._vc[0] += 1\n    t._value = v\n")
    assert len(offenders(tmp_path)) == 2
