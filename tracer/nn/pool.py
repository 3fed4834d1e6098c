"""Max pooling as torch: ``max_pool1d/2d/3d`` (kernel, stride, padding, dilation, ceil_mode,
return_indices) and the ``MaxPool1d/2d/3d`` modules (names, defaults, reprs).

The functional form finds each window's argmax with one ``max_pool_indices`` ir op (torch's
``return_indices``) and gathers the values there, so the gradient scatters through the
argmax as torch's max_pool backward does. ``ceil_mode`` becomes extra end padding, chosen with
torch's rule that the last window must start inside the input or its begin padding.
"""
from __future__ import annotations

import math

from ir.ops import indexing as I
from ir.ops import pool as P
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.nn.conv import _tuple
from tracer.nn.module import Module


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape."""
    reach = d * (k - 1) + 1
    out = (size + 2 * p - reach + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _max_pool(n: int):
    name = f"max_pool{n}d"

    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        kernel = _tuple(kernel_size, n, "kernel_size")
        strides = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
            else _tuple(stride, n, "stride")
        pads, dilations = _tuple(padding, n, "padding"), _tuple(dilation, n, "dilation")
        if input.dim() not in (n + 1, n + 2):
            raise err(RuntimeError, f"{name}: Expected {n + 1}D or {n + 2}D (batch mode) tensor for input, but got "
                      f"{input.dim()}-D input of size {list(input.shape)}")
        if input.dtype.kind == "b":
            raise err(NotImplementedError, f'"{name}" not implemented for \'{scalar_type_name(input.dtype)}\' '
                      f"(input: {input._type})")
        if min(kernel) <= 0 or min(strides) <= 0 or min(dilations) <= 0:
            raise err(RuntimeError, f"{name}: kernel_size, stride and dilation must be greater than zero, but got "
                      f"kernel_size={list(kernel)}, stride={list(strides)}, dilation={list(dilations)}")
        for k, p, d in zip(kernel, pads, dilations):
            if p < 0 or p > (d * (k - 1) + 1) // 2:
                raise err(RuntimeError, f"{name}: pad should be at most half of effective kernel size, but got "
                          f"pad={p}, kernel_size={k} and dilation={d}")
        batched = input.dim() == n + 2
        x = input if batched else input.unsqueeze(0)
        spatial = tuple(x.shape[2:])
        out = tuple(_out_size(spatial[i], kernel[i], strides[i], pads[i], dilations[i], ceil_mode) for i in range(n))
        if min(out) <= 0:
            raise err(RuntimeError, f"{name}: Given input size {list(input.shape)}, calculated output size "
                      f"{list(x.shape[:2]) + list(out)} is too small")
        ends = tuple(max(0, (out[i] - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - spatial[i] - pads[i])
                     for i in range(n))
        attrs = P.PoolAttrs(kernel, strides, pads + ends, dilations)
        indices = apply(P.max_pool_indices, [x], attrs)
        batch, channels = x.shape[0], x.shape[1]
        flat = x.reshape(batch, channels, math.prod(spatial))
        values = apply(I.gather_elements, [flat, indices.reshape(batch, channels, math.prod(out))], I.AxisAttrs(2))
        values = values.reshape(indices.shape)
        if not batched:
            values, indices = values.squeeze(0), indices.squeeze(0)
        return (values, indices) if return_indices else values

    max_pool.__name__ = name
    return max_pool


max_pool1d, max_pool2d, max_pool3d = _max_pool(1), _max_pool(2), _max_pool(3)


class _MaxPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    _fn = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    _fn = staticmethod(max_pool2d)


class MaxPool3d(_MaxPoolNd):
    _fn = staticmethod(max_pool3d)
