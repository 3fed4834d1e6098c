"""Convolutions as torch: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d`` and the ``Conv*`` and
``ConvTranspose*`` modules (names, defaults, init, reprs and state-dict keys of torch.nn).

The functional forms turn torch's arguments (ints or tuples, ``'same'``/``'valid'``, an
unbatched input) into one ``conv``/``conv_transpose`` ir op; ``nn.functional`` re-exports them.
"""
from __future__ import annotations

import math

import numpy as np

from ir.ops import conv as C
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.nn import init
from tracer.nn.module import Module
from tracer.nn.padding import pad_by_index
from tracer.nn.parameter import Parameter
from tracer.ops.creation import empty
from tracer.ops.creation import tensor


def _tuple(value, n: int, name: str) -> tuple[int, ...]:
    """torch's ``_ntuple``: an int repeated ``n`` times, or a sequence of ``n`` ints."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise err(RuntimeError, f"expected {name} to be a single integer value or a list of {n} values to match "
                  f"the convolution dimensions, but got {name}={list(value)}")
    return tuple(int(v) for v in value)


def _pads(padding, kernel, stride, dilation, n: int, name: str) -> tuple[int, ...]:
    """ONNX-style pads (begins, then ends) for torch's ``padding``: ``'same'`` pads
    dilation * (k - 1) in total, the odd one at the end, as torch."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * n)
        if padding != "same":
            raise err(ValueError, f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
        if any(s != 1 for s in stride):
            raise err(RuntimeError, "padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple(t // 2 for t in total) + tuple(t - t // 2 for t in total)
    p = _tuple(padding, n, "padding")
    if any(v < 0 for v in p):
        raise err(RuntimeError, "negative padding is not supported")
    return p + p


def _check(name, input, weight, bias, n: int):
    if input.dim() not in (n + 1, n + 2):
        raise err(RuntimeError, f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {name}, but got "
                  f"input of size: {list(input.shape)}")
    for other, what in ((weight, "weight"), (bias, "bias")):
        if other is not None and other.dtype != input.dtype:
            raise err(RuntimeError, f"Input type ({scalar_type_name(input.dtype)}) and {what} type "
                      f"({scalar_type_name(other.dtype)}) should be the same")
    if not input.dtype.is_floating_point:
        raise err(RuntimeError, f"\"{name}\" not implemented for '{scalar_type_name(input.dtype)}'")


def _run(op, name, input, weight, bias, attrs, n: int):
    _check(name, input, weight, bias, n)
    unbatched = input.dim() == n + 1
    x = input.unsqueeze(0) if unbatched else input
    inputs = [x, weight] if bias is None else [x, weight, bias]
    out = apply(op, inputs, attrs)
    return out.squeeze(0) if unbatched else out


def _conv(n: int):
    name = f"conv{n}d"

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        s, d = _tuple(stride, n, "stride"), _tuple(dilation, n, "dilation")
        pads = _pads(padding, tuple(weight.shape[2:]), s, d, n, "padding")
        return _run(C.conv, name, input, weight, bias, C.ConvAttrs(s, pads, d, groups), n)
    conv.__name__ = conv.__qualname__ = name
    conv.__doc__ = f"torch.nn.functional.{name}: one ir ``conv``."
    return conv


def _conv_transpose(n: int):
    name = f"conv_transpose{n}d"

    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        s, d = _tuple(stride, n, "stride"), _tuple(dilation, n, "dilation")
        p = _tuple(padding, n, "padding")
        extra = _tuple(output_padding, n, "output_padding")
        if any(e >= max(si, di) for e, si, di in zip(extra, s, d)):
            raise err(RuntimeError, f"output padding must be smaller than either stride or dilation, but got "
                      f"output_padding={list(extra)}, stride={list(s)}, dilation={list(d)}")
        return _run(C.conv_transpose, name, input, weight, bias, C.ConvAttrs(s, p + p, d, groups, extra), n)
    conv_transpose.__name__ = conv_transpose.__qualname__ = name
    conv_transpose.__doc__ = f"torch.nn.functional.{name}: one ir ``conv_transpose``."
    return conv_transpose


conv1d, conv2d, conv3d = _conv(1), _conv(2), _conv(3)
conv_transpose1d, conv_transpose2d, conv_transpose3d = _conv_transpose(1), _conv_transpose(2), _conv_transpose(3)
_FUNCTIONS = {1: (conv1d, conv_transpose1d), 2: (conv2d, conv_transpose2d), 3: (conv3d, conv_transpose3d)}
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv*d and ConvTranspose*d share: arguments, parameters, init and repr."""

    _n = 0
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", output_padding=0, device=None, dtype=None):
        super().__init__()
        n = self._n
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size")
        self.stride, self.dilation = _tuple(stride, n, "stride"), _tuple(dilation, n, "dilation")
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n, "padding")
        self._check_padding_string()
        self.output_padding = _tuple(output_padding, n, "output_padding")
        self.transposed, self.padding_mode = self._transposed, padding_mode
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(empty(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _check_padding_string(self):
        if not isinstance(self.padding, str):
            return
        if self.padding not in ("same", "valid"):
            raise ValueError(f"Invalid padding string '{self.padding}', should be one of {{'valid', 'same'}}")
        if self.padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError("padding='same' is not supported for strided convolutions")

    def reset_parameters(self) -> None:
        """torch's init: kaiming_uniform(a=sqrt(5)) weights, U(+-1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = _FUNCTIONS[self._n][0]
        if self.padding_mode == "zeros":
            return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)
        if isinstance(self.padding, str):
            pads = _pads(self.padding, self.kernel_size, self.stride, self.dilation, self._n, "padding")
            amounts = [v for i in reversed(range(self._n)) for v in (pads[i], pads[self._n + i])]
        else:
            amounts = [v for p in reversed(self.padding) for v in (p, p)]
        padded = pad_by_index(input, amounts, self.padding_mode)
        return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise err(TypeError, f"{type(self).__name__}: padding must be an int or a tuple of ints, got '{padding}'")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)

    def forward(self, input, output_size=None):
        if output_size is not None:
            raise err(NotImplementedError, f"{type(self).__name__}: output_size is not supported; pass output_padding")
        fn = _FUNCTIONS[self._n][1]
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups,
                  self.dilation)


class Conv1d(_Conv):
    _n = 1


class Conv2d(_Conv):
    _n = 2


class Conv3d(_Conv):
    _n = 3


class ConvTranspose1d(_ConvTranspose):
    _n = 1


class ConvTranspose2d(_ConvTranspose):
    _n = 2


class ConvTranspose3d(_ConvTranspose):
    _n = 3
