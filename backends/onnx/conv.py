"""ONNX lowerings for ir/ops/conv.py: conv -> Conv, conv_transpose -> ConvTranspose.

onnxruntime's CPU provider has no float64 Conv or ConvTranspose kernel (seen with 1.32), so
a float64 convolution is computed in float32 between two Casts (declared in ``NARROWED``, so
comparisons use float32's tolerance for what it feeds; docs/onnx.md)."""
from __future__ import annotations

from backends.onnx.builder import ONNX_TYPE
from ir import dtypes
from ir.ops import conv as C

_WHY = "onnxruntime's CPU provider has no float64 {}"
NARROWED = {C.conv: {"float64": ("float32", _WHY.format("Conv"))},
            C.conv_transpose: {"float64": ("float32", _WHY.format("ConvTranspose"))}}


def _in_float32(b, node, xs, op_type, **attrs):
    """``op_type`` on ``xs``; a float64 node runs it in float32 and casts back."""
    if node.dtype is not dtypes.float64:
        return b.op(op_type, xs, **attrs)
    narrow = [b.op("Cast", [x], to=ONNX_TYPE[dtypes.float32]) for x in xs]
    return b.op("Cast", [b.op(op_type, narrow, **attrs)], to=ONNX_TYPE[node.dtype])


def _attrs(node):
    a = node.attrs
    kernel = list(node.inputs[1].shape[2:])
    return dict(strides=list(a.stride), pads=list(a.pads), dilations=list(a.dilation), group=a.groups,
                kernel_shape=kernel)


def _conv(b, node, xs):
    """ir conv -> ONNX Conv (bias as its third input)."""
    return _in_float32(b, node, xs, "Conv", **_attrs(node))


def _conv_transpose(b, node, xs):
    """ir conv_transpose -> ONNX ConvTranspose. output_padding first takes back end padding
    (the same result); onnxruntime rejects an output_padding not below the stride, which
    can only cover zeros past the last kernel tap, so that rest is a Pad with zeros."""
    a = node.attrs
    n = len(a.stride)
    extra = a.output_padding or (0,) * n
    ends = [max(a.pads[n + i] - extra[i], 0) for i in range(n)]
    rest = [extra[i] - (a.pads[n + i] - ends[i]) for i in range(n)]
    attrs = _attrs(node)
    attrs["pads"] = list(a.pads[:n]) + ends
    if all(r < s for r, s in zip(rest, a.stride)):
        return _in_float32(b, node, xs, "ConvTranspose", output_padding=rest, **attrs)
    y = _in_float32(b, node, xs[:2], "ConvTranspose", **attrs)
    y = b.op("Pad", [y, b.int64s([0] * (n + 2) + [0, 0] + rest)], mode="constant")
    if len(xs) == 2:
        return y
    return b.op("Add", [y, b.op("Reshape", [xs[2], b.int64s([-1] + [1] * n)])])  # the bias covers the Pad too


LOWERINGS = {
    C.conv: _conv,
    C.conv_transpose: _conv_transpose,
}


# -- import rules (ONNX -> ir; ``backends/onnx/load.py`` is the driver) ------------------------
def auto_pads(g, spatial, kernel, strides, dilations, transpose=False):
    """Explicit begin/end pads for ``auto_pad`` (NOTSET reads ``pads``)."""
    n = len(spatial)
    mode = g.attr("auto_pad", "NOTSET")
    if mode == "NOTSET":
        return list(g.attr("pads", [0] * (2 * n)))
    if mode == "VALID":
        return [0] * (2 * n)
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        g.fail(f"auto_pad={mode!r} is not supported")
    begins, ends = [], []
    for size, k, s, d in zip(spatial, kernel, strides, dilations):
        reach = (k - 1) * d + 1
        total = max((-(-size // s) - 1) * s + reach - size, 0)
        small, big = total // 2, total - total // 2
        begin = small if mode == "SAME_UPPER" else big
        begins.append(begin)
        ends.append(total - begin)
    return begins + ends


def _conv_common(g, w):
    n = len(w.shape) - 2
    kernel = g.attr("kernel_shape", list(w.shape[2:]))
    if list(kernel) != list(w.shape[2:]):
        g.fail(f"kernel_shape {kernel} disagrees with the weight's shape {list(w.shape)}")
    strides = g.attr("strides", [1] * n)
    dilations = g.attr("dilations", [1] * n)
    return n, kernel, strides, dilations


def _imp_conv(g):
    x, w = g.x(0), g.x(1)
    n, kernel, strides, dilations = _conv_common(g, w)
    pads = auto_pads(g, x.shape[2:], kernel, strides, dilations)
    attrs = C.ConvAttrs(tuple(strides), tuple(pads), tuple(dilations), g.attr("group", 1))
    return g.add(C.conv, [x, w] + ([g.x(2)] if g.has(2) else []), attrs)


def _imp_conv_transpose(g):
    """ConvTranspose; an ``output_shape`` or SAME auto_pad becomes explicit pads (the spec's
    formula: the total padding splits with the bigger half at the start unless SAME_UPPER)."""
    x, w = g.x(0), g.x(1)
    n, kernel, strides, dilations = _conv_common(g, w)
    extra = g.attr("output_padding", [0] * n)
    out_shape = g.attr("output_shape")
    mode = g.attr("auto_pad", "NOTSET")
    if out_shape is None and mode in ("SAME_UPPER", "SAME_LOWER"):
        out_shape = [d * s for d, s in zip(x.shape[2:], strides)]
    if out_shape is not None:
        out_shape = list(out_shape)[-n:]
        pads = [0] * (2 * n)
        for i in range(n):
            total = strides[i] * (x.shape[2 + i] - 1) + extra[i] + (kernel[i] - 1) * dilations[i] + 1 - out_shape[i]
            if total < 0:
                extra = list(extra)
                extra[i] -= total
                total = 0
            small, big = total // 2, total - total // 2
            pads[i], pads[n + i] = (small, big) if mode == "SAME_UPPER" else (big, small)
    elif mode == "VALID":
        pads = [0] * (2 * n)
    elif mode == "NOTSET":
        pads = list(g.attr("pads", [0] * (2 * n)))
    else:
        g.fail(f"auto_pad={mode!r} is not supported")
    attrs = C.ConvAttrs(tuple(strides), tuple(pads), tuple(dilations), g.attr("group", 1), tuple(extra))
    return g.add(C.conv_transpose, [x, w] + ([g.x(2)] if g.has(2) else []), attrs)


IMPORTS = {
    "Conv": _imp_conv,
    "ConvTranspose": _imp_conv_transpose,
}
