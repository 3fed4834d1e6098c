"""PyTorch's type promotion, done once here: ops get inputs of one dtype via explicit casts.

Python numbers are "weak": they only raise the category (bool < integer < float), so an
int64 tensor plus 2.5 is float32 and a float32 tensor plus 2.5 stays float32. Zero-dim
tensors likewise yield to tensors with dims of the same category (torch.result_type).
"""
from __future__ import annotations

from ir import dtypes
from ir.dtypes import DType

_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}
_ORDER = [dtypes.bool_, dtypes.uint8, dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.float16,
          dtypes.float32, dtypes.float64]


def default_float() -> DType:
    return dtypes.float32


def category(dtype: DType) -> int:
    return _RANK[dtype.kind]


def promote_types(a: DType | None, b: DType | None) -> DType | None:
    """torch.promote_types for the supported dtypes."""
    if a is None or b is None:
        return a if b is None else b
    if {a, b} == {dtypes.uint8, dtypes.int8}:  # neither holds the other's range
        return dtypes.int16
    return a if _ORDER.index(a) >= _ORDER.index(b) else b


def scalar_dtype(value) -> DType:
    """The dtype a Python number takes when it stands alone."""
    if isinstance(value, bool):
        return dtypes.bool_
    if isinstance(value, int):
        return dtypes.int64
    return default_float()


def _combine(higher: DType | None, lower: DType | None) -> DType | None:
    """c10's combine_categories: a higher-priority group wins unless a lower one raises the category."""
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher == dtypes.bool_ or lower.is_floating_point:
        return promote_types(higher, lower) if category(lower) > category(higher) else higher
    return higher


def result_type(operands) -> DType:
    """torch.result_type over tensors and Python numbers (tensors expose ``dtype`` and ``dim()``)."""
    dim = zero = wrapped = None
    for op in operands:
        if isinstance(op, (bool, int, float)):
            wrapped = promote_types(wrapped, scalar_dtype(op))
        elif op.dim() == 0:
            zero = promote_types(zero, op.dtype)
        else:
            dim = promote_types(dim, op.dtype)
    return _combine(dim, _combine(zero, wrapped))
