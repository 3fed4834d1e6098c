"""The NumPy erf kernel (backends/numpy/erf.py) against the C library's erf (math.erf): within
one ulp in float64, the correctly rounded double result in float32, at every region boundary,
signed zeros, infinities, NaN, subnormals, 0-d and empty arrays."""
import math

import numpy as np
import pytest

from backends.numpy.erf import erf

EDGES = [0.0, -0.0, np.inf, -np.inf, 2.0 ** -28, -(2.0 ** -29), 5e-324, -1e-300, 0.84375, np.nextafter(0.84375, 0),
         1.25, np.nextafter(1.25, 0), 1 / 0.35, np.nextafter(1 / 0.35, 0), 6.0, -np.nextafter(6.0, 0), 27.9, -40.0]


def _inputs():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.standard_normal(20000) * 2, rng.uniform(-7, 7, 20000),
                           rng.standard_normal(2000) * 1e-9, EDGES])


def test_float64_is_within_one_ulp_of_the_c_library():
    x = _inputs()
    want = np.array([math.erf(v) for v in x])
    got = erf(x)
    assert got.dtype == np.float64
    assert np.array_equal(np.signbit(got), np.signbit(want))  # erf(-0.0) is -0.0
    assert np.all(np.abs(got - want) <= np.spacing(np.abs(want)))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_narrow_floats_are_the_rounded_double_result(dtype):
    x = _inputs().astype(dtype)
    want = np.array([math.erf(v) for v in x.astype(np.float64)]).astype(dtype)
    got = erf(x)
    assert got.dtype == dtype and np.array_equal(got, want)


def test_nan_0d_and_empty():
    assert np.isnan(erf(np.array([np.nan, 1.0])))[0]
    zero_d = erf(np.asarray(0.5, np.float32))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == () and zero_d.dtype == np.float32
    assert zero_d == np.float32(math.erf(0.5))
    empty = erf(np.zeros((0, 3)))
    assert empty.shape == (0, 3) and empty.dtype == np.float64
