"""NumPy kernels for ir/ops/linalg.py."""
from __future__ import annotations

import math

import numpy as np

from ir.ops import linalg as L


def _matmul(a, x, y):
    """``x @ y``; a C-contiguous batch of rows times one matrix (a linear layer's ``x @ W.T``)
    runs as one 2-D GEMM on the flattened rows: NumPy otherwise calls BLAS once per batch
    entry, 1.5-4x slower for a GPT's (16, 32, 64) activations on this project's 2-core VM."""
    if y.ndim == 2 and x.ndim > 2 and x.flags.c_contiguous:
        return np.matmul(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), y).reshape(x.shape[:-1] + y.shape[1:])
    return np.asarray(np.matmul(x, y))


KERNELS = {
    L.matmul: _matmul,
}
