"""Indexing: ``t[...]`` with ints, slices (with steps), None, Ellipsis, integer tensors and
boolean masks; ``t[...] = v``; index_select, gather, masked_fill, nonzero.

Basic indices become one ``slice`` node and one ``reshape``; advanced (tensor) indices are
merged into one linear index and one ``take`` node, following NumPy/torch placement rules.
"""
from __future__ import annotations

import numpy as np

from ir import dtypes
from ir.ops import indexing as I
from ir.ops import shape as S
from ir.errors import IRError
from ir.ops.rules import broadcast_shapes
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.ops.conversion import clone
from tracer.ops import elementwise as ew
from tracer.ops._util import cast, is_scalar, norm_dim, numpy_names, scalar
from tracer.ops.creation import to_tensor
from tracer.ops.inplace import assign
from tracer.ops.shape import broadcast_tensors, expand, permute, reshape, slice_dim, slice_region, unsqueeze
from tracer.core.tensor import Tensor, _specialise


def _expand_ellipsis(index, rank):
    """The index as a list with the Ellipsis replaced by full slices."""
    items = list(index) if isinstance(index, tuple) else [index]
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise err(IndexError, "an index can only have a single ellipsis ('...')")
    used = sum(1 for i in items if i is not None and i is not Ellipsis and not _is_bool_index(i)) + \
        sum(_bool_rank(i) for i in items if _is_bool_index(i))
    if used > rank:
        raise err(IndexError, f"too many indices for tensor of dimension {rank}")
    # "Ellipsis in items" would compare tensors elementwise: test identity instead.
    pos = next((k for k, i in enumerate(items) if i is Ellipsis), None)
    if pos is not None:
        items[pos:pos + 1] = [slice(None)] * (rank - used)
    else:
        items += [slice(None)] * (rank - used)
    return items


def _is_bool_index(i) -> bool:
    return (isinstance(i, Tensor) and i.dtype == dtypes.bool_) or (
        isinstance(i, np.ndarray) and i.dtype == np.bool_) or isinstance(i, bool)


def _bool_rank(i) -> int:
    return 0 if isinstance(i, bool) else np.ndim(i)


#: Python sequences that index as an integer tensor of their items (``probs[range(n), y]``).
_SEQUENCES = (list, tuple, range)


def _as_index_tensor(i, size, axis, op=None) -> Tensor:
    """An integer index tensor; ``op`` names a function taking only integer indices (index_select,
    gather: torch's RuntimeError), None an indexing expression (its IndexError)."""
    if isinstance(i, _SEQUENCES):
        i = _sequence_index(i)
    if isinstance(i, np.ndarray):
        i = to_tensor(i)
    if op is not None and (i.dtype.is_floating_point or i.dtype == dtypes.bool_):
        raise err(RuntimeError, f"{op}(): Expected dtype int32/int64 for index (index: {i._type})")
    if i.dtype.is_floating_point:
        raise err(IndexError, f"tensors used as indices must be long, int, byte or bool tensors (got {i.dtype.name})")
    if i.dtype.kind == "u":
        i = cast(i, dtypes.int64)
    return i


#: A ``False`` index (a Python bool or a 0-d mask): a new dim of size 0, as NumPy and torch do.
NO_ELEMENT = object()


def _split_bool(items, shape):
    """Replace each boolean mask by one integer index tensor per dim it covers (a data-dependent
    shape, so a trace is specialised to the mask's value). A 0-d mask acts as a Python bool."""
    out, dim = [], 0
    for i in items:
        if _is_bool_index(i) and not isinstance(i, bool):
            mask = i._value if isinstance(i, Tensor) else np.asarray(i)
            if isinstance(i, Tensor):
                _specialise("boolean-mask indexing")
            if mask.ndim == 0:
                out.append(None if bool(mask) else NO_ELEMENT)
                continue
            _check_mask(mask.shape, shape, dim)
            out.extend(to_tensor(np.asarray(ix, dtype=np.int64)) for ix in np.nonzero(mask))
            dim += mask.ndim
        elif isinstance(i, bool):
            out.append(None if i else NO_ELEMENT)
        else:
            out.append(i)
            dim += i is not None
    return out


def _sequence_index(i) -> np.ndarray:
    """A list, tuple or range inside an index as an array; an empty one indexes nothing (int64,
    where NumPy would make it float64)."""
    array = np.asarray(i)
    return array.astype(np.int64) if array.size == 0 else array


def _check_mask(mask_shape, shape, dim) -> None:
    """torch's rule: a mask covers as many dims as it has, each of the same size."""
    for k, size in enumerate(mask_shape):
        if dim + k >= len(shape) or shape[dim + k] != size:
            raise err(IndexError, f"The shape of the mask {list(mask_shape)} at index {k} does not match the shape "
                      f"of the indexed tensor {list(shape)} at index {dim + k}")


def _basic(x, items):
    """Apply ints, slices and None; keep tensor indices for later. Returns (tensor, adv list)."""
    starts, ends, steps, shape, adv = [], [], [], [], []
    axis = 0
    empty = []
    for i in items:
        if i is None or i is NO_ELEMENT:
            if i is NO_ELEMENT:
                empty.append(len(shape))
            shape.append(1)
            continue
        size = x.shape[axis]
        if isinstance(i, slice):
            if i.step is not None and i.step <= 0:
                raise err(ValueError, "step must be greater than zero")
            s, e, st = i.indices(size)
            starts.append(s), ends.append(max(e, s)), steps.append(st)
            shape.append(len(range(s, max(e, s), st)))
        elif is_scalar(i):
            k = int(i)
            if not -size <= k < size:
                raise err(IndexError, f"index {k} is out of bounds for dimension {axis} with size {size}")
            k %= size
            starts.append(k), ends.append(k + 1), steps.append(1)
        else:
            starts.append(0), ends.append(size), steps.append(1)
            adv.append((len(shape), _as_index_tensor(i, size, axis)))
            shape.append(size)
        axis += 1
    out = reshape(slice_region(x, starts, ends, steps), shape)
    for d in empty:
        out = slice_dim(out, d, 0, 0, 1)
    return out, adv


def _advanced(x, adv):
    """Index ``x`` at the (position, index tensor) pairs, NumPy placement: adjacent advanced
    dims are replaced in place; separated ones move the result dims to the front."""
    positions = [p for p, _ in adv]
    if len(adv) > 1:
        shapes = [tuple(i.shape) for _, i in adv]
        try:
            broadcast_shapes("index", [i._type for _, i in adv])
        except IRError:
            raise err(IndexError, "shape mismatch: indexing tensors could not be broadcast together with shapes "
                      + ", ".join(str(list(s)) for s in shapes)) from None
    idx = broadcast_tensors(*[i for _, i in adv]) if len(adv) > 1 else (adv[0][1],)
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    if not adjacent:
        rest = [d for d in range(x.dim()) if d not in positions]
        x = permute(x, positions + rest)
        positions = list(range(len(positions)))
    first = positions[0]
    sizes = [x.shape[p] for p in positions]
    linear = None
    stride = 1
    for p, size, ix in reversed(list(zip(positions, sizes, idx))):
        ix = cast(ix, dtypes.int64)
        _check_bounds(ix, size, p)
        ix = ew.where(ew.lt(ix, 0), ew.add(ix, size), ix)
        term = ix if stride == 1 else ew.mul(ix, stride)
        linear = term if linear is None else ew.add(linear, term)
        stride *= size
    shape = list(x.shape)
    merged = reshape(x, shape[:first] + [stride] + shape[first + len(positions):])
    return apply(I.take, [merged, linear], I.AxisAttrs(first))


def _check_bounds(ix, size, axis):
    v = ix._value
    if v.size and (v.max() >= size or v.min() < -size):
        bad = v.max() if v.max() >= size else v.min()
        raise err(IndexError, f"index {bad} is out of bounds for dimension {axis} with size {size}")


def getitem(x, index) -> Tensor:
    if isinstance(index, Tensor) and index.dim() == 0 and not index.dtype.is_floating_point and index.dtype != dtypes.bool_:
        index = int(index)
    if isinstance(index, (list, range)):
        index = _sequence_index(index)
    expanded = _expand_ellipsis(index, x.dim())
    items = _split_bool(expanded, tuple(x.shape))
    out, adv = _basic(x, items)
    if adv:
        return _advanced(out, adv)
    # a bool index (True, a 0-d mask) is advanced indexing in torch: a copy, never a view
    return clone(out) if any(_is_bool_index(i) for i in expanded) else out


def setitem(x, index, value) -> None:
    """``x[index] = value``, as an in-place update of ``x`` (a new value in a traced graph)."""
    given = value
    value = cast(value if isinstance(value, Tensor) else scalar(value, x.dtype), x.dtype)
    if isinstance(index, Tensor) and index.dtype == dtypes.bool_ and tuple(index.shape) == tuple(x.shape) \
            and value.dim() == 0:  # else the value fills the selected elements in order: a scatter
        assign(x, ew.where(index, value, x), op="__setitem__")
        return
    items = _expand_ellipsis(index, x.dim())
    if any(isinstance(i, (Tensor, np.ndarray, *_SEQUENCES)) for i in items):
        fill = given.numel() == 1 and any(_is_bool_index(i) for i in items) if isinstance(given, Tensor) else True
        if isinstance(given, Tensor) and given.dtype != x.dtype and not fill:
            # torch's index_put does not cast (one value through a mask is a masked fill, which does)
            raise err(RuntimeError, f"Index put requires the source and destination dtypes match, got "
                      f"{scalar_type_name(x.dtype)} for the destination and {scalar_type_name(given.dtype)} for "
                      f"the source. (__setitem__ of {given._type} into {x._type})")
        assign(x, _scatter_assign(x, items, value), op="__setitem__")
        return
    assign(x, _slice_assign(x, items, value), op="__setitem__")


def _slice_assign(x, items, value):
    starts, ends, steps, kept = [], [], [], []  # kept: the indexed view's shape, a None's dim included
    axis = 0
    for i in items:
        if i is None:
            kept.append(1)
            continue
        size = x.shape[axis]
        if isinstance(i, slice):
            if i.step is not None and i.step <= 0:
                raise err(ValueError, "step must be greater than zero")
            s, e, st = i.indices(size)
            e = max(e, s)
            starts.append(s), ends.append(e), steps.append(st)
            kept.append(len(range(s, e, st)))
        else:
            k = int(i)
            if not -size <= k < size:
                raise err(IndexError, f"index {k} is out of bounds for dimension {axis} with size {size}")
            starts.append(k % size), ends.append(k % size + 1), steps.append(1)
        axis += 1
    region = S.SliceAttrs(tuple(starts), tuple(ends), tuple(steps))
    full = S.slice_shape(x.shape, region)
    src = reshape(expand(_drop_leading_ones(value), kept), full)
    return apply(S.slice_update, [x, src], region)


def _drop_leading_ones(value) -> Tensor:
    """The value without its leading size-1 dims, as torch's ``x[i] = v`` views it before
    broadcasting it to the indexed shape (so ``x[None] = v`` of a 1-d ``x`` takes a [1, n] ``v``)."""
    lead = next((k for k, n in enumerate(value.shape) if n != 1), value.dim())
    return reshape(value, tuple(value.shape[lead:])) if lead else value


def _scatter_assign(x, items, value):
    """Advanced-index assignment. Positions are read from the index values (so a trace is
    specialised to them); for repeated positions the last write wins, as on torch's CPU."""
    positions = to_tensor(np.arange(x.numel(), dtype=np.int64).reshape(tuple(x.shape)))
    pos = getitem(positions, tuple(items))
    src = reshape(expand(_drop_leading_ones(value), pos.shape), -1)
    flat = pos._value.reshape(-1)
    _, first_from_end = np.unique(flat[::-1], return_index=True)
    writer = np.sort(flat.size - 1 - first_from_end)
    hit = np.zeros(x.numel(), dtype=bool)
    hit[flat] = True
    zeros = expand(scalar(0, x.dtype), [x.numel()])
    chosen = apply(I.take, [src, to_tensor(writer)], I.AxisAttrs(0))
    placed = apply(I.index_add, [zeros, to_tensor(flat[writer]), chosen], I.AxisAttrs(0))
    return reshape(ew.where(to_tensor(hit), placed, reshape(x, -1)), x.shape)


@numpy_names
def index_select(input, dim, index) -> Tensor:
    d = norm_dim(dim, input.dim(), "index_select")
    index = _as_index_tensor(index, input.shape[d] if input.dim() else 1, d, "index_select")
    if index.dim() > 1:
        raise err(IndexError, "index_select(): Index is supposed to be a vector")
    return apply(I.take, [input, index], I.AxisAttrs(d))


@numpy_names
def gather(input, dim, index) -> Tensor:
    d = norm_dim(dim, input.dim(), "gather")
    return apply(I.gather_elements, [input, _as_index_tensor(index, input.shape[d], d, "gather")], I.AxisAttrs(d))


@numpy_names
def scatter_add(input, dim, index, src) -> Tensor:
    d = norm_dim(dim, input.dim(), "scatter_add")
    return apply(I.scatter_add, [input, _as_index_tensor(index, input.shape[d], d), cast(src, input.dtype)],
                 I.AxisAttrs(d))


@numpy_names
def index_add(input, dim, index, source, *, alpha=1) -> Tensor:
    d = norm_dim(dim, input.dim(), "index_add")
    src = cast(source if alpha == 1 else ew.mul(source, alpha), input.dtype)
    return apply(I.index_add, [input, _as_index_tensor(index, input.shape[d], d), src], I.AxisAttrs(d))


def masked_select(input, mask) -> Tensor:
    x, m = broadcast_tensors(input, mask)
    return getitem(x, m)


def where(condition, input=None, other=None) -> Tensor:
    """torch.where: elementwise choice, or with the condition alone, its nonzero indices."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    return ew.where(condition, input, other)


def nonzero(input, *, as_tuple=False):
    """A 0-d input counts as one element with no coordinates, as in torch: shape (1, 0) if it is
    nonzero, (0, 0) if not; ``as_tuple`` gives one index tensor of shape (1,) or (0,)."""
    _specialise("nonzero()")
    value = input._value
    found = np.nonzero(np.atleast_1d(value))
    if as_tuple:
        return tuple(to_tensor(np.asarray(ix, dtype=np.int64)) for ix in found)
    if value.ndim == 0:
        return to_tensor(np.zeros((len(found[0]), 0), np.int64))
    return to_tensor(np.stack(found, axis=1).astype(np.int64))


def argwhere(input):
    return nonzero(input)


def one_hot(tensor, num_classes=-1) -> Tensor:
    if tensor.dtype != dtypes.int64:
        raise err(RuntimeError, f"one_hot: one_hot is only applicable to index tensor of type LongTensor "
                  f"(input: {tensor._type}).")
    v = tensor._value
    if v.size and v.min() < 0:
        raise err(RuntimeError, f"one_hot: Class values must be non-negative (got {v.min()}).")
    if v.size and num_classes != -1 and v.max() >= num_classes:
        raise err(RuntimeError, f"one_hot: Class values must be smaller than num_classes (got {v.max()} for "
                  f"num_classes={num_classes}).")
    n = int(v.max()) + 1 if num_classes == -1 else num_classes
    classes = to_tensor(np.arange(n, dtype=np.int64))
    return cast(ew.eq(unsqueeze(tensor, -1), classes), dtypes.int64)
