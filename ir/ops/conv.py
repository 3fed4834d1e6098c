"""N-d convolution and transposed convolution (torch's conv1d/2d/3d and conv_transpose).

Inputs are ``x`` of shape (N, C_in, *spatial), ``w`` and an optional bias of shape
(C_out,): ``conv`` takes ``w`` of shape (C_out, C_in / groups, *kernel), ``conv_transpose``
(the adjoint of ``conv`` in its input, and the gradient of ``conv``) takes ``w`` of shape
(C_in, C_out / groups, *kernel), as torch. Padding is explicit and may differ per side
(``pads`` lists the begins, then the ends, as ONNX): the tracer turns torch's ``'same'`` and
``'valid'`` into it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ir.errors import op_error
from ir.ops import dynamic as D
from ir.ops.base import Op
from ir.ops.rules import require_float, same_dtype
from ir.types import TensorType


@dataclass(frozen=True)
class ConvAttrs:
    """``stride`` and ``dilation`` have one entry per spatial dim, ``pads`` two (all begins,
    then all ends); ``output_padding`` (conv_transpose only, else zeros) extends the end of
    each spatial dim of the result, as torch's and ONNX's ``output_padding``."""

    stride: tuple[int, ...]
    pads: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int = 1
    output_padding: tuple[int, ...] = ()


def spatial_rank(a: ConvAttrs) -> int:
    return len(a.stride)


def conv_size(size: int, k: int, stride: int, begin: int, end: int, dilation: int) -> int:
    """Output length of a convolution along one axis."""
    return (size + begin + end - dilation * (k - 1) - 1) // stride + 1


def conv_transpose_size(size: int, k: int, stride: int, begin: int, end: int, dilation: int, extra: int) -> int:
    """Output length of a transposed convolution along one axis (torch's and ONNX's formula)."""
    return (size - 1) * stride - begin - end + dilation * (k - 1) + extra + 1


def _check_attrs(name, types, a: ConvAttrs, n: int):
    if len(a.stride) != n or len(a.dilation) != n or len(a.pads) != 2 * n:
        raise op_error(name, types, f"needs {n} strides and dilations and {2 * n} pads for {n} spatial dims, "
                       f"got stride={a.stride}, dilation={a.dilation}, pads={a.pads}")
    if any(s <= 0 for s in a.stride) or any(d <= 0 for d in a.dilation) or any(p < 0 for p in a.pads):
        raise op_error(name, types, f"strides and dilations must be positive and pads non-negative, got "
                       f"stride={a.stride}, dilation={a.dilation}, pads={a.pads}")
    if a.groups <= 0:
        raise op_error(name, types, "non-positive groups is not supported")
    extra = a.output_padding or (0,) * n
    if len(extra) != n or any(e < 0 for e in extra):
        raise op_error(name, types, f"output_padding {a.output_padding} needs {n} non-negative entries")


def _check_operands(name, types, a: ConvAttrs):
    """The checks both ops share: ranks, dtypes, groups, bias; returns (x, w, out channels)."""
    if len(types) not in (2, 3):
        raise op_error(name, types, "expects an input, a weight and an optional bias")
    same_dtype(name, types)
    require_float(name, types)
    x, w = types[0], types[1]
    n = spatial_rank(a)
    if x.rank != n + 2 or w.rank != n + 2:
        raise op_error(name, types, f"Expected {n + 2}D (batched) input and weight for {n}-D {name}, "
                       f"got input of size {list(x.shape)} and weight of size {list(w.shape)}")
    _check_attrs(name, types, a, n)
    return x, w


def _check_bias(name, types, channels: int):
    if len(types) == 3 and types[2].shape != (channels,):
        raise op_error(name, types, f"bias must have shape [{channels}], got {list(types[2].shape)}")


def _infer_conv(types, a: ConvAttrs):
    x, w = _check_operands("conv", types, a)
    if a.output_padding and any(a.output_padding):
        raise op_error("conv", types, "output_padding is for conv_transpose only")
    if w.shape[0] % a.groups:
        raise op_error("conv", types, f"Given groups={a.groups}, expected weight to be divisible by "
                       f"{a.groups} at dimension 0, but got weight of size {list(w.shape)} instead")
    if x.shape[1] != w.shape[1] * a.groups:
        raise op_error("conv", types, f"Given groups={a.groups}, weight of size {list(w.shape)}, expected "
                       f"input{list(x.shape)} to have {w.shape[1] * a.groups} channels, but got "
                       f"{x.shape[1]} channels instead")
    _check_bias("conv", types, w.shape[0])
    n = spatial_rank(a)
    padded = [x.shape[2 + i] + a.pads[i] + a.pads[n + i] for i in range(n)]
    reach = [a.dilation[i] * (w.shape[2 + i] - 1) + 1 for i in range(n)]
    if any(p < r for p, r in zip(padded, reach)):
        raise op_error("conv", types, f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                       f"Kernel size: ({' x '.join(map(str, reach))}). Kernel size can't be greater than "
                       "actual input size")
    spatial = tuple(conv_size(x.shape[2 + i], w.shape[2 + i], a.stride[i], a.pads[i], a.pads[n + i], a.dilation[i])
                    for i in range(n))
    return TensorType((x.shape[0], w.shape[0]) + spatial, x.dtype)


def _infer_conv_transpose(types, a: ConvAttrs):
    x, w = _check_operands("conv_transpose", types, a)
    if x.shape[1] != w.shape[0]:
        raise op_error("conv_transpose", types, f"Given transposed=1, weight of size {list(w.shape)}, expected "
                       f"input{list(x.shape)} to have {w.shape[0]} channels, but got {x.shape[1]} channels instead")
    if w.shape[0] % a.groups:
        raise op_error("conv_transpose", types, f"Given groups={a.groups}, expected weight to be divisible by "
                       f"{a.groups} at dimension 0, but got weight of size {list(w.shape)} instead")
    channels = w.shape[1] * a.groups
    _check_bias("conv_transpose", types, channels)
    n = spatial_rank(a)
    extra = a.output_padding or (0,) * n
    spatial = tuple(conv_transpose_size(x.shape[2 + i], w.shape[2 + i], a.stride[i], a.pads[i], a.pads[n + i],
                                        a.dilation[i], extra[i]) for i in range(n))
    if any(s <= 0 for s in spatial):
        raise op_error("conv_transpose", types, f"the output would have size {list(spatial)}: pads too large")
    return TensorType((x.shape[0], channels) + spatial, x.dtype)


def _dynamic_conv(node, dyn) -> set[int]:
    """The batch dim follows x's, the output channels follow w's dim 0; a contracted channel
    dim may be dynamic (as in a weight gradient, where the batch is contracted) unless grouped;
    spatial dims and kernel sizes are baked into the output size, so they stay static."""
    x, w = node.inputs[0], node.inputs[1]
    dx, dw = D.dims(dyn, x), D.dims(dyn, w)
    if any(d >= 2 for d in dx | dw):
        D.fail(node, "a dynamic spatial or kernel dim")
    if (1 in dx or 1 in dw) and node.attrs.groups != 1:
        D.fail(node, "dynamic channels in a grouped convolution")
    if len(node.inputs) == 3 and D.dims(dyn, node.inputs[2]):
        D.fail(node, "a dynamic bias length")
    out = {0} if 0 in dx else set()
    if (0 in dw) if node.op is conv else (1 in dw):
        out.add(1)
    return out


conv = Op("conv", _infer_conv, ConvAttrs, arity=None, dynamic=_dynamic_conv)
#: The adjoint of ``conv`` in its input: nn.ConvTranspose's forward and conv's input gradient.
conv_transpose = Op("conv_transpose", _infer_conv_transpose, ConvAttrs, arity=None, dynamic=_dynamic_conv)
