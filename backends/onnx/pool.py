"""ONNX lowering for ir/ops/pool.py: MaxPool's second output holds the argmax as a flat index
over the whole tensor ((n C + c) H W + ...); less its plane's first index, it is torch's index.
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


def _tiles(a) -> bool:
    """Whether the windows tile the input: stride = kernel, no padding, no dilation."""
    return tuple(a.stride) == tuple(a.kernel) and not any(a.pads) and all(d == 1 for d in a.dilation)


def _tiled_argmax(b, shape, kernel, x_name):
    """Windows that tile the input, as a last axis (reshape, transpose), and ArgMax over it:
    3x faster than MaxPool's Indices in onnxruntime (0.23 vs 0.65 ms for a LeNet's first pool),
    with the same choice on ties and NaN (the first maximum; a NaN only where it comes first).
    The window position k and the output pixel map to the flat index by two constant tables."""
    spatial = shape[2:]
    outs = [size // k for size, k in zip(spatial, kernel)]
    n = len(kernel)
    if any(o * k != size for o, k, size in zip(outs, kernel, spatial)):  # floor mode drops the rest
        x_name = b.op("Slice", [x_name, b.int64s([0] * n), b.int64s([o * k for o, k in zip(outs, kernel)]),
                                b.int64s(range(2, 2 + n))])
    split = [0, 0] + [v for pair in zip(outs, kernel) for v in pair]  # 0: N and C as they are
    windows = b.op("Reshape", [x_name, b.int64s(split)])
    perm = [0, 1] + [2 + 2 * d for d in range(n)] + [3 + 2 * d for d in range(n)]
    last = b.op("Reshape", [b.op("Transpose", [windows], perm=perm), b.int64s([0, 0] + outs + [-1])])
    k = b.op("ArgMax", [last], axis=-1, keepdims=0, select_last_index=0)
    # flat index = corner of the window + its k-th position's offset; the offset is
    # k + sum_d floor(k / K_d) (stride_d - kernel_{d+1} stride_{d+1}) over the leading dims
    # (K_d: the window's size past dim d), in floats exact for these integers: onnxruntime's
    # int64 Gather and Div take 2-5x longer.
    strides = [math.prod(spatial[d + 1:]) for d in range(n)]  # of the input plane, row-major
    corner = sum(np.arange(o).reshape([-1 if e == d else 1 for e in range(n)]) * kk * st
                 for d, (o, kk, st) in enumerate(zip(outs, kernel, strides)))
    real = dtypes.float32 if math.prod(spatial) < 2 ** 24 else dtypes.float64
    position = b.op("Cast", [k], to=ONNX_TYPE[real])
    flat = b.op("Add", [position, b.const(np.asarray(corner, dtype=real.np))])
    for d in range(n - 1):
        step = strides[d] - kernel[d + 1] * strides[d + 1]
        lead = b.op("Floor", [b.op("Div", [position, b.scalar_like(math.prod(kernel[d + 1:]), real)])])
        flat = b.op("Add", [flat, b.op("Mul", [lead, b.scalar_like(step, real)])])
    return b.op("Cast", [flat], to=ONNX_TYPE[dtypes.int64])


def pooled_values(b, node):
    """The ONNX name of ``MaxPool``'s values when ``node`` is the ``gather_elements`` that
    tracer's max_pool reads them with (the flattened input at the flattened argmax), else
    None: one MaxPool output instead of a gather at the indices (which go when only the
    values are read, as in a forward-only export), the same numbers."""
    data, index = node.inputs
    if node.attrs.axis != 2 or data.op is not S.reshape or index.op is not S.reshape:
        return None
    pool = index.inputs[0]
    x = data.inputs[0]
    if pool not in b.pooled or pool.inputs[0] is not x or x.dtype not in (dtypes.float32, dtypes.float64):
        return None
    a = pool.attrs
    values = b.op("MaxPool", [b.pooled[pool]], kernel_shape=list(a.kernel), strides=list(a.stride),
                  pads=list(a.pads), dilations=list(a.dilation))
    return b.op("Reshape", [values, b.int64s([0, 0, -1])])


def _max_pool_indices(b, node, xs):
    a, x = node.attrs, node.inputs[0]
    b.pooled[node] = xs[0]
    if x.dtype.kind != "f":  # onnxruntime's MaxPool has no int32/int64 kernel; only the indices are used
        xs = [b.op("Cast", xs, to=ONNX_TYPE[dtypes.float64])]
    if _tiles(a) and x.dtype in (dtypes.float32, dtypes.float64):
        return _tiled_argmax(b, x.shape, a.kernel, xs[0])
    _, indices = b.op_outputs("MaxPool", xs, 2, kernel_shape=list(a.kernel), strides=list(a.stride),
                              pads=list(a.pads), dilations=list(a.dilation), storage_order=0)
    plane = math.prod(x.shape[2:])
    if b.dynamic.get(x):  # a batch size known only at run time
        return b.op("Mod", [indices, b.const(plane, dtype="int64")], fmod=0)
    # Each (n, c) plane's first flat index, subtracted: 4x cheaper than Mod in onnxruntime.
    starts = np.arange(math.prod(x.shape[:2]), dtype=np.int64).reshape(x.shape[:2] + (1,) * (len(x.shape) - 2)) * plane
    return b.op("Sub", [indices, b.const(starts)])


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
