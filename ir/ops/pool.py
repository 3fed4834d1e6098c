"""N-d max pooling, as one index op: ``max_pool_indices`` gives, for each output pixel, the
flat position (within its (n, c) plane of the unpadded input) of its window's maximum, which
is torch's ``return_indices`` result. The pooled values are a ``gather_elements`` of the input
at those positions, so their gradient (a scatter-add through the argmax, exact for overlapping
windows) and its gradient come from the gather's rules.

Input ``x`` has shape (N, C, *spatial). Padding is explicit per side (``pads``: all begins,
then all ends, as ONNX) and counts as -inf; torch's ``ceil_mode`` becomes extra end padding,
chosen by the tracer, so every backend sees plain windows.
"""
from __future__ import annotations

from dataclasses import dataclass

from ir import dtypes
from ir.errors import IRTypeError, op_error
from ir.ops import dynamic as D
from ir.ops.base import Op
from ir.ops.conv import conv_size
from ir.types import TensorType


@dataclass(frozen=True)
class PoolAttrs:
    """One ``kernel``, ``stride`` and ``dilation`` entry per spatial dim; ``pads`` two."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pads: tuple[int, ...]
    dilation: tuple[int, ...]


def pooled_shape(shape, a: PoolAttrs) -> tuple[int, ...]:
    n = len(a.kernel)
    return tuple(shape[:2]) + tuple(conv_size(shape[2 + i], a.kernel[i], a.stride[i], a.pads[i], a.pads[n + i],
                                              a.dilation[i]) for i in range(n))


def _infer_max_pool_indices(types, a: PoolAttrs) -> TensorType:
    (x,) = types
    n = len(a.kernel)
    if x.dtype.kind == "b":
        raise op_error("max_pool", types, "bool inputs are not supported", IRTypeError)
    if len(a.stride) != n or len(a.dilation) != n or len(a.pads) != 2 * n:
        raise op_error("max_pool", types, f"needs {n} strides and dilations and {2 * n} pads, got "
                       f"stride={a.stride}, dilation={a.dilation}, pads={a.pads}")
    if x.rank != n + 2:
        raise op_error("max_pool", types, f"expects a (N, C, *spatial) input of rank {n + 2} for a {n}-D pool")
    if min(a.kernel + a.stride + a.dilation, default=1) <= 0 or min(a.pads, default=0) < 0:
        raise op_error("max_pool", types, f"kernel, stride and dilation must be positive and pads non-negative, got "
                       f"kernel={a.kernel}, stride={a.stride}, dilation={a.dilation}, pads={a.pads}")
    for i in range(n):
        reach = a.dilation[i] * (a.kernel[i] - 1) + 1
        if a.pads[i] > reach // 2 or a.pads[n + i] > reach // 2 + a.stride[i] - 1:
            raise op_error("max_pool", types, f"pads {a.pads} would make windows of padding only (a begin pad "
                           f"may be at most half the window, {reach // 2})")
    shape = pooled_shape(x.shape, a)
    if any(s <= 0 for s in shape[2:]):
        raise op_error("max_pool", types, f"the output would have size {list(shape)}: the input is smaller than "
                       "the kernel")
    return TensorType(shape, dtypes.int64)


def _dynamic_pool(node, dyn) -> set[int]:
    """Batch and channel dims follow the input's; spatial sizes are baked into the windows."""
    dx = D.dims(dyn, node.inputs[0])
    if any(d >= 2 for d in dx):
        D.fail(node, "a dynamic spatial dim")
    return dx


#: For each output pixel, the flat index (within its (n, c) plane) of its window's maximum, the
#: first one on ties, a NaN when the window holds one (torch's max_pool indices).
max_pool_indices = Op("max_pool_indices", _infer_max_pool_indices, PoolAttrs, arity=1, differentiable=False,
                      dynamic=_dynamic_pool)
