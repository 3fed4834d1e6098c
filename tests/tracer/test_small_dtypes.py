"""float16, int16 and int8: torch's promotion, casts, printing, legacy constructors, float16
compute and autograd against torch, saving, and a float16 graph on onnxruntime."""
import itertools

import numpy as np
import pytest

import backends.numpy as bnp
import tracer
from backends.ort import run as ort_run

torch = pytest.importorskip("torch")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("a, b", list(itertools.product(NAMES, repeat=2)))
def test_promotion_is_torchs(a, b):
    assert tracer.promote_types(getattr(tracer, a), getattr(tracer, b)).name == \
        str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[1]


@pytest.mark.parametrize("name", ["float16", "int16", "int8"])
def test_tensors_of_the_new_dtypes_print_cast_and_mix_as_torchs(name):
    data = [[1.25, -2.0, 3.5], [0.0, 7.0, -8.75]] if name == "float16" else [[1, -2, 3], [0, 7, -8]]
    ours, theirs = tracer.tensor(data, dtype=getattr(tracer, name)), torch.tensor(data, dtype=getattr(torch, name))
    assert repr(ours).replace("tracer.", "torch.") == repr(theirs)
    for other in ("float32", "int64", "bool", "uint8"):
        a, b = ours.to(getattr(tracer, other)), theirs.to(getattr(torch, other))
        assert a.dtype.name == str(b.dtype).split(".")[1]
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for scalar in (2, 2.5, True):
        a, b = ours * scalar, theirs * scalar
        assert a.dtype.name == str(b.dtype).split(".")[1]
        np.testing.assert_allclose(a.numpy().astype(np.float64), b.numpy().astype(np.float64), rtol=1e-3)


def test_half_short_char_methods_and_legacy_constructors():
    for m in (tracer, torch):
        x = m.ones(2)
        assert [str(t.dtype).split(".")[1] for t in (x.half(), x.short(), x.char())] == ["float16", "int16", "int8"]
        assert m.half is m.float16 and m.short is m.int16
        assert m.LongTensor([1.7, -2.5]).tolist() == [1, -2]
        assert m.FloatTensor(2, 3).shape == (2, 3) and m.HalfTensor([1.5]).dtype == m.float16
        assert isinstance(m.ones(2), m.FloatTensor) and not isinstance(m.ones(2).long(), m.FloatTensor)
        assert isinstance(m.ones(2).long(), m.LongTensor) and m.ones(2).half().type() == \
            ("torch.HalfTensor" if m is torch else "tracer.HalfTensor")


FLOAT16_OPS = {
    "add_mul": lambda m, x, y: x * y + x,
    "div": lambda m, x, y: x / (y.abs() + 1),
    "exp_tanh_sigmoid": lambda m, x, y: m.exp(x * 0.5) + m.tanh(y) + m.sigmoid(x),
    "matmul": lambda m, x, y: x @ y.T,
    "sum_mean": lambda m, x, y: x.sum(1) + y.mean(0).sum(),
    "softmax": lambda m, x, y: m.softmax(x, dim=1),
    "relu_max": lambda m, x, y: m.relu(x).amax(1),
}


@pytest.mark.parametrize("name", list(FLOAT16_OPS))
def test_float16_compute_matches_torch(name):
    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal((4, 6)).astype(np.float16) for _ in range(2))
    ours = FLOAT16_OPS[name](tracer, tracer.tensor(x), tracer.tensor(y))
    theirs = FLOAT16_OPS[name](torch, torch.tensor(x), torch.tensor(y))
    assert ours.dtype == tracer.float16 and theirs.dtype == torch.float16
    np.testing.assert_allclose(ours.numpy().astype(np.float32), theirs.numpy().astype(np.float32), rtol=4e-3, atol=4e-3)


def test_float16_linear_trains_as_torchs():
    rng = np.random.default_rng(1)
    w, b, x = (rng.standard_normal(s).astype(np.float16) for s in ((3, 5), (3,), (8, 5)))
    grads = []
    for m in (tracer, torch):
        wt, bt = m.tensor(w, requires_grad=True), m.tensor(b, requires_grad=True)
        loss = (m.nn.functional.linear(m.tensor(x), wt, bt) ** 2).mean()
        loss.backward()
        grads.append([loss.detach().float().numpy(), wt.grad.float().numpy(), bt.grad.float().numpy()])
        assert wt.grad.dtype == m.float16
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-2)


def test_new_dtypes_save_load_and_run_on_onnxruntime(tmp_path):
    state = {"h": tracer.tensor([1.5, -2.25], dtype=tracer.float16), "s": tracer.tensor([3, -4], dtype=tracer.int16),
             "c": tracer.tensor([5, -6], dtype=tracer.int8)}
    tracer.save(state, tmp_path / "small.pt")
    back = tracer.load(tmp_path / "small.pt")
    assert all(back[k].dtype == v.dtype and back[k].tolist() == v.tolist() for k, v in state.items())
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float16)
    graph = tracer.trace(lambda a: (a * 2 + 1) @ a.T, tracer.tensor(x))
    (expected,) = bnp.run(graph, x)
    (got,) = ort_run(graph, x)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float32), expected.astype(np.float32), rtol=2e-3, atol=2e-3)


def test_bfloat16_can_be_named_but_no_tensor_is_made_of_it():
    with pytest.warns(tracer.amp.AutocastWarning):
        with tracer.autocast("cpu", dtype=tracer.bfloat16):
            assert (tracer.ones(2) * 2).dtype == tracer.float32
    assert repr(tracer.bfloat16) == "tracer.bfloat16"
    for make in (lambda: tracer.zeros(2, dtype=tracer.bfloat16), lambda: tracer.ones(2).to(tracer.bfloat16),
                 lambda: tracer.ones(2).type(tracer.bfloat16), lambda: tracer.nn.Linear(2, 2).to(tracer.bfloat16)):
        with pytest.raises(TypeError, match="torch.bfloat16 is not supported by tracegrad"):
            make()
