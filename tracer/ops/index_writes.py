"""Writes at the positions of an index vector or of a flat index: index_fill, index_copy,
index_add_, index_put, masked_scatter, put, take and index_reduce, with their in-place forms.

As in ``scatter``: compositions of ``index_add``, ``take`` and ``where`` whose graphs read the
index as data; an overwrite is ``where(hit, placed, input)`` and, where positions repeat,
the last write wins, as on torch's CPU.
"""
from __future__ import annotations

import warnings

import numpy as np

from ir import dtypes
from ir.ops import indexing as I
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.core.tensor import Tensor
from tracer.ops import elementwise as ew
from tracer.ops import inplace as ip
from tracer.ops import sequence as sq
from tracer.ops import shape as sh
from tracer.ops._util import cast, norm_dim, scalar
from tracer.ops.conversion import clone
from tracer.ops.creation import to_tensor
from tracer.ops.indexing import getitem, index_add, setitem
from tracer.ops.scatter import _done, _full, _last_writers, scatter_reduce


def _index_vector(op, input, dim, index, negative_ok):
    """dim, index (1-d, int64, in bounds, negatives wrapped when allowed) for the index_* ops."""
    d = norm_dim(dim, input.dim(), op)
    if not isinstance(index, Tensor) or index.dtype not in (dtypes.int64, dtypes.int32):
        raise err(IndexError, f"{op}(): Expected dtype int64 for index.")
    if index.dtype != dtypes.int64:
        raise err(RuntimeError, f"{op}(): Expected a long tensor for index, but got Int")
    if index.dim() > 1:
        raise err(IndexError if op == "index_copy_" else RuntimeError, "Index has to be a vector/scalar")
    size = input.shape[d] if input.dim() else 1
    v = index._value
    low = -size if negative_ok else 0
    if v.size and (v.max() >= size or v.min() < low):
        bad = v.max() if v.max() >= size else v.min()
        where = f"{op}(): " if op == "index_copy_" else ""
        raise err(IndexError, f"{where}index {bad} is out of bounds for dimension {d} with size {size}")
    index = sh.reshape(index, -1)
    if negative_ok:
        index = ew.where(ew.lt(index, 0), ew.add(index, size), index)
    return d, index


def _along(mask, d, rank) -> Tensor:
    """A 1-d mask over dim ``d`` shaped to broadcast against a tensor of ``rank`` dims."""
    return sh.reshape(mask, [-1 if k == d else 1 for k in range(rank)]) if rank else sh.reshape(mask, ())


def _index_hits(input, d, index) -> Tensor:
    n = input.shape[d] if input.dim() else 1
    count = apply(I.index_add, [_full(0, dtypes.int64, (n,)), index, _full(1, dtypes.int64, tuple(index.shape))],
                  I.AxisAttrs(0))
    return _along(ew.gt(count, 0), d, input.dim())


def index_fill(input, dim, index, value) -> Tensor:
    """torch.index_fill: ``value`` (a number or a 0-d tensor) at ``index`` along ``dim``."""
    if isinstance(value, Tensor) and value.dim() != 0:
        raise err(RuntimeError, f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                  f"{value.dim()} dimension(s).")
    d, index = _index_vector("index_fill_", input, dim, index, True)
    v = cast(value, input.dtype) if isinstance(value, Tensor) else scalar(value, input.dtype)
    return ew.where(_index_hits(input, d, index), v, input)


def index_copy(input, dim, index, source) -> Tensor:
    """torch.index_copy: the slices of ``source`` written at ``index`` along ``dim``."""
    if source.dtype != input.dtype:
        raise err(RuntimeError, f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                  f"{scalar_type_name(input.dtype)} and (source) {scalar_type_name(source.dtype)}")
    d, index = _index_vector("index_copy_", input, dim, index, False)
    if source.dim() != input.dim() and source.dim() and input.dim():
        raise err(IndexError, f"index_copy_(): When source and destination are not scalars, their dimensionality "
                  f"must match. Source dimensionality ({source.dim()}), destination dimensionality ({input.dim()})")
    x = sh.reshape(input, 1) if input.dim() == 0 else input
    src = sh.reshape(source, -1) if source.dim() == 0 else source
    if src.shape[d] != index.numel():
        raise err(IndexError, f"index_copy_(): Number of indices ({index.numel()}) should be equal to "
                  f"source.size(dim) ({src.shape[d]})")
    for k in range(x.dim()):
        if k != d and x.shape[k] != src.shape[k]:
            raise err(RuntimeError, f"index_copy_(): Source/destination tensor must have same slice shapes. "
                      f"Destination slice shape: {x.shape[k]} at dimension {k} and source slice shape: "
                      f"{src.shape[k]} at dimension {k}.")
    kept = ew.where(_along(_last_writers(index, 0), d, src.dim()), src, scalar(0, x.dtype))
    placed = apply(I.index_add, [_full(0, x.dtype, x.shape), index, kept], I.AxisAttrs(d))
    return _done(ew.where(_index_hits(x, d, index), placed, x), input)


def index_fill_(self, dim, index, value) -> Tensor:
    return ip.assign(self, index_fill(self, dim, index, value), cast_any=True, op="index_fill_")


def index_copy_(self, dim, index, source) -> Tensor:
    return ip.assign(self, index_copy(self, dim, index, source), op="index_copy_")


def index_add_(self, dim, index, source, *, alpha=1) -> Tensor:
    if source.dtype != self.dtype:
        raise err(RuntimeError, f"index_add_(): self ({scalar_type_name(self.dtype)}) and source "
                  f"({scalar_type_name(source.dtype)}) must have the same scalar type")
    return ip.assign(self, index_add(self, dim, index, source, alpha=alpha), op="index_add_")


def _positions(input) -> Tensor:
    return to_tensor(np.arange(input.numel(), dtype=np.int64).reshape(tuple(input.shape)))


def index_put(input, indices, values, accumulate=False) -> Tensor:
    """torch.index_put: ``input[indices] = values`` (or ``+=`` with ``accumulate``, where
    repeated positions add up) on a copy of ``input``."""
    if not isinstance(indices, (tuple, list)):
        raise err(TypeError, f"index_put(): argument 'indices' (position 1) must be tuple of Tensors, not "
                  f"{type(indices).__name__}")
    if values.dtype != input.dtype:
        raise err(RuntimeError, f"Index put requires the source and destination dtypes match, got "
                  f"{scalar_type_name(input.dtype)} for the destination and {scalar_type_name(values.dtype)} for "
                  f"the source.")
    if not accumulate:
        out = clone(input)
        setitem(out, tuple(indices), values)
        return out
    pos = getitem(_positions(input), tuple(indices))
    try:
        v = sh.expand(values, tuple(pos.shape))
    except RuntimeError:
        raise err(RuntimeError, f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast "
                  f"to indexing result of shape {list(pos.shape)}") from None
    flat = apply(I.index_add, [sh.reshape(input, -1), sh.reshape(pos, -1), sh.reshape(v, -1)], I.AxisAttrs(0))
    return sh.reshape(flat, tuple(input.shape))


def index_put_(self, indices, values, accumulate=False) -> Tensor:
    return ip.assign(self, index_put(self, indices, values, accumulate), op="index_put_")


def masked_scatter(input, mask, source) -> Tensor:
    """torch.masked_scatter: where ``mask`` is True, the next element of ``source`` in order."""
    if mask.dtype != dtypes.bool_:
        raise err(RuntimeError, f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                  f"{scalar_type_name(mask.dtype)}")
    if source.dtype != input.dtype:
        raise err(RuntimeError, f"masked_scatter: expected self and source to have same dtypes but got"
                  f"{scalar_type_name(input.dtype)} and {scalar_type_name(source.dtype)}")
    x, m = sh.broadcast_tensors(input, mask)
    if int(np.count_nonzero(m._value)) > source.numel():
        raise err(RuntimeError, "Number of elements of source < number of ones in mask")
    flat_m, flat_x = sh.reshape(m, -1), sh.reshape(x, -1)
    if source.numel() == 0:
        return sh.reshape(clone(flat_x), tuple(x.shape))
    order = ew.sub(sq.cumsum(cast(flat_m, dtypes.int64), 0), 1)
    order = ew.where(flat_m, order, scalar(0, dtypes.int64))
    picked = apply(I.take, [sh.reshape(source, -1), order], I.AxisAttrs(0))
    return sh.reshape(ew.where(flat_m, picked, flat_x), tuple(x.shape))


def masked_scatter_(self, mask, source) -> Tensor:
    return ip.assign(self, masked_scatter(self, mask, source), op="masked_scatter_")


def _flat_index(op, input, index) -> Tensor:
    """``index`` into ``input`` as if 1-d: int64, in bounds, negatives wrapped, flattened."""
    if not isinstance(index, Tensor) or index.dtype != dtypes.int64:
        got = scalar_type_name(index.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise err(RuntimeError, f"{op}(): Expected a long tensor for index, but got {got}")
    n, v = input.numel(), index._value
    if v.size and (v.max() >= n or v.min() < -n):
        bad = v.max() if v.max() >= n else v.min()
        raise err(IndexError, f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    flat = sh.reshape(index, -1)
    return ew.where(ew.lt(flat, 0), ew.add(flat, n), flat)


def take(input, index) -> Tensor:
    """torch.take: ``input`` read as if 1-d at ``index``; the result has ``index``'s shape."""
    flat = _flat_index("take", input, index)
    return sh.reshape(apply(I.take, [sh.reshape(input, -1), flat], I.AxisAttrs(0)), tuple(index.shape))


def put(input, index, source, accumulate=False) -> Tensor:
    """torch.put: ``source`` written (or added, with ``accumulate``) into ``input`` read as 1-d."""
    if source.dtype != input.dtype:
        raise err(RuntimeError, f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                  f"{scalar_type_name(input.dtype)} and source.dtype = {scalar_type_name(source.dtype)}")
    flat = _flat_index("put_", input, index)
    if source.numel() != index.numel():
        raise err(IndexError, f"put_(): Expected source and index to have the same number of elements, but got "
                  f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    x, src = sh.reshape(input, -1), sh.reshape(source, -1)
    if accumulate:
        out = apply(I.index_add, [x, flat, src], I.AxisAttrs(0))
    else:
        kept = ew.where(_last_writers(flat, 0), src, scalar(0, x.dtype))
        placed = apply(I.index_add, [_full(0, x.dtype, x.shape), flat, kept], I.AxisAttrs(0))
        hit = apply(I.index_add, [_full(0, dtypes.int64, x.shape), flat, _full(1, dtypes.int64, src.shape)],
                    I.AxisAttrs(0))
        out = ew.where(ew.gt(hit, 0), placed, x)
    return sh.reshape(out, tuple(input.shape))


def put_(self, index, source, accumulate=False) -> Tensor:
    return ip.assign(self, put(self, index, source, accumulate), op="put_")


def index_reduce(input, dim, index, source, reduce, *, include_self=True) -> Tensor:
    """torch.index_reduce (beta): the slices of ``source`` combined into a copy of ``input`` at
    ``index`` along ``dim`` by 'prod', 'mean', 'amax' or 'amin': ``scatter_reduce`` with the
    index spread over the other dims."""
    warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning, stacklevel=2)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise err(RuntimeError, f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
                  f"{reduce}.")
    if source.dtype != input.dtype:
        raise err(RuntimeError, f"index_reduce_(): self ({scalar_type_name(input.dtype)}) and source "
                  f"({scalar_type_name(source.dtype)}) must have the same scalar type")
    d = norm_dim(dim, input.dim(), "index_reduce")
    if not isinstance(index, Tensor) or index.dtype not in (dtypes.int64, dtypes.int32) or index.dim() > 1:
        raise err(IndexError, "index_reduce_(): Index is supposed to be a vector")
    if input.dim() == 0 or source.dim() != input.dim() or any(
            a != b for k, (a, b) in enumerate(zip(input.shape, source.shape)) if k != d):
        raise err(RuntimeError, f"source tensor shape must match self tensor shape, excluding the specified "
                  f"dimension. Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    if source.shape[d] != index.numel():
        raise err(RuntimeError, f"index_reduce_(): Number of indices ({index.numel()}) should be equal to "
                  f"source.size(dim): ({source.shape[d]}), for dim: {d}")
    v = index._value
    if v.size and (v.max() >= input.shape[d] or v.min() < 0):
        raise err(IndexError, "index out of range in self")
    spread = sh.expand(_along(cast(sh.reshape(index, -1), dtypes.int64), d, input.dim()), tuple(source.shape))
    return scatter_reduce(input, d, spread, source, reduce, include_self=include_self)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True) -> Tensor:
    return ip.assign(self, index_reduce(self, dim, index, source, reduce, include_self=include_self),
                     op="index_reduce_")
