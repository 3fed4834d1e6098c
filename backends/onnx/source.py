"""ONNX lowerings for constants and random draws (graph inputs are handled by the exporter)."""
from __future__ import annotations

from backends.onnx.builder import ONNX_TYPE
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
