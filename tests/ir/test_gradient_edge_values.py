"""Gradient rules at NaN, infinities and ties, against torch's: eager backward, ir.grad on the
interpreter, and onnxruntime at its default optimisation level and with optimisations off.

Found by the differential fuzzer (tests/fuzz): sign(nan) was nan (torch: 0, so abs' and l1_loss'
at nan were nan); relu'(nan) was 0 (torch: 1, threshold_backward passes g unless out <= 0);
minimum/maximum gave a NaN side no gradient (torch: both sides); huber/smooth_l1 had nan
gradients at +-inf (torch: the linear branch's slope); a / b's gradient read the quotient, so an
in-place change of it raised where torch's does not; x.max() over NaNs gave every element a NaN
gradient (torch: g / count to each NaN); fmod's divisor gradient at a zero or infinite divisor,
rsqrt's at -0.0 and clamp's with a NaN bound differed from torch's."""
import types

import numpy as np
import pytest

import backends.numpy as bnp
import ir
import tracer as torch
from backends import ort as ort_backend
from tracer.nn import functional as F

NAN, INF = np.nan, np.inf

CASES = {
    "sign and abs at nan": (lambda x: x.sign() * 3 + x.abs(), [[NAN, -2.0, 0.0, 1.5, -0.0, INF]]),
    "l1_loss at nan": (lambda x, t: F.l1_loss(x, t, reduction="none"), [[NAN, 1.0, 2.0], [0.0, NAN, 2.0]]),
    "relu at nan and 0": (lambda x: x.relu(), [[NAN, -1.0, 0.0, 2.0, -INF, INF]]),
    "minimum and maximum with ties and nan": (
        lambda x, y: torch.minimum(x, y) * 2 + torch.maximum(x, y) * 3,
        [[NAN, 1.0, 2.0, 3.0, NAN, INF], [1.0, NAN, 2.0, -1.0, NAN, INF]]),
    "huber_loss at inf": (lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.5),
                          [[1.0, INF, -INF, 0.2, NAN], [INF, 0.5, 0.0, 0.0, 1.0]]),
    "smooth_l1_loss at inf": (lambda x, t: F.smooth_l1_loss(x, t, reduction="none", beta=2.0),
                              [[1.0, INF, -INF, 0.2, NAN], [INF, 0.5, 0.0, 0.0, 1.0]]),
    "division by zero and inf": (lambda x, y: x / y, [[1.0, -2.0, 0.0, INF, 3.0], [0.0, INF, 0.0, 2.0, -0.5]]),
    "max and min of a tensor holding nan": (lambda x: x.max() * 2 + x.min() * 3, [[1.0, NAN, 2.0, NAN]]),
    "max and min of a tensor with ties": (lambda x: x.max() * 2 + x.min() * 3, [[1.0, 3.0, 3.0, 1.0, 2.0]]),
    "fmod by zero and inf": (lambda x, y: torch.fmod(x, y), [[1.0, -2.5, 3.0, INF, 7.5], [0.0, INF, -INF, 2.0, 2.0]]),
    "rsqrt at signed zeros": (lambda x: x.rsqrt(), [[0.0, -0.0, 4.0, INF]]),
    "clamp with a nan bound": (lambda x, lo: torch.clamp(x, min=lo), [[1.0, -2.0, 3.0], [NAN, 0.0, NAN]]),
    "clamp of nan by tensor bounds": (lambda x, lo, hi: torch.clamp(x, lo, hi) + torch.clamp(x, max=hi) * 2,
                                      [[NAN, -2.0, 3.0, NAN], [0.0, 0.0, 0.0, NAN], [2.0, 2.0, 2.0, 1.0]]),
}


def _torch_grads(fn, arrays, dtype):
    real = pytest.importorskip("torch")
    xs = [real.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    names = {"F": real.nn.functional, "torch": real}
    out = _in(fn, names)(*xs)
    out.sum().backward()
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


def _in(fn, names):
    """``fn`` with its globals ``torch`` and ``F`` bound to another module (real torch)."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, **names}, fn.__name__, fn.__defaults__)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_gradients_at_edge_values_match_torch_on_every_backend(case, dtype):
    fn, rows = CASES[case]
    arrays = [np.array(r, dtype) for r in rows]
    real = pytest.importorskip("torch")
    want_out, want = _torch_grads(fn, arrays, getattr(real, dtype))

    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), want_out)
    for x, w in zip(xs, want):
        np.testing.assert_allclose(x.grad.numpy(), w, rtol=1e-6, atol=0)

    graph = ir.grad(torch.trace(lambda *a: fn(*a).sum(), *map(torch.tensor, arrays)))
    backends = {"interpreter": bnp.run(graph, *arrays)}
    for level in ("all", "disable"):
        backends[f"onnxruntime ({level})"] = ort_backend.run(graph, *arrays, optimization=level)
    for name, got in backends.items():
        for g, w in zip(got[1:], want):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=0, err_msg=f"{case} on {name}")


def test_sign_of_nan_is_zero_in_values_on_every_backend():
    x = np.array([NAN, -3.0, 0.0, 2.0], np.float32)
    graph = torch.trace(lambda x: x.sign(), torch.tensor(x))
    want = np.array([0.0, -1.0, 0.0, 1.0], np.float32)
    np.testing.assert_array_equal(torch.tensor(x).sign().numpy(), want)
    np.testing.assert_array_equal(bnp.run(graph, x)[0], want)
    for level in ("all", "disable"):
        np.testing.assert_array_equal(ort_backend.run(graph, x, optimization=level)[0], want)


def test_changing_a_quotient_in_place_leaves_its_backward_valid():
    """torch's gradient of a / b reads a and b, not a / b; so does tracer's, and the in-place
    change does not raise 'modified by an inplace operation'."""
    real = pytest.importorskip("torch")
    a0, b0 = np.array([1.5, -2.0], np.float32), np.array([0.5, 4.0], np.float32)
    grads = []
    for m in (torch, real):
        a, b = m.tensor(a0, requires_grad=True), m.tensor(b0, requires_grad=True)
        v = a / b
        v.add_(1.0)
        (v * v).sum().backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-6)
