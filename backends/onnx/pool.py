"""ONNX lowering for ir/ops/pool.py: MaxPool's second output holds the argmax as a flat index
over the whole tensor ((n C + c) H W + ...); its remainder by the plane size is torch's index.
onnxruntime's MaxPool lets a NaN win only where it comes first in its window (torch: any NaN
wins), a difference docs/onnx.md records."""
from __future__ import annotations

import math

from backends.onnx.builder import ONNX_TYPE
from ir import dtypes
from ir.ops import pool as P


def _max_pool_indices(b, node, xs):
    a, x = node.attrs, node.inputs[0]
    if x.dtype.kind != "f":  # onnxruntime's MaxPool has no int32/int64 kernel; only the indices are used
        xs = [b.op("Cast", xs, to=ONNX_TYPE[dtypes.float64])]
    _, indices = b.op_outputs("MaxPool", xs, 2, kernel_shape=list(a.kernel), strides=list(a.stride),
                              pads=list(a.pads), dilations=list(a.dilation), storage_order=0)
    plane = b.const(math.prod(x.shape[2:]), dtype="int64")
    return b.op("Mod", [indices, plane], fmod=0)


LOWERINGS = {P.max_pool_indices: _max_pool_indices}
