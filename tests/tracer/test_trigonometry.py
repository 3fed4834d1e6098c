"""The trigonometric family's edges against torch: atan2's quadrants, signed zeros and
infinities, out-of-domain NaNs, and misuse errors."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")


def test_atan2_quadrants_zeros_and_infinities_match_torch_on_every_backend():
    inf = float("inf")
    y = np.array([1, 1, -1, -1, 0, 0, 2, -2, inf, inf, -inf, 1], np.float32)
    x = np.array([1, -1, 1, -1, 1, 0, 0, 0, inf, -inf, 3, inf], np.float32)
    expected = torch.atan2(torch.tensor(y), torch.tensor(x)).numpy()
    np.testing.assert_allclose(tracer.atan2(tracer.tensor(y), tracer.tensor(x)).numpy(), expected, rtol=1e-6)
    compiled = tracer.compile(lambda a, b: tracer.atan2(a, b), backend="onnxruntime")
    np.testing.assert_allclose(compiled(tracer.tensor(y), tracer.tensor(x)).numpy(), expected, rtol=1e-6, atol=1e-7)


def test_out_of_domain_inputs_give_nan_as_torchs():
    x = [-2.0, -1.0, 1.0, 2.0]
    for name in ("asin", "acos", "atanh", "acosh"):
        ours = getattr(tracer, name)(tracer.tensor(x)).numpy()
        theirs = getattr(torch, name)(torch.tensor(x)).numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        np.testing.assert_allclose(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)], rtol=1e-6)


def test_misuse_raises_torchs_errors():
    for m in (tracer, torch):
        with pytest.raises(TypeError, match="must be Tensor, not float"):
            m.atan2(m.ones(2), 1.5)
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
            m.tensor([1, 2]).sinh_()
