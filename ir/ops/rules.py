"""Small shared pieces of shape/dtype rules: broadcasting, dim normalisation, dtype checks."""
from __future__ import annotations

from ir.errors import IRIndexError, IRTypeError, op_error
from ir.types import TensorType


def broadcast_shapes(op: str, types) -> tuple[int, ...]:
    """NumPy/PyTorch broadcasting of the input shapes, or an error naming the op and shapes."""
    first = types[0].shape
    if all(t.shape == first for t in types):
        return first
    rank = max(len(t.shape) for t in types)
    out = [1] * rank
    for t in types:
        offset = rank - len(t.shape)
        for i, d in enumerate(t.shape):
            cur = out[offset + i]
            if cur == 1:
                out[offset + i] = d
            elif d != 1 and d != cur:
                raise op_error(op, types, f"shapes cannot be broadcast together: the size of dim "
                               f"{offset + i - rank} is {cur} in one input and {d} in another")
    return tuple(out)


def same_dtype(op: str, types):
    """The common dtype of the inputs; mixed dtypes are a tracer bug, so say where promotion lives."""
    first = types[0].dtype
    for t in types[1:]:
        if t.dtype is not first:
            raise op_error(op, types, "inputs have different dtypes; PyTorch's type promotion "
                           "happens in tracer/promotion.py, which inserts explicit casts", IRTypeError)
    return first


def require_float(op: str, types):
    for t in types:
        if not t.dtype.is_floating_point:
            raise op_error(op, types, f"expects floating-point inputs, got {t.dtype.name}", IRTypeError)


def require_integer(op: str, types):
    for t in types:
        if t.dtype.kind not in "iu":
            raise op_error(op, types, f"expects integer inputs, got {t.dtype.name}", IRTypeError)


def normalize_axis(op: str, types, axis: int, rank: int) -> int:
    """A dim in [-rank, rank) made non-negative (0-d tensors accept -1 and 0, as in torch)."""
    size = max(rank, 1)
    if not -size <= axis < size:
        raise op_error(op, types, f"Dimension out of range (expected to be in range of "
                       f"[{-size}, {size - 1}], but got {axis})", IRIndexError)
    return axis % size


def elementwise(op: str, types, dtype=None) -> TensorType:
    """Output type of a broadcasting elementwise op."""
    out_dtype = same_dtype(op, types) if dtype is None else dtype
    return TensorType(broadcast_shapes(op, types), out_dtype)
