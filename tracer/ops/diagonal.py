"""Diagonals and index layouts: diag, diagonal, diag_embed, tril_indices, triu_indices, and
reorderings and pieces along dims: rot90, tensor_split, take_along_dim, diff; and the
``Tensor.trace`` method.

All are compositions. A diagonal is a strided ``slice`` (ONNX Slice) of the two dims flattened,
so it can stay a view; diag_embed is a ``take`` (ONNX Gather, its gradient an index_add) from
the input padded with one zero, which the off-diagonal positions read."""
from __future__ import annotations

import numpy as np

from ir import dtypes
from ir.ops import shape as S
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.core.tensor import Tensor
from tracer.ops import creation as cr
from tracer.ops import elementwise as ew
from tracer.ops import indexing as ix
from tracer.ops import reduce as rd
from tracer.ops import sequence as sq
from tracer.ops import shape as sh
from tracer.ops._util import norm_dim
from tracer.ops.conversion import clone


def _diagonal_run(n1: int, n2: int, offset: int) -> tuple[int, int, int]:
    """(start, length, step) of diagonal ``offset`` of an (n1, n2) matrix read row by row: an
    arithmetic run of flat positions, one row and one column further each step."""
    row0, col0 = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(n1 - row0, n2 - col0))
    return (row0 * n2 + col0 if length else 0), length, n2 + 1


def _diagonal_positions(n1: int, n2: int, offset: int) -> np.ndarray:
    start, length, step = _diagonal_run(n1, n2, offset)
    return start + step * np.arange(length, dtype=np.int64)


def int_arg(value, fn: str, name: str, position: int) -> int:
    """An ``int`` argument checked as torch's argument parser checks it (no floats, no bools)."""
    if not _is_int(value):
        raise err(TypeError, f"{fn}(): argument '{name}' (position {position}) must be int, not {type(value).__name__}")
    return int(value)


def _two_dims(op: str, dim1, dim2, rank: int) -> tuple[int, int]:
    int_arg(dim1, op, "dim1", 3), int_arg(dim2, op, "dim2", 4)
    d1, d2 = norm_dim(dim1, rank, op), norm_dim(dim2, rank, op)
    if d1 == d2:
        raise err(RuntimeError, f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor:
    """The diagonal ``offset`` of the matrices over ``dim1`` and ``dim2``, as the last dim of a
    tensor holding the other dims in order (torch.diagonal).

    A strided slice of the matrices read row by row, so it is a view, as torch's, when the two
    dims are the last two (the usual case). Otherwise the dims are moved there first, and
    where that move cannot be flattened without a copy (dims 0 and 2 of a 3-d tensor) the
    result is a copy: an in-place change of it does not reach ``input``, unlike torch's."""
    offset = int_arg(offset, "diagonal", "offset", 2)
    d1, d2 = _two_dims("diagonal", dim1, dim2, input.dim())
    if d1 > d2:  # the same diagonal, read from the other side: keeps the view for dims (-1, -2)
        d1, d2, offset = d2, d1, -offset
    rest = [d for d in range(input.dim()) if d not in (d1, d2)]
    n1, n2 = input.shape[d1], input.shape[d2]
    moved = sh.permute(input, rest + [d1, d2])
    flat = sh.reshape(moved, [input.shape[d] for d in rest] + [n1 * n2])
    start, length, step = _diagonal_run(n1, n2, offset)
    return sh.slice_dim(flat, len(rest), start, start + step * (length - 1) + 1 if length else 0, step)


_matrix_diagonal = diagonal  # for diag, whose argument ``diagonal`` hides the function


def diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """A tensor whose matrices over ``dim1``, ``dim2`` hold the last dim of ``input`` on their
    diagonal ``offset`` and zeros elsewhere (torch.diag_embed)."""
    offset = int_arg(offset, "diag_embed", "offset", 2)
    rank = input.dim() + 1
    d1, d2 = _two_dims("diag_embed", dim1, dim2, rank)
    n = input.shape[-1]
    m = n + abs(offset)
    source = np.full(m * m, n, dtype=np.int64)  # position n of the padded input holds the zero
    source[_diagonal_positions(m, m, offset)] = np.arange(n)
    pads = [0] * (2 * input.dim())
    pads[-1] = 1
    padded = apply(S.pad, [input], S.PadAttrs(tuple(pads)))
    square = sh.reshape(ix.index_select(padded, -1, cr.tensor(source)), list(input.shape[:-1]) + [m, m])
    batch = iter(range(rank - 2))
    return sh.permute(square, [rank - 2 if d == d1 else rank - 1 if d == d2 else next(batch) for d in range(rank)])


def diag(input, diagonal=0) -> Tensor:
    """A vector as a square matrix with it on diagonal ``diagonal``, or a matrix's diagonal
    ``diagonal`` as a vector (torch.diag)."""
    int_arg(diagonal, "diag", "diagonal", 2)
    if input.dim() == 1:
        return diag_embed(input, diagonal)
    if input.dim() == 2:
        return _matrix_diagonal(input, diagonal)
    raise err(RuntimeError, f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


def _index_args(fn: str, row, col, offset, dtype):
    for position, (name, v) in enumerate((("row", row), ("col", col), ("offset", offset)), 1):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise err(TypeError, f"{fn}(): argument '{name}' (position {position}) must be int, not "
                      f"{type(v).__name__}")
    for name, v in (("row", row), ("col", col)):
        if v < 0:
            raise err(RuntimeError, f"{name} must be non-negative, got{v}")  # sic: torch's message
    dtype = dtypes.int64 if dtype is None else dtype
    if dtype not in (dtypes.int32, dtypes.int64):
        raise err(NotImplementedError, f"\"{fn}\" not implemented for '{scalar_type_name(dtype)}'")
    return dtype


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col`` matrix from
    diagonal ``offset`` down, row by row (torch.tril_indices)."""
    dtype = _index_args("tril_indices", row, col, offset, dtype)
    return cr.tensor(np.stack(np.tril_indices(row, offset, col)).astype(dtype.np), device=device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix from
    diagonal ``offset`` up, row by row (torch.triu_indices)."""
    dtype = _index_args("triu_indices", row, col, offset, dtype)
    return cr.tensor(np.stack(np.triu_indices(row, offset, col)).astype(dtype.np), device=device)


def rot90(input, k=1, dims=(0, 1)) -> Tensor:
    """``input`` turned by 90 degrees ``k`` times, from the first of ``dims`` towards the second
    (torch.rot90): flips and a transpose."""
    k = int_arg(k, "rot90", "k", 2)
    dims = list(dims)
    for i, d in enumerate(dims):
        if not _is_int(d):
            raise err(TypeError, "rot90(): argument 'dims' (position 3) must be tuple of ints, but found element of "
                      f"type {type(d).__name__} at pos {i}")
    if len(dims) != 2:
        raise err(RuntimeError, f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise err(RuntimeError, f"expected total dims >= 2, but got total dims = {input.dim()}")
    a, b = (norm_dim(d, input.dim(), "rot90") for d in dims)
    if a == b:
        raise err(RuntimeError, f"expected rotation dims to be different, but got dim0 = {dims[0]} and "
                  f"dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return sh.transpose(sq.flip(input, [b]), a, b)
    if k == 2:
        return sq.flip(input, [a, b])
    if k == 3:
        return sh.transpose(sq.flip(input, [a]), a, b)
    return clone(input)


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _bad_split_arguments(spec, dim) -> Exception:
    """torch's overload-resolution TypeError; it lists the argument types as passed (a dim of
    0 is taken as not passed)."""
    shown = ["Tensor", type(spec).__name__] + ([type(dim).__name__] if not _is_int(dim) or dim != 0 else [])
    return err(TypeError, f"tensor_split() received an invalid combination of arguments - got ({', '.join(shown)}), "
               "but expected one of:\n * (Tensor input, tuple of ints indices, int dim = 0)\n * (Tensor input, "
               "Tensor tensor_indices_or_sections, int dim = 0)\n * (Tensor input, int sections, int dim = 0)")


def _split_points(indices_or_sections, n: int, dim) -> list[int]:
    """tensor_split's boundaries: ``sections`` pieces (the first ``n % sections`` one longer), or
    the given indices as they are."""
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype != dtypes.int64:
            raise err(RuntimeError, "tensor_split expected tensor_indices_or_sections to have dtype of long, but "
                      f"got {scalar_type_name(spec.dtype)}")
        if spec.dim() > 1:
            raise err(RuntimeError, "tensor_split expected tensor_indices_or_sections to be a zero-dimensional "
                      f"or one-dimensional tensor, but got a tensor with {spec.dim()} dims")
        spec = int(spec.item()) if spec.dim() == 0 else [int(v) for v in spec.tolist()]
    if _is_int(spec):
        if spec <= 0:
            raise err(RuntimeError, f"number of sections must be larger than 0, got {spec}")
        size, longer = divmod(n, int(spec))
        return [i * size + min(i, longer) for i in range(1, int(spec))]
    if isinstance(spec, (list, tuple)) and all(_is_int(v) for v in spec):
        return [int(v) for v in spec]
    raise _bad_split_arguments(indices_or_sections, dim)


def tensor_split(input, indices_or_sections=None, /, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """``input`` cut along ``dim`` into pieces (views): ``sections`` near-equal ones, or at the
    given indices, each piece ``input[i:j]`` with Python's slice rules (torch.tensor_split).
    As torch's, the second argument is positional or one of the keywords ``sections``,
    ``indices`` and ``tensor_indices_or_sections``."""
    given = [v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections) if v is not None]
    if len(given) != 1:
        raise err(TypeError, "tensor_split() takes one of indices_or_sections (positional), sections, indices "
                  f"or tensor_indices_or_sections, got {len(given)}")
    indices_or_sections = given[0]
    if not _is_int(dim):
        raise _bad_split_arguments(indices_or_sections, dim)
    if input.dim() == 0:
        raise err(RuntimeError, "tensor_split expected at least a 1-dimensional tensor, but got a tensor with "
                  "0 dims")
    d = norm_dim(dim, input.dim(), "tensor_split")
    n = input.shape[d]
    points = _split_points(indices_or_sections, n, dim)
    pieces = []
    for start, end in zip([0] + points, points + [n]):
        lo, hi, _ = slice(start, end).indices(n)
        pieces.append(sh.slice_dim(input, d, lo, max(lo, hi), 1))
    return tuple(pieces)


def take_along_dim(input, indices, dim=None) -> Tensor:
    """``input`` read at ``indices`` along ``dim`` (the other dims broadcast), or the flattened
    input read at the flattened indices when ``dim`` is None (torch.take_along_dim)."""
    if indices.dtype != dtypes.int64:
        raise err(RuntimeError, "torch.take_along_dim(): dtype of indices should be Long but got "
                  f"{scalar_type_name(indices.dtype)}")
    if dim is None:
        return ix.gather(sh.reshape(input, -1), 0, sh.reshape(indices, -1))
    int_arg(dim, "take_along_dim", "dim", 3)
    if input.dim() != indices.dim():
        raise err(RuntimeError, "torch.take_along_dim(): input and indices should have the same number of "
                  f"dimensions, but got {input.dim()} dimensions for input, and {indices.dim()} dimensions for "
                  "indices")
    if input.dim() == 0:
        raise err(IndexError, f"Dimension specified as {dim} but tensor has no dimensions")
    d = norm_dim(dim, input.dim(), "take_along_dim")
    shape = _broadcast_except(list(input.shape), list(indices.shape), d)
    x = sh.expand(input, shape[:d] + [input.shape[d]] + shape[d + 1:])
    i = sh.expand(indices, shape[:d] + [indices.shape[d]] + shape[d + 1:])
    return ix.gather(x, d, i)


def _broadcast_except(a: list, b: list, d: int) -> list:
    out = []
    for k, (x, y) in enumerate(zip(a, b)):
        if k != d and x != y and 1 not in (x, y):
            raise err(RuntimeError, f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                      f"non-singleton dimension {k}")
        out.append(1 if k == d else max(x, y) if 0 not in (x, y) else 0)
    return out


def diff(input, n=1, dim=-1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference along ``dim``, of ``input`` with ``prepend`` before and
    ``append`` after it (torch.diff); for bool tensors, x[i + 1] != x[i]."""
    int_arg(n, "diff", "n", 2), int_arg(dim, "diff", "dim", 3)
    if input.dim() == 0:
        raise err(RuntimeError, "diff expects input to be at least one-dimensional")
    if n < 0:
        raise err(RuntimeError, f"order must be non-negative but got {n}")
    d = norm_dim(dim, input.dim(), "diff")
    parts = [_diff_part(prepend, "prepend", 4, input, d), input, _diff_part(append, "append", 5, input, d)]
    parts = [p for p in parts if p is not None]
    x = sh.cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        later, earlier = sh.slice_dim(x, d, 1, size, 1), sh.slice_dim(x, d, 0, size - 1, 1)
        x = ew.logical_xor(later, earlier) if x.dtype == dtypes.bool_ else ew.sub(later, earlier)
    return clone(x) if x is input else x


def _diff_part(t, name: str, position: int, input, d: int):
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise err(TypeError, f"diff(): argument '{name}' (position {position}) must be Tensor, not {type(t).__name__}")
    if t.dim() != input.dim():
        raise err(RuntimeError, "diff expects prepend or append to be the same dimension as input")
    for k in range(input.dim()):
        if k != d and t.shape[k] != input.shape[k]:
            raise err(RuntimeError, "diff expects the shape of tensor to prepend or append to match that of input "
                      f"except along the differencing dimension; input.size({k}) = {input.shape[k]}, but got "
                      f"tensor.size({k}) = {t.shape[k]}")
    return t


def trace_method(self) -> Tensor:
    """``x.trace()``: the sum of a matrix's main diagonal (torch.Tensor.trace). Only the method:
    ``tracer.trace`` is the jit's ``trace``. Integer inputs sum in int64, as torch's."""
    if self.dim() != 2:
        raise err(RuntimeError, f"trace: expected a matrix, but got tensor with dim {self.dim()}")
    if self.dtype == dtypes.bool_:
        raise err(NotImplementedError, "\"trace\" not implemented for 'Bool'")
    return rd.sum(diagonal(self))
