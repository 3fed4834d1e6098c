"""Convolutional layers against torch: grad-of-grad, modules (init, reprs, state dicts,
padding modes), errors, and the same graphs on onnxruntime. The op table covers the ops'
values, gradients and finite differences row by row."""
import math

import numpy as np
import pytest

import ir
import tracer
from backends import compare
from backends.testing import assert_backends_agree

torch = pytest.importorskip("torch")


def _pair(shape, rng, dtype="float64"):
    a = rng.uniform(-1, 1, size=shape).astype(dtype)
    return tracer.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


# -- grad of grad -------------------------------------------------------------------------
SECOND_ORDER = [
    ("conv2d", dict(stride=2, padding=1), (2, 2, 5, 5), (3, 2, 3, 3)),
    ("conv2d", dict(padding=1, groups=2, dilation=2), (1, 4, 6, 6), (4, 2, 2, 2)),
    ("conv1d", dict(stride=3), (2, 3, 10), (2, 3, 2)),
    ("conv_transpose2d", dict(stride=2, padding=1, output_padding=1), (1, 2, 4, 4), (2, 3, 3, 3)),
    ("conv_transpose1d", dict(groups=2, dilation=2), (2, 4, 5), (4, 1, 3)),
]


@pytest.mark.parametrize("name, kw, xs, ws", SECOND_ORDER, ids=[f"{c[0]}-{i}" for i, c in enumerate(SECOND_ORDER)])
def test_grad_of_grad_matches_torch(name, kw, xs, ws):
    rng = np.random.default_rng(0)
    (x, tx), (w, tw) = _pair(xs, rng), _pair(ws, rng)
    results = []
    for m, a, b in ((tracer, x, w), (torch, tx, tw)):
        y = getattr(m.nn.functional, name)(a, b, **kw)
        (gx,) = m.autograd.grad((y * y * y).sum(), a, create_graph=True)
        (gx * gx).sum().backward()
        results.append((gx, a.grad, b.grad))
    for ours, theirs in zip(*results):
        _close(ours, theirs)


def test_grad_of_grad_graph_agrees_on_onnxruntime():
    """The traced second-order graph (conv, conv_transpose and the dW convolutions of both)
    runs on onnxruntime in float32 and float64 (computed in float32 there)."""
    def f(x, w):
        x.requires_grad_()
        y = tracer.nn.functional.conv2d(x, w, stride=2, padding=1)
        (gx,) = tracer.autograd.grad((y * y).sum(), x, create_graph=True)
        return (gx * gx).sum()
    rng = np.random.default_rng(1)
    for dtype in ("float32", "float64"):
        x = rng.standard_normal((2, 2, 6, 5)).astype(dtype)
        w = rng.standard_normal((3, 2, 3, 3)).astype(dtype)
        graph = tracer.trace(f, tracer.tensor(x), tracer.tensor(w))
        ir.lint(graph)
        assert_backends_agree(graph, x, w)


# -- modules -------------------------------------------------------------------------------
MODULES = [
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1)),
    ("Conv2d", (3, 8, 3), dict()),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=1, dilation=2, groups=2, bias=False)),
    ("Conv2d", (4, 4, 3), dict(padding="same")),
    ("Conv2d", (2, 4, 3), dict(padding="valid")),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="reflect")),
    ("Conv2d", (2, 4, 3), dict(padding=(2, 1), padding_mode="replicate")),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="circular")),
    ("Conv1d", (2, 4, 4), dict(padding="same", padding_mode="reflect")),
    ("ConvTranspose1d", (4, 2, 3), dict(stride=2, output_padding=1)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("ConvTranspose2d", (3, 2, 2), dict(bias=False, dilation=2)),
]


def _spatial(name):
    return (9,) if "1d" in name else (7, 6)


@pytest.mark.parametrize("name, args, kw", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_module_repr_state_dict_and_forward_match_torch(name, args, kw):
    ours, theirs = getattr(tracer.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        assert tuple(ours.state_dict()[k].shape) == tuple(v.shape), k
    ours.load_state_dict({k: tracer.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, args[0]) + _spatial(name)).astype(np.float32)
    tx, t = tracer.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(tx), theirs(t)
    _close(y, ty, rtol=1e-4, atol=1e-5)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _close(tx.grad, t.grad, rtol=1e-4, atol=1e-4)
    _close(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", ["Conv1d", "Conv2d", "ConvTranspose2d"])
def test_init_is_torchs_kaiming_uniform(name):
    m = getattr(tracer.nn, name)(6, 8, 3)
    fan_in = m.weight.shape[1] * math.prod(m.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)): gain sqrt(2/6), bound gain*sqrt(3/fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound and b.std() > 0
    assert m.weight.requires_grad and m.bias.requires_grad


def test_unbatched_input_and_double_modules():
    m = tracer.nn.Conv2d(2, 3, 3, dtype=tracer.float64)
    assert m.weight.dtype == tracer.float64
    assert m(tracer.randn(2, 5, 5, dtype=tracer.float64)).shape == (3, 3, 3)


ERRORS = [
    (lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 5, 5), m.zeros(4, 2, 3, 3)), RuntimeError,
     "expected input\\[1, 3, 5, 5\\] to have 2 channels, but got 3 channels instead"),
    (lambda m: m.nn.functional.conv2d(m.zeros(1, 2, 2, 2), m.zeros(4, 2, 3, 3)), RuntimeError,
     "Kernel size can't be greater than actual input size"),
    (lambda m: m.nn.functional.conv2d(m.zeros(1, 2, 5, 5), m.zeros(4, 2, 3, 3), stride=2, padding="same"),
     RuntimeError, "padding='same' is not supported for strided convolutions"),
    (lambda m: m.nn.functional.conv1d(m.zeros(1, 2, 5, 5), m.zeros(4, 2, 3)), RuntimeError,
     "Expected 2D \\(unbatched\\) or 3D \\(batched\\) input to conv1d"),
    (lambda m: m.nn.Conv2d(3, 4, 3, groups=2), ValueError, "in_channels must be divisible by groups"),
    (lambda m: m.nn.Conv2d(2, 4, 3, stride=2, padding="same"), ValueError,
     "padding='same' is not supported for strided convolutions"),
    (lambda m: m.nn.Conv2d(2, 4, 3, padding="full"), ValueError, "Invalid padding string 'full'"),
    (lambda m: m.nn.Conv2d(2, 4, 3, padding_mode="mirror"), ValueError, "padding_mode must be one of"),
    (lambda m: m.nn.ConvTranspose2d(2, 4, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
]


@pytest.mark.parametrize("make, cls, message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_are_torchs(make, cls, message):
    with pytest.raises(cls, match=message):
        make(torch)
    with pytest.raises(cls, match=message):
        make(tracer)


def test_compiled_conv_step_on_onnxruntime_matches_eager():
    """A conv + relu + linear training step, compiled on onnxruntime, equals eager NumPy."""
    def make():
        tracer.manual_seed(0)
        net = tracer.nn.Sequential(tracer.nn.Conv2d(1, 4, 3, padding=1), tracer.nn.ReLU(), tracer.nn.Flatten(),
                                   tracer.nn.Linear(4 * 6 * 6, 3))
        return net, tracer.optim.SGD(net.parameters(), lr=0.1)

    def step(net, opt, x, y):
        opt.zero_grad()
        loss = tracer.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(3)
    x = tracer.tensor(rng.standard_normal((5, 1, 6, 6)).astype(np.float32))
    y = tracer.tensor(rng.integers(0, 3, 5))
    (net_a, opt_a), (net_b, opt_b) = make(), make()
    compiled = tracer.compile(lambda x, y: step(net_b, opt_b, x, y), backend="onnxruntime")
    for _ in range(3):
        np.testing.assert_allclose(compiled(x, y).item(), step(net_a, opt_a, x, y).item(), rtol=1e-5)
    for p, q in zip(net_a.parameters(), net_b.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_float64_conv_on_onnxruntime_is_reported_as_computed_in_float32():
    x = np.random.default_rng(4).standard_normal((1, 2, 5, 5))
    w = np.random.default_rng(5).standard_normal((3, 2, 3, 3))
    graph = tracer.trace(lambda x, w: tracer.nn.functional.conv2d(x, w), tracer.tensor(x), tracer.tensor(w))
    report = compare(graph, x, w)
    assert report.ok and "no float64 Conv" in str(report)
