"""ONNX lowerings for ir/ops/linalg.py: MatMul has NumPy's (and torch's) rank rules."""
from __future__ import annotations

from ir.ops import linalg as L
from ir.ops import shape as S


def gemm_operands(b, node):
    """For ``x @ w.t()`` with 2-D float operands (every nn.Linear): the ONNX names of x and w,
    so ``Gemm(transB=1)`` reads ``w`` directly and no Transpose runs; else None."""
    x, wt = node.inputs
    if (node.op is L.matmul and wt.op is S.permute and wt.attrs.perm == (1, 0) and len(x.shape) == 2
            and x.dtype.name in ("float32", "float64") and wt.inputs[0] in b.names):
        return b.names[x], b.names[wt.inputs[0]]
    return None


def gemm_with_bias(b, add_node):
    """``(x @ w.t()) + bias`` as one ``Gemm(x, w, bias, transB=1)`` when the product has no other
    user; the product's own node is then unused and dropped by the exporter."""
    product, bias = add_node.inputs
    operands = gemm_operands(b, product) if product.op is L.matmul else None
    if operands is None or b.users.get(product, 0) != 1 or bias.dtype is not product.dtype:
        return None
    if len(bias.shape) > 2 or any(d not in (1, e) for d, e in zip(reversed(bias.shape), reversed(product.shape))):
        return None
    return b.op("Gemm", [*operands, b.names[bias]], transB=1)


def _matrix_times_vector(b, node, xs):
    """A matrix (or batch) times a 1-D vector multiplies by the vector as a one-column matrix:
    onnxruntime's MatmulTransposeFusion turns ``MatMul(Transpose(a), v)`` into a
    ``FusedMatMul(transA=1)`` that computes a wrong result when ``v`` is 1-D (seen with
    onnxruntime 1.32), and a lowering cannot see whether its matrix is a transpose."""
    last = b.int64s([-1])
    column = b.op("Unsqueeze", [xs[1], last])
    return b.op("Squeeze", [b.op("MatMul", [xs[0], column]), last])


def _matmul(b, node, xs):
    operands = gemm_operands(b, node)
    if operands:
        return b.op("Gemm", list(operands), transB=1)
    a, v = node.inputs
    if len(v.shape) == 1 and len(a.shape) >= 2:
        return _matrix_times_vector(b, node, xs)
    return b.op("MatMul", xs)


LOWERINGS = {
    L.matmul: _matmul,
}
