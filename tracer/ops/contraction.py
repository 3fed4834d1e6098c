"""Tensor contractions and products built from them: einsum, tensordot, inner, kron, cross,
cdist, cartesian_prod, block_diag.

All are compositions. einsum takes each operand's repeated subscripts as diagonals, sums the
subscripts no one else needs, then contracts the operands left to right, each pair as one
batched ``matmul`` of permuted, reshaped operands (a broadcast product when nothing is summed)."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ir import dtypes
from ir.ops import shape as S
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.core.promotion import result_type
from tracer.core.tensor import Tensor
from tracer.ops import creation as cr
from tracer.ops import elementwise as ew
from tracer.ops import linalg as la
from tracer.ops import reduce as rd
from tracer.ops import shape as sh
from tracer.ops._util import cast, norm_dim, scalar
from tracer.ops.conversion import clone
from tracer.ops.diagonal import diagonal, int_arg


# ---- einsum: parsing ----

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_EINSUM = "einsum(): "


def _einsum_fail(detail: str, cls: type[Exception] = RuntimeError) -> Exception:
    return err(cls, _EINSUM + detail)


def _parse_term(text: str, start: int, what: str):
    """One term's subscripts (letters, and None for an ellipsis) from ``text``, which begins at
    index ``start`` of the equation (torch's messages count from the equation's start)."""
    labels, i = [], 0
    while i < len(text):
        c = text[i]
        if c == ".":
            if None in labels:
                raise _einsum_fail(f"found '.' for {what} for which an ellipsis was already found" if what != "output"
                                   else "found '.' for output but an ellipsis (...) was already found")
            if text[i:i + 3] != "...":
                raise _einsum_fail(f"found '.' for {what} that is not part of any ellipsis" if what != "output"
                                   else "found '.' for output that is not part of any ellipsis (...)")
            labels.append(None)
            i += 3
            continue
        if c in _LETTERS:
            labels.append(c)
        elif c != " ":
            raise _einsum_fail(f"invalid subscript given at index {start + i} in the equation string, subscripts "
                               "must be in [a-zA-Z]")
        i += 1
    return labels


def _parse_inputs(lhs: str, count: int):
    terms, start = [], 0
    for k, text in enumerate(lhs.split(",")):
        if k >= count:
            raise _einsum_fail("fewer operands were provided than specified in the equation")
        terms.append(_parse_term(text, start, f"operand {k}"))
        start += len(text) + 1
    if len(terms) != count:
        raise _einsum_fail("more operands were provided than specified in the equation")
    return terms


def _expand_ellipses(terms, operands):
    """Each operand's subscripts, one per dim; an ellipsis covers the dims no letter names,
    as integer subscripts aligned from the right across operands (they broadcast)."""
    out, width = [], 0
    for k, (term, x) in enumerate(zip(terms, operands)):
        letters = len([t for t in term if t is not None])
        if None not in term and letters != x.dim():
            raise _einsum_fail(f"the number of subscripts in the equation ({letters}) does not match the number of "
                               f"dimensions ({x.dim()}) for operand {k} and no ellipsis was given")
        if letters > x.dim():
            raise _einsum_fail(f"the number of subscripts in the equation ({letters}) is more than the number of "
                               f"dimensions ({x.dim()}) for operand {k}")
        width = max(width, x.dim() - letters)
    for term, x in zip(terms, operands):
        covered = x.dim() - len([t for t in term if t is not None])
        labels = []
        for t in term:
            labels += list(range(width - covered, width)) if t is None else [t]
        out.append(labels)
    return out, width


def _output_labels(rhs, terms, labels, width):
    """The output's subscripts: as written after '->', or the ellipsis dims then the letters
    used exactly once, in alphabetical order (upper case first), as torch's implicit form."""
    ellipsis = list(range(width))
    if rhs is None:
        counts = {}
        for ls in labels:
            for lab in ls:
                if isinstance(lab, str):
                    counts[lab] = counts.get(lab, 0) + 1
        return ellipsis + sorted(lab for lab, c in counts.items() if c == 1)
    rhs_text, start = rhs
    out = []
    for lab in _parse_term(rhs_text, start, "output"):
        if lab is None:
            out += ellipsis
            continue
        if lab in out:
            raise _einsum_fail(f"output subscript {lab} appears more than once in the output")
        if not any(lab in ls for ls in labels):
            raise _einsum_fail(f"output subscript {lab} does not appear in the equation for any input operand")
        out.append(lab)
    return out


def _check_sizes(operands, labels):
    """Each subscript's size: repeats within an operand must agree, across operands they
    broadcast (size 1). Returns the size of every subscript."""
    sizes = {}
    for k, (x, ls) in enumerate(zip(operands, labels)):
        own = {}
        for lab, n in zip(ls, x.shape):
            if lab in own and own[lab] != n:
                raise _einsum_fail(f"subscript {lab} is repeated for operand {k} but the sizes don't match, "
                                   f"{n} != {own[lab]}")
            own[lab] = n
        for lab, n in own.items():
            seen = sizes.get(lab, 1)
            if n != seen and 1 not in (n, seen):
                if isinstance(lab, int):
                    raise _einsum_fail(f"dimension {lab} covered by ellipsis in operand {k}has size {n} which does "
                                       f"not broadcast with previously seen ellipsis with size {seen} for the "
                                       "respective dimension")  # sic: torch's message has no space
                raise _einsum_fail(f"subscript {lab} has size {n} for operand {k} which does not broadcast with "
                                   f"previously seen size {seen}")
            sizes[lab] = n if seen == 1 else seen
    return sizes


# ---- einsum: evaluation ----

def _take_diagonals(x, ls):
    """``x`` with each repeated subscript reduced to its diagonal (moved to the last dim)."""
    while len(set(ls)) != len(ls):
        p = next(i for i, lab in enumerate(ls) if ls.index(lab) != i)
        q = ls.index(ls[p])
        x = diagonal(x, 0, q, p)
        ls = [lab for i, lab in enumerate(ls) if i not in (p, q)] + [ls[p]]
    return x, ls


def _broadcast_dropped(x, ls, sizes):
    """``x`` with its repeated subscripts reduced to diagonals and the size-1 dims that
    broadcast against a larger size elsewhere dropped (the product repeats them anyway)."""
    x, ls = _take_diagonals(x, list(ls))
    drop = [i for i, lab in enumerate(ls) if x.shape[i] == 1 and sizes[lab] != 1]
    if drop:
        x = sh.reshape(x, [n for i, n in enumerate(x.shape) if i not in drop])
        ls = [lab for i, lab in enumerate(ls) if i not in drop]
    return x, ls


def _summed_alone(x, ls, needed):
    """``x`` with the subscripts that neither another operand nor the output needs summed."""
    alone = [i for i, lab in enumerate(ls) if lab not in needed]
    if not alone:
        return x, ls
    return rd.sum(x, alone), [lab for i, lab in enumerate(ls) if i not in alone]


def _arranged(x, ls, order, shape):
    """``x`` with its subscripts permuted to ``order`` and reshaped to ``shape``."""
    return sh.reshape(sh.permute(x, [ls.index(lab) for lab in order]), shape)


def _pair(a, la_, b, lb, keep):
    """Two prepared operands contracted: subscripts in both that ``keep`` does not hold are
    summed, by one batched matmul (B, M, K) @ (B, K, N); without any, a broadcast product."""
    batch = [lab for lab in la_ if lab in lb and lab in keep]
    summed = [lab for lab in la_ if lab in lb and lab not in keep]
    a_only = [lab for lab in la_ if lab not in lb]
    b_only = [lab for lab in lb if lab not in la_]
    size = dict(zip(la_, a.shape)) | dict(zip(lb, b.shape))
    dims = [size[lab] for lab in batch + a_only + b_only]
    if not summed:
        ones_b, ones_a = [1] * len(b_only), [1] * len(a_only)
        left = _arranged(a, la_, batch + a_only, [size[lab] for lab in batch + a_only] + ones_b)
        right = _arranged(b, lb, batch + b_only, [size[lab] for lab in batch] + ones_a + [size[lab] for lab in b_only])
        return ew.mul(left, right), batch + a_only + b_only
    if a.dtype == dtypes.bool_:
        raise err(NotImplementedError, "\"bmm\" not implemented for 'Bool'")
    nb, nm, nk, nn = (math.prod(size[lab] for lab in group) for group in (batch, a_only, summed, b_only))
    left = _arranged(a, la_, batch + a_only + summed, [nb, nm, nk])
    right = _arranged(b, lb, batch + summed + b_only, [nb, nk, nn])
    return sh.reshape(la.matmul(left, right), dims), batch + a_only + b_only


def einsum(*args) -> Tensor:
    """Einstein summation (torch.einsum): ``einsum("bij,bjk->bik", x, y)``, the operands as
    arguments or one list, or torch's sublist form ``einsum(x, [0, 1], y, [1, 2], [0, 2])``.

    Args:
        equation: comma-separated subscripts (letters, at most one ``...`` each) per operand,
            optionally ``->`` and the output's; without it, the output holds the ellipsis dims,
            then the letters used once, in alphabetical order. A letter repeated in one operand
            takes a diagonal; letters missing from the output are summed.
    Returns:
        The contracted tensor, of the operands' common dtype.
    Raises:
        RuntimeError: a malformed equation, subscripts that do not fit the operands' dims or
            sizes, or operands of different dtypes (torch's messages).
    """
    equation, operands = _einsum_arguments(args)
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    rhs = None if arrow < 0 else (equation[arrow + 2:], arrow + 2)
    terms = _parse_inputs(lhs, len(operands))
    labels, width = _expand_ellipses(terms, operands)
    out = _output_labels(rhs, terms, labels, width)
    sizes = _check_sizes(operands, labels)
    for x in operands[1:]:
        if x.dtype != operands[0].dtype:
            raise err(RuntimeError, f"expected scalar type {scalar_type_name(operands[0].dtype)} but found "
                      f"{scalar_type_name(x.dtype)}")
    return _evaluate(list(operands), labels, out, sizes)


def _evaluate(operands, labels, out, sizes) -> Tensor:
    staged = [_broadcast_dropped(x, ls, sizes) for x, ls in zip(operands, labels)]
    prepared = []
    for k, (x, ls) in enumerate(staged):
        others = {lab for j, (_, o) in enumerate(staged) if j != k for lab in o}
        prepared.append(_summed_alone(x, ls, others | set(out)))
    x, ls = prepared[0]
    for k in range(1, len(prepared)):
        keep = set(out) | {lab for _, o in prepared[k + 1:] for lab in o}
        x, ls = _pair(x, ls, *prepared[k], keep)
    result = sh.permute(x, [ls.index(lab) for lab in out])  # every output subscript survives: only
    # size-1 dims that broadcast against a larger one were dropped, and the larger one stays
    return clone(result) if any(result is operand for operand in operands) else result


def _einsum_arguments(args):
    """(equation, operands) from torch's two calling forms."""
    if not args:
        raise err(TypeError, "einsum(): must specify the equation string and at least one operand, or at least one "
                  "operand and its subscripts list")
    if isinstance(args[0], Tensor):
        return _sublist_equation(args)
    equation, operands = args[0], args[1:]
    if not isinstance(equation, str):
        raise err(TypeError, f"einsum(): argument 'equation' (position 1) must be str, not {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise _einsum_fail("must specify the equation string and at least one operand, or at least one operand "
                           "and its subscripts list", ValueError)
    for k, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise err(TypeError, f"expected Tensor as element {k} in argument 1, but got {type(x).__name__}")
    return equation, operands


def _sublist_equation(args):
    """torch's ``einsum(op1, sublist1, op2, sublist2, ..., [sublist_out])``: integers in
    [0, 52) stand for A-Z then a-z, ``...`` (Ellipsis) for an ellipsis."""
    operands = args[0::2][:len(args) // 2]
    terms = ["".join(_sublist_letter(s) for s in sub) for sub in args[1::2][:len(args) // 2]]
    equation = ",".join(terms)
    if len(args) % 2:
        equation += "->" + "".join(_sublist_letter(s) for s in args[-1])
    return equation, operands


def _sublist_letter(s) -> str:
    if s is Ellipsis:
        return "..."
    if isinstance(s, (int, np.integer)) and 0 <= s < 52:
        return chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26)
    raise err(ValueError, "einsum(): subscript in subscript list is not within the valid range [0, 52)")


# ---- tensordot, inner ----

def _dims_list(value, position: int) -> list[int]:
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise err(TypeError, f"tensordot(): argument '{'dims_other' if position == 4 else 'dims_self'}' (position "
                  f"{position}) must be tuple of ints, not {type(value).__name__}")
    return [int(v) for v in value]


def _tensordot_dims(a, b, dims):
    if isinstance(dims, Tensor) and dims.dim() == 0:
        dims = int(dims.item())
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if dims < 0:
            raise err(RuntimeError, f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.dim() or dims > b.dim():
            raise err(RuntimeError, f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(a.dim() - dims, a.dim())), list(range(dims))
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (list, tuple)) and len(dims) == 2:
        if isinstance(dims[0], (int, np.integer)) and not isinstance(dims[0], bool):
            raise err(TypeError, "tensordot(): argument 'dims_self' (position 3) must be tuple of ints, not int")
        return _dims_list(dims[0], 3), _dims_list(dims[1], 4)
    raise err(RuntimeError, "tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] "
              f"containing two lists, but got dims={dims}")


def tensordot(a, b, dims=2, out=None) -> Tensor:
    """The sum of products of ``a`` and ``b`` over the dims ``dims`` pairs up (torch.tensordot):
    an int n pairs the last n dims of ``a`` with the first n of ``b``; a pair of lists names
    them. The result holds ``a``'s other dims, then ``b``'s."""
    if out is not None:
        raise err(RuntimeError, "tensordot(): out= is not supported")
    if a.dtype != b.dtype:
        raise err(RuntimeError, "both inputs should have same dtype")
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    if len(dims_a) != len(dims_b):
        raise err(RuntimeError, "both dimension lists should have same length")
    da = [norm_dim(d, a.dim(), "tensordot") for d in dims_a]
    db = [norm_dim(d, b.dim(), "tensordot") for d in dims_b]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]):
            raise err(RuntimeError, f"contracted dimensions need to match, but first has size {a.shape[i]} in dim "
                      f"{i} and second has size {b.shape[j]} in dim {j}")
    la_ = [("a", i) for i in range(a.dim())]
    lb = [("b", j) for j in range(b.dim())]
    for i, j in zip(da, db):
        lb[j] = la_[i] = ("sum", i)
    out_labels = [lab for lab in la_ if lab[0] == "a"] + [lab for lab in lb if lab[0] == "b"]
    return einsum_labels([a, b], [la_, lb], out_labels)


def einsum_labels(operands, labels, out) -> Tensor:
    """einsum with its subscripts given as lists of any hashable labels (for tensordot)."""
    return _evaluate(list(operands), labels, out, _check_sizes(operands, labels))


def inner(input, other) -> Tensor:
    """The sums of products over the last dim of both (torch.inner); with a 0-d operand, the
    product."""
    if input.dim() == 0 or other.dim() == 0:
        return ew.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise err(RuntimeError, "inner() the last dimension must match on both input tensors but got shapes "
                  f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


# ---- kron, cross ----

def kron(input, other) -> Tensor:
    """The Kronecker product (torch.kron): block (i, j, ...) is ``input[i, j, ...] * other``."""
    rank = max(input.dim(), other.dim())
    sa = [1] * (rank - input.dim()) + list(input.shape)
    sb = [1] * (rank - other.dim()) + list(other.shape)
    a = sh.reshape(input, [v for n in sa for v in (n, 1)])
    b = sh.reshape(other, [v for n in sb for v in (1, n)])
    return sh.reshape(ew.mul(a, b), [x * y for x, y in zip(sa, sb)])


def cross(input, other, dim=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (torch.cross), the other dims broadcast;
    without ``dim``, the first dim of size 3 (deprecated in torch, which warns)."""
    if input.dtype != other.dtype:
        raise err(RuntimeError, f"expected scalar type {scalar_type_name(input.dtype)} but found "
                  f"{scalar_type_name(other.dtype)}")
    if input.dim() != other.dim():
        raise err(RuntimeError, "linalg.cross: inputs must have the same number of dimensions.")
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        found = [i for i, n in enumerate(input.shape) if n == 3]
        if not found:
            raise err(RuntimeError, "no dimension of size 3 in input")
        d = found[0]
    else:
        d = norm_dim(int_arg(dim, "cross", "dim", 3), input.dim(), "cross")
        if input.shape[d] != 3 or other.shape[d] != 3:
            raise err(RuntimeError, f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                      f"{input.shape[d]} and {other.shape[d]}")
    a = [sh.slice_dim(input, d, i, i + 1, 1) for i in range(3)]
    b = [sh.slice_dim(other, d, i, i + 1, 1) for i in range(3)]
    parts = [ew.sub(ew.mul(a[(i + 1) % 3], b[(i + 2) % 3]), ew.mul(a[(i + 2) % 3], b[(i + 1) % 3])) for i in range(3)]
    return sh.cat(parts, d)


# ---- cdist ----

_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def _cdist_checks(x1, x2, p, compute_mode) -> None:
    if compute_mode not in _COMPUTE_MODES:
        raise err(ValueError, f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise err(RuntimeError, f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise err(RuntimeError, f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
                  f"{x2.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.dtype.is_floating_point:
            raise err(RuntimeError, f"cdist only supports floating-point dtypes, {name} got: "
                      f"{scalar_type_name(x.dtype)}")
    if p < 0:
        raise err(RuntimeError, "cdist only supports non-negative p values")
    if x1.dtype != x2.dtype:
        raise err(RuntimeError, f"expected scalar type {scalar_type_name(x1.dtype)} but found "
                  f"{scalar_type_name(x2.dtype)}")
    batch1, batch2 = list(x1.shape[:-2]), list(x2.shape[:-2])
    rank = max(len(batch1), len(batch2))
    batch1, batch2 = [1] * (rank - len(batch1)) + batch1, [1] * (rank - len(batch2)) + batch2
    for k, (n1, n2) in enumerate(zip(batch1, batch2)):
        if n1 != n2 and 1 not in (n1, n2):
            raise err(RuntimeError, f"The size of tensor a ({n1}) must match the size of tensor b ({n2}) at "
                      f"non-singleton dimension {k}")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distances between the rows of ``x1`` (..., P, M) and of ``x2`` (..., R, M), as
    (..., P, R), the leading dims broadcast (torch.cdist).

    Every ``compute_mode`` computes the distances directly from the differences: torch's matrix
    product form for p=2 (taken when P or R exceeds 25) trades accuracy for speed, so results
    there agree with torch's to float32 rounding only. The gradient is 0 at zero distance, as
    torch's."""
    _cdist_checks(x1, x2, p, compute_mode)
    d = ew.sub(sh.unsqueeze(x1, -2), sh.unsqueeze(x2, -3))
    if d.shape[-1] == 0:
        return rd.sum(d, -1)
    if p in (0, 1, 2) or p == float("inf"):
        return rd.norm(d, p, -1)
    total = rd.sum(ew.pow(ew.abs(d), p), -1)
    zero = ew.eq(total, 0.0)
    root = ew.pow(ew.where(zero, scalar(1.0, total.dtype), total), 1.0 / p)
    return ew.where(zero, scalar(0.0, total.dtype), root)


# ---- cartesian_prod, block_diag ----

def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one entry of each 1-D tensor, as the rows of a (N, len(tensors))
    tensor, the last tensor varying fastest (torch.cartesian_prod); one tensor is returned as is."""
    for x in tensors:
        if x.dim() != 1:
            raise err(RuntimeError, f"Expect a 1D vector, but got shape {list(x.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    if not tensors:
        raise err(RuntimeError, "meshgrid expects a non-empty TensorList")
    if any(x.dtype != tensors[0].dtype for x in tensors):
        raise err(RuntimeError, "meshgrid expects all tensors to have the same dtype")
    shape = [x.shape[0] for x in tensors]
    columns = []
    for k, x in enumerate(tensors):
        placed = sh.reshape(x, [n if j == k else 1 for j, n in enumerate(shape)])
        columns.append(sh.reshape(sh.expand(placed, shape), [math.prod(shape)]))
    return sh.stack(columns, 1)


def block_diag(*tensors) -> Tensor:
    """The tensors as the blocks of a block-diagonal matrix, zeros elsewhere (torch.block_diag):
    a 0-d tensor is a 1 x 1 block, a 1-D one a single row; the dtypes promote."""
    for k, x in enumerate(tensors):
        if x.dim() > 2:
            raise err(RuntimeError, f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {k} has "
                      f"{x.dim()} dimensions")
    if not tensors:
        return cr.zeros(1, 0)  # torch's result for no blocks
    dtype = result_type(list(tensors))
    blocks = [cast(x, dtype) for x in tensors]
    blocks = [sh.reshape(x, [1, x.numel()]) if x.dim() < 2 else x for x in blocks]
    width = sum(x.shape[1] for x in blocks)
    rows, left = [], 0
    for x in blocks:
        pads = (0, left, 0, width - left - x.shape[1])
        rows.append(apply(S.pad, [x], S.PadAttrs(pads)))
        left += x.shape[1]
    return sh.cat(rows, 0)
