"""Sorting: sort, argsort, msort and topk. One ir op (``topk_indices``) gives the positions;
the values are a gather of the input there, so gradients flow through the values only, as
a scatter-add of g back to those positions (gather's rule).

Ties: the order is always stable (equal entries keep their input order), which is what
torch's ``stable=True`` promises and one valid answer for ``stable=False``. NaN sorts as the
largest value, as in torch."""
from __future__ import annotations

import operator
from collections import namedtuple

import numpy as np

from ir import dtypes
from ir.ops import indexing as I
from ir.ops import reduce as R
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.ops import creation as cr
from tracer.ops._util import norm_dim
from tracer.ops.conversion import clone

#: torch.return_types.sort / topk: tuples that also name their fields.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


def _positions(x, axis: int, k: int, largest: bool) -> tuple[Tensor, Tensor]:
    """Values and indices of the ``k`` largest/smallest entries of ``x`` along ``axis``."""
    if x.dim() == 0:  # torch: a 0-d input is its own sorted result at index 0
        return clone(x), cr.zeros((), dtype=dtypes.int64)
    indices = apply(R.topk_indices, [x], R.TopkAttrs(axis, k, bool(largest)))
    return apply(I.gather_elements, [x, indices], I.AxisAttrs(axis)), indices


def sort(input, dim=-1, descending=False, *, stable=False) -> sort_result:
    """(values, indices) of ``input`` sorted along ``dim`` (torch.sort); always stable."""
    axis = norm_dim(dim, input.dim(), "sort")
    n = input.shape[axis] if input.dim() else 1
    return sort_result(*_positions(input, axis, n, descending))


def argsort(input, dim=-1, descending=False, *, stable=False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (torch.argsort); always stable."""
    return sort(input, dim, descending, stable=stable).indices


def msort(input) -> Tensor:
    """``input`` sorted along its first dim (torch.msort)."""
    return sort(input, 0).values


def _int_arg(value, name: str, position: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise err(TypeError, f"topk(): argument '{name}' (position {position}) must be int, "
                  f"not {type(value).__name__}")
    return operator.index(value)


def topk(input, k, dim=-1, largest=True, sorted=True) -> topk_result:
    """(values, indices) of the ``k`` largest (or smallest) entries along ``dim`` (torch.topk).

    The result is always in sorted order (torch leaves the order unspecified for
    ``sorted=False``; sorted is one valid order)."""
    k = _int_arg(k, "k", 2)
    axis = norm_dim(_int_arg(dim, "dim", 3), input.dim(), "topk")
    n = input.shape[axis] if input.dim() else 1
    if not 0 <= k <= n:
        raise err(RuntimeError, "selected index k out of range")
    return topk_result(*_positions(input, axis, k, largest))
