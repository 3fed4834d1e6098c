"""Padding as torch: ``F.pad`` (constant, reflect, replicate, circular) and the modules
``ZeroPad1d/2d/3d``, ``ConstantPad*``, ``ReflectionPad*``, ``ReplicationPad*``, ``CircularPad*``.

Constant padding is one ir ``pad`` (ONNX ``Pad``; negative amounts crop). The other modes copy
input positions, so each is one ``index_select`` per padded dim over a precomputed position
table: their gradient is the index op's scatter-add, which sums every copy of a position.
"""
from __future__ import annotations

import numpy as np

from ir.ops import shape as S
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.nn.module import Module
from tracer.ops.creation import tensor
from tracer.ops.indexing import index_select

MODES = ("constant", "reflect", "replicate", "circular")


def _source_positions(size: int, begin: int, end: int, mode: str) -> np.ndarray:
    """For each position of a dim padded by (begin, end), the input position it copies."""
    j = np.arange(-begin, size + end)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    if mode == "circular":
        return j % size
    period = 2 * (size - 1)  # reflect: ... 2 1 | 0 1 2 ... L-1 | L-2 ...
    j = np.abs(j) % period if period else np.zeros_like(j)
    return np.where(j < size, j, period - j)


def pad_by_index(input, amounts, mode: str):
    """Reflect, replicate or circular padding (F.pad's order: ``amounts`` pads the last dim
    first). Negative amounts crop first, and the copies come from what is left, as torch."""
    out = input
    for k in range(len(amounts) // 2):
        dim = input.dim() - 1 - k
        begin, end = amounts[2 * k], amounts[2 * k + 1]
        if min(begin, end) < 0:
            size = out.shape[dim]
            out = out.narrow(dim, max(-begin, 0), size - max(-begin, 0) - max(-end, 0))
            begin, end = max(begin, 0), max(end, 0)
        if begin == end == 0:
            continue
        size = out.shape[dim]
        if mode == "circular":
            if max(begin, end) > size:
                raise err(RuntimeError, "Padding value causes wrapping around more than once.")
        elif max(begin, end) > (size - 1 if mode == "reflect" else size) or size == 0:
            raise err(RuntimeError, f"Argument #4: Padding size should be less than the corresponding input "
                      f"dimension, but got: padding ({begin}, {end}) at dimension {dim} of input "
                      f"{list(input.shape)}")
        out = index_select(out, dim, tensor(_source_positions(size, begin, end, mode)))
    return out


def _check_amounts(input, pad) -> list[int]:
    amounts = list(pad)
    for i, v in enumerate(amounts):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise err(TypeError, f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of "
                      f"type {type(v).__name__} at pos {i}")
    if len(amounts) % 2:
        raise err(RuntimeError, "Padding length must be divisible by 2")
    if len(amounts) > 2 * input.dim():
        raise err(RuntimeError, f"Padding length should be less than or equal to two times the input dimension "
                  f"but got padding length {len(amounts)} and input of dimension {input.dim()}")
    return [int(v) for v in amounts]


def pad(input, pad, mode: str = "constant", value: float | None = None):
    """torch.nn.functional.pad: ``pad`` lists (begin, end) pairs from the last dim backwards."""
    amounts = _check_amounts(input, pad)
    if mode not in MODES:
        raise err(NotImplementedError, f"Unrecognised padding mode {mode}")
    if mode == "constant":
        n = input.dim()
        begins, ends = [0] * n, [0] * n
        for k in range(len(amounts) // 2):
            begins[n - 1 - k], ends[n - 1 - k] = amounts[2 * k], amounts[2 * k + 1]
        for d in range(n):
            if input.shape[d] + min(begins[d], 0) + min(ends[d], 0) < 0:
                raise err(RuntimeError, f"The input size {input.shape[d]}, plus negative padding {begins[d]} and "
                          f"{ends[d]} resulted in a negative output size, which is invalid. Check dimension {d} "
                          "of your input.")
        fill = 0.0 if value is None else value
        return apply(S.pad, [input], S.PadAttrs(tuple(begins + ends), float(fill)))
    if value is not None and value != 0:
        raise err(RuntimeError, f"Padding mode \"{mode}\" doesn't take in value argument")
    dims = len(amounts) // 2
    if dims not in (1, 2, 3) or input.dim() not in (dims + 1, dims + 2):
        raise err(NotImplementedError, f"Padding size {len(amounts)} is not supported for {input.dim()}D input "
                  "tensor.\nSupported combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 "
                  "(pads last dimension)\n  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n  - 4D or "
                  "5D input: padding size = 6 (pads last 3 dimensions)")
    if any(d == 0 for d in input.shape[1:]):  # the first dim may be an empty batch
        raise err(RuntimeError, f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch "
                  f"size and other non-zero dimensions for input, but got: {list(input.shape)}")
    return pad_by_index(input, amounts, mode)


def _amounts(padding, n: int, name: str) -> tuple[int, ...]:
    """A module's ``padding``: one int for every side, or 2n ints (left, right, top, ...)."""
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(padding)
    if len(padding) != 2 * n:
        raise err(ValueError, f"{name}: padding must be an int or a tuple of {2 * n} ints, got {padding}")
    return padding


class _PadNd(Module):
    """The shared body of the padding modules: ``padding`` stored as torch stores it."""

    _mode = "constant"
    _n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _amounts(padding, self._n, type(self).__name__)

    def forward(self, input):
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    _n = 3


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    _mode, _n = "reflect", 1


class ReflectionPad2d(_PadNd):
    _mode, _n = "reflect", 2


class ReflectionPad3d(_PadNd):
    _mode, _n = "reflect", 3


class ReplicationPad1d(_PadNd):
    _mode, _n = "replicate", 1


class ReplicationPad2d(_PadNd):
    _mode, _n = "replicate", 2


class ReplicationPad3d(_PadNd):
    _mode, _n = "replicate", 3


class CircularPad1d(_PadNd):
    _mode, _n = "circular", 1


class CircularPad2d(_PadNd):
    _mode, _n = "circular", 2


class CircularPad3d(_PadNd):
    _mode, _n = "circular", 3
