"""NumPy kernel for ir/ops/pool.py: every window as a strided view of the (-inf) padded input,
one argmax over the flattened windows, the winner's kernel offset turned back into a position
of the unpadded input (no loop over pixels)."""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ir.ops import pool as P


def _max_pool_indices(a, x):
    n = len(a.kernel)
    spatial = x.shape[2:]
    if any(a.pads):
        pads = [(0, 0), (0, 0)] + [(a.pads[i], a.pads[n + i]) for i in range(n)]
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        x = np.pad(x, pads, constant_values=lowest)
    reach = tuple(a.dilation[i] * (a.kernel[i] - 1) + 1 for i in range(n))
    view = sliding_window_view(x, reach, axis=tuple(range(2, 2 + n)))
    view = view[(slice(None),) * 2 + tuple(slice(None, None, s) for s in a.stride)
                + tuple(slice(None, None, d) for d in a.dilation)]
    out = view.shape[2:2 + n]
    if view.size == 0:  # an empty batch or channel dim: no windows to search
        return np.zeros(view.shape[:2 + n], dtype=np.int64)
    best = view.reshape(view.shape[:2 + n] + (math.prod(a.kernel),)).argmax(axis=-1)  # the first max; NaN wins
    offsets = np.unravel_index(best, a.kernel)
    flat = np.zeros(best.shape, dtype=np.int64)
    for i in range(n):
        start = (np.arange(out[i], dtype=np.int64) * a.stride[i] - a.pads[i]).reshape((-1,) + (1,) * (n - 1 - i))
        position = start + offsets[i] * a.dilation[i]
        flat += position * math.prod(spatial[i + 1:])
    return flat


KERNELS = {P.max_pool_indices: _max_pool_indices}
