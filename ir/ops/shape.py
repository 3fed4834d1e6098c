"""Ops that move data without arithmetic: reshape, permute, expand, concat, slice, slice_update, pad."""
from __future__ import annotations

from dataclasses import dataclass

from ir.errors import IRError, IRIndexError, op_error
from ir.ops import dynamic as D
from ir.ops.base import Op
from ir.ops.rules import same_dtype
from ir.types import TensorType


@dataclass(frozen=True)
class ShapeAttrs:
    shape: tuple[int, ...]


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _infer_reshape(types, a: ShapeAttrs):
    (t,) = types
    if any(d < 0 for d in a.shape) or _numel(a.shape) != t.numel:
        raise op_error("reshape", types, f"shape '{list(a.shape)}' is invalid for input of size {t.numel}")
    return TensorType(tuple(a.shape), t.dtype)


def reshape_plan(node, dyn_in: set) -> tuple[list[int], set]:
    """The ONNX Reshape target (0 copies an input dim, -1 is inferred) and the dynamic out dims.

    A dynamic dim that keeps its place and size is copied; one other dynamic dim may land on
    an output dim it divides (inferred); more would need sizes only known at run time.
    """
    x = node.inputs[0]
    shape = list(node.attrs.shape)
    out_dyn = set()
    for i in sorted(dyn_in):
        if i < len(shape) and shape[i] == x.shape[i]:
            shape[i] = 0
            out_dyn.add(i)
    left = [i for i in dyn_in if i not in out_dyn]
    if len(left) > 1:
        D.fail(node, "more than one dynamic dim would be merged or moved")
    if left:
        size = x.shape[left[0]]
        fits = [j for j, d in enumerate(shape) if j not in out_dyn and d > 0 and size and d % size == 0]
        if not fits:
            D.fail(node, f"the dynamic dim {left[0]} does not map onto any output dim")
        shape[fits[0]] = -1
        out_dyn.add(fits[0])
    return shape, out_dyn


def _dynamic_reshape(node, dyn) -> set[int]:
    return reshape_plan(node, D.dims(dyn, node.inputs[0]))[1]


reshape = Op("reshape", _infer_reshape, ShapeAttrs, dynamic=_dynamic_reshape)


@dataclass(frozen=True)
class PermuteAttrs:
    perm: tuple[int, ...]


def _infer_permute(types, a: PermuteAttrs):
    (t,) = types
    if sorted(a.perm) != list(range(t.rank)):
        raise op_error("permute", types, f"perm {a.perm} is not a permutation of the {t.rank} dims",
                       IRIndexError)
    return TensorType(tuple(t.shape[p] for p in a.perm), t.dtype)


def _dynamic_permute(node, dyn) -> set[int]:
    dyn_x = D.dims(dyn, node.inputs[0])
    return {i for i, p in enumerate(node.attrs.perm) if p in dyn_x}


permute = Op("permute", _infer_permute, PermuteAttrs, dynamic=_dynamic_permute)


def _infer_expand(types, a: ShapeAttrs):
    (t,) = types
    offset = len(a.shape) - t.rank
    ok = offset >= 0 and all(d in (1, a.shape[offset + i]) for i, d in enumerate(t.shape))
    if not ok:
        raise op_error("expand", types, f"the shape {list(t.shape)} cannot be expanded to "
                       f"{list(a.shape)} (each dim must match or be 1)")
    return TensorType(tuple(a.shape), t.dtype)


def _dynamic_expand(node, dyn) -> set[int]:
    """The input's dynamic dims, right-aligned in the output (a new leading dim is fixed)."""
    x = node.inputs[0]
    offset = len(node.shape) - len(x.shape)
    return {d + offset for d in D.dims(dyn, x)}


expand = Op("expand", _infer_expand, ShapeAttrs, dynamic=_dynamic_expand)


@dataclass(frozen=True)
class AxisAttrs:
    axis: int


def _infer_concat(types, a: AxisAttrs):
    if not types:
        raise IRError("concat: expected a non-empty list of tensors")
    first = types[0]
    dtype = same_dtype("concat", types)
    if not 0 <= a.axis < first.rank:
        raise op_error("concat", types, f"axis {a.axis} out of range", IRIndexError)
    for t in types[1:]:
        if t.rank != first.rank or any(d != e for i, (d, e) in enumerate(zip(t.shape, first.shape))
                                       if i != a.axis):
            raise op_error("concat", types, f"Sizes of tensors must match except in dimension {a.axis}")
    size = sum(t.shape[a.axis] for t in types)
    shape = first.shape[:a.axis] + (size,) + first.shape[a.axis + 1:]
    return TensorType(shape, dtype)


def _dynamic_concat(node, dyn) -> set[int]:
    """Dims other than the axis line up as in broadcasting; the axis' size is a static sum."""
    out = D.broadcast(node, dyn)
    if node.attrs.axis in out:
        D.fail(node, "concatenating along a dynamic dim")
    return out


concat = Op("concat", _infer_concat, AxisAttrs, arity=None, dynamic=_dynamic_concat)


@dataclass(frozen=True)
class SliceAttrs:
    """One (start, end, step) per axis, already clamped to ``0 <= start <= end <= size``, step > 0."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    steps: tuple[int, ...]


def slice_shape(shape, a: SliceAttrs) -> tuple[int, ...]:
    return tuple(max(0, -(-(e - s) // st)) for s, e, st in zip(a.starts, a.ends, a.steps))


def _check_slice(name, types, t, a: SliceAttrs):
    n = t.rank
    if not (len(a.starts) == len(a.ends) == len(a.steps) == n):
        raise op_error(name, types, f"needs one start/end/step per dim ({n})", IRIndexError)
    for s, e, st, d in zip(a.starts, a.ends, a.steps, t.shape):
        if st <= 0 or not 0 <= s <= d or not 0 <= e <= d:
            raise op_error(name, types, f"slice {s}:{e}:{st} out of range for a dim of size {d}",
                           IRIndexError)


def _dynamic_slice(node, dyn) -> set[int]:
    """A dynamic dim survives only when the slice takes all of it."""
    a = node.attrs
    dyn_x = D.dims(dyn, node.inputs[0])
    for d in dyn_x:
        if (a.starts[d], a.ends[d], a.steps[d]) != (0, node.inputs[0].shape[d], 1):
            D.fail(node, f"slicing along dynamic dim {d}")
    return dyn_x


def _infer_slice(types, a: SliceAttrs):
    (t,) = types
    _check_slice("slice", types, t, a)
    return TensorType(slice_shape(t.shape, a), t.dtype)


slice_ = Op("slice", _infer_slice, SliceAttrs, dynamic=_dynamic_slice)


def _infer_slice_update(types, a: SliceAttrs):
    base, src = types
    _check_slice("slice_update", types, base, a)
    same_dtype("slice_update", types)
    if src.shape != slice_shape(base.shape, a):
        raise op_error("slice_update", types, f"source shape {list(src.shape)} must equal the "
                       f"slice's shape {list(slice_shape(base.shape, a))}")
    return base


#: ``base`` with ``base[slices] = src``: the backward of slice, and sliced assignment.
slice_update = Op("slice_update", _infer_slice_update, SliceAttrs, arity=2, dynamic=_dynamic_slice)


def _infer_expand_like(types, a):
    x, ref = types
    _infer_expand((x,), ShapeAttrs(ref.shape))
    return TensorType(ref.shape, x.dtype)


#: ``x`` broadcast to ``ref``'s shape. Gradient rules use it instead of a fixed-shape expand,
#: so an exported graph follows the runtime shape of ``ref`` (a dynamic batch dim).
expand_like = Op("expand_like", _infer_expand_like, arity=2, dynamic=D.like_input(1),
                 shape_only_inputs=(1,))


@dataclass(frozen=True)
class PadAttrs:
    """ONNX-style ``pads`` (every dim's begin, then every dim's end; a negative entry crops
    that side) and the constant the new positions hold (cast to the input's dtype)."""

    pads: tuple[int, ...]
    value: float = 0.0


def pad_shape(shape, pads) -> tuple[int, ...]:
    n = len(shape)
    return tuple(d + pads[i] + pads[n + i] for i, d in enumerate(shape))


def _infer_pad(types, a: PadAttrs):
    (t,) = types
    if len(a.pads) != 2 * t.rank:
        raise op_error("pad", types, f"needs {2 * t.rank} pads (begins, then ends), got {list(a.pads)}")
    cropped = [d + min(a.pads[i], 0) + min(a.pads[t.rank + i], 0) for i, d in enumerate(t.shape)]
    if any(c < 0 for c in cropped):
        raise op_error("pad", types, f"pads {list(a.pads)} crop more than the input holds")
    return TensorType(pad_shape(t.shape, a.pads), t.dtype)


def _dynamic_pad(node, dyn) -> set[int]:
    """A dynamic dim survives when it is neither padded nor cropped."""
    dyn_x = D.dims(dyn, node.inputs[0])
    n = len(node.inputs[0].shape)
    for d in dyn_x:
        if node.attrs.pads[d] or node.attrs.pads[n + d]:
            D.fail(node, f"padding along dynamic dim {d}")
    return dyn_x


#: Constant padding (torch's ``constant_pad_nd``); its gradient is the pad with negated pads,
#: which crops what was added and zero-fills what was cropped.
pad = Op("pad", _infer_pad, PadAttrs, dynamic=_dynamic_pad)


@dataclass(frozen=True)
class TriluAttrs:
    """Keep the lower (``upper=False``) or upper triangle of the last two dims, from diagonal
    ``k`` (0 the main one, positive above it, negative below); the rest becomes 0."""

    k: int = 0
    upper: bool = False


def _infer_trilu(types, a: TriluAttrs):
    (t,) = types
    if t.rank < 2:
        raise op_error("trilu", types, "expects a tensor of rank 2 or more")
    return t


#: torch.tril/triu (ONNX Trilu); its gradient is the same mask of g.
trilu = Op("trilu", _infer_trilu, TriluAttrs, dynamic=D.like_input(0))
