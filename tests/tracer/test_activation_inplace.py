"""Activations' ``inplace=`` is honoured (it was accepted and ignored): the functional form and
the module both write the result into the input and return it, with torch's values, gradients
and errors; ``hardtanh``/``ReLU6`` exist; bool inputs raise torch's errors."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

FUNCTIONAL = {
    "relu": lambda F, x, inplace: F.relu(x, inplace=inplace),
    "relu6": lambda F, x, inplace: F.relu6(x, inplace=inplace),
    "hardtanh": lambda F, x, inplace: F.hardtanh(x, -0.5, 0.75, inplace),
    "leaky_relu": lambda F, x, inplace: F.leaky_relu(x, 0.2, inplace),
    "elu": lambda F, x, inplace: F.elu(x, 0.7, inplace),
    "silu": lambda F, x, inplace: F.silu(x, inplace=inplace),
    "dropout eval": lambda F, x, inplace: F.dropout(x, 0.3, False, inplace),
}
MODULES = {
    "ReLU": lambda nn: nn.ReLU(inplace=True),
    "ReLU6": lambda nn: nn.ReLU6(inplace=True),
    "Hardtanh": lambda nn: nn.Hardtanh(-0.5, 0.75, inplace=True),
    "LeakyReLU": lambda nn: nn.LeakyReLU(0.2, inplace=True),
    "ELU": lambda nn: nn.ELU(0.7, inplace=True),
    "SiLU": lambda nn: nn.SiLU(inplace=True),
}
VALUES = np.array([-7.0, -0.6, -0.1, 0.0, 0.3, 0.8, 6.5], np.float32)


def _run(m, apply):
    """``apply(h)`` on a non-leaf h = 2 w; returns h after, the result, whether they are one
    tensor, and w's gradient of (result * w).sum()."""
    w = m.tensor(VALUES / 2, requires_grad=True)
    h = w * 2
    out = apply(h)
    (out * w).sum().backward()
    return h.detach().numpy().copy(), out.detach().numpy(), out is h, w.grad.numpy()


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_inplace_as_torch(name, inplace):
    fn = FUNCTIONAL[name]
    ours = _run(tracer, lambda h: fn(tracer.nn.functional, h, inplace))
    theirs = _run(torch, lambda h: fn(torch.nn.functional, h, inplace))
    assert ours[2] == theirs[2]
    for a, b in zip(ours[:2] + ours[3:], theirs[:2] + theirs[3:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_pass_inplace_on_and_print_it_as_torch(name):
    ours_module, theirs_module = MODULES[name](tracer.nn), MODULES[name](torch.nn)
    assert repr(ours_module) == repr(theirs_module)
    ours, theirs = _run(tracer, ours_module), _run(torch, theirs_module)
    assert ours[2] is theirs[2] is True
    for a, b in zip(ours[:2] + ours[3:], theirs[:2] + theirs[3:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "silu"])
def test_inplace_on_a_leaf_that_requires_grad_raises_as_torch(name):
    for m in (torch, tracer):
        x = m.tensor(VALUES, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            FUNCTIONAL[name](m.nn.functional, x, True)
        np.testing.assert_array_equal(x.detach().numpy(), VALUES)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "leaky_relu", "elu", "silu", "gelu", "softplus"])
def test_bool_inputs_raise_torchs_error(name):
    fn = FUNCTIONAL.get(name, lambda F, x, inplace: getattr(F, name)(x))
    errors = {}
    for m in (torch, tracer):
        with pytest.raises(Exception) as e:
            fn(m.nn.functional, m.tensor([True, False]), False)
        errors[m.__name__] = e.value
    assert type(errors["tracer"]) is type(errors["torch"])
    assert str(errors["torch"]) in str(errors["tracer"])


def test_hardtanh_bounds_are_checked_as_torch():
    for m in (torch, tracer):
        with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
            m.nn.functional.hardtanh(m.ones(2), 1.0, -1.0)
        with pytest.raises(AssertionError, match=r"max_val \(-1.0\) must be greater than min_val \(1.0\)"):
            m.nn.Hardtanh(1.0, -1.0)


@pytest.mark.parametrize("level", ["all", "disable"])
def test_an_inplace_activation_exports_without_a_scatter_and_runs_on_onnxruntime(level, monkeypatch):
    """The clone and the whole-value write an in-place activation records lower to nothing."""
    from backends import numpy as bnp
    from backends import ort as ort_backend
    from backends.onnx import to_model
    monkeypatch.setenv("TRACEGRAD_ORT_OPT", level)
    tracer.manual_seed(0)
    model = tracer.nn.Sequential(tracer.nn.Linear(3, 4), tracer.nn.ReLU(inplace=True), tracer.nn.Linear(4, 2),
                                 tracer.nn.ELU(inplace=True))
    x = tracer.randn(5, 3)
    graph = tracer.trace(model, x)
    assert "ScatterND" not in {n.op_type for n in to_model(graph).graph.node}
    want = model(x).detach().numpy()
    np.testing.assert_allclose(bnp.run(graph, x.numpy())[0], want, rtol=1e-6)
    np.testing.assert_allclose(ort_backend.run(graph, x.numpy())[0], want, rtol=1e-5, atol=1e-6)
