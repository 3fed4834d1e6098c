"""Reductions: sum, mean, var, std, prod, max/min (with and without dim), arg-reductions,
logsumexp, softmax and log_softmax (compositions, stabilised by a detached max)."""
from __future__ import annotations

import math
from collections import namedtuple

from ir import dtypes
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import reduce as R
from tracer.core import tracing
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.ops import elementwise as ew
from tracer.ops._util import cast, is_scalar, norm_dim, norm_dims, numpy_names, scalar, to_float
from tracer.ops.conversion import clone
from tracer.core.tensor import Tensor

values_indices = namedtuple("values_indices", ["values", "indices"])


def _reduce(op, x, d, keepdim) -> Tensor:
    axes = norm_dims(d, x.dim(), op.name) if not (isinstance(d, (tuple, list)) and len(d) == 0) else tuple(range(x.dim()))
    return apply(op, [x], R.ReduceAttrs(axes, bool(keepdim)))


def _count(x, d) -> Tensor:
    """The element count over ``d`` as a 0-d tensor of x's dtype: a graph op, so exported
    means follow the runtime shape."""
    axes = norm_dims(d, x.dim(), "mean") if d is not None else tuple(range(x.dim()))
    return apply(R.numel, [x], R.NumelAttrs(axes, x.dtype))


@numpy_names
def sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    x = input
    if dtype is not None:
        x = cast(x, dtype)
    elif not x.dtype.is_floating_point:
        x = cast(x, dtypes.int64)
    return _reduce(R.sum_, x, dim, keepdim)


@numpy_names
def prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    x = cast(input, dtype) if dtype is not None else input
    if dtype is None and not x.dtype.is_floating_point:
        x = cast(x, dtypes.int64)
    return _reduce(R.prod, x, dim, keepdim)


@numpy_names
def mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    x = cast(input, dtype) if dtype is not None else input
    if not x.dtype.is_floating_point:
        raise err(RuntimeError, f"mean(): could not infer output dtype. Input dtype must be either a floating "
                  f"point or complex dtype. Got: {scalar_type_name(x.dtype)} (input: {x._type})")
    if dim is not None:
        norm_dims(dim, x.dim(), "mean")  # a bad dim is named as mean's, not as the sum's inside it
    return ew.div(sum(x, dim, keepdim), _count(x, dim))


@numpy_names
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """Variance with Bessel's correction by default (``correction=1``), as torch.var."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    _need_floating(input, "std and var")
    x = input
    centred = ew.sub(x, mean(x, dim, keepdim=True))
    dof = ew.clamp(ew.sub(_count(x, dim), float(correction)), min=0.0)
    out = ew.div(sum(ew.mul(centred, centred), dim, keepdim), dof)
    n = math.prod(x.shape[a] for a in norm_dims(dim, x.dim(), "var"))
    return _no_dof_gradient(x, out, dim, keepdim, n - correction) if n - correction <= 0 else out


def _no_dof_gradient(x, out, dim, keepdim, dof) -> Tensor:
    """``out`` (correction >= N: inf, or nan where every x is its mean) with torch's gradient:
    over all dims grad * (nan where x == mean, else inf), over given dims 2 / dof * grad * (x - mean)
    (+-inf when dof is 0). Differentiated as composed, inf - inf through the mean makes it nan.
    The value is detached; a zero-valued term carries the gradient: ``y = x - detach(x)`` is 0
    with gradient 1, and ``sqrt(y)`` is 0 with gradient inf. (dof is fixed by the traced shape.)"""
    m = _detached(mean(x, dim, keepdim=True))
    y = ew.sub(x, _detached(x))
    if dim is None or x.dim() == 0:
        carrier, w = ew.sqrt(y), ew.where(ew.eq(x, m), scalar(0.0, x.dtype), scalar(1.0, x.dtype))
    elif dof == 0:
        carrier, w = ew.sqrt(y), ew.sub(x, m)
    else:
        carrier, w = y, ew.mul(ew.sub(x, m), 2.0 / dof)
    return ew.add(_detached(out), sum(ew.mul(carrier, _detached(w)), dim, keepdim))


def _detached(t) -> Tensor:
    return apply(E.detach, [t])


@numpy_names
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    return _sqrt_zero_grad_at_zero(var(input, dim, unbiased, keepdim, correction=correction))


def _sqrt_zero_grad_at_zero(v) -> Tensor:
    """sqrt(v) whose gradient is 0 where v == 0 (torch's std and norm backward mask it there;
    sqrt's own gradient would be g / 0 = inf, and inf * 0 = nan upstream). The sqrt reads
    where(v == 0, 1, v), which changes no value but keeps the division finite."""
    zero = ew.eq(v, 0.0)
    root = ew.sqrt(ew.where(zero, scalar(1.0, v.dtype), v))
    return ew.where(zero, scalar(0.0, v.dtype), root)


def _need_floating(input, op: str) -> None:
    if not input.dtype.is_floating_point:
        raise err(RuntimeError, f"{op} only support floating point and complex dtypes (input: {input._type})")


@numpy_names
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    _need_floating(input, "var_mean")
    return var(input, dim, unbiased, keepdim, correction=correction), mean(to_float(input), dim, keepdim)


@numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    _need_floating(input, "std_mean")
    return std(input, dim, unbiased, keepdim, correction=correction), mean(to_float(input), dim, keepdim)


def _need_elements(x, name):
    """An extremum of no elements has no value: torch asks for a dim (whose empty result is fine)."""
    if x.numel() == 0:
        raise err(RuntimeError, f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                  f"Specify the reduction dim with the 'dim' argument. (input: {x._type})")


@numpy_names
def amax(input, dim=(), keepdim=False) -> Tensor:
    if dim in ((), None):
        _need_elements(input, "amax")
    return _reduce(R.amax, input, dim if dim != () else None, keepdim)


@numpy_names
def amin(input, dim=(), keepdim=False) -> Tensor:
    if dim in ((), None):
        _need_elements(input, "amin")
    return _reduce(R.amin, input, dim if dim != () else None, keepdim)


def _arg(op, x, d, keepdim) -> Tensor:
    if x.dtype == dtypes.bool_:  # torch's kernels refuse it (max(dim) of bool, with its indices, is fine)
        raise err(RuntimeError, f"{op.name}(): does not support bool input (input: {x._type})")
    if d is None:
        flat = x.reshape(-1)
        out = apply(op, [flat], R.ArgAttrs(0, False))
        return out.reshape([1] * x.dim()) if keepdim else out
    return apply(op, [x], R.ArgAttrs(norm_dim(d, x.dim(), op.name), bool(keepdim)))


@numpy_names
def argmax(input, dim=None, keepdim=False) -> Tensor:
    return _arg(R.argmax, input, dim, keepdim)


@numpy_names
def argmin(input, dim=None, keepdim=False) -> Tensor:
    return _arg(R.argmin, input, dim, keepdim)


def _extremum(full, pairwise, arg, input, dim_or_other, keepdim):
    """max()/min(): whole tensor, elementwise against another tensor, or (values, indices) over a dim."""
    if dim_or_other is None:
        _need_elements(input, arg.name[3:])
        if input.dtype.is_floating_point and (input.requires_grad or tracing.current() is not None):
            return _nan_aware_full(full, input)
        return full(input)
    if isinstance(dim_or_other, Tensor):
        return pairwise(input, dim_or_other)
    d = norm_dim(dim_or_other, input.dim(), arg.name[3:])  # argmax -> max: the function the user called
    idx = apply(arg, [input], R.ArgAttrs(d, True))
    if input.dim() == 0:  # the value itself, as a new tensor (torch's max(dim) never aliases)
        return values_indices(clone(input), idx)
    values = apply(I.gather_elements, [input, idx], I.AxisAttrs(d))
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return values_indices(values, idx)


def _nan_aware_full(full, x) -> Tensor:
    """Whole-tensor max()/min() with torch's gradient when x holds NaN: the result is NaN and
    torch hands g / (number of NaNs) to each NaN (evenly_distribute_backward), where amax's
    rule (g / ties at the extremum) would give NaN everywhere. Without NaNs this is amax."""
    n = ew.isnan(x)
    fill = scalar(-math.inf if full is amax else math.inf, x.dtype)
    plain = full(ew.where(n, fill, x))
    count = sum(n)
    nan_mean = ew.div(sum(ew.where(n, x, scalar(0.0, x.dtype))), ew.clamp_min(cast(count, x.dtype), 1))
    return ew.where(ew.gt(count, 0), nan_mean, plain)


@numpy_names
def max(input, dim=None, keepdim=False):
    return _extremum(amax, ew.maximum, R.argmax, input, dim, keepdim)


@numpy_names
def min(input, dim=None, keepdim=False):
    return _extremum(amin, ew.minimum, R.argmin, input, dim, keepdim)


def _shift(x, d):
    """The max over ``d`` (kept), detached: a stabiliser that does not change the result. An
    infinite max (a row holding +inf, or only -inf: a fully masked attention row) shifts by 0,
    as torch does, so the result is +inf/-inf instead of inf - inf = nan. An empty ``d`` has no
    max (amax rejects it) and needs no shift: its sum of exps is 0, so the result is -inf, as torch's."""
    if 0 in [x.shape[a] for a in norm_dims(d, x.dim(), "logsumexp")]:
        return scalar(0.0, x.dtype)
    m = apply(E.detach, [amax(x, d, keepdim=True)])
    return ew.where(ew.isinf(m), scalar(0.0, m.dtype), m)


@numpy_names
def logsumexp(input, dim, keepdim=False) -> Tensor:
    x = to_float(input)
    m = _shift(x, dim)
    out = ew.add(m, ew.log(sum(ew.exp(ew.sub(x, m)), dim, keepdim=True)))
    return out if keepdim else out.squeeze(norm_dims(dim, x.dim(), "logsumexp"))


@numpy_names
def softmax(input, dim=None, dtype=None, **_legacy) -> Tensor:
    return _softmax_family(R.softmax, input, dim, dtype)


@numpy_names
def log_softmax(input, dim=None, dtype=None, **_legacy) -> Tensor:
    return _softmax_family(R.log_softmax, input, dim, dtype)


def _softmax_family(op, input, dim, dtype) -> Tensor:
    """A 0-d input is softmaxed as one element (torch accepts dims 0 and -1 for it)."""
    x = cast(input, dtype) if dtype is not None else input
    if not x.dtype.is_floating_point:
        raise err(NotImplementedError, f'"{op.name}" not implemented for \'{scalar_type_name(x.dtype)}\' '
                  f"(input: {x._type}; pass dtype= to compute in a floating-point type)")
    axis = norm_dim(_softmax_dim(x, dim), x.dim(), op.name)
    if x.dim() == 0:
        return apply(op, [x.reshape(1)], R.SoftmaxAttrs(0)).reshape(())
    return apply(op, [x], R.SoftmaxAttrs(axis))


def _softmax_dim(x, d):
    if d is None:  # torch's legacy implicit choice
        return 0 if x.dim() in (0, 1, 3) else 1
    return d


@numpy_names
def all(input, dim=None, keepdim=False) -> Tensor:
    bad = ew.logical_not(cast(input, dtypes.bool_))
    return ew.eq(sum(cast(bad, dtypes.int64), dim, keepdim), 0)


@numpy_names
def any(input, dim=None, keepdim=False) -> Tensor:
    return ew.gt(sum(cast(cast(input, dtypes.bool_), dtypes.int64), dim, keepdim), 0)


@numpy_names
def count_nonzero(input, dim=None) -> Tensor:
    return sum(cast(cast(input, dtypes.bool_), dtypes.int64), dim)


def norm(input, p="fro", dim=None, keepdim=False) -> Tensor:
    if not input.dtype.is_floating_point:
        raise err(RuntimeError, f"norm: linalg.vector_norm: Expected a floating point or complex tensor as input. "
                  f"Got {scalar_type_name(input.dtype)} (input: {input._type})")
    x = input
    if p in ("fro", 2, 2.0):
        return _sqrt_zero_grad_at_zero(sum(ew.mul(x, x), dim, keepdim))
    if p in (1, 1.0):
        return sum(ew.abs(x), dim, keepdim)
    if is_scalar(p) and p == float("inf"):
        return amax(ew.abs(x), dim if dim is not None else (), keepdim)
    if is_scalar(p) and p == float("-inf"):
        return amin(ew.abs(x), dim if dim is not None else (), keepdim)
    if is_scalar(p) and p == 0:  # the count of nonzero elements, as torch's vector_norm(ord=0)
        # counted through x itself (x * 0 where it is 0) so the result has torch's zero gradient
        return sum(ew.where(ew.ne(x, 0), 1.0, ew.mul(x, 0.0)), dim, keepdim)
    return ew.pow(sum(ew.pow(ew.abs(x), p), dim, keepdim), 1.0 / p)


def bucketize(input, boundaries, *, out_int32=False, right=False) -> Tensor:
    """The bucket of each value: the count of boundaries below it (``right=False``: strictly below)."""
    x = input.unsqueeze(-1) if input.dim() else input.reshape(1)
    below = ew.le(boundaries, x) if right else ew.lt(boundaries, x)
    out = sum(below, dim=-1) if input.dim() else sum(below)
    return cast(out, dtypes.int32 if out_int32 else dtypes.int64)
