"""Resampling as torch: ``F.interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear, area; ``align_corners``, ``scale_factor``, ``recompute_scale_factor``) and the
``Upsample``, ``UpsamplingNearest2d``, ``UpsamplingBilinear2d`` modules.

Every mode is separable, so each spatial dim is resampled on its own: nearest modes are one
``index_select`` per dim (gradient: a scatter-add), the interpolating modes one matmul with a
constant (out x in) weight matrix built with torch's source-index formulas (gradient: the
transposed matmul; ONNX: MatMul), and area is adaptive average pooling. Weights and source
indices are computed in the input's precision, as torch's kernels do.
"""
from __future__ import annotations

import math

import numpy as np

from tracer.core.errors import err, scalar_type_name
from tracer.nn.module import Module
from tracer.nn.pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from tracer.ops.creation import tensor
from tracer.ops.indexing import index_select
from tracer.ops.linalg import matmul

INTERPOLATING = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
MODES = ("nearest", "nearest-exact", "area") + tuple(INTERPOLATING)


def _scale(size: int, out: int, factor, align_corners: bool, dtype) -> np.floating:
    """torch's area_pixel_compute_scale: source step per output step."""
    if align_corners:
        return dtype.type((size - 1) / (out - 1) if out > 1 else 0.0)
    if factor is not None and factor > 0:
        return dtype.type(1.0 / factor)
    return dtype.type(size / out)


def _nearest_positions(size: int, out: int, factor, exact: bool) -> np.ndarray:
    """torch's nearest_idx / nearest_neighbor_exact_compute_source_index, in float32."""
    scale = np.float32(1.0 / factor) if factor is not None and factor > 0 else np.float32(size) / np.float32(out)
    dst = np.arange(out, dtype=np.float32)
    src = np.floor((dst + np.float32(0.5)) * scale if exact else dst * scale).astype(np.int64)
    return np.minimum(src, size - 1)


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    """Keys' cubic convolution with A = -0.75 for the four taps at -1, 0, 1, 2 (torch's)."""
    a = t.dtype.type(-0.75)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    one = t.dtype.type(1)
    return [far(t + one), near(t), near(one - t), far(2 * one - t)]


def _weight_matrix(size: int, out: int, factor, align_corners: bool, cubic: bool, dtype) -> np.ndarray:
    """The (out, size) matrix of a linear or cubic resampling along one dim."""
    scale = _scale(size, out, factor, align_corners, dtype)
    dst = np.arange(out, dtype=dtype)
    src = scale * dst if align_corners else scale * (dst + dtype.type(0.5)) - dtype.type(0.5)
    matrix = np.zeros((out, size), dtype=dtype)
    rows = np.arange(out)
    if cubic:
        base = np.floor(src)
        for k, w in enumerate(_cubic_weights(src - base)):
            np.add.at(matrix, (rows, np.clip(base.astype(np.int64) - 1 + k, 0, size - 1)), w)
        return matrix
    src = np.maximum(src, 0)
    low = src.astype(np.int64)  # truncation of a non-negative value, as torch's cast
    high = np.minimum(low + 1, size - 1)
    frac = (src - low).astype(dtype)
    np.add.at(matrix, (rows, low), 1 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix


def _along(x, dim: int, matrix: np.ndarray):
    """``matrix`` (out, in) applied to dim ``dim`` of ``x``."""
    weights = tensor(np.ascontiguousarray(matrix.T))
    if dim == x.dim() - 1:
        return matmul(x, weights)
    return matmul(x.transpose(dim, -1), weights).transpose(dim, -1)


def _output_size(input, size, scale_factor, mode, recompute_scale_factor):
    """torch's size/scale_factor handling: the output size and the factors the kernels use."""
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise err(ValueError, "only one of size or scale_factor should be defined")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dim
        if len(sizes) != dim:
            raise err(ValueError, f"Input and output must have the same number of spatial dimensions, but got input "
                      f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. Please "
                      "provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                      "format.")
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise err(TypeError, f"expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                      f"Tuple[int, int, int], but got size with types {[type(s) for s in sizes]}")
        if recompute_scale_factor:
            raise err(ValueError, "recompute_scale_factor is not meaningful with an explicit size.")
        return [int(s) for s in sizes], [None] * dim
    if scale_factor is None:
        raise err(ValueError, "either size or scale_factor should be defined")
    factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dim
    if len(factors) != dim:
        raise err(ValueError, f"Input and scale_factor must have the same number of spatial dimensions, but got "
                  f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of shape "
                  f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor "
                  "in (s1, s2, ...,sK) format.")
    sizes = [int(math.floor(float(input.shape[2 + i]) * factors[i])) for i in range(dim)]
    if recompute_scale_factor or mode == "area":
        factors = [None] * dim
    return sizes, [float(f) if f is not None else None for f in factors]


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):
    """torch.nn.functional.interpolate over the spatial dims of a (N, C, *spatial) input."""
    if mode not in MODES:
        raise err(NotImplementedError, f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got "
                  f"{mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise err(ValueError, "align_corners option can only be set with the interpolating modes: linear | "
                      "bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if input.dim() not in (3, 4, 5):
        raise err(NotImplementedError, f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got "
                  f"{mode})")
    sizes, factors = _output_size(input, size, scale_factor, mode, recompute_scale_factor)
    if antialias:
        if not (mode in ("bilinear", "bicubic") and input.dim() == 4):
            raise err(ValueError, "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
                      "requires a 4-D tensor as input")
        raise err(NotImplementedError, f"interpolate: antialias=True is not supported by tracegrad (mode '{mode}', "
                  f"input {list(input.shape)}); resample without it or with mode='area'")
    if mode in INTERPOLATING and INTERPOLATING[mode] != input.dim() - 2:
        raise err(NotImplementedError, f"Got {input.dim()}D input, but {mode} mode needs "
                  f"{INTERPOLATING[mode] + 2}D input")
    if any(s <= 0 for s in sizes):
        raise err(RuntimeError, f"Input and output sizes should be greater than 0, but got input (D: ..., H: ..., "
                  f"W: ...) {list(input.shape[2:])} output {sizes}")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[input.dim() - 3](input, sizes)
    if not input.dtype.is_floating_point:
        raise err(NotImplementedError, f"\"upsample_{mode.replace('-', '_')}{input.dim() - 2}d\" not implemented "
                  f"for '{scalar_type_name(input.dtype)}'")
    out = input
    for i, (n_in, n_out) in enumerate(zip(input.shape[2:], sizes)):
        if mode in ("nearest", "nearest-exact"):
            if n_in != n_out:
                positions = _nearest_positions(n_in, n_out, factors[i], mode == "nearest-exact")
                out = index_select(out, 2 + i, tensor(positions))
            continue
        matrix = _weight_matrix(n_in, n_out, factors[i], align_corners, mode == "bicubic", input.dtype.np)
        out = _along(out, 2 + i, matrix)
    return out if out is not input else input.clone()


class Upsample(Module):
    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
