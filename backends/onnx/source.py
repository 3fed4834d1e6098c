"""ONNX lowerings for constants and random draws (graph inputs are handled by the exporter)."""
from __future__ import annotations

import numpy as np

from backends.onnx.builder import ONNX_TYPE
from backends.onnx.importing import ir_dtype
from ir.ops import random as RND
from ir.ops import source as SRC


def _constant(b, node, xs):
    return b.const(node.attrs.value)


def _random(op_type, low_name, high_name):
    def lower(b, node, xs):
        a = node.attrs
        return b.op(op_type, [], shape=list(a.shape), dtype=ONNX_TYPE[a.dtype],
                    **{low_name: float(a.a), high_name: float(a.b)})
    lower.__doc__ = f"ir random op -> ONNX {op_type} (a fresh draw on every run)."
    return lower


LOWERINGS = {
    SRC.constant: _constant,
    RND.random_uniform: _random("RandomUniform", "low", "high"),
    RND.random_normal: _random("RandomNormal", "mean", "scale"),
}


# -- import rules (ONNX -> ir; ``backends/onnx/load.py`` is the driver) ------------------------
_CONSTANT_FIELDS = {"value": None, "value_float": np.float32, "value_floats": np.float32,
                    "value_int": np.int64, "value_ints": np.int64}


def _imp_constant(g):
    """Constant: its one value attribute as an ir constant (strings and sparse tensors fail)."""
    given = [a.name for a in g.proto.attribute]
    if len(given) != 1 or given[0] not in _CONSTANT_FIELDS:
        g.fail(f"attribute(s) {given} not supported (one of {sorted(_CONSTANT_FIELDS)})")
    value = g.attr(given[0])
    return g.constant(np.asarray(value, dtype=_CONSTANT_FIELDS[given[0]]))


def _imp_random(op, low_name, high_name, like):
    """RandomUniform/RandomNormal(Like): a fresh draw on every run. ``seed`` is accepted but
    not kept: the interpreter draws from the generator the caller passes (``rng=``)."""
    def rule(g):
        g.attr("seed")
        a, b = g.attr(low_name, 0.0), g.attr(high_name, 1.0)
        if like:
            x = g.x(0)
            dtype = g.attr("dtype")
            shape, dtype = x.shape, x.dtype if dtype is None else ir_dtype(dtype, g.where)
        else:
            shape, dtype = tuple(g.attr("shape")), ir_dtype(g.attr("dtype", 1), g.where)
        if not dtype.is_floating_point:
            g.fail(f"dtype {dtype.name}: random draws are floating point")
        return g.add(op, [], RND.RandomAttrs(tuple(shape), dtype, a, b))
    rule.__doc__ = f"ONNX -> ir {op.name}."
    return rule


def _window(kind: str):
    """HannWindow, HammingWindow, BlackmanWindow: a constant (the size is static)."""
    def rule(g):
        values = g.ints(0)
        if values is None or len(values) != 1 or values[0] < 0:
            g.fail(f"size must be one non-negative integer, got {values}")
        size = values[0]
        dtype = ir_dtype(g.attr("output_datatype", 1), g.where)
        n = np.arange(size, dtype=np.float64)
        period = size if g.attr("periodic", 1) else size - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            phase = 2 * np.pi * n / period
        if kind == "Hann":
            w = 0.5 - 0.5 * np.cos(phase)
        elif kind == "Hamming":
            w = 25 / 46 - 21 / 46 * np.cos(phase)
        else:
            w = 0.42 - 0.5 * np.cos(phase) + 0.08 * np.cos(2 * phase)
        return g.constant(w.astype(dtype.np))
    rule.__doc__ = f"ONNX {kind}Window -> a constant window of the static size."
    return rule


def _imp_if(g):
    """If with a condition known at import: the branch it takes, inlined (the other is not read)."""
    cond = np.asarray(g.const(0)).reshape(-1)
    if cond.size != 1:
        g.fail(f"the condition must have one element, got {cond.size}")
    then_branch, else_branch = g.graph_attr("then_branch"), g.graph_attr("else_branch")
    outputs = g.inline(then_branch if bool(cond[0]) else else_branch)
    if len(outputs) != len(g.proto.output):
        g.fail(f"the branch gives {len(outputs)} outputs, the node declares {len(g.proto.output)}")
    return outputs


IMPORTS = {
    "If": _imp_if,
    "HannWindow": _window("Hann"),
    "HammingWindow": _window("Hamming"),
    "BlackmanWindow": _window("Blackman"),
    "Constant": _imp_constant,
    "RandomUniform": _imp_random(RND.random_uniform, "low", "high", like=False),
    "RandomNormal": _imp_random(RND.random_normal, "mean", "scale", like=False),
    "RandomUniformLike": _imp_random(RND.random_uniform, "low", "high", like=True),
    "RandomNormalLike": _imp_random(RND.random_normal, "mean", "scale", like=True),
}
