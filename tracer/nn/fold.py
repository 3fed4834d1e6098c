"""``F.unfold``/``F.fold`` and ``nn.Unfold``/``nn.Fold`` as torch, for (N, C, H, W) images.

unfold (im2col) is a grouped convolution with one-hot kernels: output channel c K + k copies
input channel c at kernel offset k (K = kh kw), which is torch's (N, C K, L) layout. fold
(col2im) is the adjoint, the transposed convolution with the same kernels, which sums the
overlapping blocks. Both therefore export as ONNX Conv/ConvTranspose and differentiate as
those ops.
"""
from __future__ import annotations

import numpy as np

from tracer.core.errors import err, scalar_type_name
from tracer.nn.conv import conv2d, conv_transpose2d
from tracer.nn.module import Module
from tracer.ops.creation import tensor


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _one_hot_kernels(channels: int, kernel, dtype):
    """(C K, 1, kh, kw) weights whose output channel c K + k is a 1 at kernel offset k."""
    k = kernel[0] * kernel[1]
    eye = np.eye(k, dtype=dtype.np).reshape(k, 1, kernel[0], kernel[1])
    return tensor(np.tile(eye, (channels, 1, 1, 1)))


def _blocks(spatial, kernel, dilation, padding, stride) -> tuple[int, int]:
    return tuple((spatial[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2))


def _check_float(name: str, input):
    if not input.dtype.is_floating_point:
        raise err(NotImplementedError, f"\"{name}\" not implemented for '{scalar_type_name(input.dtype)}'")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a (N, C, H, W) input as (N, C kh kw, L) columns."""
    kernel, dilation, padding, stride = map(_pair, (kernel_size, dilation, padding, stride))
    if input.dim() not in (3, 4) or any(d == 0 for d in input.shape[1:]):
        raise err(RuntimeError, f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
                  f"non-zero dimensions for input, but got: {list(input.shape)}")
    _check_float("im2col_out_cpu", input)
    blocks = _blocks(input.shape[-2:], kernel, dilation, padding, stride)
    if min(blocks) < 1:
        raise err(RuntimeError, f"Given input with spatial size {tuple(input.shape[-2:])}, kernel_size={kernel}, "
                  f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding blocks as "
                  f"{blocks}, but its components must be at least one.")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    channels = x.shape[1]
    cols = conv2d(x, _one_hot_kernels(channels, kernel, x.dtype), None, stride, padding, dilation, channels)
    cols = cols.reshape(x.shape[0], channels * kernel[0] * kernel[1], blocks[0] * blocks[1])
    return cols.squeeze(0) if unbatched else cols


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C kh kw, L) columns summed back into a (N, C, *output_size) image."""
    size, kernel, dilation, padding, stride = map(_pair, (output_size, kernel_size, dilation, padding, stride))
    if input.dim() not in (2, 3) or any(d == 0 for d in input.shape[1:]):
        raise err(RuntimeError, f"Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other "
                  f"non-zero dimensions for input, but got: {list(input.shape)}")
    _check_float("col2im_out_cpu", input)
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise err(RuntimeError, f"Expected size of input's dimension 1 to be divisible by the product of "
                  f"kernel_size, but got input.size(1)={x.shape[1]} and kernel_size={kernel}.")
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if min(blocks) < 1 or x.shape[2] != blocks[0] * blocks[1]:
        raise err(RuntimeError, f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                  f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match the "
                  f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
                  f"input.size(2)={x.shape[2]}.")
    channels = x.shape[1] // k
    reach = [dilation[i] * (kernel[i] - 1) + 1 for i in range(2)]
    extra = tuple(size[i] + 2 * padding[i] - reach[i] - (blocks[i] - 1) * stride[i] for i in range(2))
    grid = x.reshape(x.shape[0], x.shape[1], blocks[0], blocks[1])
    out = conv_transpose2d(grid, _one_hot_kernels(channels, kernel, x.dtype), None, stride, padding, extra,
                           channels, dilation)
    return out.squeeze(0) if unbatched else out


class Unfold(Module):
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
