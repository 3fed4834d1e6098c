"""Order statistics and NaN-aware reductions: median, nanmedian, mode, quantile, nanquantile,
nanmean, nansum, cummax, cummin, logcumsumexp, cov and corrcoef.

All are compositions of existing ir ops. Order statistics sort with ``topk_indices`` (stable,
NaN largest: see tracer/ops/sorting.py) and read the chosen entry with a gather of the input,
so their gradient is gather's (a scatter of g to that index), as torch's
``value_selecting_reduction_backward``. The running ones (cummax, cummin, logcumsumexp) reduce
an (n, n) masked expansion along the dim, as ``cumprod`` does: n times the input's memory, but
exact (logcumsumexp is a stabilised logsumexp per prefix) and plain ONNX."""
from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np

from ir import dtypes
from tracer.core.errors import err, scalar_type_name
from tracer.core.tensor import Tensor
from tracer.ops import creation as cr
from tracer.ops import elementwise as ew
from tracer.ops import indexing as ix
from tracer.ops import linalg as la
from tracer.ops import reduce as rd
from tracer.ops import shape as sh
from tracer.ops._util import cast, norm_dim, numpy_names, scalar
from tracer.ops.conversion import clone
from tracer.ops.sequence import cumsum
from tracer.ops.sorting import sort

#: torch.return_types.*: tuples that also name their fields.
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _const(array) -> Tensor:
    return cr.tensor(np.asarray(array))


def _no_bool(kernel: str, x) -> None:
    """torch names its kernel (median_cpu, median_out) also for nanmedian."""
    if x.dtype == dtypes.bool_:
        raise err(NotImplementedError, f'"{kernel}" not implemented for \'Bool\' (input: {x._type})')


def _nonempty_dim(name: str, x, axis: int) -> None:
    if x.shape[axis] == 0:
        raise err(IndexError, f"{name}(): Expected reduction dim {axis} to have non-zero size. (input: {x._type})")


def _finish(values, indices, axis: int, keepdim: bool, result):
    """(values, indices) computed with the reduced dim kept last, moved back to ``axis``."""
    values, indices = sh.movedim(values, -1, axis), sh.movedim(indices, -1, axis)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return result(values, indices)


def _median_position(s, n: int, ignore_nan: bool) -> Tensor:
    """The position in the sorted last dim ``s`` (NaN last) of torch's median: the lower middle;
    for median the first NaN if there is one, for nanmedian the lower middle of the non-NaN
    entries (the first entry if all are NaN)."""
    if not s.dtype.is_floating_point:
        return cr.full(tuple(s.shape[:-1]) + (1,), (n - 1) // 2, dtype=dtypes.int64)
    finite = ew.sub(n, rd.sum(ew.isnan(s), -1, keepdim=True))  # the count of non-NaN entries
    if ignore_nan:
        return ew.clamp(ew.floor_divide(ew.sub(finite, 1), 2), min=0)
    return ew.where(ew.lt(finite, n), finite, (n - 1) // 2)


def _median_dim(name, result, input, dim, keepdim, ignore_nan):
    _no_bool("median_out", input)
    axis = norm_dim(dim, input.dim(), name)
    if input.dim() == 0:
        return result(clone(input), cr.zeros((), dtype=dtypes.int64))
    _nonempty_dim(name, input, axis)
    last = sh.movedim(input, axis, -1)
    s = sort(last, -1)
    indices = ix.gather(s.indices, -1, _median_position(s.values, last.shape[-1], ignore_nan))
    return _finish(ix.gather(last, -1, indices), indices, axis, keepdim, result)


def _evenly(x, value) -> Tensor:
    """``value`` (an entry of ``x``) whose gradient is g shared evenly among the entries of ``x``
    equal to it (all NaNs for a NaN), as torch's ``evenly_distribute_backward`` for the
    median of a whole tensor. The share is added as sum(x - value) / count over those entries,
    which is exactly 0 (an infinite value is returned as it is)."""
    v = value.detach()
    hit = ew.logical_or(ew.eq(x, v), ew.logical_and(ew.isnan(x), ew.isnan(v)))
    share = ew.div(rd.sum(ew.where(hit, ew.sub(x, v), 0.0)), rd.sum(hit))
    return ew.where(ew.isinf(v), v, ew.add(v, share))


def _median_all(name, input, keepdim, ignore_nan) -> Tensor:
    if keepdim:  # torch has keepdim only in the overload with a dim
        raise err(TypeError, f'{name}() missing 1 required positional arguments: "dim"')
    _no_bool("median_cpu", input)
    flat = input.reshape(-1)
    if flat.shape[0] == 0:
        return cr.full((), float("nan"), dtype=input.dtype)
    s = sort(flat, -1)
    position = _median_position(s.values, flat.shape[0], ignore_nan)
    value = ix.gather(s.values, -1, position).reshape(())
    return _evenly(flat, value) if input.dtype.is_floating_point else value


@numpy_names
def median(input, dim=None, keepdim=False):
    """torch.median: without ``dim`` the lower median of all entries (NaN if any is NaN); with
    ``dim`` the (values, indices) of the lower median along it (ties: the first index)."""
    if dim is None:
        return _median_all("median", input, keepdim, False)
    return _median_dim("median", median_result, input, dim, keepdim, False)


@numpy_names
def nanmedian(input, dim=None, keepdim=False):
    """torch.nanmedian: median ignoring NaN entries (NaN only where all are NaN)."""
    if dim is None:
        return _median_all("nanmedian", input, keepdim, True)
    return _median_dim("nanmedian", nanmedian_result, input, dim, keepdim, True)


@numpy_names
def mode(input, dim=-1, keepdim=False) -> mode_result:
    """torch.mode: (values, indices) of the most frequent value along ``dim``; among equally
    frequent values the smallest, and its last index. Each NaN counts once (NaN != NaN);
    torch's own answer with NaNs depends on where its std::sort (by operator<) leaves them, and
    so does its index among equal entries beyond 16 of them (std::sort is not stable there).

    On the sorted dim, runs of equal values are numbered by a cumsum of run starts; a
    scatter-add counts each run and the first longest run is the mode."""
    axis = norm_dim(dim, input.dim(), "mode")
    if input.dim() == 0:
        return mode_result(clone(input), cr.zeros((), dtype=dtypes.int64))
    _nonempty_dim("mode", input, axis)
    last = sh.movedim(input, axis, -1)
    s = sort(last, -1)
    starts = sh.cat([cr.ones(tuple(last.shape[:-1]) + (1,), dtype=dtypes.bool_),
                     ew.ne(s.values[..., 1:], s.values[..., :-1])], -1)
    run = ew.sub(cumsum(starts, -1), 1)  # the run of each sorted entry
    ones = cr.ones(tuple(run.shape), dtype=dtypes.int64)
    lengths = ix.gather(ix.scatter_add(cr.zeros(tuple(run.shape), dtype=dtypes.int64), -1, run, ones), -1, run)
    first = rd.argmax(lengths, -1, keepdim=True)
    end = ew.sub(ew.add(first, ix.gather(lengths, -1, first)), 1)
    indices = ix.gather(s.indices, -1, end)
    return _finish(ix.gather(last, -1, indices), indices, axis, keepdim, mode_result)


def _q_tensor(input, q) -> Tensor:
    if isinstance(q, Tensor):
        return q
    if not 0 <= q <= 1:
        raise err(RuntimeError, f"quantile() q must be in the range [0, 1] but got {q}")
    return scalar(float(q), input.dtype if input.dtype.is_floating_point else dtypes.float32)


def _quantile_checks(input, q, interpolation) -> None:
    if input.numel() == 0:
        raise err(RuntimeError, f"quantile() input tensor must be non-empty (input: {input._type})")
    if q.dim() > 1:
        raise err(RuntimeError, f"quantile() q must be a scalar or 1D tensor (q: {q._type})")
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise err(RuntimeError, f"quantile() input tensor must be either float or double dtype (input: {input._type})")
    if q.dtype != input.dtype:
        raise err(RuntimeError, f"quantile() q tensor must be same dtype as the input tensor "
                  f"(input: {input._type}, q: {q._type})")
    if interpolation not in _INTERPOLATIONS:
        raise err(RuntimeError, f"quantile() interpolation must be one of linear, lower, higher, midpoint or "
                  f"nearest, but got {interpolation}")
    qv = q._value
    if not np.all((qv >= 0) & (qv <= 1)):
        raise err(RuntimeError, "quantile() q values must be in the range [0, 1]")


def _ranks(q, s, ignore_nan: bool) -> Tensor:
    """torch's fractional position of each quantile in the sorted last dim ``s`` (NaN last):
    q * (n - 1), or the last position for a row holding NaN; for nanquantile q * (non-NaN
    count - 1), at least 0. Shape (len(q), ..., 1)."""
    n = s.shape[-1]
    nan = ew.isnan(s)
    if ignore_nan:
        count = ew.sub(rd.sum(ew.logical_not(nan), -1, keepdim=True), 1)
        ranks = ew.mul(q, cast(count, s.dtype))
        return ew.where(ew.lt(ranks, 0), scalar(0.0, s.dtype), ranks)
    return ew.where(rd.any(nan, -1, keepdim=True), scalar(float(n - 1), s.dtype), ew.mul(q, float(n - 1)))


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan) -> Tensor:
    q = _q_tensor(input, q)
    _quantile_checks(input, q, interpolation)
    if dim is None:
        rows, shape = input.reshape(-1), ((1,) * input.dim() if keepdim else ())
    else:
        axis = norm_dim(dim, input.dim(), name)
        rows = sh.movedim(input, axis, -1) if input.dim() else input.reshape(1)
        shape = tuple(1 if d == axis else n for d, n in enumerate(input.shape) if keepdim or d != axis)
    s = sort(rows, -1).values
    qs = q.reshape((-1,) + (1,) * s.dim())
    s = sh.unsqueeze(s, 0).expand(qs.shape[0], *s.shape)
    ranks = _ranks(qs, s, ignore_nan)
    rounding = {"lower": ew.floor, "higher": ew.ceil, "nearest": ew.round}.get(interpolation)
    ranks = rounding(ranks) if rounding else ranks
    below_at = cast(ranks, dtypes.int64)
    out = ix.gather(s, -1, below_at)
    if interpolation in ("linear", "midpoint"):
        above = ix.gather(s, -1, cast(ew.ceil(ranks), dtypes.int64))
        weights = ew.sub(ranks, below_at) if interpolation == "linear" else cr.full_like(ranks, 0.5)
        out = ew.lerp(out, above, weights)
    return out.reshape(((q.shape[0],) if q.dim() else ()) + shape)


@numpy_names
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
    """torch.quantile: the q-th quantiles of ``input`` (flattened, or along ``dim``), a row
    holding NaN giving NaN. A 1-D ``q`` adds a leading dim of its length.

    Args:
        q: a float in [0, 1], or a 0-d/1-D tensor of ``input``'s dtype.
        interpolation: between the two nearest sorted entries: linear, lower, higher,
            midpoint or nearest (round half to even, as torch).

    Raises:
        RuntimeError: an empty or non-float input, q outside [0, 1] or of another dtype."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


@numpy_names
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
    """torch.nanquantile: quantile ignoring NaN entries (NaN only where all are NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


@numpy_names
def nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """torch.nansum: sum with NaN entries counted as zero (they get no gradient)."""
    x = cast(input, dtype) if dtype is not None else input
    if x.dtype.is_floating_point:
        x = ew.where(ew.isnan(x), scalar(0.0, x.dtype), x)
    return rd.sum(x, dim, keepdim)


@numpy_names
def nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """torch.nanmean: the mean of the non-NaN entries (NaN where there are none)."""
    if not input.dtype.is_floating_point:
        raise err(RuntimeError, f"nanmean(): expected input to have floating point or complex dtype but got "
                  f"{scalar_type_name(input.dtype)} (input: {input._type})")
    count = rd.sum(ew.logical_not(ew.isnan(input)), dim, keepdim)
    return ew.div(nansum(input, dim, keepdim, dtype=dtype), count)


def _prefixes(last, fill) -> Tensor:
    """rows[..., i, j] = last[..., j] for j <= i, else ``fill``: each prefix along the last dim."""
    n = last.shape[-1]
    rows = sh.unsqueeze(last, -2).expand(*last.shape[:-1], n, n)
    return ew.where(_const(np.tril(np.ones((n, n), dtype=bool))), rows, fill)


def _cumulative_extremum(name, result, input, dim, largest: bool):
    """cummax/cummin: the running extremum and the last index reaching it; once a NaN is seen
    the value is NaN, at the index of the latest NaN (torch's CPU kernel)."""
    axis = norm_dim(dim, input.dim(), name)
    if input.dim() == 0 or input.numel() == 0:
        return result(clone(input), cr.zeros(tuple(input.shape), dtype=dtypes.int64))
    last = sh.movedim(input, axis, -1)
    keys = cast(last, dtypes.uint8) if last.dtype == dtypes.bool_ else last
    if keys.dtype.is_floating_point:
        fill = -np.inf if largest else np.inf
    else:
        info = np.iinfo(keys.dtype.np)
        fill = int(info.min if largest else info.max)
    n = last.shape[-1]
    prefixes = _prefixes(keys, scalar(fill, keys.dtype))
    best = (rd.amax if largest else rd.amin)(prefixes, -1, keepdim=True)
    mask = _const(np.tril(np.ones((n, n), dtype=bool)))
    j = _const(np.arange(n, dtype=np.int64))
    at = rd.amax(ew.where(ew.logical_and(ew.eq(prefixes, best), mask), j, -1), -1)
    if keys.dtype.is_floating_point:
        nan_at = rd.amax(ew.where(ew.logical_and(ew.isnan(prefixes), mask), j, -1), -1)
        at = ew.where(ew.ge(nan_at, 0), nan_at, at)
    at = sh.movedim(at, -1, axis)
    return result(ix.gather(input, axis, at), at)


@numpy_names
def cummax(input, dim) -> cummax_result:
    """torch.cummax: (values, indices) of the running maximum along ``dim``; ties take the later index."""
    return _cumulative_extremum("cummax", cummax_result, input, dim, True)


@numpy_names
def cummin(input, dim) -> cummin_result:
    """torch.cummin: (values, indices) of the running minimum along ``dim``; ties take the later index."""
    return _cumulative_extremum("cummin", cummin_result, input, dim, False)


@numpy_names
def logcumsumexp(input, dim) -> Tensor:
    """torch.logcumsumexp: log(cumsum(exp(x))) along ``dim``, as a stabilised logsumexp of each
    prefix (so a small entry after a large one neither overflows nor underflows to -inf)."""
    if not input.dtype.is_floating_point:
        raise err(NotImplementedError, f'"logcumsumexp_out_cpu" not implemented for '
                  f"'{scalar_type_name(input.dtype)}' (input: {input._type})")
    axis = norm_dim(dim, input.dim(), "logcumsumexp")
    if input.dim() == 0 or input.numel() == 0:
        return clone(input)
    last = sh.movedim(input, axis, -1)
    out = rd.logsumexp(_prefixes(last, scalar(-np.inf, last.dtype)), -1)
    return sh.movedim(out, -1, axis)


def _cov_weights(name, fweights, aweights, observations):
    """torch's checks of cov's weights and their product (None when neither is given)."""
    w = None
    for kind, given in (("fweights", fweights), ("aweights", aweights)):
        if given is None:
            continue
        if given.dim() > 1:
            raise err(RuntimeError, f"{name}: expected {kind} to have one or fewer dimensions but got {kind} with "
                      f"{given.dim()} dimensions")
        integral = not given.dtype.is_floating_point and given.dtype != dtypes.bool_
        if (kind == "fweights") != integral:
            want = "integral" if kind == "fweights" else "floating point"
            raise err(RuntimeError, f"{name}: expected {kind} to have {want} dtype but got {kind} with "
                      f"{scalar_type_name(given.dtype)} dtype")
        if given.numel() != observations:
            raise err(RuntimeError, f"{name}: expected {kind} to have the same numel as there are observations in "
                      f"the input but got {given.numel()} != {observations}")
        if observations and given._value.min() < 0:
            raise err(RuntimeError, f"{name}: {kind} cannot be negative")
        w = given if w is None else ew.mul(w, given)
    return w


def cov(input, *, correction=1, fweights=None, aweights=None) -> Tensor:
    """torch.cov: the covariance matrix of the variables in the rows of ``input`` (a 1-D input
    is one variable), observations in the columns, weighted by ``fweights`` (integer
    frequencies) and ``aweights`` (float importances); a 0-d result for one variable.

    Raises:
        RuntimeError: more than 2 dims, a bool input, bad or negative weights, weights summing
            to zero. Warns, as torch, when the degrees of freedom are <= 0 (the result is inf/nan)."""
    name = "cov()"
    if input.dim() > 2:
        raise err(RuntimeError, f"{name}: expected input to have two or fewer dimensions but got an input with "
                  f"{input.dim()} dimensions")
    if input.dtype == dtypes.bool_:
        raise err(RuntimeError, f"{name}: bool dtype is not supported for input")
    x = input if input.dim() == 2 else input.reshape(1, -1)
    observations = x.shape[1]
    w = _cov_weights(name, fweights, aweights, observations)
    if w is None:
        w_sum = scalar(observations, dtypes.int64)
    else:
        w_sum = rd.sum(w)
        if w_sum._value == 0:
            raise err(RuntimeError, f"{name}: weights sum to zero, can't be normalized")
    weighted = x if w is None else ew.mul(x, w)
    avg = ew.div(rd.sum(weighted, 1), w_sum)
    if w is not None and aweights is not None and correction != 0:
        dof = ew.sub(w_sum, ew.div(ew.mul(rd.sum(ew.mul(w, aweights)), correction), w_sum))
    else:
        dof = ew.sub(w_sum, correction)
    if dof._value <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
    dof = ew.where(ew.le(dof, 0), scalar(0, dof.dtype), dof)
    centred = ew.sub(x, sh.unsqueeze(avg, 1))
    c = la.mm(centred, (centred if w is None else ew.mul(centred, w)).t())
    return ew.div(c, dof).squeeze()


def corrcoef(input) -> Tensor:
    """torch.corrcoef: Pearson correlation coefficients of the rows of ``input``, clipped to
    [-1, 1]; for one variable c / c (1, or NaN for a constant one)."""
    if input.dim() > 2:
        raise err(RuntimeError, f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                  f"{input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return ew.div(c, c)
    n = c.shape[0]
    stddev = ew.sqrt(ix.index_select(c.reshape(-1), 0, _const(np.arange(n, dtype=np.int64) * (n + 1))))
    c = ew.div(ew.div(c, stddev.reshape(-1, 1)), stddev.reshape(1, -1))
    return ew.clamp(c, -1, 1)
