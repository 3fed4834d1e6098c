"""The NumPy kernel table, keyed by ir op object (one facet per family module)."""
from __future__ import annotations

from backends.numpy import conv, custom, elementwise, indexing, linalg, pool, reduce, shape, source

KERNELS = {}
for _family in (elementwise, reduce, shape, indexing, linalg, source, conv, pool, custom):
    KERNELS.update(_family.KERNELS)
RANDOM_KERNELS = dict(source.RANDOM_KERNELS)
