"""NumPy kernels for ir/ops/reduce.py."""
from __future__ import annotations

import numpy as np

from ir.ops import reduce as R


def _reduce(ufunc):
    """``ufunc.reduce`` (what np.sum/np.max call, minus their Python wrappers: same numbers)."""
    def kernel(a, x):
        if not a.axes:  # reducing nothing (a 0-d input): a copy, never the input's array
            return x.copy()
        out = ufunc.reduce(x, axis=a.axes, keepdims=a.keepdim)
        return out if out.__class__ is np.ndarray and out.dtype == x.dtype else np.asarray(out, dtype=x.dtype)
    return kernel


def _arg(fn):
    def kernel(a, x):
        if x.ndim == 0:
            return np.zeros((), dtype=np.int64)
        return np.asarray(fn(x, axis=a.axis, keepdims=a.keepdim), dtype=np.int64)
    return kernel


def _numel(a, x):
    n = 1
    for ax in a.axes:
        n *= x.shape[ax]
    return np.asarray(n, dtype=a.dtype.np)


def _max_keepdims(x, axis: int):
    """The max along ``axis``, kept as a size-1 dim. NumPy reduces a short last axis of a 2-D
    array slowly (3.4 us for 64x10); reducing the leading axis of a contiguous transposed copy
    gives the same values in half the time."""
    if x.ndim == 2 and axis in (1, -1) and x.shape[1] <= 64:
        return np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    return np.maximum.reduce(x, axis=axis, keepdims=True)


def _log_softmax(a, x):
    if x.ndim == 0:
        return np.zeros_like(x)
    if x.size == 0:
        return x.copy()  # an empty row has no max; its (empty) result is empty
    shifted = x - _max_keepdims(x, a.axis)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=a.axis, keepdims=True))


def _softmax(a, x):
    if x.ndim == 0:
        return np.ones_like(x)
    if x.size == 0:
        return x.copy()
    e = np.exp(x - _max_keepdims(x, a.axis))
    return e / np.add.reduce(e, axis=a.axis, keepdims=True)


def _cumsum(a, x):
    """np.cumsum along the axis, flipped for ``reverse``, shifted by one for ``exclusive``."""
    if x.ndim == 0:
        return np.zeros_like(x) if a.exclusive else x.copy()
    if a.reverse:
        x = np.flip(x, a.axis)
    out = np.cumsum(x, axis=a.axis, dtype=x.dtype)
    if a.exclusive:
        out = np.concatenate([np.zeros_like(np.take(out, [0], a.axis)), np.take(out, np.arange(x.shape[a.axis] - 1), a.axis)],
                             axis=a.axis) if x.shape[a.axis] else out
    return np.ascontiguousarray(np.flip(out, a.axis)) if a.reverse else out


def _topk_indices(a, x):
    """A stable argsort (NaN last, as NumPy and torch). Descending keeps ties in input order
    by sorting the flipped input ascending and reading it backwards."""
    n = x.shape[a.axis]
    if a.largest:
        order = n - 1 - np.flip(np.argsort(np.flip(x, a.axis), axis=a.axis, kind="stable"), a.axis)
    else:
        order = np.argsort(x, axis=a.axis, kind="stable")
    return np.ascontiguousarray(np.take(order, np.arange(a.k), a.axis), dtype=np.int64)


KERNELS = {
    R.topk_indices: _topk_indices,
    R.cumsum: _cumsum,
    R.softmax: _softmax,
    R.log_softmax: _log_softmax,
    R.numel: _numel,
    R.sum_: _reduce(np.add),
    R.prod: _reduce(np.multiply),
    R.amax: _reduce(np.maximum),
    R.amin: _reduce(np.minimum),
    R.argmax: _arg(np.argmax),
    R.argmin: _arg(np.argmin),
}
