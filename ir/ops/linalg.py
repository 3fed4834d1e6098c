"""Matrix products, with torch.matmul's rank rules."""
from __future__ import annotations

from ir.errors import IRError, op_error
from ir.ops import dynamic as D
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
    try:
        batch = broadcast_shapes("matmul", (TensorType(sa[:-2], a.dtype), TensorType(sb[:-2], b.dtype)))
    except IRError as e:  # name the operands, not just their batch dims
        raise op_error("matmul", types, f"the batch dims {list(sa[:-2])} and {list(sb[:-2])} cannot be "
                       "broadcast together") from e
    out = batch + ((sa[-2],) if a.rank > 1 else ()) + ((sb[-1],) if b.rank > 1 else ())
    return out


def _infer_matmul(types, attrs):
    dtype = same_dtype("matmul", types)
    return TensorType(matmul_shape(types), dtype)


def _dynamic_matmul(node, dyn) -> set[int]:
    """Rows follow x, columns follow y, batch dims broadcast; a contracted dim leaves no trace."""
    x, y = node.inputs
    rank, xr, yr = len(node.shape), len(x.shape), len(y.shape)
    out = set()
    offset_x = rank - xr if yr > 1 else rank - (xr - 1)
    for d in D.dims(dyn, x):
        if d == xr - 1:
            continue
        out.add(rank - 2 if d == xr - 2 and yr > 1 else (rank - 1 if d == xr - 2 else d + offset_x))
    offset_y = rank - yr if xr > 1 else rank - (yr - 1)
    for d in D.dims(dyn, y):
        if d == max(yr - 2, 0):
            continue
        out.add(rank - 1 if d == yr - 1 else d + offset_y)
    return out


matmul = Op("matmul", _infer_matmul, arity=2, dynamic=_dynamic_matmul)
