"""Matrix products, with torch.matmul's rank rules."""
from __future__ import annotations

from ir.errors import op_error
from ir.ops.base import Op
from ir.ops.rules import broadcast_shapes, same_dtype
from ir.types import TensorType


def matmul_shape(types) -> tuple[int, ...]:
    """torch.matmul's result shape: 1-D operands get a dim prepended/appended, then removed."""
    a, b = types
    if a.rank == 0 or b.rank == 0:
        raise op_error("matmul", types, "both arguments to matmul need to be at least 1D")
    sa = (1,) + a.shape if a.rank == 1 else a.shape
    sb = b.shape + (1,) if b.rank == 1 else b.shape
    if sa[-1] != sb[-2]:
        raise op_error("matmul", types, f"mat1 and mat2 shapes cannot be multiplied "
                       f"({sa[-2]}x{sa[-1]} and {sb[-2]}x{sb[-1]})")
    batch = broadcast_shapes("matmul", (TensorType(sa[:-2], a.dtype), TensorType(sb[:-2], b.dtype)))
    out = batch + ((sa[-2],) if a.rank > 1 else ()) + ((sb[-1],) if b.rank > 1 else ())
    return out


def _infer_matmul(types, attrs):
    dtype = same_dtype("matmul", types)
    return TensorType(matmul_shape(types), dtype)


matmul = Op("matmul", _infer_matmul, arity=2)
