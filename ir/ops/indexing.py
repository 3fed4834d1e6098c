"""Ops that read or add at integer positions: take (torch.index_select / ONNX Gather),
gather_elements (torch.gather), and their scatter-add adjoints."""
from __future__ import annotations

from dataclasses import dataclass

from ir.errors import IRIndexError, op_error
from ir.ops import dynamic as D
from ir.ops.base import Op
from ir.ops.rules import same_dtype
from ir.ops.shape import AxisAttrs
from ir.types import TensorType


def _check_index(name, types, idx, axis, rank):
    if idx.dtype.kind not in ("i",):
        raise op_error(name, types, "tensors used as indices must be long or int tensors "
                       f"(got {idx.dtype.name})", IRIndexError)
    if not 0 <= axis < max(rank, 1):
        raise op_error(name, types, f"axis {axis} out of range", IRIndexError)


def _take_shape(x_shape, idx_shape, axis):
    return tuple(x_shape[:axis]) + tuple(idx_shape) + tuple(x_shape[axis + 1:])


def _infer_take(types, a: AxisAttrs):
    x, idx = types
    _check_index("take", types, idx, a.axis, x.rank)
    return TensorType(_take_shape(x.shape, idx.shape, a.axis), x.dtype)


def _dynamic_take(node, dyn) -> set[int]:
    """x's dims around ``axis`` keep theirs; the index's dims replace ``axis``."""
    x, idx = node.inputs
    axis, k = node.attrs.axis, len(idx.shape)
    around = {d if d < axis else d + k - 1 for d in D.dims(dyn, x) if d != axis}
    return around | {axis + d for d in D.dims(dyn, idx)}


#: ``x`` indexed along ``axis`` by an integer tensor of any shape (numpy.take, ONNX Gather).
take = Op("take", _infer_take, AxisAttrs, arity=2, dynamic=_dynamic_take)


def _infer_index_add(types, a: AxisAttrs):
    base, idx, src = types
    _check_index("index_add", types, idx, a.axis, base.rank)
    same_dtype("index_add", (base, src))
    want = _take_shape(base.shape, idx.shape, a.axis)
    if src.shape != want:
        raise op_error("index_add", types, f"source must have shape {list(want)}")
    return base


#: ``base`` with ``src`` added at ``idx`` along ``axis`` (repeats accumulate): take's adjoint.
index_add = Op("index_add", _infer_index_add, AxisAttrs, arity=3, dynamic=D.like_input(0))


def _infer_gather_elements(types, a: AxisAttrs):
    x, idx = types
    _check_index("gather", types, idx, a.axis, x.rank)
    if idx.rank != x.rank:
        raise op_error("gather", types, "Index tensor must have the same number of dimensions as input tensor")
    if any(i != a.axis and d > e for i, (d, e) in enumerate(zip(idx.shape, x.shape))):
        raise op_error("gather", types, f"Size of index must not exceed the input's except at dimension {a.axis}")
    return TensorType(idx.shape, x.dtype)


gather_elements = Op("gather_elements", _infer_gather_elements, AxisAttrs, arity=2,
                     dynamic=D.like_input(1))


def _infer_scatter_add(types, a: AxisAttrs):
    base, idx, src = types
    _check_index("scatter_add", types, idx, a.axis, base.rank)
    same_dtype("scatter_add", (base, src))
    if idx.shape != src.shape or idx.rank != base.rank:
        raise op_error("scatter_add", types, "index and source must have the same shape and rank as the base")
    return base


#: ``base`` with ``src`` added at ``idx`` along ``axis`` elementwise: gather_elements' adjoint.
scatter_add = Op("scatter_add", _infer_scatter_add, AxisAttrs, arity=3, dynamic=D.like_input(0))


@dataclass(frozen=True)
class NllAttrs:
    ignore_index: int = -100
    reduction: str = "none"  # "none" | "sum" | "mean" (over the targets not ignored), as torch


def _infer_nll(types, a: NllAttrs):
    logp, target = types
    if not logp.dtype.is_floating_point or logp.rank < 2:
        raise op_error("nll_loss", types, "expects log-probabilities of shape (N, C, ...)")
    _check_index("nll_loss", types, target, 0, 1)
    if target.shape != logp.shape[:1] + logp.shape[2:]:
        raise op_error("nll_loss", types, f"target must have shape {list(logp.shape[:1] + logp.shape[2:])}")
    if a.reduction not in ("none", "sum", "mean"):
        raise op_error("nll_loss", types, f"reduction must be 'none', 'sum' or 'mean', got {a.reduction!r}")
    return TensorType(target.shape if a.reduction == "none" else (), logp.dtype)


def _dynamic_nll(node, dyn) -> set[int]:
    """Per-element losses have the target's dims, which are logp's without the class dim 1;
    a sum or mean is a scalar."""
    if node.attrs.reduction != "none":
        return set()
    logp, target = node.inputs
    from_logp = {d - 1 if d > 1 else d for d in D.dims(dyn, logp) if d != 1}
    return D.dims(dyn, target) | from_logp


#: Negative log-likelihood -logp[n, target[n], ...] (0 where target == ignore_index), per element
#: or summed or averaged over the targets not ignored: a primitive so the loss is a handful of
#: ONNX nodes and its gradient a masked one-hot.
nll_loss = Op("nll_loss", _infer_nll, NllAttrs, arity=2, dynamic=_dynamic_nll)
