"""NumPy kernels for ir/ops/linalg.py."""
from __future__ import annotations

import numpy as np

from ir.ops import linalg as L

KERNELS = {
    L.matmul: lambda a, x, y: np.asarray(np.matmul(x, y)),
}
