"""Which dims of each value are symbolic at run time, given the graph inputs' dynamic axes.

Export uses this to write shapes that follow the runtime size (Reshape's 0 and -1, Expand's
1, Shape-derived counts) and to explain, naming the op and the user's line, where a graph
bakes a dynamic size in and so cannot serve other sizes.
"""
from __future__ import annotations

from ir.errors import IRError
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
from ir.ops import random as RND
from ir.ops import reduce as R
from ir.ops import shape as S
from ir.ops import source as SRC


class DynamicShapeError(IRError):
    """A graph cannot be exported with the requested dynamic axes."""


def _fail(node, detail: str):
    where = f" at {node.source}" if node.source else ""
    raise DynamicShapeError(f"{node.op.name}{where}: {detail}. Trace with the size you need, or keep "
                            "this axis static (drop it from dynamic_axes).")


def _aligned(node, inputs, dyn):
    """Broadcasting: an output dim is dynamic when any input has it dynamic (right-aligned)."""
    rank = len(node.shape)
    out = set()
    for x in inputs:
        offset = rank - len(x.shape)
        for d in dyn.get(x, ()):
            out.add(d + offset)
    for x in inputs:
        offset = rank - len(x.shape)
        for i, size in enumerate(x.shape):
            if i + offset in out and i not in dyn.get(x, ()) and size != 1:
                _fail(node, f"dim {i + offset} is dynamic in one input but fixed at {size} in another")
    return out


def reshape_plan(node, dyn_in: set) -> tuple[list[int], set]:
    """The ONNX Reshape target (0 copies an input dim, -1 is inferred) and the dynamic out dims."""
    x = node.inputs[0]
    shape = list(node.attrs.shape)
    out_dyn = set()
    for i in sorted(dyn_in):
        if i < len(shape) and shape[i] == x.shape[i]:
            shape[i] = 0
            out_dyn.add(i)
    left = [i for i in dyn_in if i not in out_dyn]
    if len(left) > 1:
        _fail(node, "more than one dynamic dim would be merged or moved")
    if left:
        size = x.shape[left[0]]
        fits = [j for j, d in enumerate(shape) if j not in out_dyn and d > 0 and size and d % size == 0]
        if not fits:
            _fail(node, f"the dynamic dim {left[0]} does not map onto any output dim")
        shape[fits[0]] = -1
        out_dyn.add(fits[0])
    return shape, out_dyn


def _reduce(node, dyn_x):
    axes = node.attrs.axes if node.op is not R.argmax and node.op is not R.argmin else (node.attrs.axis,)
    if node.attrs.keepdim:
        return {d for d in dyn_x if d not in axes}
    kept = [d for d in range(len(node.inputs[0].shape)) if d not in axes]
    return {kept.index(d) for d in dyn_x if d in kept}


def _slice(node, dyn_x):
    a = node.attrs
    for d in dyn_x:
        if (a.starts[d], a.ends[d], a.steps[d]) != (0, node.inputs[0].shape[d], 1):
            _fail(node, f"slicing along dynamic dim {d}")
    return set(dyn_x)


def _matmul(node, dyn):
    """Rows follow x, columns follow y, batch dims broadcast; a contracted dim leaves no trace."""
    x, y = node.inputs
    rank, xr, yr = len(node.shape), len(x.shape), len(y.shape)
    out = set()
    offset_x = rank - xr if yr > 1 else rank - (xr - 1)
    for d in dyn.get(x, ()):
        if d == xr - 1:
            continue
        out.add(rank - 2 if d == xr - 2 and yr > 1 else (rank - 1 if d == xr - 2 else d + offset_x))
    offset_y = rank - yr if xr > 1 else rank - (yr - 1)
    for d in dyn.get(y, ()):
        if d == max(yr - 2, 0):
            continue
        out.add(rank - 1 if d == yr - 1 else d + offset_y)
    return out


def _expand(node, dyn_x):
    x = node.inputs[0]
    offset = len(node.shape) - len(x.shape)
    return {d + offset for d in dyn_x}


def propagate(graph, dynamic_inputs: dict) -> dict:
    """``{node: set of dynamic dim indices}`` for every node of ``graph``."""
    dyn: dict = {}
    for node in graph.nodes:
        op, xs = node.op, node.inputs
        if op is SRC.input_:
            out = set(dynamic_inputs.get(node.attrs.name, ()))
        elif op in (SRC.constant, RND.random_uniform, RND.random_normal, R.numel):
            out = set()
        elif op is S.reshape:
            out = reshape_plan(node, dyn.get(xs[0], set()))[1]
        elif op is S.permute:
            d = dyn.get(xs[0], set())
            out = {i for i, p in enumerate(node.attrs.perm) if p in d}
        elif op is S.expand:
            out = _expand(node, dyn.get(xs[0], set()))
        elif op is S.expand_like:
            out = set(dyn.get(xs[1], set()))
        elif op in (R.sum_, R.prod, R.amax, R.amin, R.argmax, R.argmin):
            out = _reduce(node, dyn.get(xs[0], set()))
        elif op in (S.slice_, S.slice_update):
            out = _slice(node, dyn.get(xs[0], set()))
        elif op is S.concat:
            out = _aligned(node, xs, dyn)
            if node.attrs.axis in out:
                _fail(node, "concatenating along a dynamic dim")
        elif op is L.matmul:
            out = _matmul(node, dyn)
        elif op is I.take:
            x_dyn = dyn.get(xs[0], set())
            axis, k = node.attrs.axis, len(xs[1].shape)
            out = {d if d < axis else d + k - 1 for d in x_dyn if d != axis} | {axis + d for d in dyn.get(xs[1], ())}
        elif op is I.gather_elements:
            out = set(dyn.get(xs[1], set()))
        elif op is I.nll_loss:
            out = set(dyn.get(xs[1], set())) | {d - 1 if d > 1 else d for d in dyn.get(xs[0], set()) if d != 1}
            if node.attrs.reduction != "none":
                out = set()
        elif op in (I.index_add, I.scatter_add):
            out = set(dyn.get(xs[0], set()))
        elif op in E.BINARY or op in E.UNARY or op in (E.where, E.cast, E.clamp, R.softmax, R.log_softmax):
            out = _aligned(node, xs, dyn)
        else:
            raise DynamicShapeError(f"{op.name}: no dynamic-shape rule (backends/onnx/dynamic.py)")
        dyn[node] = out
    return dyn
