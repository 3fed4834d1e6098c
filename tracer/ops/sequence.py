"""Running sums and products along a dim (cumsum, cumprod), triangular masks (tril, triu) and
reorderings along dims (flip, roll).

cumsum and tril/triu are ir ops (``cumsum``, ``trilu``); cumprod is a composition, so its
gradient is exact also where the input holds zeros (see ``cumprod``); flip and roll are a
``take`` at constant positions per dim."""
from __future__ import annotations

import numpy as np

from ir import dtypes
from ir.ops import reduce as R
from ir.ops import shape as S
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.ops import creation as cr
from tracer.ops import elementwise as ew
from tracer.ops import indexing as ix
from tracer.ops import inplace as ip
from tracer.ops import reduce as rd
from tracer.ops import shape as sh
from tracer.ops._util import cast, norm_dim, numpy_names, scalar
from tracer.ops.conversion import clone


def _accumulated(x, dtype) -> Tensor:
    """torch's accumulate dtype: ``dtype`` if given, else int64 for integer and bool inputs."""
    if dtype is not None:
        return cast(x, dtype)
    return x if x.dtype.is_floating_point else cast(x, dtypes.int64)


@numpy_names
def cumsum(input, dim, *, dtype=None) -> Tensor:
    """Running sum along ``dim`` (torch.cumsum). Integer and bool inputs sum in int64."""
    axis = norm_dim(dim, input.dim(), "cumsum")
    return apply(R.cumsum, [_accumulated(input, dtype)], R.CumsumAttrs(axis))


@numpy_names
def cumprod(input, dim, *, dtype=None) -> Tensor:
    """Running product along ``dim`` (torch.cumprod).

    out[..., i] is the product over j of x[..., j] where j <= i, else 1: a masked ``prod`` of
    an (n, n) expansion. It costs n times the memory of the input, but its values and its
    gradient (prod's, which treats zeros as torch's ``prod_backward``) are exact with zeros,
    where the usual reverse-cumsum(g * out) / x is 0 / 0, and it exports to plain ONNX ops."""
    axis = norm_dim(dim, input.dim(), "cumprod")
    x = _accumulated(input, dtype)
    if x.dim() == 0:
        return clone(x)
    last = sh.movedim(x, axis, -1)
    n = last.shape[-1]
    rows = sh.unsqueeze(last, -2).expand(*last.shape[:-1], n, n)
    mask = cr.tensor(np.tril(np.ones((n, n), dtype=bool)))
    out = rd.prod(ew.where(mask, rows, scalar(1, x.dtype)), -1)
    return sh.movedim(out, -1, axis)


def _trilu(input, diagonal, upper: bool) -> Tensor:
    name = "triu" if upper else "tril"
    if input.dim() < 2:
        raise err(RuntimeError, f"{name}: input tensor must have at least 2 dimensions")
    return apply(S.trilu, [input], S.TriluAttrs(int(diagonal), upper))


def tril(input, diagonal=0) -> Tensor:
    """The lower triangle of the last two dims from ``diagonal`` on, zeros above (torch.tril)."""
    return _trilu(input, diagonal, False)


def triu(input, diagonal=0) -> Tensor:
    """The upper triangle of the last two dims from ``diagonal`` on, zeros below (torch.triu)."""
    return _trilu(input, diagonal, True)


@numpy_names
def cumsum_(self, dim, *, dtype=None) -> Tensor:
    return ip.assign(self, cumsum(self, dim, dtype=dtype), op="cumsum_")


@numpy_names
def cumprod_(self, dim, *, dtype=None) -> Tensor:
    return ip.assign(self, cumprod(self, dim, dtype=dtype), op="cumprod_")


def tril_(self, diagonal=0) -> Tensor:
    return ip.assign(self, tril(self, diagonal), op="tril_")


def triu_(self, diagonal=0) -> Tensor:
    return ip.assign(self, triu(self, diagonal), op="triu_")


def _int_tuple(value, fn: str, name: str, position: int) -> tuple[int, ...]:
    """torch's ``tuple of ints`` argument: a tuple or list of ints (``roll`` takes one int too)."""
    if fn == "roll" and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),)
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        raise err(TypeError, f"{fn}(): argument '{name}' (position {position}) must be tuple of ints, "
                  f"not {type(value).__name__}")
    return tuple(int(v) for v in value)


def _reindexed(x, axis: int, positions) -> Tensor:
    """``x`` read along ``axis`` at constant ``positions`` (an ir ``take``: ONNX Gather, whose
    gradient is an index_add of g)."""
    return ix.index_select(x, axis, cr.tensor(np.asarray(positions, dtype=np.int64)))


def flip(input, dims) -> Tensor:
    """``input`` with the order of its entries reversed along each of ``dims`` (torch.flip)."""
    axes = [norm_dim(d, input.dim(), "flip") for d in _int_tuple(dims, "flip", "dims", 2)]
    for a in axes:
        if axes.count(a) > 1:
            raise err(RuntimeError, f"dim {a} appears multiple times in the list of dims")
    out = input
    for a in axes:
        if input.dim():
            out = _reindexed(out, a, np.arange(input.shape[a])[::-1])
    return clone(out) if out is input else out


def roll(input, shifts, dims=None) -> Tensor:
    """``input`` shifted circularly by ``shifts[i]`` along ``dims[i]`` (torch.roll); without
    ``dims``, over the flattened tensor, then reshaped back."""
    shifts = _int_tuple(shifts, "roll", "shifts", 2)
    dims = () if dims is None else _int_tuple(dims, "roll", "dims", 3)
    if not shifts:
        raise err(RuntimeError, "`shifts` required")
    if not dims:
        if len(shifts) != 1:
            raise err(RuntimeError, f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return sh.reshape(roll(sh.flatten(input), shifts, 0), tuple(input.shape))
    if len(shifts) != len(dims):
        raise err(RuntimeError, f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    if input.dim() == 0:
        raise err(IndexError, f"Dimension specified as {dims[0]} but tensor has no dimensions")
    out = input
    for shift, d in zip(shifts, dims):
        a = norm_dim(d, input.dim(), "roll")
        n = input.shape[a]
        if n:
            out = _reindexed(out, a, (np.arange(n) - shift) % n)
    return clone(out) if out is input else out


def _flip_method(self, *dims) -> Tensor:
    """``x.flip(0, 1)`` and ``x.flip((0, 1))``, as torch's method."""
    return flip(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)
