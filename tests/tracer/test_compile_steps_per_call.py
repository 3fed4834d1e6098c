"""compile(steps_per_call=K): K training steps per call in one graph, equal to K eager steps
(losses, parameters, optimizer state), on both backends and onnxruntime at its default
optimisation level; its argument checks; and what a call returns."""
import numpy as np
import pytest

import tracer


def _training(optimizer: str):
    tracer.manual_seed(0)
    model = tracer.nn.Sequential(tracer.nn.Linear(3, 8), tracer.nn.ReLU(), tracer.nn.Linear(8, 1))
    opt = (tracer.optim.Adam(model.parameters(), lr=0.05) if optimizer == "adam"
           else tracer.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))

    def step(x, y):
        opt.zero_grad()
        loss = tracer.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, opt, step


def _batches(calls, k):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((calls, k, 16, 3)).astype(np.float32)
    y = (rng.random((calls, k, 16, 1)) < 0.5).astype(np.float32)
    return x, y


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_k_steps_per_call_equal_k_eager_steps(backend, optimizer):
    calls, k = 4, 5
    x, y = _batches(calls, k)
    model, opt, step = _training(optimizer)
    eager = [step(tracer.tensor(x[c, i]), tracer.tensor(y[c, i])).item() for c in range(calls) for i in range(k)]
    model2, opt2, step2 = _training(optimizer)
    compiled = tracer.compile(step2, backend=backend, steps_per_call=k)
    losses = []
    for c in range(calls):
        out = compiled(tracer.tensor(x[c]), tracer.tensor(y[c]))
        assert tuple(out.shape) == (k,)
        losses += out.tolist()
    assert compiled.trace_count == 2  # the first call sees no optimizer state yet, the second does
    np.testing.assert_allclose(losses, eager, rtol=2e-6, atol=1e-7)
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-6)  # the last step's
    for p, q in zip(model.parameters(), model2.parameters()):
        for key, value in opt.state[p].items():
            np.testing.assert_allclose(np.asarray(value.detach().numpy()), np.asarray(opt2.state[q][key].detach().numpy()),
                                       rtol=1e-5, atol=1e-7, err_msg=key)


def test_the_graph_holds_k_steps_and_exports(tmp_path):
    _, _, step = _training("sgd")
    x, y = _batches(1, 3)
    one = tracer.compile(step, backend="numpy")
    one(tracer.tensor(x[0, 0]), tracer.tensor(y[0, 0]))
    _, _, step3 = _training("sgd")
    three = tracer.compile(step3, backend="numpy", steps_per_call=3)
    three(tracer.tensor(x[0]), tracer.tensor(y[0]))
    assert len(three.graph.nodes) > 2.5 * len(one.graph.nodes)
    three.export(tmp_path / "three_steps.onnx")
    assert (tmp_path / "three_steps.onnx").stat().st_size > 0


def test_results_combine_per_step():
    """Tensors stack on a new dim 0; tuples and dicts combine entry by entry; Python arguments
    go to every step as they are."""
    w = tracer.ones(2, requires_grad=True)

    def f(x, scale):
        y = (x * w * scale).sum()
        return y, {"double": y * 2}

    compiled = tracer.compile(f, backend="numpy", steps_per_call=3)
    ys, extra = compiled(tracer.arange(6.0).reshape(3, 2), 2.0)
    assert ys.tolist() == [2.0, 10.0, 18.0] and extra["double"].tolist() == [4.0, 20.0, 36.0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps_per_call=0), "positive int"),
    (dict(steps_per_call=2.0), "positive int"),
    (dict(steps_per_call=True), "positive int"),
    (dict(steps_per_call=2, dynamic=True), "dynamic=True"),
])
def test_bad_steps_per_call_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tracer.compile(lambda x: x, **kwargs)


def test_arguments_must_stack_k_steps():
    compiled = tracer.compile(lambda x: x.sum(), backend="numpy", steps_per_call=4)
    with pytest.raises(ValueError, match=r"argument 0 has shape \[3, 2\]; each tensor argument stacks the 4 steps"):
        compiled(tracer.ones(3, 2))
    with pytest.raises(ValueError, match="hold no tensor"):
        compiled(1.0)
    assert compiled(tracer.ones(4, 2)).tolist() == [2.0] * 4
