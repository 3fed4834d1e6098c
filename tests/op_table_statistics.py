"""Op-table rows: order statistics (median, nanmedian, mode, quantile, nanquantile), NaN-aware
reductions (nanmean, nansum), running extrema and logcumsumexp, cov and corrcoef; searching and
counting (searchsorted, isin, bincount, histc, unique, unique_consecutive).

``_ties(m, x)`` is x rounded to integers (many equal entries) with x's own gradient, so the rows
check which of equal entries torch sends the gradient to; finite differences are off there
(a step breaks the ties). ``m.log(x)`` of x in [-2, 2) is NaN at about half the entries.
bincount, unique and unique_consecutive read their result's shape from the values: their
traces are specialised to the inputs (tracer.TracerWarning), so the trace and onnxruntime rows
replay those same inputs."""
from __future__ import annotations

from op_rows import Bool, Int, R  # noqa: F401

S = (3, 5)


def _ties(m, x):
    return x - x.detach() + x.detach().round()


def _nan(m, x):
    return m.log(x)


ROWS = [
    # median / nanmedian: a stable sort, the lower middle read by a gather; the whole-tensor
    # median shares its gradient among entries equal to it (torch's evenly_distribute_backward)
    R("median_all", lambda m, x: m.median(x), S),
    R("median_all_even", lambda m, x: x.median(), (2, 4)),
    R("median_all_ties", lambda m, x: m.median(_ties(m, x)), (4, 5), fd=False),
    R("median_all_nan", lambda m, x: m.median(_nan(m, x)), S, grad=False),
    R("median_all_0d", lambda m, x: m.median(x), ()),
    R("median_all_empty", lambda m, x: m.median(x), (0, 3), grad=False),
    R("median_all_int", lambda m, x: m.median(x), Int(S, -9, 9), grad=False),
    R("median_dim", lambda m, x: m.median(x, 1).values, (3, 6)),
    R("median_dim_keepdim", lambda m, x: x.median(0, keepdim=True)[0], (5, 3)),
    R("median_dim_indices", lambda m, x: m.median(x, -1).indices, (3, 6), grad=False),
    R("median_dim_batch", lambda m, x: m.median(x, dim=1).values, (2, 5, 3)),
    R("median_dim_ties", lambda m, x: m.median(_ties(m, x), 1).values, (4, 6), fd=False),
    R("median_dim_ties_indices", lambda m, x: m.median(x.round(), 1).indices, (4, 6), grad=False),
    R("median_dim_nan_values", lambda m, x: m.median(_nan(m, x), 1).values, (4, 5), grad=False),
    R("median_dim_nan_indices", lambda m, x: m.median(_nan(m, x), 1).indices, (4, 5), grad=False),
    R("median_dim_0d", lambda m, x: m.median(x, 0).values * 2, ()),
    R("median_dim_empty", lambda m, x: m.median(x, 1).values, (0, 3)),
    R("median_dim_int", lambda m, x: m.median(x, 0).values, Int((5, 3), -9, 9), grad=False),
    R("nanmedian_all", lambda m, x: m.nanmedian(x), S),
    R("nanmedian_all_nan", lambda m, x: m.nanmedian(_nan(m, x)), (4, 5), low=-1, high=2),
    R("nanmedian_all_only_nan", lambda m, x: m.nanmedian(_nan(m, x)), (3,), low=-2, high=-1, grad=False),
    R("nanmedian_dim_nan", lambda m, x: m.nanmedian(_nan(m, x), 1).values, (6, 5), low=-1, high=2),
    R("nanmedian_dim_nan_indices", lambda m, x: x.nanmedian(dim=0).indices, (5, 4), grad=False),
    R("nanmedian_dim_ties", lambda m, x: m.nanmedian(_ties(m, x), 1, keepdim=True).values, (4, 6), fd=False),
    R("nanmedian_int", lambda m, x: m.nanmedian(x, 1).values, Int(S, -9, 9), grad=False),
    # mode: runs of the sorted dim counted by a scatter-add; the smallest most frequent value, its last index
    R("mode", lambda m, x: m.mode(x).values, (3, 6)),
    R("mode_dim_keepdim", lambda m, x: x.mode(0, keepdim=True).values, (5, 3)),
    R("mode_ties", lambda m, x: m.mode(_ties(m, x), 1).values, (4, 7), fd=False),
    R("mode_ties_indices", lambda m, x: m.mode(x.round(), 1).indices, (4, 7), grad=False),
    R("mode_int", lambda m, x: m.mode(x, 0).indices, Int((9, 4), 0, 3), grad=False),
    R("mode_int_values", lambda m, x: m.mode(x, -1).values, Int((4, 9), -2, 2), grad=False),
    R("mode_bool", lambda m, x: m.mode(x).indices, Bool((3, 5)), grad=False),
    # no NaN row: torch sorts with operator< (not an order with NaN), so its answer depends on where std::sort
    # leaves the NaNs
    R("mode_0d", lambda m, x: m.mode(x).values * 2, ()),
    R("mode_empty", lambda m, x: m.mode(x, 1).values, (0, 3)),
    # quantile / nanquantile: torch's ranks q * (n - 1) on the sorted dim, a lerp between neighbours
    R("quantile_all", lambda m, x: m.quantile(x, 0.3), S),
    R("quantile_dim", lambda m, x: m.quantile(x, 0.75, 1), (3, 6)),
    R("quantile_q_tensor_keepdim", lambda m, x: m.quantile(x, m.tensor([0.0, 0.25, 0.6, 1.0], dtype=x.dtype), 0,
      keepdim=True), (5, 3)),
    R("quantile_q_tensor_all_keepdim", lambda m, x: x.quantile(m.tensor([0.1, 0.9], dtype=x.dtype), keepdim=True),
      (3, 4)),
    R("quantile_q_0d_tensor", lambda m, x: m.quantile(x, m.tensor(0.4, dtype=x.dtype), -1), (2, 3, 5)),
    R("quantile_q_grad", lambda m, x, q: m.quantile(x, q, 1), (3, 6), (4,), low=0.0, high=1.0),
    R("quantile_lower", lambda m, x: m.quantile(x, m.tensor([0.3, 0.5], dtype=x.dtype), 1, interpolation="lower"),
      (3, 6)),
    R("quantile_higher", lambda m, x: m.quantile(x, 0.3, 1, interpolation="higher"), (3, 6)),
    R("quantile_midpoint", lambda m, x: m.quantile(x, 0.3, 0, interpolation="midpoint"), (6, 3)),
    R("quantile_nearest_half_even", lambda m, x: m.quantile(
        x, m.tensor([0.125, 0.375, 0.625, 0.875], dtype=x.dtype), 1, interpolation="nearest"), (3, 5)),
    R("quantile_ties", lambda m, x: m.quantile(_ties(m, x), 0.4, 1), (3, 7), fd=False),
    R("quantile_nan", lambda m, x: m.quantile(_nan(m, x), 0.5, 1), (5, 4), grad=False),
    R("quantile_0d", lambda m, x: m.quantile(x, 0.3, 0, keepdim=True) * 2, ()),
    R("nanquantile", lambda m, x: m.nanquantile(_nan(m, x), 0.3, 1), (5, 6), low=-1, high=2),
    R("nanquantile_q_tensor", lambda m, x: m.nanquantile(_nan(m, x), m.tensor([0.2, 0.7], dtype=x.dtype), 0,
      interpolation="midpoint"), (6, 4), low=-1, high=2),
    R("nanquantile_only_nan", lambda m, x: m.nanquantile(_nan(m, x), 0.5, 1), (2, 3), low=-2, high=-1, grad=False),
    R("nanquantile_all_nearest", lambda m, x: x.nanquantile(0.6, interpolation="nearest"), (3, 5)),
    # nansum / nanmean: NaN entries count as zero (and get no gradient)
    R("nansum", lambda m, x: m.nansum(_nan(m, x)), S, low=0.2, high=2),
    R("nansum_nan", lambda m, x: m.nansum(_nan(m, x), 1), S),
    R("nansum_dims_keepdim", lambda m, x: x.nansum((0, 2), keepdim=True), (2, 3, 4)),
    R("nansum_dtype", lambda m, x: m.nansum(m.where(x > 0, x, m.nan), dtype=m.float64), S, dtypes=("float32",)),
    R("nansum_int", lambda m, x: m.nansum(x, 0), Int(S, -5, 5), grad=False),
    R("nansum_bool", lambda m, x: m.nansum(x), Bool(S), grad=False),
    R("nansum_0d", lambda m, x: m.nansum(x), ()),
    R("nansum_empty", lambda m, x: m.nansum(x, 1), (2, 0)),
    R("nanmean", lambda m, x: m.nanmean(_nan(m, x)), S),
    R("nanmean_dim", lambda m, x: x.nanmean(1, keepdim=True), S),
    R("nanmean_nan_dim", lambda m, x: m.nanmean(_nan(m, x), 0), (6, 3)),
    R("nanmean_only_nan", lambda m, x: m.nanmean(_nan(m, x), 1), (2, 3), low=-2, high=-1, grad=False),
    R("nanmean_0d", lambda m, x: m.nanmean(x), ()),
    R("nanmean_empty", lambda m, x: m.nanmean(x, 0), (0, 3), grad=False),
    # cummax / cummin: the extremum of each prefix, the last index reaching it; NaN sticks
    R("cummax", lambda m, x: m.cummax(x, 1).values, (3, 6)),
    R("cummax_indices", lambda m, x: m.cummax(x, 0).indices, (6, 3), grad=False),
    R("cummax_ties", lambda m, x: m.cummax(_ties(m, x), 1).values, (3, 7), fd=False),
    R("cummax_ties_indices", lambda m, x: m.cummax(x, 1).indices, Int((3, 7), -2, 2), grad=False),
    R("cummax_nan_indices", lambda m, x: m.cummax(_nan(m, x), -1).indices, (3, 7), grad=False),
    R("cummax_nan_values", lambda m, x: m.cummax(_nan(m, x), 1).values, (3, 7), grad=False),
    R("cummin", lambda m, x: x.cummin(-2).values, (2, 5, 3)),
    R("cummin_indices", lambda m, x: m.cummin(x, 1)[1], (3, 6), grad=False),
    R("cummin_ties_indices", lambda m, x: m.cummin(x, 0).indices, Int((7, 3), -2, 2), grad=False),
    R("cummin_nan_indices", lambda m, x: m.cummin(_nan(m, x), 1).indices, (3, 7), grad=False),
    R("cummin_int_values", lambda m, x: m.cummin(x, 1).values, Int((3, 6), -9, 9), grad=False),
    R("cummin_uint8", lambda m, x: m.cummin(x, 1).values, Int((3, 6), 0, 9, "uint8"), grad=False),
    R("cummax_bool", lambda m, x: m.cummax(x, 1).indices, Bool((3, 6)), grad=False),
    R("cummax_0d", lambda m, x: m.cummax(x, 0).values * 2, ()),
    R("cummin_empty", lambda m, x: m.cummin(x, 0).values, (0, 3)),
    # logcumsumexp: a stabilised logsumexp of each prefix
    R("logcumsumexp", lambda m, x: m.logcumsumexp(x, 1), (3, 6)),
    R("logcumsumexp_neg_dim", lambda m, x: x.logcumsumexp(-3), (4, 2, 3)),
    # float32: torch's backward formula rounds otherwise than the softmax of each prefix (gradients ~300)
    R("logcumsumexp_far_apart", lambda m, x: m.logcumsumexp(x * 300, 1), (3, 6), rtol=1e-4),
    R("logcumsumexp_small_after_large", lambda m, x: m.logcumsumexp(m.cat([x[:, :1] * 0 + 200, x], 1), 1),
      (3, 4)),
    R("logcumsumexp_0d", lambda m, x: m.logcumsumexp(x, 0) * 2, ()),
    R("logcumsumexp_empty", lambda m, x: m.logcumsumexp(x, 0), (0, 3)),
    # cov / corrcoef: rows are variables, columns observations
    R("cov", lambda m, x: m.cov(x), (3, 6), rtol=1e-4, atol=1e-5),
    R("cov_1d", lambda m, x: x.cov(), (7,), rtol=1e-4, atol=1e-5),
    R("cov_correction0", lambda m, x: m.cov(x, correction=0), (2, 5), rtol=1e-4, atol=1e-5),
    R("cov_fweights", lambda m, x, f: m.cov(x, fweights=f), (3, 6), Int((6,), 1, 4), rtol=1e-4, atol=1e-5),
    R("cov_aweights", lambda m, x, a: m.cov(x, aweights=a * a + 0.1), (3, 6), (6,), rtol=1e-4, atol=1e-5),
    R("cov_both_weights", lambda m, x, f, a: m.cov(x, correction=2, fweights=f, aweights=m.abs(a)), (2, 6),
      Int((6,), 0, 4), (6,), rtol=1e-4, atol=1e-5),
    R("cov_int", lambda m, x: m.cov(x), Int((3, 6), -5, 5), grad=False),
    R("cov_one_variable", lambda m, x: m.cov(x), (1, 5)),
    R("cov_empty_variables", lambda m, x: m.cov(x), (0, 4)),
    R("corrcoef", lambda m, x: m.corrcoef(x), (3, 6), rtol=1e-4, atol=1e-5),
    R("corrcoef_1d", lambda m, x: x.corrcoef(), (6,)),
    R("corrcoef_int_constant_row", lambda m, x: m.corrcoef(m.cat([x, x[:1] * 0])), Int((2, 5), -5, 5),
      grad=False),
    # searchsorted: torch's binary search unrolled into gathers; isin: compare against every test element
    R("searchsorted", lambda m, s, v: m.searchsorted(m.sort(s).values, v), (7,), S, grad=False),
    R("searchsorted_right", lambda m, s, v: m.searchsorted(m.sort(s).values, v, right=True), (8,), S, grad=False),
    R("searchsorted_side_ties", lambda m, s, v: m.searchsorted(m.sort(s.round()).values, v.round(), side="right"),
      (9,), S, grad=False),
    R("searchsorted_ties_left", lambda m, s, v: m.searchsorted(m.sort(s).values, v), Int((9,), -3, 3),
      Int(S, -4, 4), grad=False),
    R("searchsorted_nd", lambda m, s, v: m.searchsorted(m.sort(s, -1).values, v, out_int32=True), (2, 3, 6),
      (2, 3, 4), grad=False),
    R("searchsorted_sorter", lambda m, s, v: m.searchsorted(s, v, sorter=m.argsort(s)), (6,), (4,), grad=False),
    R("searchsorted_nan", lambda m, s, v: m.searchsorted(m.sort(m.log(s)).values, m.log(v)), (6,), (2, 5),
      grad=False),
    R("searchsorted_scalar", lambda m, s: m.searchsorted(m.sort(s).values, 0.5), (5,), grad=False),
    R("searchsorted_one_boundary", lambda m, s, v: m.searchsorted(s, v), (1,), (4,), grad=False),
    R("searchsorted_empty_values", lambda m, s, v: m.searchsorted(m.sort(s).values, v), (4,), (0,), grad=False),
    R("searchsorted_empty_boundaries", lambda m, s, v: m.searchsorted(s, v), (0,), (3,), grad=False),
    R("searchsorted_mixed_dtypes", lambda m, s, v: m.searchsorted(m.sort(s).values, v * 0.5), Int((6,), -4, 4),
      (2, 3), grad=False),
    R("isin", lambda m, x, t: m.isin(x, t), Int(S, 0, 9), Int((4,), 0, 9), grad=False),
    R("isin_invert", lambda m, x, t: m.isin(x, t, invert=True), Int((2, 3, 2), 0, 5), Int((2, 2), 0, 5),
      grad=False),
    R("isin_scalar_test", lambda m, x: m.isin(x.round(), 1.0), S, grad=False),
    R("isin_float_nan", lambda m, x, t: m.isin(m.log(x).round(), m.log(t).round()), S, (6,), grad=False),
    R("isin_mixed_dtypes", lambda m, x, t: m.isin(x, t.round()), Int(S, -2, 2), (4,), grad=False),
    R("isin_0d_empty", lambda m, x, t: m.isin(x, t), Int((), 0, 3), Int((0,), 0, 3), grad=False),
    # histc: the bin of each entry computed as torch's kernel, counted by an index_add
    R("histc", lambda m, x: m.histc(x, 7), (4, 6), grad=False),
    R("histc_range", lambda m, x: x.histc(bins=5, min=-1, max=1.5), (40,), grad=False),
    R("histc_edges_and_outside", lambda m, x: m.histc(x.round(), 4, -1, 1), (5, 5), grad=False),
    R("histc_constant", lambda m, x: m.histc(x * 0 + 0.5, 3), (6,), grad=False),
    R("histc_nan_outside", lambda m, x: m.histc(m.log(x), 6, -2, 1), (30,), grad=False),
    R("histc_0d", lambda m, x: m.histc(x, 3), (), grad=False),
    R("histc_empty", lambda m, x: m.histc(x, 4), (0,), grad=False),
    # bincount / unique / unique_consecutive: shapes read from the values (traces are specialised)
    R("bincount", lambda m, x: m.bincount(x), Int((12,), 0, 6), grad=False),
    R("bincount_minlength", lambda m, x: x.bincount(minlength=9), Int((5,), 0, 4), grad=False),
    R("bincount_weights", lambda m, x, w: m.bincount(x, w), Int((10,), 0, 5), (10,), grad=False),
    R("bincount_int_weights", lambda m, x, w: m.bincount(x, w), Int((10,), 0, 5), Int((10,), -3, 3, "int32"),
      grad=False),
    R("bincount_empty", lambda m, x: m.bincount(x, minlength=3), Int((0,), 0, 5), grad=False),
    R("bincount_uint8", lambda m, x: m.bincount(x), Int((7,), 0, 5, "uint8"), grad=False),
    R("unique", lambda m, x: m.unique(x), Int((4, 5), -3, 3), grad=False),
    R("unique_float_values", lambda m, x: m.unique(x.round()), S, grad=False),
    R("unique_inverse", lambda m, x: m.unique(x, return_inverse=True)[1], Int((4, 5), -3, 3), grad=False),
    R("unique_counts", lambda m, x: x.unique(sorted=False, return_counts=True)[1], Int((4, 5), -3, 3),
      grad=False),
    R("unique_nan_counts", lambda m, x: m.unique(m.log(x).round(), return_counts=True)[1], (4, 5), grad=False),
    R("unique_dim", lambda m, x: m.unique(x, dim=1), Int((2, 7), 0, 2), grad=False),
    R("unique_dim_inverse", lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True)[1],
      Int((7, 2), 0, 2), grad=False),
    R("unique_dim_counts", lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True)[2],
      Int((7, 2), 0, 2), grad=False),
    R("unique_bool", lambda m, x: m.unique(x, return_counts=True)[1], Bool((3, 4)), grad=False),
    R("unique_0d_inverse", lambda m, x: m.unique(x, return_inverse=True)[1], Int((), 0, 3), grad=False),
    R("unique_empty", lambda m, x: m.unique(x), (0, 3), grad=False),
    R("unique_dim_empty", lambda m, x: m.unique(x, dim=0, return_counts=True)[0], (0, 3), grad=False),
    R("unique_consecutive", lambda m, x: m.unique_consecutive(x), Int((12,), 0, 2), grad=False),
    R("unique_consecutive_inverse", lambda m, x: x.unique_consecutive(return_inverse=True)[1], Int((3, 4), 0, 2),
      grad=False),
    R("unique_consecutive_counts", lambda m, x: m.unique_consecutive(x, return_counts=True)[1], Int((12,), 0, 2),
      grad=False),
    R("unique_consecutive_dim", lambda m, x: m.unique_consecutive(x, dim=0), Int((8, 2), 0, 2), grad=False),
    R("unique_consecutive_nan", lambda m, x: m.unique_consecutive(m.log(x).round(), return_counts=True)[1],
      (12,), low=-1, high=1, grad=False),
]
