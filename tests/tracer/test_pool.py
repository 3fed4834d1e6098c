"""Max pooling beyond the op table: torch's indices and gradients over ceil_mode edge cases,
modules' reprs and return_indices, torch's errors, grad-of-grad, and the pytorch/examples MNIST
net's training step (conv, relu, max_pool2d, dropout off, linear, log_softmax + nll) compiled
and on onnxruntime, step by step against eager."""
import numpy as np
import pytest

import ir
import tracer
from backends import numpy as bnp
from backends import ort as ort_backend
from backends.onnx import to_model

torch = pytest.importorskip("torch")

CONFIGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=2, ceil_mode=True),           # 7 -> 4: the last window is half outside
    dict(kernel_size=3, stride=3, padding=1, ceil_mode=True),  # a window that would start in the padding is dropped
    dict(kernel_size=2, dilation=2, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True),
]


@pytest.mark.parametrize("kw", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_values_indices_and_gradients_equal_torchs(kw):
    a = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)
    seen = {}
    for m in (torch, tracer):
        x = m.tensor(a, requires_grad=True)
        values, indices = m.nn.functional.max_pool2d(x, return_indices=True, **kw)
        (values * values).sum().backward()
        seen[m.__name__] = (values.detach().numpy(), indices.numpy(), x.grad.numpy())
    for ours, theirs in zip(seen["tracer"], seen["torch"]):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_ties_and_overlapping_windows_send_the_gradient_as_torch():
    a = np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0], [2.0, 0.0, 2.0]]]], np.float32)
    grads = []
    for m in (torch, tracer):
        x = m.tensor(a, requires_grad=True)
        m.nn.functional.max_pool2d(x, 2, 1).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


@pytest.mark.parametrize("n", [1, 2, 3])
def test_modules_print_and_return_indices_as_torch(n):
    ours = getattr(tracer.nn, f"MaxPool{n}d")(2, return_indices=True, ceil_mode=True)
    theirs = getattr(torch.nn, f"MaxPool{n}d")(2, return_indices=True, ceil_mode=True)
    assert repr(ours) == repr(theirs)
    a = np.random.default_rng(n).standard_normal((1, 2) + (5,) * n).astype(np.float32)
    (v, i), (tv, ti) = ours(tracer.tensor(a)), theirs(torch.tensor(a))
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


@pytest.mark.parametrize("call, words", [
    (lambda m: m.nn.functional.max_pool2d(m.ones(1, 1, 5, 5), 2, padding=2), "pad should be at most half"),
    (lambda m: m.nn.functional.max_pool2d(m.ones(1, 1, 5, 5, dtype=m.bool), 2), "not implemented for 'Bool'"),
    (lambda m: m.nn.functional.max_pool2d(m.ones(5), 2), "max_pool2d"),
    (lambda m: m.nn.functional.max_pool2d(m.ones(1, 1, 2, 2), 3), "too small"),
    (lambda m: m.nn.functional.max_pool2d(m.ones(1, 1, 4, 4), 2, stride=0), "stride"),
])
def test_misuse_raises_torchs_exception_type(call, words):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value), match=words) as ours:
        call(tracer)
    assert "test_pool.py" in str(ours.value)


def test_grad_of_grad_through_max_pool():
    a = np.random.default_rng(1).standard_normal((1, 2, 4, 4))
    results = []
    for m in (torch, tracer):
        x = m.tensor(a, requires_grad=True)
        y = m.nn.functional.max_pool2d(x * x, 2).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
        results.append(x.grad.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


class Net(tracer.nn.Module):
    """pytorch/examples' MNIST network, at 12x12 to stay small."""

    def __init__(self, nn):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 4, 3, 1), nn.Conv2d(4, 8, 3, 1)
        self.fc1, self.fc2 = nn.Linear(8 * 4 * 4, 16), nn.Linear(16, 10)

    def forward(self, x, F):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return F.log_softmax(self.fc2(x), dim=1)


def _torch_net(ours):
    net = torch.nn.Module()
    for name in ("conv1", "conv2", "fc1", "fc2"):
        mine = getattr(ours, name)
        layer = (torch.nn.Conv2d(mine.in_channels, mine.out_channels, mine.kernel_size) if "conv" in name
                 else torch.nn.Linear(mine.in_features, mine.out_features))
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(mine.weight.detach().numpy()))
            layer.bias.copy_(torch.tensor(mine.bias.detach().numpy()))
        setattr(net, name, layer)
    return net


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_a_cnn_with_max_pooling_trains_compiled_as_torch_step_by_step(backend):
    tracer.manual_seed(0)
    ours = Net(tracer.nn)
    theirs = _torch_net(ours)
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((8, 1, 12, 12)).astype(np.float32), rng.integers(0, 10, 8)) for _ in range(4)]
    opt = tracer.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = tracer.nn.functional.nll_loss(ours(x, tracer.nn.functional), y)
        loss.backward()
        opt.step()
        return loss

    compiled = tracer.compile(step, backend=backend)
    for _ in range(5):
        for x, y in batches:
            loss = compiled(tracer.tensor(x), tracer.tensor(y))
            topt.zero_grad()
            tloss = torch.nn.functional.nll_loss(Net.forward(theirs, torch.tensor(x), torch.nn.functional),
                                                  torch.tensor(y))
            tloss.backward()
            topt.step()
            np.testing.assert_allclose(float(loss), tloss.item(), rtol=2e-5)
    np.testing.assert_allclose(ours.conv1.weight.detach().numpy(), theirs.conv1.weight.detach().numpy(),
                               rtol=1e-4, atol=1e-6)


def test_the_pooling_gradient_graph_is_maxpool_and_a_scatter_on_onnxruntime():
    tracer.manual_seed(0)
    x = tracer.randn(2, 1, 6, 6, requires_grad=True)
    graph = ir.grad(tracer.trace(lambda x: tracer.nn.functional.max_pool2d(x, 2, 1).pow(2).sum(), x))
    ops = {n.op_type for n in to_model(graph).graph.node}
    assert "MaxPool" in ops and "ScatterElements" in ops and "MaxUnpool" not in ops
    for got, want in zip(ort_backend.run(graph, x.detach().numpy()), bnp.run(graph, x.detach().numpy())):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_integer_inputs_pool_as_torch_on_every_backend():
    a = np.arange(60).reshape(1, 2, 5, 6) % 7
    want = torch.nn.functional.max_pool2d(torch.tensor(a), 2, ceil_mode=True, return_indices=True)
    graph = tracer.trace(lambda x: tracer.nn.functional.max_pool2d(x, 2, ceil_mode=True, return_indices=True),
                         tracer.tensor(a))
    for got in (bnp.run(graph, a), ort_backend.run(graph, a)):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w.numpy())


AVG_CONFIGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, divisor_override=3),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True),
]


@pytest.mark.parametrize("kw", AVG_CONFIGS, ids=[str(c) for c in AVG_CONFIGS])
def test_avg_pool_values_and_gradients_equal_torchs(kw):
    a = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    seen = {}
    for m in (torch, tracer):
        x = m.tensor(a, requires_grad=True)
        out = m.nn.functional.avg_pool2d(x, **kw)
        (out * out).sum().backward()
        seen[m.__name__] = (out.detach().numpy(), x.grad.numpy())
    for ours, theirs in zip(seen["tracer"], seen["torch"]):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("size", [(1, 1), 3, (2, 4), (None, 2), (5, 4)])
def test_adaptive_avg_pool_equals_torchs(size):
    a = np.random.default_rng(1).standard_normal((2, 3, 7, 6))
    seen = {}
    for m in (torch, tracer):
        x = m.tensor(a, requires_grad=True)
        out = m.nn.functional.adaptive_avg_pool2d(x, size)
        (out * out).sum().backward()
        seen[m.__name__] = (out.detach().numpy(), x.grad.numpy())
    for ours, theirs in zip(seen["tracer"], seen["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_integer_avg_pool_divides_toward_zero_as_torch():
    a = np.arange(-15, 15).reshape(1, 1, 5, 6)
    want = torch.nn.functional.avg_pool2d(torch.tensor(a), 2, ceil_mode=True)
    got = tracer.nn.functional.avg_pool2d(tracer.tensor(a), 2, ceil_mode=True)
    assert got.dtype == tracer.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("make", [
    lambda nn: nn.AvgPool1d(3, 2, 1), lambda nn: nn.AvgPool2d(2), lambda nn: nn.AvgPool2d((2, 3), ceil_mode=True),
    lambda nn: nn.AvgPool3d(2, 1), lambda nn: nn.AdaptiveAvgPool2d((1, 1)), lambda nn: nn.AdaptiveAvgPool1d(4),
])
def test_avg_pool_modules_print_as_torch(make):
    assert repr(make(tracer.nn)) == repr(make(torch.nn))


@pytest.mark.parametrize("call, words", [
    (lambda m: m.nn.functional.avg_pool2d(m.ones(1, 1, 5, 5), 3, padding=2), "pad should be at most half"),
    (lambda m: m.nn.functional.avg_pool2d(m.ones(0, 4, 4), 2), "optional 0 dim batch size"),
    (lambda m: m.nn.functional.max_pool2d(m.ones(1, 0, 4, 4), 2), "optional 0 dim batch size"),
    (lambda m: m.nn.functional.adaptive_avg_pool2d(m.ones(1, 1, 4, 4, dtype=m.int64), 2), "not implemented for 'Long'"),
])
def test_avg_pool_misuse_raises_torchs_exception_type(call, words):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value), match=words):
        call(tracer)


def test_a_cnn_with_average_pooling_exports_and_runs_on_onnxruntime():
    tracer.manual_seed(0)
    model = tracer.nn.Sequential(tracer.nn.Conv2d(1, 4, 3, padding=1), tracer.nn.ReLU(inplace=True),
                                 tracer.nn.AvgPool2d(2, ceil_mode=True), tracer.nn.Conv2d(4, 6, 3),
                                 tracer.nn.AdaptiveAvgPool2d((1, 1)), tracer.nn.Flatten(), tracer.nn.Linear(6, 3))
    x = tracer.randn(2, 1, 9, 9)
    graph = ir.grad(tracer.trace(lambda x: model(x).pow(2).sum(), x), wrt=None)
    arrays = [x.numpy()] + [p.detach().numpy() for p in model.parameters()]
    feeds = dict(zip(graph.input_names, arrays))
    for got, want in zip(ort_backend.run(graph, feeds), bnp.run(graph, feeds)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
