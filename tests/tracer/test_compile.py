"""tracer.compile: one graph per signature, state written back, same numbers as eager."""
import numpy as np
import onnxruntime as ort
import pytest

import tracer
from tracer import nn


def setup(opt_name="SGD", **kw):
    tracer.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = getattr(tracer.optim, opt_name)(model.parameters(), **kw)
    loss_fn = nn.BCEWithLogitsLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, opt, step


def steady(opt_name="SGD", **kw):
    """A compiled step run twice (no grads yet, then the steady state): (model, opt, compiled, x, y)."""
    model, opt, step = setup(opt_name, **kw)
    compiled = tracer.compile(step)
    x, y = data()
    compiled(x, y)
    compiled(x, y)
    return model, opt, compiled, x, y


def data(n=64, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return tracer.tensor(x), tracer.tensor((x[:, :1] * x[:, 1:] > 0).astype(np.float32))


@pytest.mark.parametrize("backend", ["onnxruntime", "numpy"])
@pytest.mark.parametrize("opt_name, kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01))])
def test_compiled_training_equals_eager(backend, opt_name, kw):
    x, y = data()
    m1, o1, eager = setup(opt_name, **kw)
    eager_losses = [eager(x, y).item() for _ in range(30)]
    m2, o2, step = setup(opt_name, **kw)
    compiled = tracer.compile(step, backend=backend)
    compiled_losses = [float(compiled(x, y)) for _ in range(30)]
    np.testing.assert_allclose(compiled_losses, eager_losses, rtol=1e-5)
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-7)
    for p in m1.parameters():
        q = dict(zip(m1.parameters(), m2.parameters()))[p]
        for key, value in o1.state[p].items():
            np.testing.assert_allclose(o2.state[q][key].numpy(), value.numpy(), rtol=1e-5, atol=1e-8)
    assert compiled.trace_count == 2  # the first call creates the optimizer state: a new signature


def test_retrace_exactly_when_the_signature_changes():
    _, _, step = setup("SGD", lr=0.1)
    compiled = tracer.compile(step)
    x, y = data(64)
    compiled(x, y)  # no .grad yet: traced for that
    compiled(x, y)  # .grad exists now: traced once more (the steady state)
    compiled(x, y)
    assert compiled.trace_count == 2
    compiled(*data(32))
    assert compiled.trace_count == 3
    compiled(x, y)
    compiled(x.double().float(), y)
    assert compiled.trace_count == 3
    compiled(x, y.double().float())
    assert compiled.trace_count == 3


def test_dynamic_batch_uses_one_graph():
    model, _, step = setup("SGD", lr=0.1)
    compiled = tracer.compile(step, dynamic=True)
    for n in (64, 32, 200, 1):
        loss = compiled(*data(n))
        assert np.isfinite(float(loss))
    assert compiled.trace_count == 2  # no grads yet, then the steady state: never per size
    m_ref, _, ref_step = setup("SGD", lr=0.1)
    for n in (64, 32, 200, 1):
        ref_step(*data(n))
    for p, q in zip(model.parameters(), m_ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_reading_a_traced_value_into_python_is_refused():
    model, _, _ = setup()

    def f(x):
        out = model(x).sum()
        if out.item() > 0:
            return out
        return -out

    with pytest.raises(tracer.TraceValueError, match="item\\(\\) reads a traced value"):
        tracer.compile(f)(tracer.ones(3, 2))


def test_plain_trace_warns_instead():
    with pytest.warns(tracer.TracerWarning, match="specialised"):
        tracer.trace(lambda x: x * float(x.sum()), tracer.ones(2))


@pytest.mark.parametrize("read", [lambda t: t.numpy(), lambda t: np.asarray(t)], ids=["numpy", "asarray"])
def test_reading_a_traced_value_as_an_array_is_no_silent_constant(read):
    """``.numpy()`` and ``np.asarray`` in a trace return the value seen while tracing: trace
    warns and compile refuses, as for ``item()`` and ``tolist()``."""
    def f(x):
        return x * tracer.tensor(read(x.detach()) * 2)

    with pytest.warns(tracer.TracerWarning, match="specialised"):
        tracer.trace(f, tracer.ones(2))
    with pytest.raises(tracer.TraceValueError, match="reads a traced value"):
        tracer.compile(f)(tracer.ones(2))


def test_exported_training_graph_trains_on_plain_onnxruntime(tmp_path):
    model, opt, step = setup("SGD", lr=0.1, momentum=0.9)
    compiled = tracer.compile(step)
    x, y = data()
    compiled(x, y)
    compiled(x, y)  # momentum state exists now: the steady-state graph
    path = tmp_path / "train_step.onnx"
    compiled.export(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    names = [n for n, _ in model.named_parameters()]
    assert inputs[:2] == ["x", "y"] and {f"updated.{n}" for n in names} <= set(outputs)
    assert "opt.lr" in inputs and "opt.momentum" in inputs  # inputs: a schedule can feed them
    feeds = {"x": x.numpy(), "y": y.numpy(), "opt.lr": np.array(0.1, np.float32),
             "opt.momentum": np.array(0.9, np.float32)}
    feeds.update({n: p.detach().numpy() for n, p in model.named_parameters()})
    feeds.update({f"opt.{n}.momentum_buffer": opt.state[p]["momentum_buffer"].numpy()
                  for n, p in model.named_parameters()})
    ort_losses = []
    for _ in range(10):  # a training loop with nothing but onnxruntime
        result = dict(zip(outputs, session.run(None, feeds)))
        ort_losses.append(float(result["output"]))
        for name in list(feeds):
            if f"updated.{name}" in result:
                feeds[name] = result[f"updated.{name}"]
    eager_losses = [step(x, y).item() for _ in range(10)]
    np.testing.assert_allclose(ort_losses, eager_losses, rtol=1e-5)


def test_compile_as_decorator_and_on_a_module():
    @tracer.compile(backend="numpy")
    def double(x):
        return x * 2, {"sum": x.sum()}
    out, extra = double(tracer.ones(3))
    out, extra = double(tracer.ones(3))
    assert out.tolist() == [2.0, 2.0, 2.0] and float(extra["sum"]) == 3.0
    model = nn.Linear(3, 2)
    fast = tracer.compile(model)
    x = tracer.randn(4, 3)
    fast(x)
    np.testing.assert_allclose(fast(x).numpy(), model(x).detach().numpy(), rtol=1e-6)


def test_accumulating_grads_without_zero_grad_matches_eager():
    def build():
        tracer.manual_seed(0)
        model = nn.Linear(2, 1)

        def accumulate(x):
            loss = model(x).pow(2).mean()
            loss.backward()
            return loss
        return model, accumulate

    x = data()[0]
    m1, eager = build()
    for _ in range(3):
        eager(x)
    m2, step = build()
    compiled = tracer.compile(step)
    for _ in range(3):
        compiled(x)
    np.testing.assert_allclose(m2.weight.grad.numpy(), m1.weight.grad.numpy(), rtol=1e-6)
    assert compiled.trace_count == 2  # grads absent, then present and read (the graph adds to them)


def test_results_kept_by_the_caller_are_not_overwritten_by_later_calls():
    _, _, step = setup("SGD", lr=0.1)
    compiled = tracer.compile(step)
    x, y = data()
    kept = [compiled(x, y) for _ in range(6)]
    values = [float(t) for t in kept]
    assert len(set(values)) == len(values)  # every step's loss is its own
    kept_again = [compiled(x, y) for _ in range(2)]
    assert [float(t) for t in kept] == values and float(kept_again[0]) != float(kept_again[1])


def test_a_parameter_replaced_by_the_user_between_calls_is_fed():
    model, _, compiled, x, y = steady("SGD", lr=0.0)
    with tracer.no_grad():
        model[0].weight.copy_(tracer.zeros(4, 2))  # written by the user, not by the graph
    compiled(x, y)
    assert float(model[0].weight.abs().sum()) == 0.0


def test_guarded_state_changed_between_calls_retraces():
    """The guard is cached between calls and recomputed when a module, param group or
    optimizer state changes: each change below must be seen."""
    model, opt, compiled, x, y = steady("SGD", lr=0.1)
    assert compiled.trace_count == 2
    scheduler = tracer.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)  # adds "initial_lr"
    compiled(x, y)
    assert compiled.trace_count == 3
    for lr in (0.05, 0.025):
        scheduler.step()  # the learning rate is an input of the graph: fed, not retraced
        before = model[0].weight.detach().numpy().copy()
        compiled(x, y)
        assert compiled.trace_count == 3
        np.testing.assert_allclose(model[0].weight.detach().numpy(), before - lr * model[0].weight.grad.numpy(),
                                   rtol=1e-5, atol=1e-7)
    model.eval()
    compiled(x, y)
    assert compiled.trace_count == 4
    model.train()
    compiled(x, y)
    assert compiled.trace_count == 4  # back to a signature already traced
    model[0].weight = nn.Parameter(tracer.zeros(4, 2))  # a new parameter object
    compiled(x, y)
    assert compiled.trace_count == 5
    opt.param_groups[0]["momentum"] = 0.5
    compiled(x, y)
    compiled(x, y)
    assert any(s.get("momentum_buffer") is not None for s in opt.state.values())  # momentum now
    eager_model, eager_opt, eager_step = setup("SGD", lr=0.1)
    eager_opt.load_state_dict(opt.state_dict())
    eager_model.load_state_dict(model.state_dict())
    compiled_again = tracer.compile(eager_step)
    ref_model, ref_opt, ref_step = setup("SGD", lr=0.1)
    ref_opt.load_state_dict(opt.state_dict())
    ref_model.load_state_dict(model.state_dict())
    for _ in range(3):
        compiled_again(x, y)
        ref_step(x, y)
    for p, q in zip(eager_model.parameters(), ref_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_a_batch_array_changed_in_place_between_calls_is_read_again():
    """onnxruntime reads bound arrays in place, so a batch bound once is not bound again; its
    new contents must still be used."""
    model, _, _ = setup("SGD", lr=0.1)
    compiled = tracer.compile(lambda x: model(x))
    x = tracer.ones(8, 2)
    first = compiled(x).detach().numpy().copy()
    with tracer.no_grad():
        x.mul_(2.0)
    np.testing.assert_allclose(compiled(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    assert not np.allclose(compiled(x).detach().numpy(), first)


def test_freezing_a_layer_or_changing_dtypes_between_calls_retraces():
    model, _, compiled, x, y = steady("SGD", lr=0.1)
    model[0].weight.requires_grad_(False)
    model[0].weight.grad = None
    frozen = model[0].weight.detach().numpy().copy()
    compiled(x, y)
    compiled(x, y)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), frozen)  # no grad, no update
    assert model[0].weight.grad is None
    count = compiled.trace_count
    model.double()
    loss = compiled(x.double(), y.double())
    assert loss.dtype == tracer.float64 and compiled.trace_count > count
    assert model[2].weight.dtype == tracer.float64


@pytest.mark.parametrize("backend", ["onnxruntime", "numpy"])
@pytest.mark.parametrize("opt_name, kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("AdamW", dict(lr=0.01)),
                                          ("RMSprop", dict(lr=0.01, momentum=0.5)), ("Adadelta", dict(lr=1.0))])
def test_a_schedule_changing_the_learning_rate_every_step_does_not_retrace(backend, opt_name, kw):
    x, y = data()
    results = []
    for compiled in (False, True):
        model, opt, step = setup(opt_name, **kw)
        scheduler = tracer.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        run = tracer.compile(step, backend=backend) if compiled else step
        losses = []
        for _ in range(15):
            losses.append(float(run(x, y)))
            scheduler.step()
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
        if compiled:
            assert run.trace_count == 2  # no grads yet, then the steady state; never per rate
    (eager_losses, eager_params), (losses, params) = results
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    for p, q in zip(params, eager_params):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-7)


def test_a_non_contiguous_batch_is_fed_by_value_every_call():
    model, _, _ = setup("SGD", lr=0.1)
    compiled = tracer.compile(lambda x: model(x))
    base = np.arange(16, dtype=np.float32).reshape(2, 8) / 10
    x = tracer.tensor(base).t()  # (8, 2), not contiguous
    first = compiled(x).detach().numpy().copy()
    np.testing.assert_allclose(first, model(x).detach().numpy(), rtol=1e-6)
    x2 = tracer.tensor(base * 2).t()
    np.testing.assert_allclose(compiled(x2).detach().numpy(), model(x2).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_python_arguments_are_guards_not_traced_tensors(backend):
    """Control flow on a Python bool or number works; each value gets its own trace."""
    f = tracer.compile(lambda x, flag, k: x * k if flag else x - k, backend=backend)
    t = tracer.ones(3)
    assert f(t, True, 2).tolist() == [2.0] * 3
    assert f(t, False, 2).tolist() == [-1.0] * 3
    assert f(t, True, 2).tolist() == [2.0] * 3
    assert f(t, True, 3.0).tolist() == [3.0] * 3
    assert f.trace_count == 3


def test_numpy_array_arguments_are_keyed_by_shape_and_dtype():
    f = tracer.compile(lambda x: x + 1, backend="numpy")
    outs = [f(np.full(3, i, np.float32)).tolist() for i in range(4)]
    assert outs[3] == [4.0] * 3 and f.trace_count == 1


def test_the_cache_is_bounded_with_a_warning_then_runs_eagerly():
    f = tracer.compile(lambda x: x.sum(), backend="numpy", cache_size_limit=3)
    with pytest.warns(RuntimeWarning, match="dynamic=True"):
        results = [float(f(tracer.ones(n))) for n in range(1, 7)]
    assert results == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] and f.trace_count == 3
    with pytest.raises(ValueError, match="cache_size_limit"):
        tracer.compile(lambda x: x, cache_size_limit=0)
