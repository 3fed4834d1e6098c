"""ONNX's own conformance node cases (``onnx.backend.test``) through ``backends.onnx.load`` and
the NumPy interpreter, against the cases' expected outputs.

Every case whose ops import is run: dtypes and shapes must match exactly, floats to 1e-5
relative / 1e-6 absolute (``TOLERANCES`` widens that per case, with the reason). An input that
the ir needs as a static attribute (a Reduce's axes, a Reshape's shape, Resize's scales) is a
graph input in many cases; ``load`` refuses those with its clear error, so such a case is run
again with those inputs frozen into initializers from the case's data (its pin line says
``frozen``); a static input computed inside the model (a function-expanded case) freezes the
integer graph inputs it is computed from. The passing cases are pinned in
``onnx_import_passing.txt``: the test fails if a pinned case stops passing, and if any import
crashes (raises anything but ``OnnxImportError``).
``TRACEGRAD_UPDATE_ONNX_PINS=1`` rewrites the pin file, whose header holds the pass /
unsupported / crash counts and the op families still failing with their case counts
(``docs/generate_onnx_imports.py`` copies both into docs/onnx.md).
"""
from __future__ import annotations

import os
import pathlib
import re
import warnings

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import backends.numpy as bnp
import ir
from backends.onnx import OnnxImportError, load

PINS = pathlib.Path(__file__).with_name("onnx_import_passing.txt")

#: case -> (rtol, atol, why): cases whose expected data is coarser than the default tolerance.
TOLERANCES = {
    "test_averagepool_2d_ceil_last_window_starts_on_pad": (1e-3, 1e-4, "expected outputs rounded to 4 decimals"),
    "test_gridsample_bicubic": (1e-3, 1e-4, "expected outputs rounded to 4 decimals"),
}
RTOL, ATOL = 1e-5, 1e-6
_STATIC = re.compile(r"\('([^']+)'\) must be a constant or initializer")


def _array(value):
    """A case's tensor as an array (sequences and optionals stay as they are: load refuses them)."""
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    return value if isinstance(value, (list, tuple)) or value is None else np.asarray(value)


def _fed_names(model):
    inits = {t.name for t in model.graph.initializer}
    return [vi.name for vi in model.graph.input if vi.name not in inits]


def _import(case):
    """(graph, frozen input names); static inputs are frozen from the first data set."""
    model, frozen = case.model, []
    names = _fed_names(case.model)
    first = [_array(a) for a in case.data_sets[0][0]]
    while True:
        try:
            return load(model), frozen
        except OnnxImportError as err:
            found = _STATIC.search(str(err))
            needed = [n for n in _graph_inputs_behind(model, found.group(1)) if n in names] if found else []
            if not needed or any(n in frozen for n in needed):
                raise
            frozen.extend(needed)
            model = onnx.ModelProto.FromString(model.SerializeToString())
            for name in needed:
                model.graph.initializer.append(numpy_helper.from_array(first[names.index(name)], name))


def _all_nodes(graph):
    """The graph's nodes and those of its subgraphs (If branches), depth first."""
    for node in graph.node:
        yield node
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(a.g)


def _graph_inputs_behind(model, name) -> list[str]:
    """The graph input ``name`` itself, or the integer graph inputs (sizes, shapes, axes) it is
    computed from: a static input of a function-expanded case is often a few nodes away from
    the graph input it comes from."""
    if name in {vi.name for vi in model.graph.input}:
        return [name]
    producer = {out: node for node in _all_nodes(model.graph) for out in node.output}
    integer = (onnx.TensorProto.INT64, onnx.TensorProto.INT32)
    inputs = {vi.name for vi in model.graph.input if vi.type.tensor_type.elem_type in integer}
    found, stack, seen = [], [name], set()
    while stack:
        top = stack.pop()
        if top in seen or not top:
            continue
        seen.add(top)
        if top in inputs:
            found.append(top)
        elif top in producer:
            stack.extend(producer[top].input)
    return sorted(found)


def _mismatch(case, graph) -> str | None:
    """Why the interpreter's outputs differ from the case's expected ones (None: they agree)."""
    rtol, atol, _ = TOLERANCES.get(case.name, (RTOL, ATOL, ""))
    names = _fed_names(case.model)
    for inputs, expected in case.data_sets:
        feeds = dict(zip(names, (_array(a) for a in inputs)))
        got = bnp.run(graph, {k: feeds[k] for k in graph.input_names})
        if len(got) != len(expected):
            return f"{len(got)} outputs, expected {len(expected)}"
        for i, (a, b) in enumerate(zip(got, map(_array, expected))):
            if a.dtype != b.dtype or a.shape != b.shape:
                return f"output {i}: {a.dtype}{list(a.shape)}, expected {b.dtype}{list(b.shape)}"
            # float16 results: half precision's own rounding (a case's data is computed in float32)
            tol = (max(rtol, 1e-3), max(atol, 1e-3)) if b.dtype == np.float16 else (rtol, atol)
            same = (np.allclose(a, b, rtol=tol[0], atol=tol[1], equal_nan=True) if b.dtype.kind == "f"
                    else np.array_equal(a, b))
            if not same:
                return f"output {i}: values differ"
    return None


def run_case(case):
    """('pass' | 'unsupported' | 'fail' | 'crash', detail, frozen inputs): 'crash' is an import
    that raised anything but the clear OnnxImportError (a bug in load or a rule)."""
    try:
        graph, frozen = _import(case)
    except OnnxImportError as err:
        return "unsupported", str(err), []
    except Exception as err:  # noqa: BLE001 - counted and reported by test_no_import_crashes
        return "crash", f"{type(err).__name__}: {err}", []
    if frozen and len(case.data_sets) > 1:
        return "unsupported", "load: static inputs vary between data sets", frozen
    if any(n.op.nondeterministic for n in graph.nodes):
        return "unsupported", "load: random draws cannot match a case's fixed outputs", frozen
    try:
        ir.lint(graph)
        why = _mismatch(case, graph)
    except Exception as err:  # a kernel error is a failure of this case, reported by name
        why = f"{type(err).__name__}: {err}"
    return ("fail", why, frozen) if why else ("pass", "", frozen)


_NAMED_NODE = re.compile(r"ONNX node '[^']*' \((\w+), opset \d+\)")
_EXPANDED = re.compile(r"^(\w+?)_test_\w*_expanded")


def family(case) -> str:
    """The ONNX op type a case tests: the op a function-expanded case was expanded from (its
    node names start with it), else the op type of its node (of its first node)."""
    for node in case.model.graph.node:
        for name in (node.name, *node.output):
            found = _EXPANDED.match(name)
            if found:
                return found.group(1)
    nodes = case.model.graph.node
    return nodes[0].op_type if nodes else "<no node>"


def reason(detail: str) -> str:
    """A short class of why a case does not import (the table's "why" column)."""
    if "is not supported by tracegrad's ONNX import" in detail:
        found = _NAMED_NODE.search(detail)
        return f"op {found.group(1) if found else '?'} not imported"
    for pattern, label in ((r"dtype (\w+) is not supported", "dtype {}"), (r"load: opset (\d+) is not", "opset {} (< 13)"),
                           (r"attribute (\w+)=", "attribute {}"), (r"attribute\(s\) '(\w+)'", "attribute {}"),
                           (r"op domain '([\w.]*)'", "domain {}")):
        found = re.search(pattern, detail)
        if found:
            return label.format(found.group(1))
    if "only tensor inputs" in detail:
        return "sequence/optional values"
    if "imports no ai.onnx opset" in detail:
        return "ai.onnx.ml / preview-training domain only"
    if "must be a constant or initializer" in detail:
        return "static input computed from a graph input"
    if "random draws" in detail or "training_mode" in detail:
        return "random or training mode"
    return _NAMED_NODE.sub("", detail).strip(": ").split(" (")[0][:60].replace("|", "/")


def _missing_table(cases, results) -> list[str]:
    """Pin-file comment lines: each op family with cases that do not pass, its count and its
    most common reasons (with their counts), most cases first."""
    by_family: dict = {}
    for case in cases:
        status, detail, _ = results[case.name]
        if status != "pass":
            by_family.setdefault(family(case), []).append(reason(detail) if status == "unsupported" else status)
    rows = sorted(by_family.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    lines = []
    for name, reasons in rows:
        ranked = sorted(set(reasons), key=lambda why: (-reasons.count(why), why))
        why = ", ".join(f"{r} ({reasons.count(r)})" for r in ranked[:2])
        if len(ranked) > 2:
            why += f", {len(ranked) - 2} more"
        lines.append(f"# missing: {name} | {len(reasons)} | {why}")
    return lines


def _pin_line(name, frozen):
    return f"{name} frozen={','.join(frozen)}" if frozen else name


def _read_pins() -> dict:
    pins = {}
    for line in PINS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, rest = line.partition(" ")
            pins[name] = rest
    return pins


@pytest.fixture(scope="module")
def cases():
    from onnx.backend.test.loader import load_model_tests
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the case generators' own overflow warnings
        return load_model_tests(kind="node")


@pytest.fixture(scope="module")
def results(cases):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {case.name: run_case(case) for case in cases}


def summary(results) -> str:
    counts = {status: sum(r[0] == status for r in results.values()) for status in ("pass", "unsupported", "fail", "crash")}
    return (f"ONNX conformance: {counts['pass']} of {len(results)} node cases pass "
            f"({100 * counts['pass'] / max(len(results), 1):.1f}%), {counts['unsupported']} unsupported (the clear "
            f"OnnxImportError), {counts['fail']} fail after importing, {counts['crash']} crash")


def test_pinned_conformance_cases_still_pass(cases, results):
    passing = {name: _pin_line(name, frozen) for name, (status, _, frozen) in results.items() if status == "pass"}
    if os.environ.get("TRACEGRAD_UPDATE_ONNX_PINS"):
        header = ("# ONNX conformance node cases that backends.onnx.load imports and the NumPy interpreter passes\n"
                  "# (tests/backends/test_onnx_conformance.py; `frozen=` lists inputs frozen into initializers).\n"
                  f"# {summary(results)}\n"
                  "# Op families with cases that do not pass (`# missing: family | cases | most common reason`):\n")
        PINS.write_text(header + "".join(line + "\n" for line in _missing_table(cases, results))
                        + "".join(line + "\n" for _, line in sorted(passing.items())))
    pins = _read_pins()
    lost = {name: results.get(name, ("missing", "no such case", []))[:2] for name in pins if name not in passing}
    assert not lost, f"{len(lost)} pinned conformance cases stopped passing: {lost}"
    print(f"\n{summary(results)}; {sum('frozen' in line for line in passing.values())} pass with static inputs "
          f"frozen; {len(pins)} pinned")


def test_conformance_summary(results):
    """The counts, visible with ``pytest -s`` (and in the pin file's header): the import must
    never crash, and must pass at least 60% of the node cases."""
    print(f"\n{summary(results)}")
    passed = sum(r[0] == "pass" for r in results.values())
    assert passed >= 0.6 * len(results), summary(results)


def test_no_import_crashes(results):
    """Every model either imports or is refused with the clear OnnxImportError."""
    crashed = {name: detail for name, (status, detail, _) in results.items() if status == "crash"}
    assert not crashed, crashed


def test_no_case_fails_after_importing(results):
    """A case that imports either passes or is a known failure: an import that gives wrong
    numbers is a bug, not a gap."""
    failing = {name: detail for name, (status, detail, _) in results.items() if status == "fail"}
    assert not failing, failing


def test_unsupported_cases_fail_with_the_clear_error(results):
    for name, (status, detail, _) in results.items():
        if status == "unsupported":
            assert re.search(r"(ONNX node '.*' \(\w+, opset \d+\)|load: )", detail), (name, detail)
