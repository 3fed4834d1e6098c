"""Threads: trace state and grad mode belong to the thread that set them.

A trace records only its own thread's ops, and binds the tensors it reads (a shared model's
parameters) to its graph without touching them, so another thread training the same model
eagerly gets exactly the gradients it would get alone. ``no_grad`` is per thread, as torch's.
"""
import sys
import threading

import numpy as np
import pytest

import tracer
from ir.lint import lint
from tracer import nn

STEPS = 60


@pytest.fixture
def switch_often():
    """Switch threads every few bytecodes, so the threads interleave inside single ops."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _model():
    tracer.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))


def _data():
    rng = np.random.default_rng(0)
    return (tracer.tensor(rng.standard_normal((6, 4)).astype(np.float32)),
            tracer.tensor(rng.standard_normal((6, 1)).astype(np.float32)))


def _train(model, steps=STEPS):
    """Eager SGD steps; returns every step's loss and gradients."""
    x, y = _data()
    opt = tracer.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    seen = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        seen.append((loss.item(), [p.grad.numpy().copy() for p in model.parameters()]))
        opt.step()
    return seen


def _alongside(work, other):
    """Run ``other(stop)`` in a thread while ``work()`` runs here; returns work's result and
    whatever ``other`` raised."""
    stop, errors = threading.Event(), []

    def loop():
        try:
            other(stop)
        except Exception as e:  # noqa: BLE001  (reported to the test below)
            errors.append(e)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        result = work()
    finally:
        stop.set()
        thread.join()
    return result, errors


def _assert_same_run(got, want):
    assert len(got) == len(want)
    for step, ((loss, grads), (loss0, grads0)) in enumerate(zip(got, want)):
        assert loss == loss0, f"step {step}"
        for g, g0 in zip(grads, grads0):
            np.testing.assert_array_equal(g, g0, err_msg=f"step {step}")


def test_tracing_a_shared_model_does_not_disturb_eager_training_in_another_thread(switch_often):
    want = _train(_model())
    model = _model()
    x, _ = _data()
    shapes = []

    def tracing(stop):
        while not stop.is_set():
            graph = tracer.trace(model, x)
            shapes.append((len(graph.inputs), graph.op_counts()))

    got, errors = _alongside(lambda: _train(model), tracing)
    assert errors == []
    _assert_same_run(got, want)
    assert shapes, "the tracing thread never ran"
    assert all(s == shapes[0] for s in shapes)  # every trace saw x and the 4 parameters once
    assert shapes[0][0] == 5


def test_traces_in_one_thread_record_only_that_threads_ops(switch_often):
    model = _model()
    x, _ = _data()
    alone = tracer.trace(model, x)

    def training(stop):
        while not stop.is_set():
            _train(model, 1)

    graphs, errors = _alongside(lambda: [tracer.trace(model, x) for _ in range(200)], training)
    assert errors == []
    for graph in graphs:
        assert graph.op_counts() == alone.op_counts()
        assert [n.attrs.name for n in graph.inputs] == [n.attrs.name for n in alone.inputs]
        assert len(graph.nodes) == len(alone.nodes)
        lint(graph)


def test_a_traced_training_step_in_one_thread_and_eager_training_in_another(switch_often):
    want = _train(_model())
    model, shadow = _model(), _model()
    x, y = _data()

    def traced_step(stop):
        opt = tracer.optim.SGD(shadow.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            # reads the shared model too (detached: two threads accumulating into one .grad race,
            # as any unsynchronised Python state does)
            loss = nn.functional.mse_loss(shadow(x) + 0 * model(x).detach().sum(), y)
            loss.backward()
            opt.step()
            return loss

        while not stop.is_set():
            tracer.trace(step, x, y)

    got, errors = _alongside(lambda: _train(model), traced_step)
    assert errors == []
    _assert_same_run(got, want)


def test_compiling_in_one_thread_while_another_trains_eagerly(switch_often):
    want = _train(_model())
    model = _model()
    x, _ = _data()

    def compiling(stop):
        forward = tracer.compile(lambda x: model(x).sum())
        while not stop.is_set():
            forward(x)

    got, errors = _alongside(lambda: _train(model), compiling)
    assert errors == []
    _assert_same_run(got, want)


def test_no_grad_is_per_thread():
    inside, entered, release = {}, threading.Event(), threading.Event()

    def other():
        with tracer.no_grad():
            entered.set()
            release.wait(10)
            inside["other"] = (tracer.ones(2, requires_grad=True) * 2).requires_grad

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(10)
    here = (tracer.ones(2, requires_grad=True) * 2).requires_grad  # while the other thread is in no_grad
    release.set()
    thread.join()
    assert here is True and inside["other"] is False


def test_a_new_thread_starts_with_grad_enabled_as_torchs():
    torch = pytest.importorskip("torch")
    seen = {}

    def probe(m, key):
        seen[key] = m.is_grad_enabled()

    for m in (torch, tracer):
        with m.no_grad():
            thread = threading.Thread(target=probe, args=(m, m.__name__))
            thread.start()
            thread.join()
    assert seen["tracer"] == seen["torch"] is True



def test_another_threads_step_during_a_trace_is_not_the_traces_update():
    """Deterministic form of a race the interleaving tests found: an optimizer step in another
    thread while a trace runs bumped the parameters' versions, so the trace took the step for
    its own in-place update, and every compiled call then wrote the parameters back (clearing
    the other thread's autograd leaves between its forward and backward)."""
    model = _model()
    x, _ = _data()
    before = [p.detach().clone() for p in model.parameters()]

    def step_elsewhere():
        with tracer.no_grad():
            for p in model.parameters():
                p.add_(1.0)

    def fn(x):
        h = model[0](x)
        thread = threading.Thread(target=step_elsewhere)
        thread.start()
        thread.join()  # the other thread's step lands in the middle of this trace
        return model[2](model[1](h)).sum()

    graph = tracer.trace(fn, x)
    assert not [n for n in graph.output_names if n.startswith("updated.")]
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), b.numpy() + 1.0)  # the step itself stands
