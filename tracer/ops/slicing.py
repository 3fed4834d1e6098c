"""Slices read and written whole: select and the *_scatter functions (a ``slice_update`` of a
copy), unfold (sliding windows, a strided view), repeat_interleave and tile, the h/v/d splits,
and the in-place view ops (``t_``, ``transpose_``, ``squeeze_``, ``unsqueeze_``)."""
from __future__ import annotations

import numpy as np

from ir import dtypes
from ir.ops import shape as S
from tracer.core import tensor_state
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.core.tensor import Tensor, _specialise
from tracer.ops import inplace as ip
from tracer.ops import indexing as ix
from tracer.ops import reduce as rd
from tracer.ops import sequence as sq
from tracer.ops import shape as sh
from tracer.ops._util import cast, norm_dim, shape_arg
from tracer.ops.creation import to_tensor
from tracer.ops.diagonal import _diagonal_run, _two_dims, tensor_split
from tracer.ops.index_writes import index_copy


def select(input, dim, index) -> Tensor:
    """``input`` at ``index`` along ``dim``, that dim removed: a view (torch.select)."""
    if input.dim() == 0:
        raise err(IndexError, "select() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, input.dim(), "select")
    size = input.shape[d]
    if not -size <= index < size:
        raise err(IndexError, f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                  f"dimension {d}")
    k = int(index) % size
    return sh.squeeze(sh.slice_dim(input, d, k, k + 1, 1), d)


def _same_slice(src, want) -> None:
    if tuple(src.shape) != tuple(want):
        raise err(RuntimeError, f"expected src to have a size equal to the slice of self. src size = "
                  f"{list(src.shape)}, slice size = {list(want)}")


def _update(input, src, starts, ends, steps) -> Tensor:
    attrs = S.SliceAttrs(tuple(starts), tuple(ends), tuple(steps))
    _same_slice(src, S.slice_shape(tuple(input.shape), attrs))
    return apply(S.slice_update, [input, cast(src, input.dtype)], attrs)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1) -> Tensor:
    """A copy of ``input`` with ``src`` in its slice ``start:end:step`` along ``dim``."""
    d = norm_dim(dim, input.dim(), "slice_scatter")
    s, e, st = slice(start, end, step).indices(input.shape[d])
    starts, ends, steps = [0] * input.dim(), list(input.shape), [1] * input.dim()
    starts[d], ends[d], steps[d] = s, max(e, s), st
    return _update(input, src, starts, ends, steps)


def select_scatter(input, src, dim, index) -> Tensor:
    """A copy of ``input`` with ``src`` as its slice ``index`` along ``dim``."""
    d = norm_dim(dim, input.dim(), "select_scatter")
    _same_slice(src, tuple(select(input, d, index).shape))
    k = int(index) % input.shape[d]
    return slice_scatter(input, sh.unsqueeze(src, d), d, k, k + 1)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1) -> Tensor:
    """A copy of ``input`` with ``src`` on its diagonal ``offset`` over ``dim1`` and ``dim2``:
    the slice ``diagonal`` reads, written back (moved dims, a flat strided slice, moved back)."""
    d1, d2 = _two_dims("diagonal_scatter", dim1, dim2, input.dim())
    if d1 > d2:
        d1, d2, offset = d2, d1, -offset
    rest = [d for d in range(input.dim()) if d not in (d1, d2)]
    n1, n2 = input.shape[d1], input.shape[d2]
    perm = rest + [d1, d2]
    flat = sh.reshape(sh.permute(input, perm), [input.shape[d] for d in rest] + [n1 * n2])
    start, length, step = _diagonal_run(n1, n2, offset)
    starts, ends, steps = [0] * flat.dim(), list(flat.shape), [1] * flat.dim()
    starts[-1], ends[-1], steps[-1] = start, start + step * (length - 1) + 1 if length else 0, step
    out = sh.reshape(_update(flat, src, starts, ends, steps), [input.shape[d] for d in perm])
    return sh.permute(out, sorted(range(len(perm)), key=perm.__getitem__))


def _windows(n, size, step) -> np.ndarray:
    count = (n - size) // step + 1
    return np.arange(count)[:, None] * step + np.arange(size)[None, :]


def unfold(self, dimension, size, step) -> Tensor:
    """``Tensor.unfold``: the windows of ``size`` every ``step`` along ``dimension``, as a new
    last dim. A view of ``self`` as torch's; where the windows overlap (``step < size``) an
    in-place write through it is refused (torch writes each shared element several times)."""
    if step <= 0:
        raise err(RuntimeError, f"step is {step} but must be > 0")
    if self.dim() == 0:
        if size > 1:
            raise err(RuntimeError, f"maximum size for tensor at dimension 0 is 1 but size is {size}")
        return sh.reshape(self, 1)
    d = norm_dim(dimension, self.dim(), "unfold")
    n = self.shape[d]
    if size > n:
        raise err(RuntimeError, f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise err(RuntimeError, f"size is {size} but must be >= 0")
    pos = _windows(n, size, step)
    def windows(base):
        taken = ix.index_select(base, d, to_tensor(pos.reshape(-1)))
        return sh.movedim(sh.unflatten(taken, d, pos.shape), d + 1, -1)
    out = windows(self)
    a = self._value
    shape = a.shape[:d] + (pos.shape[0],) + a.shape[d + 1:] + (size,)
    strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
    window = np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable and step >= size)
    flat = pos.reshape(-1)

    def undo(v):
        merged = sh.movedim(v, -1, d + 1).flatten(d, d + 1)
        return index_copy(self, d, to_tensor(flat), merged)
    return tensor_state.strided_view(out, self, window, undo, windows)


def _repeats_tensor(repeats, n, op="repeat_interleave"):
    """Per-element counts (read from the tensor: the output's shape depends on them)."""
    if repeats.dtype not in (dtypes.int64, dtypes.int32):
        raise err(NotImplementedError, f'"repeat_interleave_cpu" not implemented for '
                  f"'{repeats.dtype.name.capitalize()}'")
    _specialise("repeat_interleave with tensor repeats")
    counts = repeats._value.reshape(-1)
    if counts.size == 1 and n != 1:
        counts = np.repeat(counts, n)
    if counts.size != n:
        raise err(RuntimeError, f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                  f"{counts.size} and input.size(0) = {n}")
    if (counts < 0).any():
        raise err(RuntimeError, "repeats can not be negative")
    return counts


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times, in place of one
    (torch.repeat_interleave); with ``input`` alone, the positions repeated by their counts."""
    if repeats is None:
        counts = _repeats_tensor(input, input.numel())
        if input.dim() > 1:
            raise err(RuntimeError, "repeat_interleave only accept 1D vector as repeat")
        return to_tensor(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    x = sh.flatten(input) if dim is None else input
    d = 0 if dim is None else norm_dim(dim, input.dim(), "repeat_interleave")
    if x.dim() == 0:
        x = sh.reshape(x, 1)
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        counts = _repeats_tensor(repeats, n)
    else:
        if int(repeats) < 0:
            raise err(RuntimeError, "Repeats must be non-negative")
        counts = np.full(n, int(repeats))
    if output_size is not None and int(counts.sum()) != output_size:
        raise err(RuntimeError, "allocated size does not match required size")
    return ix.index_select(x, d, to_tensor(np.repeat(np.arange(n, dtype=np.int64), counts)))


def tile(input, *dims) -> Tensor:
    """torch.tile: ``repeat`` with ``dims`` padded by leading ones to ``input``'s rank."""
    reps = shape_arg(dims)
    reps = (1,) * (input.dim() - len(reps)) + tuple(reps)
    return sh.repeat(input, reps)


def _split_along(op, input, indices_or_sections, d, least):
    if input.dim() < least:
        raise err(RuntimeError, f"torch.{op} requires a tensor with at least {least} dimension, but got a tensor "
                  f"with {input.dim()} dimensions!")
    if isinstance(indices_or_sections, (int, np.integer)):
        n = input.shape[d]
        if indices_or_sections == 0 or n % indices_or_sections:
            raise err(RuntimeError, f"torch.{op} attempted to split along dimension {d}, but the size of the "
                      f"dimension {n} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, d)


def hsplit(input, indices_or_sections):
    return _split_along("hsplit", input, indices_or_sections, 0 if input.dim() == 1 else 1, 1)


def vsplit(input, indices_or_sections):
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input, split_sizes, dim=0):
    return sh.split(input, list(split_sizes), dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    return sh.unsafe_split(input, list(split_sizes), dim)


def fliplr(input) -> Tensor:
    if input.dim() < 2:
        raise err(RuntimeError, "Input must be >= 2-d.")
    return sq.flip(input, (1,))


def flipud(input) -> Tensor:
    if input.dim() < 1:
        raise err(RuntimeError, "Input must be >= 1-d.")
    return sq.flip(input, (0,))


def ravel(input) -> Tensor:
    return sh.reshape(input, -1)


def sum_to_size(self, *size) -> Tensor:
    """``self`` summed down to ``size`` (which must expand to ``self``'s shape)."""
    size = shape_arg(size)
    lead = self.dim() - len(size)
    if lead < 0 or any(s not in (1, t) for s, t in zip(size, tuple(self.shape)[lead:])):
        raise err(RuntimeError, f"size {{{list(size)}}} is not expandable to size {{{list(self.shape)}}}.")
    dims = list(range(lead)) + [lead + k for k, s in enumerate(size) if s == 1 and self.shape[lead + k] != 1]
    if not dims and tuple(self.shape) == size:
        return self  # torch's sum_to returns the tensor itself
    out = rd.sum(self, dims, keepdim=True) if dims else self
    return sh.reshape(out, size)


def _restride(self, new, back, op) -> Tensor:
    ip.check_inplace(self, op)
    if new is self:
        return self
    tensor_state.restride(self, new, back)
    return self


def t_(self) -> Tensor:
    if self.dim() > 2:
        raise err(RuntimeError, f"t_() expects a tensor with <= 2 dimensions, but self is {self.dim()}D")
    return _restride(self, sh.t(self), sh.t, "t_")


def transpose_(self, dim0, dim1) -> Tensor:
    return _restride(self, sh.transpose(self, dim0, dim1), lambda v: sh.transpose(v, dim0, dim1), "transpose_")


swapaxes_ = swapdims_ = transpose_


def _reshaped_(op, fn):
    def method(self, *args):
        old = tuple(self.shape)
        return _restride(self, fn(self, *args), lambda v: sh.reshape(v, old), op)
    method.__name__ = op
    return method


squeeze_ = _reshaped_("squeeze_", sh.squeeze)
unsqueeze_ = _reshaped_("unsqueeze_", sh.unsqueeze)
