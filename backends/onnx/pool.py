"""ONNX lowering for ir/ops/pool.py: MaxPool's second output holds the argmax as a flat index
over the whole tensor ((n C + c) H W + ...); its remainder by the plane size is torch's index.
onnxruntime's MaxPool lets a NaN win only where it comes first in its window (torch: any NaN
wins), a difference docs/onnx.md records."""
from __future__ import annotations

import itertools
import math

import numpy as np

from backends.onnx.builder import ONNX_TYPE
from backends.onnx.conv import auto_pads
from ir import dtypes
from ir.ops import conv as C
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import pool as P
from ir.ops import reduce as R
from ir.ops import shape as S


def _max_pool_indices(b, node, xs):
    a, x = node.attrs, node.inputs[0]
    if x.dtype.kind != "f":  # onnxruntime's MaxPool has no int32/int64 kernel; only the indices are used
        xs = [b.op("Cast", xs, to=ONNX_TYPE[dtypes.float64])]
    _, indices = b.op_outputs("MaxPool", xs, 2, kernel_shape=list(a.kernel), strides=list(a.stride),
                              pads=list(a.pads), dilations=list(a.dilation), storage_order=0)
    plane = b.const(math.prod(x.shape[2:]), dtype="int64")
    return b.op("Mod", [indices, plane], fmod=0)


LOWERINGS = {P.max_pool_indices: _max_pool_indices}


# -- import rules (ONNX -> ir; ``backends/onnx/load.py`` is the driver) ------------------------
def _windows(g, x):
    """(kernel, strides, dilations, explicit pads, ceil-mode extra end pads) of a pooling node."""
    kernel = g.attr("kernel_shape")
    n = len(kernel)
    if len(x.shape) != n + 2:
        g.fail(f"expects a (N, C, *spatial) input of rank {n + 2}, got {list(x.shape)}")
    strides = g.attr("strides", [1] * n)
    dilations = g.attr("dilations", [1] * n)
    pads = auto_pads(g, x.shape[2:], kernel, strides, dilations)
    extra = [0] * n
    if g.attr("ceil_mode", 0):
        for i in range(n):
            size, reach = x.shape[2 + i] + pads[i] + pads[n + i], (kernel[i] - 1) * dilations[i] + 1
            out = -(-(size - reach) // strides[i]) + 1
            if (out - 1) * strides[i] >= x.shape[2 + i] + pads[i]:
                out -= 1  # the last window must start inside the input or its begin padding
            extra[i] = max((out - 1) * strides[i] + reach - size, 0)
    return kernel, strides, dilations, pads, extra


def _imp_max_pool(g):
    """MaxPool: the ir's argmax positions, the values gathered there; the Indices output is
    ONNX's flat index over the whole tensor."""
    x = g.x(0)
    kernel, strides, dilations, pads, extra = _windows(g, x)
    n = len(kernel)
    ends = [pads[n + i] + extra[i] for i in range(n)]
    attrs = P.PoolAttrs(tuple(kernel), tuple(strides), tuple(pads[:n]) + tuple(ends), tuple(dilations))
    indices = g.add(P.max_pool_indices, [x], attrs)
    batch, channels = x.shape[:2]
    plane = math.prod(x.shape[2:])
    flat = g.add(S.reshape, [x], S.ShapeAttrs((batch, channels, plane)))
    picked = g.add(S.reshape, [indices], S.ShapeAttrs((batch, channels, math.prod(indices.shape[2:]))))
    values = g.add(S.reshape, [g.add(I.gather_elements, [flat, picked], S.AxisAttrs(2))], S.ShapeAttrs(indices.shape))
    if g.attr("storage_order", 0) and len(g.proto.output) > 1 and g.proto.output[1]:
        if n != 2:
            g.fail("storage_order=1 (column-major indices) is supported for 2-D pooling only")
        h, w = x.shape[2:]  # within each plane, h + w H instead of h W + w
        rows = g.add(E.floor_divide, [indices, g.scalar(w, dtypes.int64)])
        cols = g.add(E.remainder, [indices, g.scalar(w, dtypes.int64)])
        indices = g.add(E.add, [g.add(E.mul, [cols, g.scalar(h, dtypes.int64)]), rows])
    offsets = np.arange(batch * channels, dtype=np.int64).reshape((batch, channels) + (1,) * n) * plane
    return [values, g.add(E.add, [indices, g.constant(offsets)])]


def _window_counts(spatial, kernel, strides, dilations, pads, extra, out, include_pad):
    """Each output pixel's divisor: its window's positions inside the input (and the explicit
    padding, with ``include_pad``); the ceil-mode extra never counts."""
    n = len(spatial)
    mask = np.ones(spatial, dtype=np.float64)
    widths = [(pads[i], pads[n + i]) for i in range(n)]
    mask = np.pad(mask, widths, constant_values=1.0 if include_pad else 0.0)
    mask = np.pad(mask, [(0, e) for e in extra])
    counts = np.zeros(out, dtype=np.float64)
    for offset in itertools.product(*(range(k) for k in kernel)):
        index = tuple(slice(o * d, o * d + (m - 1) * s + 1, s) for o, d, m, s in zip(offset, dilations, out, strides))
        counts += mask[index]
    return counts


def _imp_average_pool(g):
    """AveragePool as a depthwise sum (a conv with a ones kernel) over each window, divided by
    its count (``count_include_pad`` picks which positions count)."""
    x = g.x(0)
    kernel, strides, dilations, pads, extra = _windows(g, x)
    include = g.attr("count_include_pad", 0)
    n = len(kernel)
    batch, channels = x.shape[:2]
    planes = g.add(S.reshape, [x], S.ShapeAttrs((batch * channels, 1) + tuple(x.shape[2:])))
    ones = g.constant(np.ones((1, 1) + tuple(kernel), dtype=x.dtype.np))
    ends = [pads[n + i] + extra[i] for i in range(n)]
    summed = g.add(C.conv, [planes, ones], C.ConvAttrs(tuple(strides), tuple(pads[:n]) + tuple(ends), tuple(dilations)))
    out = summed.shape[2:]
    counts = _window_counts(x.shape[2:], kernel, strides, dilations, pads, extra, out, include)
    mean = g.add(E.div, [summed, g.constant(counts.astype(x.dtype.np))])
    return g.add(S.reshape, [mean], S.ShapeAttrs((batch, channels) + tuple(out)))


def _imp_lp_pool(g):
    """LpPool: (sum of |x|^p over each window)^(1/p), the window sum a depthwise conv with a
    ones kernel (padding adds nothing)."""
    x = g.x(0)
    kernel, strides, dilations, pads, extra = _windows(g, x)
    p = g.attr("p", 2)
    n = len(kernel)
    batch, channels = x.shape[:2]
    powered = g.add(E.abs_, [x]) if p == 1 else g.add(E.pow_, [g.add(E.abs_, [x]), g.scalar(p, x.dtype)])
    planes = g.add(S.reshape, [powered], S.ShapeAttrs((batch * channels, 1) + tuple(x.shape[2:])))
    ones = g.constant(np.ones((1, 1) + tuple(kernel), dtype=x.dtype.np))
    ends = [pads[n + i] + extra[i] for i in range(n)]
    summed = g.add(C.conv, [planes, ones], C.ConvAttrs(tuple(strides), tuple(pads[:n]) + tuple(ends), tuple(dilations)))
    out = summed if p == 1 else g.add(E.pow_, [summed, g.scalar(1.0 / p, x.dtype)])
    return g.add(S.reshape, [out], S.ShapeAttrs((batch, channels) + tuple(summed.shape[2:])))


def _imp_global(op, divide):
    def rule(g):
        x = g.x(0)
        axes = tuple(range(2, len(x.shape)))
        out = g.add(op, [x], R.ReduceAttrs(axes, True))
        return g.add(E.div, [out, g.scalar(math.prod(x.shape[2:]), x.dtype)]) if divide else out
    return rule


def _imp_lrn(g):
    """LRN: x / (bias + alpha / size * sum of x^2 over ``size`` neighbouring channels)^beta, the
    channel sum a conv with a ones kernel over the channel axis."""
    x = g.x(0)
    size = g.attr("size")
    alpha, beta, bias = g.attr("alpha", 1e-4), g.attr("beta", 0.75), g.attr("bias", 1.0)
    n, c = x.shape[:2]
    plane = math.prod(x.shape[2:])
    squares = g.add(S.reshape, [g.add(E.mul, [x, x])], S.ShapeAttrs((n, 1, c, plane)))
    ones = g.constant(np.ones((1, 1, size, 1), dtype=x.dtype.np))
    pads = ((size - 1) // 2, 0, size - 1 - (size - 1) // 2, 0)
    summed = g.add(C.conv, [squares, ones], C.ConvAttrs((1, 1), pads, (1, 1)))
    summed = g.add(S.reshape, [summed], S.ShapeAttrs(x.shape))
    scale = g.add(E.add, [g.scalar(bias, x.dtype), g.add(E.mul, [summed, g.scalar(alpha / size, x.dtype)])])
    return g.add(E.div, [x, g.add(E.pow_, [scale, g.scalar(beta, x.dtype)])])


def _imp_max_unpool(g):
    """MaxUnpool: the values added into zeros at their (flat, whole-tensor) indices."""
    x, idx = g.x(0), g.x(1)
    kernel = g.attr("kernel_shape")
    n = len(kernel)
    strides = g.attr("strides", [1] * n)
    pads = g.attr("pads", [0] * (2 * n))
    default = list(x.shape[:2]) + [(d - 1) * s - pads[i] - pads[n + i] + k for i, (d, s, k) in
                                   enumerate(zip(x.shape[2:], strides, kernel))]
    out = g.ints(2, default)
    zeros = g.add(S.expand, [g.scalar(0, x.dtype)], S.ShapeAttrs((math.prod(default),)))
    flat_idx = g.add(S.reshape, [g.cast(idx, dtypes.int64)], S.ShapeAttrs((math.prod(idx.shape),)))
    flat_x = g.add(S.reshape, [x], S.ShapeAttrs((math.prod(x.shape),)))
    scattered = g.add(I.index_add, [zeros, flat_idx, flat_x], S.AxisAttrs(0))
    y = g.add(S.reshape, [scattered], S.ShapeAttrs(tuple(default)))
    if list(out) == default:
        return y
    # indices address the default layout; a larger output_shape extends each dim at its end
    if len(out) != len(default) or any(o < d for o, d in zip(out, default)):
        g.fail(f"output_shape {out} must not be smaller than the default {default}")
    return g.add(S.pad, [y], S.PadAttrs(tuple([0] * len(out) + [o - d for o, d in zip(out, default)])))


IMPORTS = {
    "LpPool": _imp_lp_pool,
    "LRN": _imp_lrn,
    "MaxUnpool": _imp_max_unpool,
    "MaxPool": _imp_max_pool,
    "AveragePool": _imp_average_pool,
    "GlobalAveragePool": _imp_global(R.sum_, True),
    "GlobalMaxPool": _imp_global(R.amax, False),
}
