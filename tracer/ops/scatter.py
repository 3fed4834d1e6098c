"""Writes at integer positions along a dim: scatter / scatter_reduce and their in-place forms
(index_fill, index_copy, index_put, masked_scatter, put and take are in ``index_writes``).

All are compositions of the ir ops ``scatter_add``, ``index_add``, ``take``, ``where`` and
reductions, so the graph never depends on the index values (they are only read eagerly to
check bounds, as torch does). An overwriting write is ``where(hit, placed, input)``: ``placed``
adds the sources at their positions and ``hit`` marks the positions written. Where torch
leaves repeated positions undefined (scatter with a tensor ``src``, index_copy, put), the
last write wins, as on torch's CPU (``_last_writers``); with a scalar value all writes agree.
The product and amax/amin reductions compare each index with every position along ``dim``
(an (n, size) expansion per row), so their values and gradients are exact, ties and zeros
included, at n times the memory; past ``EXPANSION_LIMIT`` pairs amax/amin sort instead.
"""
from __future__ import annotations

import warnings

import numpy as np

from ir import dtypes
from ir.ops import indexing as I
from ir.ops import shape as S
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.ops import elementwise as ew
from tracer.ops import inplace as ip
from tracer.ops import reduce as rd
from tracer.ops import shape as sh
from tracer.ops import sorting as so
from tracer.ops._util import cast, norm_dim, scalar
from tracer.ops.conversion import clone
from tracer.ops.creation import to_tensor
from tracer.ops.indexing import _as_index_tensor

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _full(value, dtype, shape) -> Tensor:
    return sh.expand(scalar(value, dtype), tuple(shape)) if len(shape) else scalar(value, dtype)


def _count_dtype(x):
    return x.dtype if x.dtype.is_floating_point else dtypes.int64


def _scatter_checks(op, input, d, index, src):
    """torch's scatter/gather shape rules and bounds (negative indices are out of bounds)."""
    if index.dim() != input.dim() and index.numel():
        raise err(RuntimeError, "Index tensor must have the same number of dimensions as self tensor")
    if src is not None and index.dim() != src.dim() and index.numel():
        raise err(RuntimeError, "Index tensor must have the same number of dimensions as src tensor")
    big_self = any(k != d and a > b for k, (a, b) in enumerate(zip(index.shape, input.shape)))
    big_src = src is not None and any(a > b for a, b in zip(index.shape, src.shape))
    if big_self or big_src:
        tail = f" and to be no larger size than src {list(src.shape)}" if src is not None else ""
        raise err(RuntimeError, f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} "
                  f"apart from dimension {d}{tail}")
    v, size = index._value, input.shape[d] if input.dim() else 1
    if v.size and (v.max() >= size or v.min() < 0):
        bad = v.max() if v.max() >= size else v.min()
        raise err(RuntimeError, f"index {bad} is out of bounds for dimension {d} with size {size}")


def _prepare(op, input, dim, index, src):
    """(input, dim, index, src) checked, as 1-d when input is 0-d; src cut to index's shape."""
    d = norm_dim(dim, input.dim(), op)
    index = _as_index_tensor(index, None, d, op)
    if isinstance(src, Tensor) and src.dtype != input.dtype:
        raise err(RuntimeError, f"{op}(): Expected self.dtype to be equal to src.dtype")
    _scatter_checks(op, input, d, index, src if isinstance(src, Tensor) else None)
    if input.dim() == 0:
        input, index = sh.reshape(input, 1), sh.reshape(index, -1)
        src = sh.reshape(src, -1) if isinstance(src, Tensor) else src
    if isinstance(src, Tensor) and tuple(src.shape) != tuple(index.shape):
        src = sh.slice_region(src, [0] * src.dim(), list(index.shape), [1] * src.dim())
    return input, d, cast(index, dtypes.int64), src


def _scatter_add(base, d, index, src) -> Tensor:
    return apply(I.scatter_add, [base, index, src], I.AxisAttrs(d))


def _hits(input, d, index, dtype=None) -> Tensor:
    """How many times each position of ``input`` is written."""
    dtype = _count_dtype(input) if dtype is None else dtype
    return _scatter_add(_full(0, dtype, input.shape), d, index, _full(1, dtype, index.shape))


def _last_writers(index, d) -> Tensor:
    """True where no later entry along ``d`` (of the same line) names the same position: the
    write that stays when positions repeat, as torch's CPU loops write (the last one wins). A
    stable sort of the positions, a compare with each next one, the result moved back."""
    n = index.shape[d]
    if index.numel() == 0:
        return ew.ge(index, 0)
    ordered = so.sort(index, d, stable=True)
    shape = list(index.shape)
    shape[d] = 1
    following = sh.cat([sh.narrow(ordered.values, d, 1, n - 1), _full(-1, dtypes.int64, shape)], d)
    last = cast(ew.ne(ordered.values, following), dtypes.int64)
    return ew.gt(_scatter_add(_full(0, dtypes.int64, tuple(index.shape)), d, ordered.indices, last), 0)


def _done(out, like) -> Tensor:
    return sh.reshape(out, ()) if like.dim() == 0 else out


def scatter(input, dim, index, src=None, *, value=None, reduce=None) -> Tensor:
    """torch.scatter: ``src`` written into a copy of ``input`` at ``index`` along ``dim``.

    Args:
        input: the tensor written into (a copy of it is returned).
        dim: the dim along which ``index`` gives positions.
        index: int64/int32, of ``input``'s rank, no larger than ``input`` (except along ``dim``)
            nor than a tensor ``src``.
        src: a tensor of ``input``'s dtype (only its first ``index.shape`` entries are read) or
            a number (also as ``value=``).
        reduce: ``'add'`` or ``'multiply'`` combine with ``input`` instead of overwriting;
            deprecated for a tensor ``src``, as in torch (a UserWarning).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Raises:
        RuntimeError: torch's, for a float index, an index out of bounds (negative ones too),
            mismatched ranks or sizes, a ``src`` of another dtype, or an unknown ``reduce``.
    """
    src = value if src is None else src
    if reduce is not None and reduce not in ("add", "multiply"):
        raise err(RuntimeError, "reduce argument must be either add or multiply.")
    x, d, index, src = _prepare("scatter", input, dim, index, src)
    if reduce is not None:
        if isinstance(src, Tensor):
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed "
                          "in a future PyTorch release. Use torch.scatter_reduce instead for more reduction "
                          "options.", UserWarning, stacklevel=2)
        src = src if isinstance(src, Tensor) else _full(src, x.dtype, index.shape)
        return _done(_reduce(x, d, index, src, "sum" if reduce == "add" else "prod", True), input)
    hit = ew.gt(_hits(x, d, index), 0)
    if isinstance(src, Tensor):
        kept = ew.where(_last_writers(index, d), src, scalar(0, x.dtype))
        placed = _scatter_add(_full(0, x.dtype, x.shape), d, index, kept)
    else:
        placed = scalar(src, x.dtype)
    return _done(ew.where(hit, placed, x), input)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor:
    """torch.scatter_reduce: ``src`` combined into a copy of ``input`` at ``index`` along ``dim``.

    Args:
        reduce: 'sum', 'prod', 'mean' (integers divide with floor, as torch), 'amax' or 'amin'
            (torch also takes 'max' and 'min').
        include_self: whether ``input``'s own values take part where something is scattered;
            positions nothing is scattered to keep ``input``'s value either way.

    Returns:
        A new tensor of ``input``'s shape and dtype; the other arguments are as ``scatter``'s.

    Raises:
        RuntimeError: as ``scatter``; NotImplementedError for 'mean' of a bool tensor (torch's).
    """
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch takes these too, undocumented
    if reduce not in _REDUCTIONS:
        raise err(RuntimeError, f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise err(TypeError, f"scatter_reduce(): argument 'src' (position 3) must be Tensor, not "
                  f"{type(src).__name__}")
    if reduce == "mean" and input.dtype == dtypes.bool_:
        raise err(NotImplementedError, '"scatter_gather_tensor_cpu_reduce_mean" not implemented for \'Bool\'')
    x, d, index, src = _prepare("scatter", input, dim, index, src)
    return _done(_reduce(x, d, index, src, reduce, include_self), input)


def _reduce(x, d, index, src, how, include_self) -> Tensor:
    if index.numel() == 0:
        return clone(x)
    if how in ("sum", "mean"):
        hit = ew.gt(_hits(x, d, index), 0)
        base = x if include_self else ew.where(hit, scalar(0, x.dtype), x)
        if x.dtype == dtypes.bool_:  # a sum of bools is an "or"
            trues = _scatter_add(_full(0, dtypes.int64, x.shape), d, index, cast(src, dtypes.int64))
            return ew.logical_or(base, ew.gt(trues, 0))
        total = _scatter_add(base, d, index, src)
        if how == "sum":
            return total
        count = _hits(x, d, index, _count_dtype(x))
        count = ew.add(count, 1) if include_self else count
        count = ew.where(ew.eq(count, 0), scalar(1, count.dtype), count)
        return ew.div(total, count) if x.dtype.is_floating_point else cast(ew.floor_divide(total, count), x.dtype)
    if how != "prod" and x.dtype != dtypes.bool_ and index.numel() * x.shape[d] > EXPANSION_LIMIT:
        return _extreme_sorted(x, d, index, src, how, include_self)
    return _reduce_expanded(x, d, index, src, how, include_self)


#: Above this many compared pairs, amax/amin take the sorted path (see ``_extreme_sorted``).
EXPANSION_LIMIT = 1 << 22


def _extreme_sorted(x, d, index, src, how, include_self) -> Tensor:
    """amax/amin in O(n) memory: ``src`` sorted by value, then stably by position, so each
    position's first entry is its extreme. Values are exact (nan propagates, as torch); a
    tie's gradient goes to one entry (torch splits it evenly), so the expansion stays the
    default for sizes where it fits."""
    n = index.shape[d]
    by_value = so.sort(src, d, descending=how == "amax", stable=True)
    by_index = so.sort(apply(I.gather_elements, [index, by_value.indices], I.AxisAttrs(d)), d, stable=True)
    order = apply(I.gather_elements, [by_value.indices, by_index.indices], I.AxisAttrs(d))
    pos, values = by_index.values, apply(I.gather_elements, [src, order], I.AxisAttrs(d))
    shape = list(index.shape)
    shape[d] = 1
    before = sh.cat([_full(-1, dtypes.int64, shape), sh.narrow(pos, d, 0, n - 1)], d)
    placed = _scatter_add(_full(0, x.dtype, x.shape), d, pos, ew.where(ew.ne(pos, before), values,
                                                                        scalar(0, x.dtype)))
    if x.dtype.is_floating_point:  # a nan sorts last for amin: mark the positions it reaches
        nans = ew.gt(_scatter_add(_full(0, dtypes.int64, x.shape), d, index, cast(ew.isnan(src), dtypes.int64)), 0)
        placed = ew.where(nans, scalar(np.nan, x.dtype), placed)
    if include_self:
        placed = (ew.maximum if how == "amax" else ew.minimum)(x, placed)
    return ew.where(ew.gt(_hits(x, d, index), 0), placed, x)


def _identity(how, dtype):
    if how == "prod":
        return 1
    if dtype == dtypes.bool_:
        return how == "amin"
    if dtype.is_floating_point:
        return -np.inf if how == "amax" else np.inf
    info = np.iinfo(dtype.np)
    return int(info.min if how == "amax" else info.max)


def _reduce_expanded(x, d, index, src, how, include_self) -> Tensor:
    """prod/amax/amin: each index compared with every position along ``d`` (see the module)."""
    region = [(0, index.shape[k] if k != d else x.shape[d]) for k in range(x.dim())]
    part = sh.slice_region(x, [a for a, _ in region], [b for _, b in region], [1] * x.dim())
    base, ix, s = (sh.movedim(t, d, -1) for t in (part, index, src))
    n = base.shape[-1]
    mask = ew.eq(sh.unsqueeze(ix, -1), to_tensor(np.arange(n, dtype=np.int64)))
    values = ew.where(mask, sh.unsqueeze(s, -1), scalar(_identity(how, x.dtype), x.dtype))
    if include_self:
        values = sh.cat([sh.unsqueeze(base, -2), values], -2)
    fn = {"prod": rd.prod, "amax": rd.amax, "amin": rd.amin}[how]
    out = fn(values, -2)
    out = cast(out, x.dtype) if out.dtype != x.dtype else out
    if not include_self:
        out = ew.where(rd.any(mask, -2), out, base)
    out = sh.movedim(out, -1, d)
    if tuple(out.shape) == tuple(x.shape):
        return out
    attrs = S.SliceAttrs(tuple(a for a, _ in region), tuple(b for _, b in region), (1,) * x.dim())
    return apply(S.slice_update, [x, out], attrs)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None) -> Tensor:
    return ip.assign(self, scatter(self, dim, index, src, value=value, reduce=reduce), cast_any=True, op="scatter_")


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True) -> Tensor:
    return ip.assign(self, scatter_reduce(self, dim, index, src, reduce, include_self=include_self),
                     op="scatter_reduce_")


def scatter_add_(self, dim, index, src) -> Tensor:
    return ip.assign(self, scatter_reduce(self, dim, index, src, "sum"), op="scatter_add_")
