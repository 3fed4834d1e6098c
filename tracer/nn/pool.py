"""Pooling as torch: ``max_pool1d/2d/3d`` (kernel, stride, padding, dilation, ceil_mode,
return_indices), ``avg_pool1d/2d/3d`` (count_include_pad, divisor_override, ceil_mode),
``adaptive_avg_pool1d/2d/3d`` and their modules (names, defaults, reprs).

Average pooling is a depthwise convolution with a ones kernel divided by torch's per-window
count (a constant computed from the shapes), adaptive average pooling one averaging matmul
per spatial dim: both reuse those ops' kernels, gradients and ONNX lowerings.

The functional form finds each window's argmax with one ``max_pool_indices`` ir op (torch's
``return_indices``) and gathers the values there, so the gradient scatters through the
argmax as torch's max_pool backward does. ``ceil_mode`` becomes extra end padding, chosen with
torch's rule that the last window must start inside the input or its begin padding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ir import dtypes
from ir.ops import conv as C
from ir.ops import indexing as I
from ir.ops import pool as P
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.nn.conv import _tuple
from tracer.nn.module import Module
from tracer.ops import elementwise as ew
from tracer.ops import linalg
from tracer.ops._util import cast
from tracer.ops.creation import tensor


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape."""
    reach = d * (k - 1) + 1
    out = (size + 2 * p - reach + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


@dataclass(frozen=True)
class _Windows:
    """A pooling call's geometry: ``x`` batched, per-dim kernel/stride/pads/dilation, the input's
    and output's spatial sizes, and the end padding that realises ``ceil_mode``."""

    x: object
    batched: bool
    kernel: tuple
    strides: tuple
    pads: tuple
    dilations: tuple
    spatial: tuple
    out: tuple
    ends: tuple


def _windows(name: str, n: int, input, kernel_size, stride, padding, dilation, ceil_mode) -> _Windows:
    """torch's argument handling and checks shared by max and average pooling (``dilation``
    None: average pooling, which has none)."""
    kernel = _tuple(kernel_size, n, "kernel_size")
    strides = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _tuple(stride, n, "stride")
    pads, dilations = _tuple(padding, n, "padding"), _tuple(1 if dilation is None else dilation, n, "dilation")
    if input.dim() not in (n + 1, n + 2):
        raise err(RuntimeError, f"{name}: Expected {n + 1}D or {n + 2}D (batch mode) tensor for input, but got "
                  f"{input.dim()}-D input of size {list(input.shape)}")
    if input.dtype.kind == "b":
        raise err(NotImplementedError, f'"{name}" not implemented for \'Bool\' (input: {input._type})')
    if min(kernel) <= 0 or min(strides) <= 0 or min(dilations) <= 0:
        what = "kernel_size and stride" if dilation is None else "kernel_size, stride and dilation"
        raise err(RuntimeError, f"{name}: {what} must be greater than zero, but got kernel_size={list(kernel)}, "
                  f"stride={list(strides)}" + ("" if dilation is None else f", dilation={list(dilations)}"))
    if 0 in tuple(input.shape)[input.dim() - n - 1:]:
        raise err(RuntimeError, f"{name}: Expected {n + 1}D or {n + 2}D (batch mode) tensor with optional 0 dim "
                  f"batch size for input, but got:{list(input.shape)}")
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
    return _Windows(x, batched, kernel, strides, pads, dilations, spatial, out, ends)


def _max_pool(n: int):
    name = f"max_pool{n}d"

    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        w = _windows(name, n, input, kernel_size, stride, padding, dilation, ceil_mode)
        indices = apply(P.max_pool_indices, [w.x], P.PoolAttrs(w.kernel, w.strides, w.pads + w.ends, w.dilations))
        batch, channels = w.x.shape[0], w.x.shape[1]
        flat = w.x.reshape(batch, channels, math.prod(w.spatial))
        values = apply(I.gather_elements, [flat, indices.reshape(batch, channels, math.prod(w.out))], I.AxisAttrs(2))
        values = values.reshape(indices.shape)
        if not w.batched:
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


# -- average pooling -------------------------------------------------------------------------
def _window_counts(spatial, kernel, strides, begins, out, real_only: bool) -> np.ndarray:
    """Each output pixel's divisor, as torch's avg_pool: the window clipped to the padded input
    (count_include_pad) or to the input itself. From shapes only: a constant of the graph."""
    counts = np.ones((), np.float64)
    for i, size in enumerate(spatial):
        start = np.arange(out[i]) * strides[i] - begins[i]
        stop = np.minimum(start + kernel[i], size + begins[i])  # never past the padding torch adds
        if real_only:
            start, stop = np.maximum(start, 0), np.minimum(stop, size)
        counts = np.multiply.outer(counts, stop - start)
    return counts


def _avg_pool(n: int):
    name = f"avg_pool{n}d"

    def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        w = _windows(name, n, input, kernel_size, stride, padding, None, ceil_mode)
        if divisor_override is not None and divisor_override == 0:
            raise err(RuntimeError, f"{name}: divisor must be not zero")
        floating = w.x.dtype.is_floating_point
        x = w.x if floating else cast(w.x, dtypes.float64)
        channels = x.shape[1]
        ones = tensor(np.ones((channels, 1) + w.kernel, dtype=x.dtype.np))
        sums = apply(C.conv, [x, ones], C.ConvAttrs(w.strides, w.pads + w.ends, (1,) * n, channels))
        if divisor_override is not None:
            result = ew.div(sums, float(divisor_override))
        else:
            counts = _window_counts(w.spatial, w.kernel, w.strides, w.pads, w.out, not count_include_pad)
            result = ew.div(sums, tensor(counts.astype(x.dtype.np)))
        if not floating:  # torch divides integers in integers: toward zero
            result = cast(ew.trunc(result), w.x.dtype)
        return result if w.batched else result.squeeze(0)

    avg_pool.__name__ = name
    return avg_pool


avg_pool1d, avg_pool2d, avg_pool3d = _avg_pool(1), _avg_pool(2), _avg_pool(3)


def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size): row i averages torch's adaptive window floor(i size / out) .. ceil((i + 1) size / out)."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, stop = (i * size) // out, -((-(i + 1) * size) // out)
        m[i, start:stop] = 1.0 / (stop - start)
    return m


def _adaptive_avg_pool(n: int):
    name = f"adaptive_avg_pool{n}d"

    def adaptive_avg_pool(input, output_size):
        if input.dim() not in (n + 1, n + 2):
            raise err(RuntimeError, f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got {list(input.shape)}")
        if not input.dtype.is_floating_point:
            raise err(NotImplementedError, f'"{name}" not implemented for \'{scalar_type_name(input.dtype)}\' '
                      f"(input: {input._type})")
        sizes = (output_size,) * n if isinstance(output_size, int) else tuple(output_size)
        if len(sizes) != n:
            raise err(RuntimeError, f"{name}: output_size must be {n}, got {list(sizes)}")
        spatial = tuple(input.shape[-n:])
        sizes = tuple(s if o is None else int(o) for s, o in zip(spatial, sizes))
        if min(sizes) <= 0 and input.numel():
            raise err(RuntimeError, f"{name}: output_size must be positive, got {list(sizes)}")
        x = input
        for i in range(n):  # one averaging matmul per spatial dim, over the dim moved last
            axis = input.dim() - n + i
            matrix = tensor(_averaging_matrix(spatial[i], sizes[i], x.dtype.np).T)
            x = linalg.matmul(x.movedim(axis, -1), matrix).movedim(-1, axis)
        return x

    adaptive_avg_pool.__name__ = name
    return adaptive_avg_pool


adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d = (_adaptive_avg_pool(1), _adaptive_avg_pool(2),
                                                                 _adaptive_avg_pool(3))


def _adaptive_windows(size: int, out: int) -> np.ndarray:
    """(out, k): the positions of torch's adaptive windows floor(i size / out) ..
    ceil((i + 1) size / out), each padded to the longest by repeating its last position (a
    repeat changes neither a max nor which position is first to hold it)."""
    starts = [(i * size) // out for i in range(out)]
    stops = [-((-(i + 1) * size) // out) for i in range(out)]
    k = max((b - a for a, b in zip(starts, stops)), default=1)
    return np.array([[min(a + j, b - 1) for j in range(k)] for a, b in zip(starts, stops)],
                    dtype=np.int64).reshape(out, k)


def _adaptive_max_pool(n: int):
    name = f"adaptive_max_pool{n}d"

    def adaptive_max_pool(input, output_size, return_indices: bool = False):
        """Each output pixel's window gathered from the flattened plane (window positions in
        row-major order), then one ``max`` over them: its first maximum is torch's choice, its
        gradient a scatter through the gather."""
        if input.dim() not in (n + 1, n + 2):
            raise err(RuntimeError, f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got: {list(input.shape)}")
        for d in range(input.dim() - n, input.dim()):
            if input.shape[d] == 0:
                raise err(RuntimeError, f"{name}(): Expected input to have non-zero size for non-batch dimensions, "
                          f"but input has sizes {list(input.shape)} with dimension {d} being empty")
        if not input.dtype.is_floating_point:
            raise err(NotImplementedError, f'"{name}" not implemented for \'{scalar_type_name(input.dtype)}\'')
        sizes = (output_size,) * n if isinstance(output_size, int) else tuple(output_size)
        if len(sizes) != n:
            raise err(RuntimeError, f"{name}: output_size must be {n}, got {list(sizes)}")
        spatial = tuple(input.shape[-n:])
        sizes = tuple(s if o is None else int(o) for s, o in zip(spatial, sizes))
        if min(sizes) < 0:
            raise err(RuntimeError, f"{name}: elements of output_size must be greater than or equal to 0 but got "
                      f"{list(sizes)}")
        windows = [_adaptive_windows(spatial[i], sizes[i]) for i in range(n)]
        positions = np.zeros(sizes + tuple(w.shape[1] for w in windows), dtype=np.int64)
        for i, w in enumerate(windows):  # flat plane position = sum over dims of position * stride
            shape = [1] * (2 * n)
            shape[i], shape[n + i] = w.shape
            positions = positions + w.reshape(shape) * math.prod(spatial[i + 1:])
        positions = positions.reshape(math.prod(sizes), math.prod(w.shape[1] for w in windows))
        batch = tuple(input.shape[:-n])
        plane = input.reshape(*batch, math.prod(spatial))
        gathered = plane.index_select(-1, tensor(positions.reshape(-1))).reshape(*batch, *positions.shape)
        values, which = gathered.max(-1)
        values = values.reshape(*batch, *sizes)
        if not return_indices:
            return values
        index = tensor(positions).gather(1, which.reshape(-1, positions.shape[0]).transpose(0, 1))
        return values, index.transpose(0, 1).reshape(*batch, *sizes)

    adaptive_max_pool.__name__ = name
    return adaptive_max_pool


adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d = (_adaptive_max_pool(1), _adaptive_max_pool(2),
                                                                 _adaptive_max_pool(3))


class _AvgPoolNd(Module):
    _fn = None
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        if self._n == 1:  # torch's AvgPool1d keeps tuples
            kernel_size, padding = _tuple(kernel_size, 1, "kernel_size"), _tuple(padding, 1, "padding")
            stride = _tuple(stride, 1, "stride") if stride is not None else kernel_size
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, input):
        extra = {} if self._n == 1 else {"divisor_override": self.divisor_override}
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, **extra)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    _fn, _n = staticmethod(avg_pool1d), 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    _fn, _n = staticmethod(avg_pool2d), 2


class AvgPool3d(_AvgPoolNd):
    _fn, _n = staticmethod(avg_pool3d), 3


class _AdaptiveAvgPoolNd(Module):
    _fn = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return type(self)._fn(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(Module):
    _fn = None

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return type(self)._fn(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(adaptive_max_pool3d)
