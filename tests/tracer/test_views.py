"""Storage is shared as in torch: views, ``.data``, ``detach()``, ``from_numpy`` and ``numpy()``
see each other's in-place changes, share the version counter, and gradients flow through an
in-place change of a view. Each case runs the same code on tracer and torch."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(tracer), fn(torch)


def _same(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy()), theirs.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_data_add_updates_the_parameter():
    def run(m):
        p = m.nn.Parameter(m.ones(3))
        p.data.add_(m.full((3,), 2.0))
        p.data.mul_(0.5)
        return p
    _same(*_both(run))


def test_detach_and_data_share_the_version_counter():
    for m in (tracer, torch):
        x = m.ones(3, requires_grad=True) * 2
        d = x.detach()
        d.zero_()
        assert x._version == d._version == 1
        assert float(x.sum()) == 0.0


@pytest.mark.parametrize("case", ["row", "column", "transpose", "reshape", "chain", "setitem"])
def test_in_place_through_a_view_reaches_the_base(case):
    def run(m):
        x = m.arange(12, dtype=m.float32).reshape(3, 4)
        if case == "row":
            x[1].fill_(-1)
        elif case == "column":
            x[:, 2].mul_(10)
        elif case == "transpose":
            x.t().add_(m.arange(3, dtype=m.float32))
        elif case == "reshape":
            x.view(-1)[::5].zero_()
        elif case == "chain":
            x[1:].t()[0].sub_(100)
        else:
            v = x[0:2]
            v[:, 1:3] = 7.0
        return x
    _same(*_both(run))


def test_from_numpy_and_numpy_share_the_array():
    a = np.zeros(3, dtype=np.float32)
    t = tracer.from_numpy(a)
    t.add_(1)
    n = t.numpy()
    t.mul_(3)
    np.testing.assert_array_equal(a, [3, 3, 3])
    np.testing.assert_array_equal(n, [3, 3, 3])


def test_gradient_flows_through_an_in_place_change_of_a_view():
    def run(m):
        a = m.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        b = a * 2
        b[1:3].mul_(b[0:2] + 1)
        (b * m.tensor([1.0, -2.0, 3.0, 0.5])).sum().backward()
        return a.grad
    _same(*_both(run))


def test_in_place_on_a_view_of_a_leaf_is_torchs_error():
    w = tracer.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[0].mul_(2)
    with tracer.no_grad():
        w[0].mul_(0)
    assert float(w[0]) == 0.0


def test_writing_into_an_expanded_tensor_is_torchs_error():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        tracer.ones(1).expand(3).add_(1)


def test_a_saved_value_changed_through_a_view_stops_backward():
    a = tracer.tensor([0.5, -1.0], requires_grad=True)
    y = a.sigmoid()
    y.view(2).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_a_deep_copy_owns_its_array():
    import copy
    p = tracer.ones(3)
    v = p.detach()
    twin = copy.deepcopy(v)
    twin.add_(1)
    assert float(p.sum()) == 3.0 and float(twin.sum()) == 6.0


def _manual_sgd(m, steps, compiled=None):
    """A textbook loop: parameters updated through ``.data``."""
    m.manual_seed(0)
    x = m.tensor(np.linspace(-1, 1, 32, dtype=np.float32).reshape(16, 2))
    y = m.tensor((np.arange(16) % 2).astype(np.float32).reshape(16, 1))
    w = m.tensor(np.full((2, 1), 0.3, np.float32), requires_grad=True)
    b = m.tensor(np.zeros(1, np.float32), requires_grad=True)

    def step(x, y):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        for p in (w, b):
            p.data.add_(-0.5 * p.grad)
            p.grad.zero_()
        return loss
    run = compiled(step) if compiled else step
    return [float(run(x, y)) for _ in range(steps)], w


@pytest.mark.parametrize("backend", [None, "numpy", "onnxruntime"])
def test_a_loop_updating_parameters_through_data_trains_like_torch(backend):
    compiled = None if backend is None else (lambda fn: tracer.compile(fn, backend=backend))
    ours, w = _manual_sgd(tracer, 30, compiled)
    theirs, w_t = _manual_sgd(torch, 30)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    assert ours[-1] < ours[0]
    _same(w, w_t)


def test_a_parameter_changed_through_a_view_of_its_data_is_used_afresh():
    p = tracer.nn.Parameter(tracer.ones(3))
    (p * 2).sum().backward()
    p.data[0].add_(1)
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [2 + 4, 2 + 2, 2 + 2])


def test_a_trace_keeps_the_constant_it_saw():
    a = np.ones(3, dtype=np.float32)
    c = tracer.from_numpy(a)
    graph = tracer.trace(lambda x: x + c, tracer.zeros(3))
    c.add_(5)
    from backends.numpy import run
    np.testing.assert_array_equal(run(graph, np.zeros(3, np.float32))[0], [1, 1, 1])
