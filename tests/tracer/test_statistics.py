"""Misuse of the statistics and counting functions (tracer/ops/statistics.py, counting.py)
raises torch's exception type with torch's message; results are torch's named tuples; the
functions whose result shape is read from the values (bincount, unique, unique_consecutive)
specialise a trace and are refused by compile, as nonzero is, while the others trace."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

nan = float("nan")
F = [[1.0, 2.0, 3.0], [4.0, 0.5, 2.5]]

MISUSE = {
    "median_bool": lambda m: m.median(m.tensor([True, False])),
    "median_dim_bool": lambda m: m.median(m.tensor([True, False]), 0),
    "nanmedian_bool": lambda m: m.nanmedian(m.tensor([True, False])),
    "median_dim_out_of_range": lambda m: m.median(m.tensor(F), 2),
    "median_keepdim_without_dim": lambda m: m.median(m.tensor(F), keepdim=True),
    "median_empty_dim": lambda m: m.median(m.zeros(3, 0), 1),
    "nanmedian_empty_dim": lambda m: m.nanmedian(m.zeros(0, 2), 0),
    "mode_dim_out_of_range": lambda m: m.mode(m.tensor(F), -3),
    "mode_empty_dim": lambda m: m.mode(m.zeros(3, 0), 1),
    "quantile_q_above_one": lambda m: m.quantile(m.tensor(F), 1.5),
    "quantile_q_negative": lambda m: m.quantile(m.tensor(F), -0.1),
    "quantile_q_tensor_out_of_range": lambda m: m.quantile(m.tensor(F), m.tensor([0.5, 1.2])),
    "quantile_q_dtype": lambda m: m.quantile(m.tensor(F), m.tensor([0.5], dtype=m.float64)),
    "quantile_int_input": lambda m: m.quantile(m.tensor([1, 2, 3]), 0.5),
    "quantile_interpolation": lambda m: m.quantile(m.tensor(F), 0.5, interpolation="cubic"),
    "quantile_empty": lambda m: m.quantile(m.zeros(0), 0.5),
    "quantile_empty_batch": lambda m: m.quantile(m.zeros(0, 3), 0.5, 1),
    "quantile_q_2d": lambda m: m.quantile(m.tensor(F), m.tensor([[0.5]])),
    "quantile_dim_out_of_range": lambda m: m.quantile(m.tensor(F), 0.5, 2),
    "nanquantile_q_above_one": lambda m: m.nanquantile(m.tensor(F), 1.5),
    "nanquantile_int_input": lambda m: m.nanquantile(m.tensor([1, 2]), 0.5),
    "nanmean_int": lambda m: m.nanmean(m.tensor([1, 2])),
    "nansum_dim_out_of_range": lambda m: m.nansum(m.tensor(F), 3),
    "cummax_dim_out_of_range": lambda m: m.cummax(m.tensor(F), 2),
    "cummin_dim_out_of_range": lambda m: m.cummin(m.tensor([1.0]), -2),
    "logcumsumexp_int": lambda m: m.logcumsumexp(m.tensor([1, 2]), 0),
    "logcumsumexp_dim_out_of_range": lambda m: m.logcumsumexp(m.tensor(F), 2),
    "searchsorted_side": lambda m: m.searchsorted(m.tensor([1, 2]), m.tensor([1]), side="middle"),
    "searchsorted_side_opposite": lambda m: m.searchsorted(m.tensor([1, 2]), m.tensor([1]), side="left", right=True),
    "searchsorted_0d_boundaries": lambda m: m.searchsorted(m.tensor(1.0), m.tensor([1.0])),
    "searchsorted_leading_dims": lambda m: m.searchsorted(m.tensor([[1, 2, 3]]), m.tensor([[2], [3]])),
    "searchsorted_nd_0d_value": lambda m: m.searchsorted(m.tensor([[1, 2, 3]]), m.tensor(2)),
    "searchsorted_sorter_dtype": lambda m: m.searchsorted(m.tensor([3, 1, 2]), m.tensor([2]),
                                                          sorter=m.tensor([1, 2, 0], dtype=m.int32)),
    "searchsorted_sorter_size": lambda m: m.searchsorted(m.tensor([3, 1, 2]), m.tensor([2]), sorter=m.tensor([1, 2])),
    "searchsorted_sorter_range": lambda m: m.searchsorted(m.tensor([3, 1, 2]), m.tensor([2]),
                                                          sorter=m.tensor([1, 2, 3])),
    "isin_bool": lambda m: m.isin(m.tensor([True]), m.tensor([True])),
    "isin_bool_test": lambda m: m.isin(m.tensor([1]), m.tensor([True])),
    "bincount_float": lambda m: m.bincount(m.tensor([1.0, 2.0])),
    "bincount_bool": lambda m: m.bincount(m.tensor([True])),
    "bincount_2d": lambda m: m.bincount(m.tensor([[1, 2]])),
    "bincount_0d": lambda m: m.bincount(m.tensor(1)),
    "bincount_negative": lambda m: m.bincount(m.tensor([1, -1])),
    "bincount_weights_length": lambda m: m.bincount(m.tensor([1, 2]), m.tensor([1.0])),
    "bincount_minlength": lambda m: m.bincount(m.tensor([1, 2]), minlength=-1),
    "histc_int": lambda m: m.histc(m.tensor([1, 2])),
    "histc_bins": lambda m: m.histc(m.tensor(F), 0),
    "histc_min_above_max": lambda m: m.histc(m.tensor(F), 4, 3, 1),
    "histc_infinite_range": lambda m: m.histc(m.tensor(F), 4, 0, float("inf")),
    "histc_infinite_data": lambda m: m.histc(m.tensor([1.0, float("inf")]), 4),
    "unique_dim_out_of_range": lambda m: m.unique(m.tensor([1, 2]), dim=3),
    "unique_0d_dim": lambda m: m.unique(m.tensor(3.0), dim=0),
    "unique_zero_sized_other_dim": lambda m: m.unique(m.zeros(2, 0), dim=0),
    "unique_consecutive_dim_out_of_range": lambda m: m.unique_consecutive(m.tensor([1, 2]), dim=1),
    "cov_3d": lambda m: m.cov(m.zeros(2, 2, 2)),
    "cov_bool": lambda m: m.cov(m.tensor([True, False])),
    "cov_fweights_float": lambda m: m.cov(m.tensor(F), fweights=m.tensor([1.0, 2.0, 3.0])),
    "cov_fweights_2d": lambda m: m.cov(m.tensor(F), fweights=m.tensor([[1, 2, 3]])),
    "cov_fweights_length": lambda m: m.cov(m.tensor(F), fweights=m.tensor([1, 2])),
    "cov_fweights_negative": lambda m: m.cov(m.tensor(F), fweights=m.tensor([1, -2, 3])),
    "cov_aweights_int": lambda m: m.cov(m.tensor(F), aweights=m.tensor([1, 2, 3])),
    "cov_aweights_negative": lambda m: m.cov(m.tensor(F), aweights=m.tensor([-1.0, 0.0, 0.0])),
    "cov_weights_sum_zero": lambda m: m.cov(m.tensor(F), aweights=m.tensor([0.0, 0.0, 0.0])),
    "corrcoef_3d": lambda m: m.corrcoef(m.zeros(2, 2, 2)),
}

#: Where our message differs from torch's on purpose: name -> torch's text we print otherwise.
#: histc prints a NaN bound as C++'s ostream does ("-nan" on this platform); we print "nan".
_SPELLED_OTHERWISE = {"histc_nan_data": ("-nan", "nan")}


def _raised(fn, m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            fn(m)
    return info.value


@pytest.mark.parametrize("name", sorted(MISUSE))
def test_misuse_raises_as_torch(name):
    theirs = _raised(MISUSE[name], torch)
    ours = _raised(MISUSE[name], tracer)
    assert type(ours).__name__ == type(theirs).__name__, f"{name}: {type(ours).__name__}: {ours}"
    expected = str(theirs).split("\n")[0]
    for torch_text, our_text in [_SPELLED_OTHERWISE.get(name, ("", ""))]:
        expected = expected.replace(torch_text, our_text) if torch_text else expected
    assert expected in str(ours), f"{name}: {ours!r} does not say {expected!r}"


def test_histc_nan_data_range_is_refused():
    with pytest.raises(RuntimeError, match=r"torch.histc: range of \[nan, nan\] is not finite"):
        tracer.histc(tracer.tensor([1.0, nan]), 4)
    with pytest.raises(RuntimeError, match="is not finite"):
        torch.histc(torch.tensor([1.0, nan]), 4)


@pytest.mark.parametrize("fn", ["median", "nanmedian", "mode", "cummax", "cummin"])
def test_named_tuples_as_torch_return_types(fn):
    x = [[3.0, 1.0, 2.0], [0.5, 0.5, 4.0]]
    theirs = getattr(torch, fn)(torch.tensor(x), 1)
    ours = getattr(tracer, fn)(tracer.tensor(x), 1)
    assert type(ours).__name__ == type(theirs).__name__ == fn
    assert ours._fields == ("values", "indices")
    values, indices = ours
    np.testing.assert_array_equal(values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())


def test_unique_returns_plain_tuples_as_torch():
    x = [3, 1, 3]
    assert isinstance(tracer.unique(tracer.tensor(x)), tracer.Tensor)
    for kw in ({"return_inverse": True}, {"return_counts": True}, {"return_inverse": True, "return_counts": True}):
        theirs = torch.unique(torch.tensor(x), **kw)
        ours = tracer.unique(tracer.tensor(x), **kw)
        assert type(ours) is tuple and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_numpy_names_and_methods():
    x = tracer.tensor([[1.0, nan], [2.0, 3.0]])
    np.testing.assert_array_equal(tracer.nansum(x, axis=1, keepdims=True).numpy(), [[1.0], [5.0]])
    np.testing.assert_array_equal(x.nanmean(axis=0).numpy(), [1.5, 3.0])
    for name in ("median", "nanmedian", "mode", "quantile", "nanquantile", "nanmean", "nansum", "cummax", "cummin",
                 "logcumsumexp", "bincount", "histc", "unique", "unique_consecutive", "cov", "corrcoef"):
        assert hasattr(torch.Tensor, name) and hasattr(tracer.Tensor, name), name


def test_cov_warns_on_no_degrees_of_freedom_as_torch():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = tracer.cov(tracer.tensor([[1.0, 2.0]]), correction=2)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        ref = torch.cov(torch.tensor([[1.0, 2.0]]), correction=2)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("fn,aten", [
    (lambda m, x: m.unique(x), "_unique2"),
    (lambda m, x: m.unique_consecutive(x), "unique_consecutive"),
    (lambda m, x: m.bincount(m.tensor([0, 2, 2]), x), "bincount"),
])
def test_backward_through_counts_is_refused_as_torch(fn, aten):
    for m in (torch, tracer):
        x = m.tensor([1.0, 2.0, 2.0], requires_grad=True)
        out = fn(m, x)
        assert out.requires_grad
        with pytest.raises((NotImplementedError, RuntimeError), match=aten):
            out.sum().backward()


def test_histc_has_no_gradient_as_torch():
    x = tracer.tensor([1.0, 2.0], requires_grad=True)
    assert not tracer.histc(x, 3).requires_grad
    assert not torch.histc(torch.tensor([1.0, 2.0], requires_grad=True), 3).requires_grad


DATA_DEPENDENT = {
    "unique": lambda x: tracer.unique(x),
    "unique_consecutive": lambda x: tracer.unique_consecutive(x, return_counts=True)[1],
    "bincount": lambda x: tracer.bincount(x),
}


@pytest.mark.parametrize("name", sorted(DATA_DEPENDENT))
def test_data_dependent_shapes_are_refused_by_compile(name):
    with pytest.raises(tracer.TraceValueError, match=rf"{name}\(\) reads a traced value"):
        tracer.compile(DATA_DEPENDENT[name])(tracer.tensor([1, 1, 3]))


@pytest.mark.parametrize("name", sorted(DATA_DEPENDENT))
def test_data_dependent_shapes_specialise_a_trace(name):
    with pytest.warns(tracer.TracerWarning, match="specialised"):
        tracer.trace(DATA_DEPENDENT[name], tracer.tensor([1, 1, 3]))


def test_nonzero_is_refused_the_same_way():
    with pytest.raises(tracer.TraceValueError, match=r"nonzero\(\) reads a traced value"):
        tracer.compile(lambda x: tracer.nonzero(x))(tracer.tensor([1, 0, 3]))


TRACEABLE = {
    "median": lambda x: tracer.median(x, 1).values + tracer.median(x),
    "mode": lambda x: tracer.mode(x.round(), 1).indices,
    "quantile": lambda x: tracer.quantile(x, tracer.tensor([0.2, 0.9]), 0),
    "nanquantile": lambda x: tracer.nanquantile(x, 0.5, 1),
    "cummax": lambda x: tracer.cummax(x, 1).values,
    "logcumsumexp": lambda x: tracer.logcumsumexp(x, 0),
    "searchsorted": lambda x: tracer.searchsorted(tracer.sort(x.reshape(-1)).values, x),
    "isin": lambda x: tracer.isin(x.round(), tracer.tensor([0.0, 1.0])),
    "histc_data_range": lambda x: tracer.histc(x, 5),
    "cov": lambda x: tracer.cov(x),
    "corrcoef": lambda x: tracer.corrcoef(x),
}


@pytest.mark.parametrize("name", sorted(TRACEABLE))
def test_static_shapes_compile_and_generalise(name):
    """Traced once, right on other values: nothing was read from the values into Python."""
    rng = np.random.default_rng(0)
    compiled = tracer.compile(TRACEABLE[name])
    for _ in range(3):
        x = tracer.tensor(rng.uniform(-2, 2, size=(3, 4)).astype(np.float32))
        np.testing.assert_allclose(compiled(x).numpy(), TRACEABLE[name](x).numpy(), rtol=1e-6, atol=1e-6)
    assert compiled.trace_count == 1
