"""``F.embedding``/``nn.Embedding`` and ``F.embedding_bag``/``nn.EmbeddingBag`` as torch, as
compositions of existing ops.

- A lookup is ``index_select`` on the weight, whose gradient adds each position's gradient into
  its row (an index scatter-add), so repeated indices sum.
- The ``padding_idx`` row keeps its value but receives no gradient (torch's embedding_backward).
- ``max_norm`` renormalises the looked-up rows of the weight in place, without grad, as torch's
  ``embedding_renorm_``.
- ``scale_grad_by_freq`` divides each position's gradient by how often its index occurs in the
  batch: the rows are passed through ``held + (rows - held) * (1 / count)`` with ``held`` the
  detached rows, whose value is the rows and whose gradient is the scaled one.
- A bag (``embedding_bag``) is a scatter-add of its rows (sum, mean) or a masked max over them;
  padding entries are left out of the bag, empty bags are zeros.
- ``sparse=True`` (sparse gradients) is refused with NotImplementedError: tracegrad has no
  sparse tensors.

Index values are checked eagerly, as torch's kernels read them; inside a trace they are graph
inputs and are not read.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ir import dtypes
from tracer.core import tracing
from tracer.core.errors import err, scalar_type_name
from tracer.core.grad_mode import no_grad
from tracer.core.tensor import Tensor
from tracer.nn import init
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter
from tracer.ops import elementwise as ew
from tracer.ops import reduce as rd
from tracer.ops._util import cast
from tracer.ops.creation import arange, empty, ones, zeros
from tracer.ops.indexing import index_add, index_select

_INDEX_TYPES = (dtypes.int64, dtypes.int32)
#: How torch's argument checks name a tensor's type ("torch.FloatTensor", "CPUBoolType").
_TORCH_TYPE = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "int64": "torch.LongTensor",
               "int32": "torch.IntTensor", "uint8": "torch.ByteTensor", "bool": "CPUBoolType"}


def _type_name(t) -> str:
    return _TORCH_TYPE.get(t.dtype.name, t.dtype.name)


def _check_tensor(x, name: str, position: int, fn: str) -> None:
    if not isinstance(x, Tensor):
        raise err(TypeError, f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
                  f"{type(x).__name__}")


def _check_indices(input, argument: int, where: str) -> None:
    if input.dtype not in _INDEX_TYPES:
        raise err(RuntimeError, f"Expected tensor for argument #{argument} 'indices' to have one of the following "
                  f"scalar types: Long, Int; but got {_type_name(input)} instead (while checking arguments for "
                  f"{where}) (indices: {input._type})")


def _eager_indices(input):
    """The index values when they can be read (eagerly), else None."""
    return input._value.astype(np.int64) if tracing.current() is None else None


def _check_range(input, num: int, message: str, cls: type[Exception] = IndexError) -> None:
    v = _eager_indices(input)
    if v is not None and v.size and (v.min() < 0 or v.max() >= num):
        raise err(cls, message)


def _renorm_(weight, input, max_norm: float, norm_type: float) -> None:
    """torch's ``embedding_renorm_``: each looked-up row whose ``norm_type``-norm exceeds
    ``max_norm`` is scaled by ``max_norm / (norm + 1e-7)``, in place, without grad."""
    if weight.dim() != 2:
        raise err(RuntimeError, f"Expected 2-dimensional tensor, but got {weight.dim()}-dimensional tensor for "
                  f"argument #1 'self' (while checking arguments for embedding_renorm_)")
    _check_indices(input, 2, "embedding_renorm_")
    if not weight.dtype.is_floating_point:
        raise err(RuntimeError, f"norm(): input dtype should be either floating point or complex. Got "
                  f"{scalar_type_name(weight.dtype)} instead.")
    v = _eager_indices(input)
    if v is not None and v.size and v.max() >= weight.shape[0]:
        raise err(IndexError, f"select(): index {v.max()} out of range for tensor of size {list(weight.shape)} at "
                  f"dimension 0")
    _check_range(input, weight.shape[0], "index out of range in self")
    with no_grad():
        flat = input.reshape(-1)
        rows = index_select(weight, 0, flat)
        norms = rows.norm(p=norm_type, dim=1, keepdim=True)
        scale = ew.where(ew.gt(norms, max_norm), ew.div(max_norm, ew.add(norms, 1e-7)), 1.0)
        weight[flat] = ew.mul(rows, scale).to(weight.dtype)


def _scaled_by_frequency(rows, flat, num: int):
    """``rows`` (one per position of ``flat``) with their gradient divided by the number of
    times each position's index occurs in ``flat``, as torch's ``scale_grad_by_freq``."""
    counts = index_add(zeros(num, dtype=rows.dtype), 0, flat, ones(flat.shape[0], dtype=rows.dtype))
    scale = ew.reciprocal(index_select(counts, 0, flat)).unsqueeze(1)
    held = rows.detach()
    # held + (rows - held) * scale is rows itself; an infinite row would make it nan: keep it
    return ew.where(ew.isfinite(held), ew.add(held, ew.mul(ew.sub(rows, held), scale)), rows)


def _padding_index(padding_idx, num: int, message: str):
    """``padding_idx`` as a row number, after torch's range check."""
    if padding_idx is None:
        return None
    if padding_idx > 0 and padding_idx >= num or padding_idx < 0 and padding_idx < -num:
        raise err(AssertionError, message)
    return padding_idx % num


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at ``input``'s indices.

    Args:
        input: int64/int32 indices of any shape.
        weight: the (num_embeddings, embedding_dim) table.
        padding_idx: a row that gets no gradient.
        max_norm: rows looked up are first renormalised in place to at most this norm.
        norm_type: the p of that norm.
        scale_grad_by_freq: divide the gradients by each index's count in ``input``.
        sparse: sparse gradients (refused).

    Returns:
        ``input.shape + (embedding_dim,)``, the weight's dtype.

    Raises:
        RuntimeError: non-integer indices or a weight that is not 2-D (torch's messages).
        IndexError: an index outside [0, num_embeddings) ("index out of range in self").
        NotImplementedError: ``sparse=True``.
    """
    _check_tensor(weight, "weight", 1, "embedding")
    _check_tensor(input, "indices", 2, "embedding")
    if padding_idx is not None and not isinstance(padding_idx, (int, np.integer)):
        raise err(TypeError, f"embedding(): argument 'padding_idx' (position 3) must be int, not "
                  f"{type(padding_idx).__name__}")
    padding_idx = _padding_index(padding_idx, weight.shape[0], "Padding_idx must be within num_embeddings")
    if sparse:
        raise err(NotImplementedError, "embedding(sparse=True): tracegrad has no sparse tensors, so no sparse "
                  "gradients; use the dense default (sparse=False)")
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    if weight.dim() != 2:
        raise err(RuntimeError, f"'weight' must be 2-D (weight: {weight._type})")
    _check_indices(input, 1, "embedding")
    _check_range(input, weight.shape[0], "index out of range in self")
    flat = input.reshape(-1)
    rows = index_select(weight, 0, flat)
    if scale_grad_by_freq and rows.requires_grad:
        rows = _scaled_by_frequency(rows, flat, weight.shape[0])
    out = rows.reshape(tuple(input.shape) + (weight.shape[1],))
    if padding_idx is not None and out.requires_grad:
        # the padding row keeps its value but gets no gradient, as torch's embedding_backward
        at_padding = ew.eq(input, padding_idx).unsqueeze(-1)
        out = ew.where(at_padding, out.detach(), out)
    return out


# -- bags --------------------------------------------------------------------------------
_MODES = ("sum", "mean", "max")


def _bag_arguments(input, weight, offsets, per_sample_weights, include_last_offset, mode, scale_grad_by_freq,
                   sparse):
    """torch's Python-level checks of F.embedding_bag, in its order; returns the 1-D indices,
    the offsets of the bags' starts, the end of the last bag, and the flat sample weights."""
    if weight.dtype == dtypes.int64 and input.dtype.is_floating_point:
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
                      stacklevel=3)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise err(ValueError, f"embedding_bag: If per_sample_weights (torch.Size({list(per_sample_weights.shape)})) "
                  f"is not None, then it must have the same shape as the input (torch.Size({list(input.shape)}))")
    if weight.dim() != 2:
        raise err(ValueError, f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise err(ValueError, "if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                      f"of fixed length sequences. However, found offsets of type {type(offsets)}")
        if input.shape[1] == 0 and input.shape[0]:
            raise err(RuntimeError, "step must be nonzero")
        offsets = arange(0, input.numel(), max(input.shape[1], 1), dtype=input.dtype)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise err(ValueError, "offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise err(ValueError, "offsets has to be a 1D Tensor")
    else:
        raise err(ValueError, f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in _MODES:
        raise err(ValueError, "mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise err(ValueError, "max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise err(ValueError, "max mode does not support sparse weights")
    return input, weight, offsets, per_sample_weights, include_last_offset


def _check_bag_kernel(input, weight, offsets, per_sample_weights, include_last_offset, padding_idx):
    """The checks of torch's _embedding_bag kernel; returns the row of ``padding_idx``."""
    _check_indices(input, 1, "embedding_bag")
    if offsets.dtype not in _INDEX_TYPES:
        raise err(RuntimeError, f"Expected tensor for argument #1 'offsets' to have one of the following scalar "
                  f"types: Long, Int; but got {_type_name(offsets)} instead (while checking arguments for "
                  f"embedding_bag)")
    if not weight.dtype.is_floating_point:
        raise err(RuntimeError, f"Expected tensor for argument #1 'weight' to have one of the following scalar "
                  f"types: Half, BFloat16, Float, Double; but got {_type_name(weight)} instead (while checking "
                  f"arguments for embedding_bag)")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise err(RuntimeError, f"Expected tensor for argument #1 'weight' to have the same type as tensor for "
                  f"argument #1 'per_sample_weights'; but type {_type_name(weight)} does not equal "
                  f"{_type_name(per_sample_weights)} (while checking arguments for embedding_bag)")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise err(RuntimeError, f"padding_idx must be within the number of embeddings, {-num} through "
                      f"{num - 1}, but got {padding_idx}")
        padding_idx %= num
    _check_offset_values(input, offsets, include_last_offset)
    _check_range(input, num, "Expected i < index_size to be true, but got false.  (Could this error message be "
                 "improved?  If so, please report an enhancement request to PyTorch.)", RuntimeError)
    return padding_idx


def _check_offset_values(input, offsets, include_last_offset) -> None:
    if tracing.current() is not None:
        return
    o, n = offsets._value.astype(np.int64), input.shape[0]
    if o.size and o[0] != 0:
        raise err(RuntimeError, f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                  f"from position 0. However, got {o[0]}")
    if o.size and o[-1] > n:
        raise err(RuntimeError, f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of "
                  f"{o[-1]}")
    if include_last_offset and o.size and o[-1] != n:
        # torch reads such offsets inconsistently (the last mean divides by n - offsets[-2]); refuse them
        raise err(RuntimeError, "Your input appears to be incorrect: the last offset value should be the size of "
                  "the indices tensor, but it seems not to be the case.")
    if np.any(np.diff(o) < 0):
        raise err(RuntimeError, f"embedding_bag: offsets must be non-decreasing, got {o.tolist()}")
    if n and not o.size:
        raise err(RuntimeError, f"embedding_bag: {n} indices but no bag (offsets is empty)")


def _bag_layout(input, offsets, include_last_offset, padding_idx):
    """Per position of the 1-D ``input``: its bag and whether it counts (before the last bag's
    end, not padding). Bags start at ``offsets``; with ``include_last_offset`` the last offset
    is the end."""
    starts = offsets[:-1] if include_last_offset else offsets
    n = input.shape[0]
    positions = arange(n, dtype=offsets.dtype)
    bag = ew.sub(rd.sum(ew.le(starts.unsqueeze(0), positions.unsqueeze(1)), 1), 1)
    counted = ew.lt(positions, offsets[-1]) if include_last_offset else ew.ge(positions, 0)
    if padding_idx is not None:
        counted = ew.logical_and(counted, ew.ne(input, padding_idx))
    return starts.shape[0], bag.clamp(min=0), counted


def _bag_max(rows, bag, counted, bags: int):
    """Each bag's elementwise max of its rows; the gradient goes to the first maximum, as torch."""
    member = ew.logical_and(ew.eq(arange(bags, dtype=bag.dtype).unsqueeze(1), bag.unsqueeze(0)), counted)
    masked = ew.where(member.unsqueeze(2), rows.unsqueeze(0), -math.inf)
    return rd.max(masked, 1).values


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2, scale_grad_by_freq: bool = False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx=None) -> Tensor:
    """Sums, means or maxima of bags of embeddings, without the intermediate (bag, index, dim) rows.

    Args:
        input: (B, N) fixed-length bags, or 1-D indices split into bags by ``offsets``.
        weight: the (num_embeddings, embedding_dim) table, float.
        offsets: with 1-D input, each bag's first position (and the end, with ``include_last_offset``).
        max_norm, norm_type, scale_grad_by_freq, padding_idx: as ``embedding``; padding entries
            are left out of their bag.
        mode: "sum", "mean" or "max".
        sparse: refused (no sparse tensors).
        per_sample_weights: weights of each index (mode "sum" only).
        include_last_offset: the offsets end with the end of the last bag.

    Returns:
        (B, embedding_dim), an empty bag being zeros.

    Raises:
        ValueError, RuntimeError, NotImplementedError: torch's, with its messages.
    """
    input, weight, offsets, per_sample_weights, include_last_offset = _bag_arguments(
        input, weight, offsets, per_sample_weights, include_last_offset, mode, scale_grad_by_freq, sparse)
    if sparse:
        raise err(NotImplementedError, "embedding_bag(sparse=True): tracegrad has no sparse tensors, so no sparse "
                  "gradients; use the dense default (sparse=False)")
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise err(NotImplementedError, f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
    padding_idx = _check_bag_kernel(input, weight, offsets, per_sample_weights, include_last_offset, padding_idx)
    bags, bag, counted = _bag_layout(input, offsets, include_last_offset, padding_idx)
    rows = index_select(weight, 0, input)
    if scale_grad_by_freq and rows.requires_grad:
        rows = _scaled_by_frequency(rows, input, weight.shape[0])
    if per_sample_weights is not None:
        rows = ew.mul(rows, per_sample_weights.unsqueeze(1))
    if mode == "max" and input.shape[0]:
        sizes = index_add(zeros(bags, dtype=dtypes.int64), 0, bag, cast(counted, dtypes.int64))
        return ew.where(ew.gt(sizes, 0).unsqueeze(1), _bag_max(rows, bag, counted, bags), 0.0)
    # without indices every bag is empty: the zeros of a sum, still connected to the weight
    summed = index_add(zeros(bags, weight.shape[1], dtype=weight.dtype), 0, bag,
                       ew.where(counted.unsqueeze(1), rows, 0.0))
    if mode != "mean":
        return summed
    sizes = index_add(zeros(bags, dtype=weight.dtype), 0, bag, cast(counted, weight.dtype))
    return ew.div(summed, ew.clamp(sizes, min=1.0).unsqueeze(1))


# -- modules -----------------------------------------------------------------------------
class Embedding(Module):
    """A lookup table of ``num_embeddings`` rows of size ``embedding_dim``, initialised N(0, 1)
    with the ``padding_idx`` row zeroed."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "Padding_idx must be within num_embeddings")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype, device=device),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise err(AssertionError, "Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self.sparse = sparse

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
        """An Embedding holding ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        if embeddings.dim() != 2:
            raise err(AssertionError, "Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (``F.embedding_bag``), the table initialised
    N(0, 1) with the ``padding_idx`` row zeroed."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, _weight=None,
                 include_last_offset: bool = False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "padding_idx must be within num_embeddings")
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype, device=device))
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise err(AssertionError, "Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight)
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    reset_parameters = Embedding.reset_parameters
    _fill_padding_idx_with_zero = Embedding._fill_padding_idx_with_zero

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings!r}, {self.embedding_dim!r}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx=None):
        """An EmbeddingBag holding ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        if embeddings.dim() != 2:
            raise err(AssertionError, "Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings, include_last_offset,
                  padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
