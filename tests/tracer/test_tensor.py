"""Tensors: creation, dtypes and promotion, metadata, conversions, printing, errors."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    lambda m: m.tensor([[1.5, -2.25], [3.0, 4.0]]),
    lambda m: m.tensor([1, 2, 3]),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor(3.5),
    lambda m: m.tensor([1e-5, 1.0]),
    lambda m: m.tensor([1e9, 1.0]),
    lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.zeros(2, 0),
    lambda m: m.arange(12).reshape(3, 4),
    lambda m: m.arange(2000.0),
    lambda m: m.tensor([float("nan"), float("inf"), 1.5]),
    lambda m: m.arange(24.0).reshape(2, 3, 4) / 7,
])
def test_repr_matches_torch(make):
    ours = repr(make(tracer)).replace("tracer.", "torch.")
    assert ours == repr(make(torch))


def test_repr_shows_grad_fn():
    w = tracer.tensor(1.0, requires_grad=True)
    assert repr(w * 2).startswith("tensor(2., grad_fn=<MulBackward0")


@pytest.mark.parametrize("make, dtype", [
    (lambda m: m.tensor([1.0]), "float32"), (lambda m: m.tensor([1]), "int64"),
    (lambda m: m.tensor([True]), "bool"), (lambda m: m.tensor(np.zeros(2)), "float64"),
    (lambda m: m.arange(3), "int64"), (lambda m: m.arange(0, 1, 0.25), "float32"),
    (lambda m: m.full((2,), 7), "int64"), (lambda m: m.full((2,), 0.5), "float32"),
    (lambda m: m.linspace(0, 1, 5), "float32"), (lambda m: m.eye(3), "float32"),
    (lambda m: m.randint(0, 5, (3,)), "int64"), (lambda m: m.zeros_like(m.tensor([1, 2])), "int64"),
])
def test_creation_dtypes_match_torch(make, dtype):
    assert make(tracer).dtype.name == dtype == str(make(torch).dtype).replace("torch.", "")


def test_creation_values_match_torch():
    np.testing.assert_allclose(tracer.arange(0, 1, 0.1).numpy(), torch.arange(0, 1, 0.1).numpy())
    np.testing.assert_allclose(tracer.linspace(-1, 1, 7).numpy(), torch.linspace(-1, 1, 7).numpy())
    np.testing.assert_array_equal(tracer.eye(2, 3).numpy(), torch.eye(2, 3).numpy())


@pytest.mark.parametrize("a, b", [
    ("int64", 2.5), ("int32", 2), ("float32", 2), ("bool", 1), ("bool", 1.5), ("uint8", 300 - 299),
    ("int32", "int64_0d"), ("float32", "float64_0d"), ("int64", "float64_0d"), ("int32", "float32"),
    ("uint8", "int32"), ("float32", "float64"), ("bool", "uint8"),
])
def test_type_promotion_matches_torch(a, b):
    def build(m):
        x = m.ones(2, dtype=getattr(m, a) if a != "bool" else m.bool)
        if isinstance(b, str):
            name, _, zero_d = b.partition("_")
            y = m.ones((), dtype=getattr(m, name)) if zero_d else m.ones(2, dtype=getattr(m, name))
        else:
            y = b
        return x + y
    assert build(tracer).dtype.name == str(build(torch).dtype).replace("torch.", "")


def test_legacy_constructor_and_metadata():
    t = tracer.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype == tracer.float32
    assert repr(t.shape) == "tracer.Size([2, 3])"
    assert tracer.Tensor([1, 2]).dtype == tracer.float32
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.dim() == 2 and t.ndim == 2 and t.numel() == 6 and len(t) == 2
    assert str(t.device) == "cpu" and not t.is_cuda


def test_conversions():
    t = tracer.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert float(t[0, 0]) == 1.5 and int(t[1, 1]) == 4 and t[0, 1].item() == 2.0
    assert f"{t[0, 0]:.4f}" == "1.5000"
    assert [row.tolist() for row in t] == [[1.5, 2.0], [3.0, 4.0]]
    assert t.long().dtype == tracer.int64 and t.double().dtype == tracer.float64
    assert t.int().dtype == tracer.int32 and t.bool().dtype == tracer.bool
    assert t.to(tracer.float64).dtype == tracer.float64 and t.to("cpu") is t
    np.testing.assert_array_equal(np.asarray(t), t.numpy())


def test_numpy_of_a_tensor_that_requires_grad_needs_detach():
    w = tracer.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0, 1.0]


def test_from_numpy_shares_memory():
    a = np.zeros(3, np.float32)
    t = tracer.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5


def test_bool_of_many_values_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tracer.ones(2))


@pytest.mark.parametrize("action, error, message", [
    (lambda: tracer.ones(2, 3) + tracer.ones(4), RuntimeError, "add: shapes cannot be broadcast.*dim -1 is 3"),
    (lambda: tracer.ones(2, 3) @ tracer.ones(4, 5), RuntimeError, "matmul: mat1 and mat2 shapes cannot be multiplied \\(2x3 and 4x5\\)"),
    (lambda: tracer.ones(2, 3).sum(dim=2), IndexError, "Dimension out of range"),
    (lambda: tracer.ones(2, 3).reshape(4, 2), RuntimeError, "shape '\\[4, 2\\]' is invalid for input of size 6"),
    (lambda: tracer.ones(3)[tracer.tensor([0.0])], IndexError, "tensors used as indices must be long"),
    (lambda: tracer.ones(3)[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda: tracer.ones(2, 3).permute(0, 0), RuntimeError, "permutation"),
    (lambda: tracer.cat([tracer.ones(2, 3), tracer.ones(3, 2)], 0), RuntimeError, "Sizes of tensors must match"),
])
def test_bad_input_errors_name_op_shapes_and_user_line(action, error, message):
    with pytest.raises(error, match=f"(?s){message}.*tests/tracer/test_tensor.py:\\d+"):
        action()


def test_errors_while_recording_leave_tensors_unchanged():
    w = tracer.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError):
        w @ tracer.ones(4)
    assert w.grad is None and w.is_leaf and w.shape == (2, 3)
