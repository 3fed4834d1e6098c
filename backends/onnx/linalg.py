"""ONNX lowerings for ir/ops/linalg.py: MatMul has NumPy's (and torch's) rank rules."""
from __future__ import annotations

from ir.ops import linalg as L

LOWERINGS = {
    L.matmul: lambda b, node, xs: b.op("MatMul", xs),
}
