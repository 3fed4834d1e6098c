"""Interpreter versus onnxruntime, output by output and, on a mismatch, node by node."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backends.numpy import evaluate
from backends.numpy import run as np_run
from backends.numpy.feeds import bind
from backends.onnx.lowerings import narrowed
from backends.ort import run as ort_run
from ir.graph import Graph
from ir.ops import source

#: (rtol, atol) per dtype kind when the caller gives none: float32 sums reorder in
#: onnxruntime, so a few ulps of relative error are expected.
TOLERANCE = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-11)}


def tolerance(dtype_name: str, rtol=None, atol=None):
    base = TOLERANCE.get(dtype_name, (0.0, 0.0))
    return (base[0] if rtol is None else rtol), (base[1] if atol is None else atol)


def narrowings(graph: Graph) -> dict:
    """``{node: note}`` for every node onnxruntime computes from a value it computed in a
    narrower dtype than declared (a float64 erf runs in float32): their default tolerance is
    the narrower dtype's, and the note says which node narrowed and why."""
    found = {}
    for node in graph.nodes:
        own = narrowed(node)
        if own is not None:
            found[node] = (own[0], f"{node.op.name} ({node.dtype.name}) computed in {own[0]} on onnxruntime: {own[1]}"
                           + (f", at {node.source}" if node.source else ""))
            continue
        for i in node.inputs:
            if i in found and node.dtype.is_floating_point:
                found[node] = found[i]
                break
    return found


def _node_tolerance(node, narrow, rtol, atol):
    """The tolerance for ``node``: the caller's, else its dtype's, else the narrower dtype's it was computed in."""
    dtype = narrow[node][0] if node in narrow else node.dtype.name
    return tolerance(dtype, rtol, atol)


@dataclass
class OutputReport:
    name: str
    type: str
    max_abs: float
    max_rel: float
    rtol: float
    atol: float
    ok: bool
    note: str = ""  # why the tolerance is wider than the dtype's (a narrowed lowering upstream)


@dataclass
class Divergence:
    """The first node whose onnxruntime value differs from the interpreter's."""

    index: int
    op: str
    source: str | None
    phase: str
    expected: str
    got: str
    max_abs: float


@dataclass
class Report:
    graph: str
    outputs: list[OutputReport] = field(default_factory=list)
    divergence: Divergence | None = None

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outputs)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = f"{'output':<24} {'type':<22} {'max abs err':>12} {'max rel err':>12} {'tolerance':>20}  ok"
        lines = [f"interpreter vs onnxruntime: graph {self.graph}", head, "-" * len(head)]
        for o in self.outputs:
            tol = f"rtol={o.rtol:.0e} atol={o.atol:.0e}"
            lines.append(f"{o.name:<24} {o.type:<22} {o.max_abs:>12.3e} {o.max_rel:>12.3e} {tol:>20}  "
                         f"{'yes' if o.ok else 'NO'}")
        notes = sorted({o.note for o in self.outputs if o.note})
        if notes:
            lines += ["", "tolerances widened where onnxruntime computes in a narrower dtype:"] + [f"  {n}" for n in notes]
        if self.divergence is not None:
            d = self.divergence
            lines += ["", f"first diverging node: %{d.index} {d.op} ({d.phase})" + (f" at {d.source}" if d.source else ""),
                      f"  interpreter: {d.expected}", f"  onnxruntime: {d.got}", f"  max abs err: {d.max_abs:.3e}"]
        return "\n".join(lines)


def _errors(expected, got):
    expected = np.asarray(expected)
    got = np.asarray(got)
    if expected.shape != got.shape:
        return float("inf"), float("inf")
    if expected.size == 0:
        return 0.0, 0.0
    a = expected.astype(np.float64)
    b = got.astype(np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & (a == b)
    with np.errstate(invalid="ignore"):  # inf - inf where both are the same infinity: masked just here
        diff = np.where(both_nan | same_inf, 0.0, np.abs(a - b))
    diff = np.where(np.isnan(diff), np.inf, diff)
    rel = diff / np.maximum(np.abs(a), np.finfo(np.float64).tiny)
    return float(diff.max()), float(np.where(diff == 0, 0.0, rel).max())


def _close(expected, got, rtol, atol) -> bool:
    expected, got = np.asarray(expected), np.asarray(got)
    if expected.shape != got.shape:
        return False
    if expected.dtype.kind in "iub":
        return bool(np.array_equal(expected, got))
    return bool(np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True))


def _summary(a) -> str:
    a = np.asarray(a)
    if a.size == 0:
        return f"{a.dtype}{list(a.shape)} (empty)"
    f = a.astype(np.float64)
    return f"{a.dtype}{list(a.shape)} min={f.min():.6g} max={f.max():.6g} mean={f.mean():.6g}"


def _intermediates(graph: Graph) -> Graph:
    """The same graph with every computed node exposed as an output."""
    wide = graph.copy()
    nodes = [n for n in wide.nodes if n.op is not source.input_]
    wide.set_outputs(nodes, [f"tracegrad_node_{wide.index(n)}" for n in nodes])
    return wide


def first_divergence(graph: Graph, inputs, named, rtol=None, atol=None, opset: int = 18) -> Divergence | None:
    env = evaluate(graph.nodes, bind(graph, inputs, named), keep=graph.nodes)
    wide = _intermediates(graph)
    got = dict(zip(wide.output_names, ort_run(wide, *inputs, opset=opset, **named)))
    narrow = narrowings(graph)
    for i, node in enumerate(graph.nodes):
        if node.op is source.input_:
            continue
        value = got[f"tracegrad_node_{i}"]
        r, a = _node_tolerance(node, narrow, rtol, atol)
        if not _close(env[node], value, r, a):
            return Divergence(i, node.op.name, node.source, node.phase, _summary(env[node]), _summary(value),
                              _errors(env[node], value)[0])
    return None


def compare(graph: Graph, *inputs, rtol=None, atol=None, opset: int = 18, **named) -> Report:
    """Run ``graph`` on the interpreter and on onnxruntime and compare every output.

    Args:
        graph: an ``ir.Graph``.
        inputs: as for ``backends.numpy.run`` (traced values fill in the rest).
        rtol, atol: tolerances; default per dtype (``TOLERANCE``), exact for ints and bools,
            and the narrower dtype's for outputs computed from a lowering onnxruntime runs in a
            narrower dtype (float64 ``erf``, so ``gelu``), stated in the report's notes.
        opset: the opset to export with.

    Returns:
        A ``Report``: ``ok``, a row per output, and on a mismatch the first diverging node
        (its op, phase, source line and both values' summaries). ``str(report)`` is a table.
    """
    expected = np_run(graph, *inputs, **named)
    got = ort_run(graph, *inputs, opset=opset, **named)
    report = Report(graph.name)
    narrow = narrowings(graph)
    for name, node, e, g in zip(graph.output_names, graph.outputs, expected, got):
        r, a = _node_tolerance(node, narrow, rtol, atol)
        max_abs, max_rel = _errors(e, g)
        note = narrow[node][1] if node in narrow and rtol is None else ""
        report.outputs.append(OutputReport(name, str(node.type), max_abs, max_rel, r, a, _close(e, g, r, a), note))
    if not report.ok:
        report.divergence = first_divergence(graph, inputs, named, rtol, atol, opset)
    return report
