"""NumPy kernels for constants and random draws (graph inputs are fed, not computed)."""
from __future__ import annotations

from ir.ops import random as RND
from ir.ops import source as SRC

KERNELS = {
    SRC.constant: lambda a: a.value,
}


def _uniform(a, rng):
    return rng.uniform(a.a, a.b, size=a.shape).astype(a.dtype.np)


def _normal(a, rng):
    return rng.normal(a.a, a.b, size=a.shape).astype(a.dtype.np)


#: Kernels that draw from the run's generator: ``kernel(attrs, rng)``.
RANDOM_KERNELS = {
    RND.random_uniform: _uniform,
    RND.random_normal: _normal,
}
