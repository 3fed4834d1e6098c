"""Shape reads inside a trace: a dim turned into a Python int is baked into the graph, so export
with that dim dynamic refuses (naming the read and the line), and compile(dynamic=True) traces
each batch size on its own instead of reusing a graph that is wrong for it."""
import copy
import warnings

import numpy as np
import pytest

import tracer as torch
from backends.onnx.export import export
from backends.ort import run as ort_run
from ir.errors import DynamicShapeError
from tracer import nn

BATCH = {"x": {0: "batch"}}


def _export_error(fn, x):
    g = torch.trace(fn, x)
    with pytest.raises(DynamicShapeError) as info:
        export(g, dynamic_axes={g.input_names[0]: {0: "batch"}})
    return str(info.value)


@pytest.mark.parametrize("fn, what", [
    (lambda x: x.sum(0) / x.shape[0], "shape[0]"),
    (lambda x: x.sum(0) / x.shape[-2], "shape[-2]"),
    (lambda x: x.sum(0) / x.size(0), "size(0)"),
    (lambda x: x.sum(0) / len(x), "len()"),
    (lambda x: x.view(x.size(0), -1) * 2, "size(0)"),
    (lambda x: x.sum() / x.numel(), "numel()"),
    (lambda x: x.sum(0) * sum(1 for _ in x), "iteration over a tensor"),
    (lambda x: (x @ torch.ones(3, 2)).sum(1) / (x @ torch.ones(3, 2)).shape[0], "shape[0]"),
])
def test_export_refuses_a_read_of_a_dynamic_dim_and_names_it(fn, what):
    message = _export_error(fn, torch.randn(4, 3))
    assert what in message and "test_shape_reads.py" in message
    assert "float32[4, 3]" in message or "float32[4, 2]" in message
    assert "dynamic" in message and "[4]" in message


def test_a_shape_passed_to_a_creation_function_is_refused_at_its_line():
    message = _export_error(lambda x: torch.zeros(x.shape) + x, torch.randn(4, 3))
    assert "test_shape_reads.py" in message and "dynamic" in message


def test_unpacking_the_shape_is_a_read_of_every_dim():
    def fn(x):
        b, c = x.shape
        return x.reshape(b * c)
    assert "shape (iterated or unpacked)" in _export_error(fn, torch.randn(4, 3))


def test_reads_of_static_dims_and_of_parameters_export_and_run_at_any_size():
    w = nn.Parameter(torch.randn(3, 2))

    def fn(x):
        return (x @ w).sum(1) / x.shape[1] + w.shape[0] + x.dim()
    g = torch.trace(fn, torch.randn(4, 3))
    assert sorted(r.axes for r in g.python_reads) == [(0,), (1,)]  # x's dim 1 and w's dim 0: both fixed
    model = export(g, dynamic_axes=BATCH)
    x7 = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    import onnxruntime as ort
    got = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x7})[0]
    want = fn(torch.tensor(x7)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_without_dynamic_axes_a_read_is_fine():
    g = torch.trace(lambda x: x.sum(0) / x.shape[0], torch.randn(4, 3))
    export(g)  # the traced size is the only size
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_allclose(ort_run(g, x)[0], x.mean(0), rtol=1e-6)


def test_tracer_functions_reading_shapes_are_not_user_reads():
    """nn layers and losses read shapes internally through the type: a model with a mean loss
    exports with a dynamic batch and no reads noted."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 2, 3, 0])

    def loss_fn(x, y):
        return nn.functional.cross_entropy(model(x).reshape(-1, 4), y) + x.flatten(1).mean()
    g = torch.trace(loss_fn, x, y)
    assert g.python_reads == []
    export(g, dynamic_axes={"x": {0: "b"}, "y": {0: "b"}})


def test_read_size_behaves_as_size():
    seen = []

    def fn(x):
        s = x.shape
        seen.append((isinstance(s, torch.Size), repr(s), s == (4, 3), list(s[1:]), s.numel()))
        return x * 2
    torch.trace(fn, torch.randn(4, 3))
    assert seen == [(True, "tracer.Size([4, 3])", True, [3], 12)]
    assert repr(torch.randn(2, 3).shape) == "tracer.Size([2, 3])"


def _mse_step(model, opt, read_batch):
    def step(x, y):
        opt.zero_grad()
        err = ((model(x) - y) ** 2).sum()
        loss = err / x.shape[0] if read_batch else err / 4.0
        loss.backward()
        opt.step()
        return loss
    return step


@pytest.mark.parametrize("backend", ["onnxruntime", "numpy"])
def test_compile_dynamic_with_a_batch_read_matches_eager_at_every_size(backend):
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    twin = copy.deepcopy(model)
    opt, twin_opt = torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(twin.parameters(), lr=0.1)
    compiled = torch.compile(_mse_step(model, opt, True), dynamic=True, backend=backend)
    eager = _mse_step(twin, twin_opt, True)
    rng = np.random.default_rng(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in (4, 4, 4, 7, 7, 2, 4):
            x = torch.tensor(rng.standard_normal((n, 3)).astype(np.float32))
            y = torch.tensor(rng.standard_normal((n, 1)).astype(np.float32))
            np.testing.assert_allclose(float(compiled(x, y)), float(eager(x, y)), rtol=1e-6)
    # onnxruntime sums in another order: float32 noise on weights of ~0.1 after 7 steps
    np.testing.assert_allclose(model.weight.detach().numpy(), twin.weight.detach().numpy(), rtol=1e-6, atol=1e-7)
    reads = [w for w in caught if "reads shape[0]" in str(w.message)]
    if backend == "onnxruntime":
        assert len(reads) == 1 and "test_shape_reads.py" in str(reads[0].message)


def test_compile_dynamic_without_a_read_keeps_one_graph_for_every_size():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    compiled = torch.compile(_mse_step(model, torch.optim.SGD(model.parameters(), lr=0.1), False), dynamic=True)
    for n in (4, 4, 7, 2, 5):
        compiled(torch.randn(n, 3), torch.randn(n, 1))
    assert compiled.trace_count == 2  # the first step (no grads yet) and the steady state


def test_compile_dynamic_with_dropout_traces_each_batch_size_and_says_why():
    """A dropout mask is drawn at the traced batch size, so one graph cannot serve every size:
    the compiled function warns once and traces each size, with the NumPy backend's draws."""
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.3), nn.Linear(8, 1))
        return _mse_step(model, torch.optim.SGD(model.parameters(), lr=0.1), False)
    compiled = torch.compile(make(), dynamic=True, backend="onnxruntime")
    reference = torch.compile(make(), backend="numpy")
    rng = np.random.default_rng(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in (4, 4, 6, 6, 4):
            x, y = (torch.tensor(rng.standard_normal((n, k)).astype(np.float32)) for k in (3, 1))
            torch.manual_seed(n)
            got = float(compiled(x, y))
            torch.manual_seed(n)
            np.testing.assert_allclose(got, float(reference(x, y)), rtol=1e-5)
    why = [str(w.message) for w in caught if "cannot keep the batch dim symbolic" in str(w.message)]
    assert len(why) == 1 and "random draw" in why[0] and "own trace" in why[0]
