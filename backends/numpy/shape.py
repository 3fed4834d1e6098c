"""NumPy kernels for ir/ops/shape.py. Results may be views: eager tensors never mutate arrays."""
from __future__ import annotations

import numpy as np

from ir.ops import shape as S


def _slices(a):
    return tuple(slice(s, e, st) for s, e, st in zip(a.starts, a.ends, a.steps))


def _slice_update(a, base, src):
    out = base.copy()
    out[_slices(a)] = src
    return out


def _pad(a, x):
    """Crop the negative pads, then np.pad (always a new array) with the constant."""
    n = x.ndim
    if n == 0:
        return x.copy()
    x = x[tuple(slice(max(-a.pads[i], 0), x.shape[i] - max(-a.pads[n + i], 0)) for i in range(n))]
    widths = [(max(a.pads[i], 0), max(a.pads[n + i], 0)) for i in range(n)]
    return np.pad(x, widths, constant_values=np.array(a.value).astype(x.dtype))


def _trilu(a, x):
    """np.triu/np.tril work on the last two dims of any batch."""
    return np.triu(x, a.k) if a.upper else np.tril(x, a.k)


KERNELS = {
    S.reshape: lambda a, x: x.reshape(a.shape),
    S.permute: lambda a, x: x.T if a.perm == (1, 0) else np.transpose(x, a.perm),
    S.expand: lambda a, x: np.broadcast_to(x, a.shape),
    S.expand_like: lambda a, x, ref: np.broadcast_to(x, ref.shape),
    S.concat: lambda a, *xs: np.concatenate(xs, axis=a.axis),
    S.slice_: lambda a, x: x[_slices(a)],
    S.slice_update: _slice_update,
    S.pad: _pad,
    S.trilu: _trilu,
}
