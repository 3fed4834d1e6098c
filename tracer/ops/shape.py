"""Shape functions: reshape/view, flatten, squeeze, unsqueeze, transpose, permute, expand,
repeat, cat, stack, split, chunk, narrow."""
from __future__ import annotations

import math
import warnings

from ir.ops import shape as S
from ir.ops.rules import broadcast_shapes
from tracer.core import tensor_state
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.ops.conversion import clone
from tracer.ops._util import norm_dim, numpy_names, op_err, promote_all, shape_arg
from tracer.core.tensor import Tensor


def _resolve(shape, input, op: str = "reshape") -> tuple[int, ...]:
    """Fill in a single -1 as torch does, or say why the shape does not fit."""
    shape, numel = tuple(int(d) for d in shape), input.numel()
    if shape.count(-1) > 1:
        raise op_err(RuntimeError, op, f"only one dimension can be inferred (shape {list(shape)})", input)
    for i, d in enumerate(shape):
        if d < -1:
            raise op_err(RuntimeError, op, f"invalid shape dimension {d} at index {i} of shape {list(shape)}", input)
    known = 1
    for d in shape:
        if d != -1:
            known *= d
    if -1 in shape and known == 0:
        raise op_err(RuntimeError, op, f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                     "unspecified dimension size -1 can be any value and is ambiguous", input)
    if (numel % known if -1 in shape else known != numel):
        raise op_err(RuntimeError, op, f"shape '{list(shape)}' is invalid for input of size {numel}", input)
    return tuple(numel // known if d == -1 else d for d in shape)


def slice_dim(x, d, start, end, step) -> Tensor:
    starts = [0] * x.dim()
    ends = list(x.shape)
    steps = [1] * x.dim()
    starts[d], ends[d], steps[d] = start, end, step
    return slice_region(x, starts, ends, steps)


def slice_region(x, starts, ends, steps, whole_is_self: bool = True) -> Tensor:
    """``x[starts:ends:steps]``, a view; the whole of ``x`` is ``x`` itself unless a new tensor is
    asked for (a split's pieces are new tensors in torch, even the only one)."""
    if whole_is_self and list(starts) == [0] * x.dim() and list(ends) == list(x.shape) and list(steps) == [1] * x.dim():
        return x
    attrs = S.SliceAttrs(tuple(starts), tuple(ends), tuple(steps))
    return tensor_state.make_view(apply(S.slice_, [x], attrs), x, lambda v: apply(S.slice_update, [x, v], attrs),
                                  lambda b: apply(S.slice_, [b], attrs))


def reshape(input, *shape) -> Tensor:
    return _reshape(input, shape_arg(shape), "reshape")


def view(input, *shape) -> Tensor:
    return _reshape(input, shape_arg(shape), "view")


def _reshape(input, shape, op) -> Tensor:
    new = _resolve(shape, input, op)
    if new == tuple(input.shape):
        return input
    old, attrs = S.ShapeAttrs(tuple(input.shape)), S.ShapeAttrs(new)
    return tensor_state.make_view(apply(S.reshape, [input], attrs), input,
                                  lambda v: apply(S.reshape, [v], old), lambda b: apply(S.reshape, [b], attrs))



def view_as(input, other) -> Tensor:
    return reshape(input, other.shape)


reshape_as = view_as


def flatten(input, start_dim=0, end_dim=-1) -> Tensor:
    if input.dim() == 0:
        return reshape(input, 1)
    s, e = norm_dim(start_dim, input.dim(), "flatten"), norm_dim(end_dim, input.dim(), "flatten")
    if s > e:
        raise err(RuntimeError, "flatten() has invalid args: start_dim cannot come after end_dim")
    shape = list(input.shape)
    merged = 1
    for d in shape[s:e + 1]:
        merged *= d
    return reshape(input, shape[:s] + [merged] + shape[e + 1:])


def unflatten(input, dim, sizes) -> Tensor:
    d = norm_dim(dim, input.dim(), "unflatten")
    shape = list(input.shape)
    if -1 not in sizes and math.prod(sizes) != shape[d]:
        raise op_err(RuntimeError, "unflatten", f"Provided sizes {tuple(sizes)} don't multiply up to the size of "
                     f"dim {dim} ({shape[d]}) in the input tensor", input)
    return reshape(input, shape[:d] + list(sizes) + shape[d + 1:])


@numpy_names
def squeeze(input, dim=None) -> Tensor:
    if dim is None:
        targets = {i for i, d in enumerate(input.shape) if d == 1}
    else:
        ds = dim if isinstance(dim, (tuple, list)) else (dim,)
        targets = {norm_dim(d, input.dim(), "squeeze") for d in ds}
        targets = {i for i in targets if input.dim() and input.shape[i] == 1}
    return reshape(input, [d for i, d in enumerate(input.shape) if i not in targets])


@numpy_names
def unsqueeze(input, dim) -> Tensor:
    d = norm_dim(dim, input.dim() + 1, "unsqueeze")
    shape = list(input.shape)
    return reshape(input, shape[:d] + [1] + shape[d:])


def permute(input, *dims) -> Tensor:
    perm = tuple(norm_dim(d, input.dim(), "permute") for d in shape_arg(dims))
    if len(perm) != input.dim() or sorted(perm) != list(range(input.dim())):
        why = "repeated dims are not allowed: " if len(set(perm)) != len(perm) else ""
        raise op_err(RuntimeError, "permute", f"{why}dims {list(perm)} must be a permutation of the "
                     f"{input.dim()} dims of the input", input)
    if perm == tuple(range(input.dim())):
        return input
    inverse, attrs = S.PermuteAttrs(tuple(sorted(range(len(perm)), key=perm.__getitem__))), S.PermuteAttrs(perm)
    return tensor_state.make_view(apply(S.permute, [input], attrs), input,
                                  lambda v: apply(S.permute, [v], inverse), lambda b: apply(S.permute, [b], attrs))


def transpose(input, dim0, dim1) -> Tensor:
    if input.dim() == 0:
        return input
    a, b = norm_dim(dim0, input.dim(), "transpose"), norm_dim(dim1, input.dim(), "transpose")
    perm = list(range(input.dim()))
    perm[a], perm[b] = perm[b], perm[a]
    return permute(input, perm)


swapaxes = swapdims = transpose


def mT(input) -> Tensor:
    """``Tensor.mT``: the last two dims swapped, for matrices and batches of them only."""
    if input.dim() == 0:  # torch: deprecated and the identity
        warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.",
                      UserWarning, stacklevel=2)
        return input
    if input.dim() < 2:
        raise op_err(RuntimeError, "mT", f"tensor.mT is only supported on matrices or batches of matrices. Got "
                     f"{input.dim()}-D tensor.", input)
    return transpose(input, -2, -1)


def t(input) -> Tensor:
    if input.dim() > 2:
        raise op_err(RuntimeError, "t", f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D",
                     input)
    return transpose(input, 0, 1) if input.dim() == 2 else input


def movedim(input, source, destination) -> Tensor:
    if input.dim() == 0:  # a 0-d tensor accepts dims 0 and -1 and is its own result, as in torch
        norm_dim(source, 0, "movedim"), norm_dim(destination, 0, "movedim")
        return input
    perm = [d for d in range(input.dim()) if d != norm_dim(source, input.dim(), "movedim")]
    perm.insert(norm_dim(destination, input.dim(), "movedim"), norm_dim(source, input.dim(), "movedim"))
    return permute(input, perm)


def expand(input, *sizes) -> Tensor:
    sizes = shape_arg(sizes)
    lead = len(sizes) - input.dim()
    if lead < 0:
        raise op_err(RuntimeError, "expand", f"the number of sizes provided ({len(sizes)}) must be greater or "
                     f"equal to the number of dimensions in the tensor ({input.dim()})", input)
    for i, s in enumerate(sizes):
        if s == -1 and i < lead:
            raise op_err(RuntimeError, "expand", f"The expanded size of the tensor (-1) isn't allowed in a "
                         f"leading, non-existing dimension {i} (sizes {list(sizes)})", input)
        if s != -1 and i >= lead and input.shape[i - lead] not in (1, s):
            raise op_err(RuntimeError, "expand", f"The expanded size of the tensor ({s}) must match the existing "
                         f"size ({input.shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                         f"{list(sizes)}.  Tensor sizes: {list(input.shape)}", input)
    target = tuple(input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    if target == tuple(input.shape):
        return input
    attrs = S.ShapeAttrs(target)
    return tensor_state.make_view(apply(S.expand, [input], attrs), input, None, lambda b: apply(S.expand, [b], attrs))


def expand_as(input, other) -> Tensor:
    return expand(input, other.shape)


broadcast_to = expand


def broadcast_tensors(*tensors):
    shape = broadcast_shapes("broadcast_tensors", [t._type for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def repeat(input, *sizes) -> Tensor:
    sizes = shape_arg(sizes)
    if len(sizes) < input.dim():
        raise op_err(RuntimeError, "repeat", f"Number of dimensions of repeat dims ({list(sizes)}) can not be "
                     "smaller than number of dimensions of tensor", input)
    shape = (1,) * (len(sizes) - input.dim()) + tuple(input.shape)
    interleaved = [v for s in shape for v in (1, s)]
    target = [v for r, s in zip(sizes, shape) for v in (r, s)]
    x = reshape(expand(reshape(input, interleaved), target), [r * s for r, s in zip(sizes, shape)])
    return clone(x) if tensor_state.view_base(x) is not None else x  # torch's repeat always copies


@numpy_names
def cat(tensors, dim=0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise err(ValueError, "torch.cat(): expected a non-empty list of Tensors")
    axis = dim
    tensors = promote_all(tensors)
    for i, x in enumerate(tensors):
        if x.dim() == 0:
            raise op_err(RuntimeError, "cat", f"zero-dimensional tensor (at position {i}) cannot be concatenated",
                         *tensors)
    a = norm_dim(axis, tensors[0].dim(), "cat")
    if len(tensors) == 1:  # a new tensor, as torch's cat: never the input itself
        return clone(tensors[0])
    return apply(S.concat, tensors, S.AxisAttrs(a))


concat = concatenate = cat


@numpy_names
def stack(tensors, dim=0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise err(RuntimeError, "stack: stack expects a non-empty TensorList")
    axis = dim
    first = tuple(tensors[0].shape)
    for i, x in enumerate(tensors):
        if tuple(x.shape) != first:
            raise err(RuntimeError, f"stack: stack expects each tensor to be equal size, but got {list(first)} at "
                      f"entry 0 and {list(x.shape)} at entry {i}")
    a = norm_dim(axis, len(first) + 1, "stack")
    return cat([unsqueeze(x, a) for x in tensors], a)


def atleast_1d(*tensors):
    out = tuple(x.reshape(1) if x.dim() == 0 else x for x in _tensors(tensors))
    return out[0] if len(out) == 1 else out


def atleast_2d(*tensors):
    out = tuple(x.reshape(1, -1) if x.dim() < 2 else x for x in _tensors(tensors))
    return out[0] if len(out) == 1 else out


def _tensors(args):
    """``f(a, b)`` and ``f([a, b])`` alike."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else args


def hstack(tensors) -> Tensor:
    tensors = [atleast_1d(x) for x in tensors]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([atleast_2d(x) for x in tensors], 0)


@numpy_names
def narrow(input, dim, start, length) -> Tensor:
    d = norm_dim(dim, input.dim(), "narrow")
    start = start + input.shape[d] if start < 0 else start
    if start < 0 or start + length > input.shape[d]:
        raise op_err(RuntimeError, "narrow", f"start ({start}) + length ({length}) exceeds dimension size "
                     f"({input.shape[d]}).", input)
    return slice_dim(input, d, start, start + length, 1)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces along ``dim`` (views). As torch's, they refuse in-place writes while grad is on
    when ``tensor`` requires grad (``unsafe_split`` allows them)."""
    name = "Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes"
    return tensor_state.multi_output_views(unsafe_split(tensor, split_size_or_sections, dim), tensor, name)


def unsafe_split(tensor, split_size_or_sections, dim=0):
    d = norm_dim(dim, tensor.dim(), "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0 or (size == 0 and n):
            raise op_err(RuntimeError, "split", f"split_size can only be 0 if dimension size is 0, but got split_size "
                         f"{size} for dimension size {n}" if size == 0 else f"split expects split_size be "
                         f"non-negative, but got split_size={size}", tensor)
        sections = [size] * (n // size) + ([n % size] if n % size else []) if size > 0 else [n]
        sections = sections or [0]  # an empty dim splits into one empty piece, as in torch
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != n:
            raise op_err(RuntimeError, "split", f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                         f"tensor's size at dimension {d}), but got split_sizes={sections}", tensor)
    out, start = [], 0
    for s in sections:
        starts, ends = [0] * tensor.dim(), list(tensor.shape)
        starts[d], ends[d] = start, start + s
        out.append(slice_region(tensor, starts, ends, [1] * tensor.dim(), whole_is_self=False))
        start += s
    return tuple(out)


@numpy_names
def chunk(input, chunks, dim=0):
    d = norm_dim(dim, input.dim(), "chunk")
    if chunks <= 0:
        raise op_err(RuntimeError, "chunk", f"chunk expects `chunks` to be greater than 0, got: {chunks}", input)
    if input.shape[d] == 0:  # torch keeps the count here: `chunks` empty pieces, not split's one
        pieces = unsafe_split(input, [0] * chunks, d)
    else:
        pieces = unsafe_split(input, max(-(-input.shape[d] // chunks), 1), d)
    return tensor_state.multi_output_views(pieces, input, "Split")


@numpy_names
def unbind(input, dim=0):
    d = norm_dim(dim, input.dim(), "unbind")
    pieces = tuple(squeeze(x, d) for x in unsafe_split(input, 1, d))
    return tensor_state.multi_output_views(pieces, input, "Unbind")
