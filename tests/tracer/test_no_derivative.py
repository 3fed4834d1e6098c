"""Ops torch records but cannot differentiate (``x // y``, ``2 % x``): their results require
grad, and a backward that reaches them raises torch's "derivative for aten::<op> is not
implemented" (tracegrad gave zero gradients), eagerly, in a trace and through ``ir.grad``;
the forward still traces and exports. Also ``fill_``/``zero_`` of a non-leaf, which keep it a
non-leaf whose old value gets a zero gradient, as torch's FillBackward."""
import numpy as np
import pytest

import ir
import tracer
from backends import numpy as bnp
from backends import ort as ort_backend

torch = pytest.importorskip("torch")

REFUSED = {
    "x // y": (lambda m, x, y: x // y, "floor_divide"),
    "x // 2": (lambda m, x, y: x // 2, "floor_divide"),
    "floor_divide": (lambda m, x, y: m.floor_divide(x, y), "floor_divide"),
    "2 % x": (lambda m, x, y: 2.0 % x, "remainder"),
}
DIFFERENTIABLE = {
    "div floor": lambda m, x, y: m.div(x, y, rounding_mode="floor"),
    "x % y": lambda m, x, y: x % y,
    "x % 2": lambda m, x, y: x % 2,
    "fmod": lambda m, x, y: m.fmod(x, y),
}


def _inputs(m):
    return (m.tensor([1.5, -2.5, 4.0], requires_grad=True), m.tensor([2.0, 0.7, -1.5], requires_grad=True))


@pytest.mark.parametrize("name", list(REFUSED))
def test_backward_through_an_op_without_a_derivative_raises_as_torch(name):
    fn, aten = REFUSED[name]
    results = {}
    for m in (torch, tracer):
        x, y = _inputs(m)
        out = fn(m, x, y)
        assert out.requires_grad
        with pytest.raises(RuntimeError, match=f"derivative for aten::{aten} is not implemented") as e:
            (out * x).sum().backward()
        results[m.__name__] = (out.detach().numpy(), str(e.value))
    np.testing.assert_array_equal(results["tracer"][0], results["torch"][0])
    assert "test_no_derivative.py" in results["tracer"][1]  # the user's line of the op


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_traced_backward_and_ir_grad_refuse_too(name):
    fn, aten = REFUSED[name]
    x, y = _inputs(tracer)

    def step(x, y):
        fn(tracer, x, y).sum().backward()

    with pytest.raises(RuntimeError, match=f"derivative for aten::{aten} is not implemented"):
        tracer.trace(step, x, y)
    graph = tracer.trace(lambda x, y: fn(tracer, x, y).sum(), x, y)
    with pytest.raises(RuntimeError, match=f"derivative for aten::{aten} is not implemented"):
        ir.grad(graph)


@pytest.mark.parametrize("name", list(REFUSED))
def test_the_forward_still_runs_on_the_interpreter_and_onnxruntime(name):
    fn, _ = REFUSED[name]
    x, y = _inputs(tracer)
    graph = tracer.trace(lambda x, y: fn(tracer, x, y), x, y)
    assert "no_derivative" in graph.op_counts()
    arrays = [x.detach().numpy(), y.detach().numpy()]
    want = fn(torch, *map(torch.tensor, arrays)).numpy()
    np.testing.assert_array_equal(bnp.run(graph, *arrays)[0], want)
    np.testing.assert_array_equal(ort_backend.run(graph, *arrays)[0], want)


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_the_differentiable_forms_keep_torchs_gradients(name):
    grads = {}
    for m in (torch, tracer):
        x, y = _inputs(m)
        (DIFFERENTIABLE[name](m, x, y) * x).sum().backward()
        grads[m.__name__] = [x.grad.numpy(), None if y.grad is None else y.grad.numpy()]
    np.testing.assert_allclose(grads["tracer"][0], grads["torch"][0], rtol=1e-6)
    if grads["torch"][1] is None:
        assert grads["tracer"][1] is None or not grads["tracer"][1].any()
    else:
        np.testing.assert_allclose(grads["tracer"][1], grads["torch"][1], rtol=1e-6)


def test_results_that_do_not_require_grad_record_nothing_extra():
    x = tracer.tensor([1.5, -2.5])
    graph = tracer.trace(lambda x: x // 2, x)
    assert "no_derivative" not in graph.op_counts()
    ints = tracer.tensor([3, 4])
    assert not (ints // 2).requires_grad


@pytest.mark.parametrize("fill", ["fill_", "zero_", "fill_ tensor"])
def test_fill_of_a_non_leaf_keeps_it_a_non_leaf_as_torch(fill):
    seen = {}
    for m in (torch, tracer):
        x = m.tensor([1.5, 2.5], requires_grad=True)
        v = m.tensor(2.0, requires_grad=True)
        y = x * 2
        {"fill_": lambda: y.fill_(3.0), "zero_": y.zero_, "fill_ tensor": lambda: y.fill_(v)}[fill]()
        y.mul_(x)  # an in-place op after the fill is allowed: y is not a leaf
        y.sum().backward()
        seen[m.__name__] = (y.is_leaf, y.detach().numpy(), x.grad.numpy(), None if v.grad is None else v.grad.numpy())
    ours, theirs = seen["tracer"], seen["torch"]
    assert ours[0] is theirs[0] is False
    for a, b in zip(ours[1:], theirs[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-6)
