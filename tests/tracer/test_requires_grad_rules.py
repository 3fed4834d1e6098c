"""Which results require grad, as torch decides it: a result requires grad when grad mode is on,
an input requires grad, the op is differentiable and the result's dtype is floating point.
Comparisons, argmax and casts to integer or bool give tensors that never require grad (nor does
anything computed from them alone), eagerly, inside ``trace`` and inside ``compile``."""
import numpy as np
import pytest

import ir
import tracer
from backends.numpy import run

torch = pytest.importorskip("torch")

X = np.array([0.3, -1.0, 0.7, 1.6], np.float32)

#: name -> f(module, x); each runs on torch and tracer alike.
CASES = {
    "gt": lambda m, x: x > 0,
    "eq": lambda m, x: x == x,
    "ne_scalar": lambda m, x: x != 0.3,
    "isnan": lambda m, x: m.isnan(x),
    "isfinite": lambda m, x: m.isfinite(x),
    "logical_not": lambda m, x: m.logical_not(x > 0),
    "any": lambda m, x: (x > 0).any(),
    "argmax": lambda m, x: x.argmax(),
    "argmin_dim": lambda m, x: x.argmin(0),
    "max_dim_indices": lambda m, x: x.max(0)[1],
    "max_dim_values": lambda m, x: x.max(0)[0],
    "ge_float": lambda m, x: (x >= .5).float(),
    "long": lambda m, x: x.long(),
    "int": lambda m, x: x.int(),
    "bool": lambda m, x: x.bool(),
    "to_int64": lambda m, x: x.to(m.int64),
    "long_float": lambda m, x: x.long().float(),
    "double": lambda m, x: x.double(),
    "sum_of_mask": lambda m, x: (x > 0).sum(),
    "mask_times_x": lambda m, x: (x > 0).float() * x,
    "where": lambda m, x: m.where(x > 0, x, x * 2),
    "where_of_constants": lambda m, x: m.where(x > 0, m.zeros(4), m.ones(4)),
    "where_int": lambda m, x: m.where(x > 0, x.long(), 0),
    "masked_fill": lambda m, x: x.masked_fill(x > 0, 0.0),
    "index_by_argmax": lambda m, x: x[x.argmax()],
    "sign": lambda m, x: x.sign(),
    "round": lambda m, x: x.round(),
    "floor": lambda m, x: x.floor(),
    "ceil": lambda m, x: x.ceil(),
    "trunc": lambda m, x: x.trunc(),
    "detach": lambda m, x: x.detach(),
    "nonzero": lambda m, x: m.nonzero(x),
    "setitem_into_long": lambda m, x: _setitem(m, x, m.int64),
    "setitem_into_float": lambda m, x: _setitem(m, x, m.float32),
    "add_into_long": lambda m, x: m.zeros(4, dtype=m.int64).add_(x.long()),
}


def _setitem(m, x, dtype):
    y = m.zeros(4, dtype=dtype)
    y[0] = x[0]
    return y


def _state(t):
    return t.requires_grad, t.is_leaf, t.grad_fn is None, str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("name", sorted(CASES))
def test_requires_grad_is_leaf_and_grad_fn_match_torch(name):
    f = CASES[name]
    want = _state(f(torch, torch.tensor(X, requires_grad=True)))
    got = _state(f(tracer, tracer.tensor(X, requires_grad=True)))
    assert got == want


@pytest.mark.parametrize("name", ["gt", "argmax", "ge_float", "long", "sum_of_mask", "where_of_constants"])
def test_backward_of_a_result_that_does_not_require_grad_raises_torchs_error(name):
    f = CASES[name]
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad") as want:
        f(torch, torch.tensor(X, requires_grad=True)).sum().backward()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a "
                       "grad_fn") as got:
        f(tracer, tracer.tensor(X, requires_grad=True)).sum().backward()
    assert type(got.value) is type(want.value)


def test_numpy_of_integer_and_bool_results_works():
    x = tracer.tensor(X, requires_grad=True)
    np.testing.assert_array_equal((x > 0).numpy(), X > 0)
    assert x.argmax().numpy() == 3
    np.testing.assert_array_equal((x >= .5).float().numpy(), (X >= .5).astype(np.float32))
    np.testing.assert_array_equal(x.long().numpy(), X.astype(np.int64))
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        x.floor().numpy()  # differentiable (zero gradient): requires grad, as torch's


def _gradient_program(m, x):
    """Gradients must not flow through casts to integer, comparisons or a where's mask."""
    y = ((x * 3).long().float() * x + (x > 0).float() * x + m.where(x > 0, x, 0.5 * x)
         + x.floor() * x + x.round() + x.sign() * x)
    return y.sum()


def test_gradients_skip_integer_paths_as_torchs():
    xt = torch.tensor(X, requires_grad=True)
    _gradient_program(torch, xt).backward()
    xg = tracer.tensor(X, requires_grad=True)
    _gradient_program(tracer, xg).backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def _step(x):
    _gradient_program(tracer, x).backward()
    return x.grad


def test_traced_gradients_skip_integer_paths():
    xt = torch.tensor(X, requires_grad=True)
    _gradient_program(torch, xt).backward()
    graph = tracer.trace(_step, tracer.tensor(X, requires_grad=True))
    (got,) = run(graph, {"x": X})
    np.testing.assert_allclose(got, xt.grad.numpy(), rtol=1e-6)


def test_ir_grad_of_a_traced_forward_skips_integer_paths():
    xt = torch.tensor(X, requires_grad=True)
    _gradient_program(torch, xt).backward()
    graph = tracer.trace(lambda x: _gradient_program(tracer, x), tracer.tensor(X, requires_grad=True))
    _, got = run(ir.grad(graph), {"x": X})
    np.testing.assert_allclose(got, xt.grad.numpy(), rtol=1e-6)


def test_compiled_gradients_skip_integer_paths():
    xt = torch.tensor(X, requires_grad=True)
    _gradient_program(torch, xt).backward()
    step = tracer.compile(_step)
    for _ in range(2):  # the first call traces, the second runs the cached graph
        got = step(tracer.tensor(X, requires_grad=True))
        np.testing.assert_allclose(got.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_inside_a_trace_integer_results_do_not_require_grad():
    seen = {}

    def fn(x):
        for name in ("gt", "argmax", "ge_float", "long", "where_of_constants", "floor", "where"):
            t = CASES[name](tracer, x)
            seen[name] = (t.requires_grad, t.is_leaf, t.grad_fn is None)
        with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
            (x > 0).sum().backward()
        (x > 0).numpy()
        return x.argmax()

    tracer.trace(fn, tracer.tensor(X, requires_grad=True))
    for name, got in seen.items():
        t = CASES[name](torch, torch.tensor(X, requires_grad=True))
        assert got == (t.requires_grad, t.is_leaf, t.grad_fn is None), name


def test_results_of_a_requires_grad_input_under_no_grad_do_not_require_grad():
    x = tracer.tensor(X, requires_grad=True)
    with tracer.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
