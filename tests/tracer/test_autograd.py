"""Eager autograd: the textbook example, accumulation, torch's errors, grad modes,
higher-order gradients against torch, backward inside a trace."""
import random

import numpy as np
import pytest

import ir
import backends.numpy as bnp
import tracer
from tracer.autograd.engine import _collect

torch = pytest.importorskip("torch")


def test_textbook_example():
    w = tracer.tensor(1.0, requires_grad=True)
    b = tracer.tensor(0.5, requires_grad=True)
    x, y = tracer.tensor([1.4]), tracer.tensor([2.1])
    z = tracer.add(tracer.mul(w, x), b)
    loss = (y - z).pow(2).sum()
    loss.backward()
    assert w.grad.item() == pytest.approx(-0.56) and b.grad.item() == pytest.approx(-0.4)
    assert loss.grad_fn is not None and w.is_leaf and not z.is_leaf


def test_requires_grad_flag_and_method():
    t = tracer.tensor([1.0, 2.0])
    assert not t.requires_grad
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad = False
    assert not t.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        tracer.tensor([1, 2]).requires_grad_()


def test_gradients_accumulate_and_reset():
    w = tracer.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    first = w.grad
    (w * w).sum().backward()
    assert w.grad is first  # accumulated in place, as torch does
    np.testing.assert_allclose(w.grad.numpy(), [5.0, 7.0])
    w.grad = None
    (w * 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0])


def test_non_scalar_backward_needs_a_gradient():
    w = tracer.ones(3, requires_grad=True)
    out = w * 2
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        out.backward()
    out.backward(tracer.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0, 6.0])


def test_second_backward_through_a_freed_graph():
    w = tracer.ones(2, requires_grad=True)
    loss = (w.exp() * w).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    loss2 = (w.exp() * w).sum()
    loss2.backward(retain_graph=True)
    loss2.backward()
    np.testing.assert_allclose(w.grad.numpy(), 3 * 2 * np.exp(1.0) * np.ones(2), rtol=1e-6)


def test_in_place_on_a_leaf_that_requires_grad():
    w = tracer.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place"):
        w.add_(1)
    with tracer.no_grad():
        w.add_(1)
    assert w.tolist() == [2.0, 2.0] and w.is_leaf


def test_backward_after_a_saved_value_was_modified_in_place():
    w = tracer.ones(3, requires_grad=True)
    s = w.sigmoid()
    out = (s * 2).sum()
    s.mul_(3)  # sigmoid's backward needs its output
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1; expected version 0"):
        out.backward()


def test_in_place_on_a_value_backward_does_not_need_is_fine():
    w = tracer.ones(3, requires_grad=True)
    h = w + 1
    out = h.sum()
    h.add_(5)
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), [1, 1, 1])


def test_in_place_ops_keep_gradients_flowing():
    w = tracer.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1
    h.mul_(w)
    h.add_(1)
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])


def test_grad_modes():
    w = tracer.ones(2, requires_grad=True)
    with tracer.no_grad():
        assert not (w * 2).requires_grad
        assert not tracer.is_grad_enabled()
        with tracer.enable_grad():
            assert (w * 2).requires_grad
    with tracer.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert tracer.is_grad_enabled()

    @tracer.no_grad()
    def f(x):
        return x * 2
    assert not f(w).requires_grad and tracer.is_grad_enabled()


def test_detach_and_detach_():
    w = tracer.ones(2, requires_grad=True)
    d = (w * 2).detach()
    assert not d.requires_grad and d.is_leaf and d.tolist() == [2.0, 2.0]
    h = w * 3
    h.detach_()
    assert not h.requires_grad


def test_retain_grad_and_non_leaf_warning():
    w = tracer.ones(2, requires_grad=True)
    h = w * 2
    h.retain_grad()
    g = h * 3
    g.sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [3.0, 3.0])
    with pytest.warns(UserWarning, match="not a leaf"):
        assert g.grad is None


def test_autograd_grad_does_not_touch_dot_grad_and_checks_unused():
    x = tracer.tensor([1.0, 2.0], requires_grad=True)
    z = tracer.tensor([1.0], requires_grad=True)
    y = (x ** 2).sum()
    (gx,) = tracer.autograd.grad(y, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        tracer.autograd.grad(y, [x, z], retain_graph=True)
    gx2, gz = tracer.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None


def _hessian_vector(m, f, x_np, v_np):
    x = m.tensor(x_np, requires_grad=True)
    (g,) = m.autograd.grad(f(m, x), x, create_graph=True)
    (hv,) = m.autograd.grad((g * m.tensor(v_np)).sum(), x)
    return g.detach().numpy(), hv.numpy()


@pytest.mark.parametrize("name, f", [
    ("polynomial", lambda m, x: (x ** 3 - 2 * x ** 2 + x).sum()),
    ("tanh", lambda m, x: m.tanh(x).sum()),
    ("sigmoid", lambda m, x: (m.sigmoid(x) * x).sum()),
    ("softmax", lambda m, x: (m.softmax(x, 0) * m.arange(4.0)).sum()),
    ("mlp_loss", lambda m, x: ((m.tanh(x.reshape(2, 2) @ m.tensor([[1.0, -0.5], [0.3, 0.8]])) - 1) ** 2).mean()),
])
def test_second_derivatives_match_torch(name, f):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4).astype(np.float32)
    v = rng.standard_normal(4).astype(np.float32)
    ours = _hessian_vector(tracer, f, x, v)
    theirs = _hessian_vector(torch, f, x, v)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_create_graph_backward_twice():
    x = tracer.tensor(2.0, requires_grad=True)
    y = x ** 4
    y.backward(create_graph=True)
    g = x.grad
    assert g.item() == pytest.approx(32.0) and g.requires_grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(48.0)


def test_backward_inside_a_trace_appends_to_the_graph():
    w = tracer.tensor([1.0, -2.0], requires_grad=True)

    def step(x):
        loss = ((w * x).sum() - 1) ** 2
        loss.backward()
        return loss, w.grad

    graph = tracer.trace(step, tracer.tensor([3.0, 0.5]))
    w.grad = None
    phases = {n.phase for n in graph.nodes}
    assert phases == {"forward", "backward"} and graph.output_names == ["output_0", "output_1"]
    loss, grad = bnp.run(graph, np.array([1.0, 1.0], np.float32))
    # loss = (w0 + w1 - 1)^2 = 4, d/dw = 2 * (-2) * x
    assert float(loss) == pytest.approx(4.0)
    np.testing.assert_allclose(grad, [-4.0, -4.0])


def test_forces_as_the_gradient_of_an_energy_trace_and_export():
    """A model whose forward computes -dE/dx: what torch.onnx cannot export."""
    from backends import compare

    def forces(x):
        x = x.detach().requires_grad_()
        energy = (x ** 2).sum() * 0.5 + tracer.sin(x).sum()
        (g,) = tracer.autograd.grad(energy, x, create_graph=True)
        return -g

    x = tracer.tensor([0.3, -1.2, 2.0])
    graph = tracer.trace(forces, x)
    expected = -(x.numpy() + np.cos(x.numpy()))
    np.testing.assert_allclose(bnp.run(graph, x.numpy())[0], expected, rtol=1e-6)
    assert compare(graph, x).ok
    # and it is differentiable again (e.g. a force-matching loss)
    assert ir.grad(graph, grad_output=True).outputs


def test_cached_backward_plans_keep_results_and_checks():
    """The second backward of a structure runs a cached plan: same numbers, same errors."""
    from tracer.autograd.engine import _PLANS
    results = []
    for _ in range(3):
        w = tracer.tensor([0.5, -1.0, 2.0], requires_grad=True)
        loss = (w.sigmoid() * w).sum()
        loss.backward()
        results.append(w.grad.numpy().copy())
    assert all(np.array_equal(results[0], r) for r in results)
    known = set(_PLANS._plans)
    for _ in range(2):  # the same error from the plan path as from the full pass
        w = tracer.ones(3, requires_grad=True)
        s = w.sigmoid()
        out = (s * 2).sum()
        s.mul_(3)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward()
    w = tracer.ones(4, requires_grad=True)  # another shape: another plan
    (w.sigmoid() * w).sum().backward()
    assert set(_PLANS._plans) - known  # a new plan (the cache may be full and drop an old one)


def test_the_backward_collects_each_node_once_after_its_inputs():
    """engine._collect over random multi-root DAGs (repeated inputs, shared subgraphs) and a
    20,000-op chain (no recursion): every reachable node once, each after all its inputs."""
    def reachable(roots):
        seen, stack = set(), list(roots)
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(n.inputs)
        return seen

    rng = random.Random(0)
    for _ in range(50):
        ts = [tracer.tensor(np.ones(3), requires_grad=True) for _ in range(3)]
        for _ in range(25):
            a, b = rng.choice(ts), rng.choice(ts)
            ts.append(rng.choice([a * b, a + a, (a - b).exp()]))
        roots = [rng.choice(ts[3:])._own_node for _ in range(3)]
        order = _collect(roots)
        position = {n: k for k, n in enumerate(order)}
        assert len(position) == len(order) and set(order) == reachable(roots)
        assert all(position[i] < position[n] for n in order for i in n.inputs)
    x = tracer.ones(2, requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0
    assert len(_collect([y._own_node])) > 20000
