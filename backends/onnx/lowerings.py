"""The ONNX lowering table, keyed by ir op object (one facet per family module)."""
from __future__ import annotations

from backends.onnx import elementwise, indexing, linalg, reduce, shape, source

LOWERINGS = {}
for _family in (elementwise, reduce, shape, indexing, linalg, source):
    LOWERINGS.update(_family.LOWERINGS)
