"""ONNX lowerings for ir/ops/linalg.py: MatMul has NumPy's (and torch's) rank rules."""
from __future__ import annotations

from ir.ops import linalg as L
from ir.ops import shape as S


def _matmul(b, node, xs):
    """``x @ w.t()`` with 2-D operands (every nn.Linear) becomes ``Gemm(transB=1)`` reading ``w``
    directly, so no Transpose runs; anything else is a ``MatMul``."""
    x, wt = node.inputs
    if (wt.op is S.permute and wt.attrs.perm == (1, 0) and len(x.shape) == 2
            and x.dtype.name in ("float32", "float64") and wt.inputs[0] in b.names):
        return b.op("Gemm", [xs[0], b.names[wt.inputs[0]]], transB=1)
    return b.op("MatMul", xs)


LOWERINGS = {
    L.matmul: _matmul,
}
