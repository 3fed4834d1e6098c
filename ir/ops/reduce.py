"""Reductions over a tuple of axes (sum, amax, amin, prod) and arg-reductions over one axis."""
from __future__ import annotations

from dataclasses import dataclass

from ir import dtypes
from ir.errors import IRIndexError, IRTypeError, op_error
from ir.ops import dynamic as D
from ir.ops.base import Op
from ir.types import TensorType


@dataclass(frozen=True)
class ReduceAttrs:
    """``axes`` are non-negative, sorted and distinct (the tracer normalises torch's ``dim``);
    an empty tuple reduces nothing."""

    axes: tuple[int, ...]
    keepdim: bool = False


def reduced_shape(shape, axes, keepdim) -> tuple[int, ...]:
    if keepdim:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def reduced_dims(node, dyn, axes) -> set[int]:
    """Dynamic-shape rule of a reduction over ``axes``: a reduced dim leaves no symbolic size,
    the kept ones keep theirs (renumbered unless ``keepdim``)."""
    dyn_x = D.dims(dyn, node.inputs[0])
    if node.attrs.keepdim:
        return {d for d in dyn_x if d not in axes}
    kept = [d for d in range(len(node.inputs[0].shape)) if d not in axes]
    return {kept.index(d) for d in dyn_x if d in kept}


def _dynamic_reduce(node, dyn) -> set[int]:
    return reduced_dims(node, dyn, node.attrs.axes)


def _reduce(name: str, empty_ok: bool = True) -> Op:
    def infer(types, a: ReduceAttrs):
        (t,) = types
        if list(a.axes) != sorted(set(a.axes)) or any(not 0 <= ax < t.rank for ax in a.axes):
            raise op_error(name, types, f"axes {a.axes} must be sorted, distinct and in [0, {t.rank})",
                           IRIndexError)
        if not empty_ok and any(t.shape[ax] == 0 for ax in a.axes):
            raise op_error(name, types, "cannot reduce over an empty dimension (the operation "
                           "has no identity)", IRIndexError)
        return TensorType(reduced_shape(t.shape, a.axes, a.keepdim), t.dtype)
    return Op(name, infer, ReduceAttrs, dynamic=_dynamic_reduce)


sum_ = _reduce("sum")
prod = _reduce("prod")
amax = _reduce("amax", empty_ok=False)
amin = _reduce("amin", empty_ok=False)


@dataclass(frozen=True)
class ArgAttrs:
    axis: int
    keepdim: bool = False


def _dynamic_arg(node, dyn) -> set[int]:
    return reduced_dims(node, dyn, (node.attrs.axis,))


def _arg(name: str) -> Op:
    """An index of the extreme along one axis: integer out, so no gradient flows through it."""
    def infer(types, a: ArgAttrs):
        (t,) = types
        if not 0 <= a.axis < max(t.rank, 1):
            raise op_error(name, types, f"axis {a.axis} out of range", IRIndexError)
        if t.rank and t.shape[a.axis] == 0:
            raise op_error(name, types, "cannot take the arg of an empty dimension", IRIndexError)
        axes = (a.axis,) if t.rank else ()
        return TensorType(reduced_shape(t.shape, axes, a.keepdim), dtypes.int64)
    return Op(name, infer, ArgAttrs, dynamic=_dynamic_arg, differentiable=False)


argmax = _arg("argmax")
argmin = _arg("argmin")


@dataclass(frozen=True)
class NumelAttrs:
    axes: tuple[int, ...]
    dtype: object  # ir.dtypes.DType


def _infer_numel(types, a: NumelAttrs):
    (t,) = types
    if any(not 0 <= ax < t.rank for ax in a.axes):
        raise op_error("numel", types, f"axes {a.axes} out of range", IRIndexError)
    return TensorType((), a.dtype)


#: The number of elements over ``axes`` as a 0-d value: ``mean`` divides by it, so an
#: exported graph computes the count from the runtime shape (a dynamic batch dim).
numel = Op("numel", _infer_numel, NumelAttrs, dynamic=D.static, differentiable=False,
           shape_only_inputs=(0,))


@dataclass(frozen=True)
class SoftmaxAttrs:
    axis: int


def _softmax(name: str) -> Op:
    def infer(types, a: SoftmaxAttrs):
        (t,) = types
        if not t.dtype.is_floating_point:
            raise op_error(name, types, "expects a floating-point input")
        if not 0 <= a.axis < max(t.rank, 1):
            raise op_error(name, types, f"axis {a.axis} out of range", IRIndexError)
        return t
    return Op(name, infer, SoftmaxAttrs, dynamic=D.like_input(0))


#: Primitives (not compositions) for speed: one ONNX node each and a two-node gradient.
softmax = _softmax("softmax")
log_softmax = _softmax("log_softmax")


@dataclass(frozen=True)
class CumsumAttrs:
    """``axis`` is non-negative; ``reverse`` sums from the end, ``exclusive`` leaves each
    element out of its own sum (ONNX CumSum's attributes)."""

    axis: int
    reverse: bool = False
    exclusive: bool = False


def _infer_cumsum(types, a: CumsumAttrs):
    (t,) = types
    if not 0 <= a.axis < max(t.rank, 1):
        raise op_error("cumsum", types, f"axis {a.axis} out of range", IRIndexError)
    if t.dtype.kind == "b":
        raise op_error("cumsum", types, "bool inputs are cast to int64 by the tracer first", IRTypeError)
    return t


#: Running sum along ``axis`` (torch.cumsum; ONNX CumSum). Its gradient is the cumsum of g in
#: the other direction with the same ``exclusive``.
cumsum = Op("cumsum", _infer_cumsum, CumsumAttrs, dynamic=D.like_input(0))


@dataclass(frozen=True)
class TopkAttrs:
    """The ``k`` largest (``largest``) or smallest entries along non-negative ``axis``."""

    axis: int
    k: int
    largest: bool = True


def _infer_topk_indices(types, a: TopkAttrs):
    (t,) = types
    if not 0 <= a.axis < t.rank:
        raise op_error("topk_indices", types, f"axis {a.axis} out of range", IRIndexError)
    if not 0 <= a.k <= t.shape[a.axis]:
        raise op_error("topk_indices", types, f"k {a.k} out of range for a dim of size {t.shape[a.axis]}",
                       IRIndexError)
    return TensorType(t.shape[:a.axis] + (a.k,) + t.shape[a.axis + 1:], dtypes.int64)


def _dynamic_topk(node, dyn) -> set[int]:
    """Dims other than ``axis`` follow the input's; ``k`` is baked in."""
    dx = D.dims(dyn, node.inputs[0])
    if node.attrs.axis in dx:
        D.fail(node, "sorting along a dynamic dim")
    return dx


#: Positions of the ``k`` largest (or smallest) entries along ``axis``, in sorted order; ties
#: keep their input order (a stable sort) and NaN counts as larger than every number, as in
#: torch.sort. The values are a ``gather_elements`` at these positions, whose rules give the
#: gradient, so this op is not differentiable.
topk_indices = Op("topk_indices", _infer_topk_indices, TopkAttrs, differentiable=False, dynamic=_dynamic_topk)
