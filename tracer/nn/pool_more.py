"""Pooling-shaped layers beyond the max/avg pools, as torch 2.13 and as compositions of existing
ops: power-average pooling (``lp_pool1d/2d/3d``, ``LPPool1d/2d/3d``), the partial inverse of max
pooling (``max_unpool1d/2d``, ``MaxUnpool1d/2d``: a scatter of the pooled values to their
indices), local response normalisation (an average pool over channels) and channel shuffling.
"""
from __future__ import annotations

from ir import dtypes
from tracer.core import tracing
from tracer.core.errors import err, scalar_type_name
from tracer.core.tensor import Tensor
from tracer.nn.module import Module
from tracer.nn.padding import pad
from tracer.nn.pool import avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d
from tracer.ops import elementwise as ew
from tracer.ops.creation import ones_like, zeros
from tracer.ops.indexing import gather, scatter_add


def _tuple(value, n: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


# -- power-average pooling --------------------------------------------------------------
def _lp_pool(n: int, input, norm_type, kernel_size, stride, ceil_mode) -> Tensor:
    """(sum over each window of x^p)^(1/p): torch's average pool of x^p times the window size,
    with its sign(out) * relu(|out|) guard; p = +-inf is a max pool of |x| (of -|x|)."""
    max_pool, avg_pool = {1: (max_pool1d, avg_pool1d), 2: (max_pool2d, avg_pool2d), 3: (max_pool3d, avg_pool3d)}[n]
    if norm_type == float("inf"):
        return max_pool(ew.abs(input), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return ew.neg(max_pool(ew.neg(ew.abs(input)), kernel_size, stride, 0, 1, ceil_mode))
    out = avg_pool(ew.pow(input, norm_type), kernel_size, stride, 0, ceil_mode)
    window = 1
    for k in _tuple(kernel_size, n):
        window *= k
    return ew.pow(ew.mul(ew.mul(ew.sign(out), ew.relu(ew.abs(out))), window), 1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


class _LPPoolNd(Module):
    _n = 0

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input):
        return _lp_pool(self._n, input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    _n = 1


class LPPool2d(_LPPoolNd):
    _n = 2


class LPPool3d(_LPPoolNd):
    _n = 3


# -- max unpooling ----------------------------------------------------------------------
def _unpool_output_size(input, kernel, stride, padding, output_size) -> list[int]:
    """torch's ``_unpool_output_size``: the size max pooling came from, or a given one within a stride of it."""
    n = len(kernel)
    default = [(input.shape[input.dim() - n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(n)]
    if output_size is None:
        size = default
    else:
        size = list(output_size)
        if len(size) == n + 2:
            size = size[2:]
        if len(size) != n:
            raise err(ValueError, f"output_size should be a sequence containing {n} or {n + 2} elements, but it has "
                      f"a length of '{len(size)}'")
        for d in range(n):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < size[d] < high:
                raise err(ValueError, f'invalid output_size "{size}" (dim {d} must be between {low} and {high})')
    for d in range(n):
        if size[d] < 0:
            raise err(ValueError, f"max_unpooling: output_size must contain non-negative spatial dimensions, but "
                      f"got output_size[{d}]={size[d]}")
    return size


def _max_unpool2d(input, indices, size) -> Tensor:
    """Each value written to its flat index in the (H, W) plane of its (sample, channel)."""
    if input.dim() not in (3, 4):
        raise err(RuntimeError, f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
                  f"{input.dim()} dimensions.")
    if indices.dtype != dtypes.int64:
        raise err(RuntimeError, f"elements in indices should be type int64 but got: {scalar_type_name(indices.dtype)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise err(RuntimeError, f"Expected shape of indices to be same as that of the input tensor "
                  f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    plane = size[0] * size[1]
    if tracing.current() is None and indices._value.size:  # read eagerly, as ATen's kernel reads them
        v = indices._value
        bad = v[(v < 0) | (v >= plane)]
        if bad.size:
            raise err(RuntimeError, f"Found an invalid max index: {bad.flat[0]} (output volumes are of size "
                      f"{size[0]}x{size[1]}")
    lead = tuple(input.shape[:-2])
    flat = lead + (input.shape[-2] * input.shape[-1],)
    index, values = indices.reshape(flat), input.reshape(flat)
    blank = zeros(lead + (plane,), dtype=input.dtype)
    # overlapping windows write one value to an index several times: torch keeps one copy, and
    # its gradient (a gather) gives each copy the full gradient. Each copy adds 1/count of its
    # value here, with gradient 1: v - detach(v) * (1 - 1/count)
    count = gather(scatter_add(blank, len(lead), index, ones_like(values)), len(lead), index)
    share = ew.sub(values, ew.mul(values.detach(), ew.sub(1.0, ew.reciprocal(count))))
    return scatter_add(blank, len(lead), index, share).reshape(lead + tuple(size))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The inverse of max_pool1d: zeros, with each pooled value back at its index."""
    kernel = _tuple(kernel_size, 1)
    stride = kernel if stride is None else _tuple(stride, 1)
    size = _unpool_output_size(input, kernel, stride, _tuple(padding, 1), output_size)
    return _max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), size + [1]).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The inverse of max_pool2d: zeros, with each pooled value back at its index."""
    kernel = _tuple(kernel_size, 2)
    stride = kernel if stride is None else _tuple(stride, 2)
    return _max_unpool2d(input, indices, _unpool_output_size(input, kernel, stride, _tuple(padding, 2), output_size))


class _MaxUnpoolNd(Module):
    _n = 0

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _tuple(kernel_size, self._n)
        self.stride = _tuple(stride if stride is not None else kernel_size, self._n)
        self.padding = _tuple(padding, self._n)

    def forward(self, input, indices, output_size=None):
        unpool = max_unpool1d if self._n == 1 else max_unpool2d
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    _n = 1


class MaxUnpool2d(_MaxUnpoolNd):
    _n = 2


# -- local response normalisation and channel shuffle --------------------------------------
def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels)^beta (torch's average
    pool over a zero-padded channel window)."""
    dim = input.dim()
    if dim < 3:
        raise err(ValueError, f"Expected 3D or higher dimensionality                          input (got {dim} "
                  "dimensions)")
    if input.numel() == 0:
        return input
    div = ew.mul(input, input)
    if dim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = tuple(input.shape)
        div = pad(div.reshape(sizes[0], 1, sizes[1], sizes[2], -1), (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).reshape(sizes)
    return ew.div(input, ew.pow(ew.add(ew.mul(div, alpha), k), beta))


class LocalResponseNorm(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def channel_shuffle(input, groups: int) -> Tensor:
    """(N, g * c, ...) -> (N, c * g, ...): the channels of the g groups interleaved."""
    if input.dim() <= 2:
        raise err(RuntimeError, f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                  f"{list(input.shape)}")
    if groups <= 0:
        raise err(RuntimeError, f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    channels = input.shape[1]
    if channels % groups:
        raise err(RuntimeError, f"Number of channels must be divisible by groups. Got {channels} channels and "
                  f"{groups} groups.")
    n, rest = input.shape[0], tuple(input.shape[2:])
    grouped = input.reshape((n, groups, channels // groups) + rest)
    return grouped.transpose(1, 2).reshape((n, channels) + rest)


class ChannelShuffle(Module):
    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
