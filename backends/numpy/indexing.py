"""NumPy kernels for ir/ops/indexing.py."""
from __future__ import annotations

import numpy as np

from ir.ops import indexing as I


def _check_bounds(idx, size, axis):
    """NumPy would wrap or raise a bare IndexError; say which index and dim, as torch does."""
    if idx.size and (idx.max() >= size or idx.min() < -size):
        bad = idx.max() if idx.max() >= size else idx.min()
        raise IndexError(f"index {bad} is out of bounds for dimension {axis} with size {size}")


def _take(a, x, idx):
    _check_bounds(idx, x.shape[a.axis] if x.ndim else 1, a.axis)
    return np.take(x, idx, axis=a.axis)


def _index_add(a, base, idx, src):
    _check_bounds(idx, base.shape[a.axis], a.axis)
    out = base.copy()
    np.add.at(out, (slice(None),) * a.axis + (idx,), src)
    return out


def _grid(a, idx):
    grid = list(np.indices(idx.shape, sparse=True))
    grid[a.axis] = idx
    return tuple(grid)


def _gather(a, x, idx):
    _check_bounds(idx, x.shape[a.axis], a.axis)
    return x[_grid(a, idx)]


def _scatter_add(a, base, idx, src):
    _check_bounds(idx, base.shape[a.axis], a.axis)
    out = base.copy()
    np.add.at(out, _grid(a, idx), src)
    return out


def _nll(a, logp, target):
    valid = target != a.ignore_index
    every = valid.all()
    safe = target if every else np.where(valid, target, 0)
    classes = logp.shape[1]
    if safe.size and (safe.view(f"u{safe.itemsize}") >= classes).any():  # negatives wrap to huge
        bad = safe.max() if safe.max() >= classes else safe.min()
        raise IndexError(f"Target {bad} is out of bounds (classes: {classes})")
    if logp.ndim == 2:
        picked = logp[np.arange(len(safe)), safe]
    else:
        picked = np.take_along_axis(logp, np.expand_dims(safe, 1), axis=1).squeeze(1)
    losses = np.negative(picked) if every else np.where(valid, -picked, np.zeros((), logp.dtype))
    if a.reduction == "none":
        return losses
    total = np.add.reduce(losses, axis=None)
    if a.reduction == "sum":
        return np.asarray(total, dtype=logp.dtype)
    count = np.asarray(losses.size if every else np.count_nonzero(valid), dtype=logp.dtype)
    return np.asarray(total / count, dtype=logp.dtype)


KERNELS = {
    I.nll_loss: _nll,
    I.take: _take,
    I.index_add: _index_add,
    I.gather_elements: _gather,
    I.scatter_add: _scatter_add,
}
