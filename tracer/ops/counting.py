"""Searching and counting: searchsorted, isin, histc (traceable compositions), and bincount,
unique, unique_consecutive, whose result shape depends on the values.

Data-dependent shapes are read from the eager value, as ``nonzero`` does: inside
``tracer.trace`` that specialises the trace to the value (a TracerWarning), inside
``tracer.compile`` it is refused with a TraceValueError."""
from __future__ import annotations

import numpy as np

from ir import dtypes
from ir.ops import indexing as I
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.core.tensor import Tensor, _specialise
from tracer.ops import creation as cr
from tracer.ops import elementwise as ew
from tracer.ops import indexing as ix
from tracer.ops import reduce as rd
from tracer.ops import shape as sh
from tracer.ops._util import cast, norm_dim, scalar


def _sizes(t) -> str:
    return str(list(t.shape))


def _searchsorted_checks(seq, values, side, right, sorter) -> None:
    name = "torch.searchsorted()"
    if side not in (None, "left", "right"):
        raise err(RuntimeError, f"{name}: side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise err(RuntimeError, f"{name}: side and right can't be set to opposites, got side of left while right "
                  "was True")
    if seq.dim() == 0:
        raise err(RuntimeError, f"{name}: boundaries tensor should have positive dimension, but got 0 dimension")
    if seq.dim() > 1 and values.dim() == 0:
        raise err(RuntimeError, f"{name}: input value can be a scalar only when boundaries tensor dimension is 1, but "
                  f"we got boundaries tensor dim({seq.dim()}) and input value's dim(0) numel(1)")
    if seq.dim() > 1 and (values.dim() != seq.dim() or tuple(values.shape[:-1]) != tuple(seq.shape[:-1])):
        raise err(RuntimeError, f"{name}: boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                  f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
                  f"{_sizes(seq)} and input value tensor {_sizes(values)}")
    if sorter is not None:
        if sorter.dtype != dtypes.int64:
            raise err(RuntimeError, f"{name}: sorter must be a tensor of long dtype but got dtype "
                      f"{scalar_type_name(sorter.dtype)}")
        if tuple(sorter.shape) != tuple(seq.shape):
            raise err(RuntimeError, f"{name}: boundary and sorter must have the same size, but got boundary tensor "
                      f"{_sizes(seq)}and got sorter tensor {_sizes(sorter)}")
        v = sorter._value
        if v.size and (v.min() < 0 or v.max() >= seq.shape[-1]):
            raise err(RuntimeError, f"{name}: sorter index out of range")


def _read(seq, positions) -> Tensor:
    """seq[..., positions] along its last dim (a 1-D ``seq`` is read at any shape of positions)."""
    if seq.dim() == 1:
        return apply(I.take, [seq, positions], I.AxisAttrs(0))
    return ix.gather(seq, -1, positions)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None) -> Tensor:
    """torch.searchsorted: for each value, the index in the last dim of ``sorted_sequence``
    where inserting it keeps the order (``right``/``side='right'``: after equal entries).

    torch's binary search, unrolled: one read of the sequence per step, bit_length(n) steps,
    so values and ties (and NaN: placed last) match torch's kernel."""
    values = input if isinstance(input, Tensor) else cr.tensor(input)
    _searchsorted_checks(sorted_sequence, values, side, right, sorter)
    right = bool(right) or side == "right"
    seq = sorted_sequence if sorter is None else _read(sorted_sequence, sorter)
    n = seq.shape[-1]
    start = cr.zeros(tuple(values.shape), dtype=dtypes.int64)
    end = cr.full(tuple(values.shape), n, dtype=dtypes.int64)
    for _ in range(n.bit_length()):
        mid = ew.add(start, ew.floor_divide(ew.sub(end, start), 2))
        at = _read(seq, ew.clamp(mid, max=n - 1))
        after = ew.logical_not(ew.gt(at, values) if right else ew.ge(at, values))
        active = ew.lt(start, end)
        start = ew.where(ew.logical_and(active, after), ew.add(mid, 1), start)
        end = ew.where(ew.logical_and(active, ew.logical_not(after)), mid, end)
    return cast(start, dtypes.int32) if out_int32 else start


def isin(elements, test_elements, *, assume_unique=False, invert=False) -> Tensor:
    """torch.isin: whether each of ``elements`` equals one of ``test_elements`` (either may be
    a Python number; NaN is in nothing). A comparison against every test element."""
    x = elements if isinstance(elements, Tensor) else cr.tensor(elements)
    tests = test_elements if isinstance(test_elements, Tensor) else cr.tensor(test_elements)
    for t in (x, tests):
        if t.dtype == dtypes.bool_:
            raise err(RuntimeError, "Unsupported input type encountered for isin(): Bool")
    found = rd.any(ew.eq(x.reshape(-1, 1), tests.reshape(1, -1)), 1).reshape(tuple(x.shape))
    return ew.logical_not(found) if invert else found


def bincount(input, weights=None, minlength=0) -> Tensor:
    """torch.bincount: the count (or summed ``weights``) of each value 0..max(input) of a 1-D
    non-negative integer tensor, at least ``minlength`` long. Its length is read from the
    values. Float weights keep their dtype, others give float64; no gradient (as torch)."""
    if input.dtype.is_floating_point or input.dtype == dtypes.bool_:
        raise err(NotImplementedError, f'"bincount_cpu" not implemented for \'{scalar_type_name(input.dtype)}\' '
                  f"(input: {input._type})")
    if minlength < 0:
        raise err(RuntimeError, "minlength should be >= 0")
    _specialise("bincount()")
    v = input._value
    if input.dim() != 1 or (v.size and v.min() < 0):
        raise err(RuntimeError, f"bincount only supports 1-d non-negative integral inputs. (input: {input._type})")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != input.shape[0]):
        raise err(RuntimeError, f"weights should be 1-d and have the same length as input (input: {input._type}, "
                  f"weights: {weights._type})")
    length = max(int(minlength), int(v.max()) + 1 if v.size else 0)
    if weights is None:
        dtype, src = dtypes.int64, cr.ones((input.shape[0],), dtype=dtypes.int64)
    else:
        dtype = weights.dtype if weights.dtype.is_floating_point else dtypes.float64
        src = cast(weights, dtype)
    out = ix.index_add(cr.zeros((length,), dtype=dtype), 0, cast(input, dtypes.int64), src)
    return ew.no_derivative(out, "bincount")


def _histc_range(input, lo, hi):
    """torch's outer bin edges: the given ones, or the data's min and max when they are equal
    (widened by 1 each way if still equal), as 0-d tensors of the input's dtype."""
    x = input.reshape(-1)
    if lo == hi and x.shape[0]:
        low, high = rd.amin(x), rd.amax(x)
    else:
        low, high = scalar(lo, input.dtype), scalar(hi, input.dtype)
    same = ew.eq(low, high)
    low, high = ew.where(same, ew.sub(low, 1.0), low), ew.where(same, ew.add(high, 1.0), high)
    a, b = float(low._value), float(high._value)
    if not (np.isfinite(a) and np.isfinite(b)):
        raise err(RuntimeError, f"torch.histc: range of [{a:g}, {b:g}] is not finite")
    if not a < b:
        raise err(RuntimeError, "torch.histc: max must be larger than min")
    return low, high


def histc(input, bins=100, min=0, max=0) -> Tensor:
    """torch.histc: a histogram of ``input`` over ``bins`` equal bins from ``min`` to ``max``
    (the data's range when they are equal); entries outside (and NaN) are not counted, the
    last bin includes ``max``. The bin of x is int((x - min) * bins / (max - min)), computed
    in the input's dtype as torch's kernel does. No gradient, as torch. The range is computed
    in the graph, so a trace is not specialised; its finiteness is checked on the eager value
    (a compiled call with a NaN later just counts nothing)."""
    if not input.dtype.is_floating_point:
        raise err(NotImplementedError, f'"histogram_cpu" not implemented for \'{scalar_type_name(input.dtype)}\' '
                  f"(input: {input._type})")
    if bins <= 0:
        raise err(RuntimeError, f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    low, high = _histc_range(input, float(min), float(max))
    x = input.reshape(-1).detach()
    inside = ew.logical_and(ew.ge(x, low), ew.le(x, high))
    safe = ew.where(inside, x, low)  # no NaN or far-off entry reaches the cast to int
    at = cast(ew.div(ew.mul(ew.sub(safe, low), bins), ew.sub(high, low)), dtypes.int64)
    at = ew.where(ew.logical_and(inside, ew.lt(at, bins)), at, ew.where(inside, bins - 1, 0))
    return ix.index_add(cr.zeros((int(bins),), dtype=input.dtype), 0, at, cast(inside, input.dtype))


def _runs(keys: np.ndarray) -> np.ndarray:
    """Where a new run of equal rows starts in ``keys`` (n, k); NaN equals nothing, as in torch."""
    starts = np.ones(keys.shape[0], dtype=bool)
    if keys.shape[0] > 1:
        starts[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    return starts


def _unique(name, input, sort, return_inverse, return_counts, dim):
    _specialise(f"{name}()")
    if dim is None:
        moved, axis = input.reshape(-1), 0
    else:
        if input.dim() == 0:
            raise err(IndexError, f"Dimension specified as {dim} but tensor has no dimensions")
        axis = norm_dim(dim, input.dim(), name)
        if input.numel() == 0 and input.shape[axis] != 0:
            raise err(RuntimeError, "There are 0 sized dimensions, and they aren't selected, so unique cannot be "
                      "applied")
        moved = sh.movedim(input, axis, 0)
    keys = moved._value.reshape(moved.shape[0], int(np.prod(moved.shape[1:])))
    order = np.arange(keys.shape[0])
    if sort and keys.shape[0]:
        order = np.lexsort(keys.T[::-1]) if keys.shape[1] else order  # rows in lexicographic order, stable
    starts = _runs(keys[order])
    run = np.cumsum(starts) - 1
    inverse = np.empty(keys.shape[0], dtype=np.int64)
    inverse[order] = run
    firsts = order[starts]
    out = ix.index_select(moved, 0, cr.tensor(firsts.astype(np.int64)))
    out = sh.movedim(out, 0, axis) if dim is not None else out
    results = [ew.no_derivative(out, "_unique2" if name == "unique" else name)]
    if return_inverse:
        shape = tuple(input.shape) if dim is None else (keys.shape[0],)
        results.append(cr.tensor(inverse.reshape(shape)))
    if return_counts:
        results.append(cr.tensor(np.diff(np.append(np.flatnonzero(starts), keys.shape[0])).astype(np.int64)))
    return results[0] if len(results) == 1 else tuple(results)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """torch.unique: the distinct entries (or, with ``dim``, slices along it), sorted, with
    optionally the inverse indices and counts. NaNs are each distinct, as in torch. torch's
    CPU kernel sorts also for ``sorted=False``; so does this one. The shape is read from the
    values (see the module docstring)."""
    return _unique("unique", input, True, return_inverse, return_counts, dim)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """torch.unique_consecutive: collapse each run of equal consecutive entries (or slices
    along ``dim``) to one, with optionally the inverse indices and run lengths."""
    return _unique("unique_consecutive", input, False, return_inverse, return_counts, dim)
