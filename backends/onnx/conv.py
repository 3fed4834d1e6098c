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
