"""The ONNX lowering table, keyed by ir op object (one facet per family module)."""
from __future__ import annotations

from backends.onnx import conv, custom, elementwise, indexing, linalg, pool, reduce, shape, source
from backends.onnx.errors import ExportError

LOWERINGS = {}
NARROWED = {}  # op -> {dtype: (computed in, why)}: lowerings that run in a narrower dtype
for _family in (elementwise, reduce, shape, indexing, linalg, source, conv, pool, custom):
    LOWERINGS.update(_family.LOWERINGS)
    NARROWED.update(getattr(_family, "NARROWED", {}))


def narrowed(node):
    """``(computed in, why)`` if onnxruntime computes ``node`` in a narrower dtype than it declares."""
    return NARROWED.get(node.op, {}).get(node.dtype.name)


def lowering_for(node):
    """The lowering of ``node``'s op, or an ExportError naming the op and the user's source line."""
    lower = LOWERINGS.get(node.op)
    if lower is None:
        where = f" at {node.source}" if node.source else ""
        raise ExportError(f"{node.op.name}{where}: no ONNX lowering (add one to backends/onnx)")
    return lower
