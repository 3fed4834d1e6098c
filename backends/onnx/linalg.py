"""ONNX lowerings for ir/ops/linalg.py: MatMul has NumPy's (and torch's) rank rules.

Folding a transpose into ``Gemm`` needs the transpose's node, so it is an ONNX-side pass
(``backends/onnx/passes/gemm.py``), not part of this lowering."""
from __future__ import annotations

from backends.onnx.builder import bools_via_int32
from ir.ops import linalg as L


def _matrix_times_vector(b, node, xs):
    """A matrix (or batch) times a 1-D vector multiplies by the vector as a one-column matrix:
    onnxruntime's MatmulTransposeFusion turns ``MatMul(Transpose(a), v)`` into a
    ``FusedMatMul(transA=1)`` that computes a wrong result when ``v`` is 1-D (seen with
    onnxruntime 1.32), and a lowering cannot see whether its matrix is a transpose."""
    last = b.int64s([-1])
    column = b.op("Unsqueeze", [xs[1], last])
    return b.op("Squeeze", [b.op("MatMul", [xs[0], column]), last])


def _matmul(b, node, xs):
    """ir matmul -> ONNX MatMul."""
    a, v = node.inputs
    if len(v.shape) == 1 and len(a.shape) >= 2:
        return _matrix_times_vector(b, node, xs)
    return b.op("MatMul", xs)


LOWERINGS = {
    L.matmul: bools_via_int32(_matmul),
}
