"""The everyday API pieces real scripts use, against torch: NumPy's ``axis=``/``keepdims=``
names on torch's native functions, indexing with Python ranges, lists and tuples,
``isclose``/``allclose``/``equal`` and the ``Tensor.new_*`` constructors."""
import warnings

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7 - 1


def both(code, **names):
    """``code`` evaluated with ``torch`` as tracer and as torch, on ``x`` = X; the results, or
    the exception type and message (without tracegrad's source line)."""
    out = []
    for lib in (tracer, torch):
        scope = {"torch": lib, "x": lib.tensor(X), **{k: lib.tensor(v) for k, v in names.items()}}
        try:
            out.append(eval(code, scope))  # noqa: S307  (test expressions written below)
        except Exception as e:  # noqa: BLE001  (the exception is the result being compared)
            out.append((type(e), str(e).split("\n  at ")[0].removeprefix("Tensor.")))
    return out


def assert_same(ours, theirs):
    if isinstance(theirs, tuple) and theirs and isinstance(theirs[0], type):
        assert ours == theirs
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tracer.Tensor), ours
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        # float reductions may sum in another order: float32 rounding apart, no more
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    elif isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    else:
        assert type(ours) is type(theirs) and ours == theirs


NUMPY_NAMES = [
    "x.sum(1, keepdims=True)", "torch.sum(x, axis=(0, 2), keepdims=True)", "x.mean(axis=0)",
    "x.mean(-1, keepdims=True)", "x.prod(axis=1)", "x.var(axis=1, keepdims=True, unbiased=False)",
    "x.std(axis=2)", "torch.var_mean(x, axis=1, keepdims=True)", "torch.std_mean(x, axis=0)",
    "x.amax(axis=1, keepdims=True)", "x.amin(axis=(0, 1))", "x.argmax(axis=1)", "x.argmin(axis=2, keepdims=True)",
    "x.max(axis=1, keepdims=True)", "torch.min(x, axis=0)", "torch.logsumexp(x, axis=2, keepdims=True)",
    "torch.softmax(x, axis=1)", "torch.log_softmax(x, axis=-1)", "(x > 0).all(axis=1, keepdims=True)",
    "(x > 0).any(axis=2)", "x.count_nonzero(axis=1)",
    "torch.cat([x, x], axis=1)", "torch.concat([x, x], axis=2)", "torch.stack([x, x], axis=1)",
    "x[:, :1].squeeze(axis=1)", "x.unsqueeze(axis=0)", "x.narrow(axis=2, start=1, length=2)",
    "x.chunk(2, axis=2)", "x.unbind(axis=1)",
    "x.index_select(axis=1, index=torch.tensor([2, 0]))", "x.gather(axis=2, index=torch.zeros(2, 3, 1, dtype=torch.long))",
    # both spellings at once, and the Python-level functions that take only torch's names
    "x.sum(1, keepdim=True, keepdims=True)", "x.sum(dim=1, axis=1)", "x.split(1, axis=0)", "x.norm(axis=1)",
]


@pytest.mark.parametrize("code", NUMPY_NAMES)
def test_numpy_argument_names_as_torch(code):
    assert_same(*both(code))


def test_numpy_names_reach_the_gradient():
    w = tracer.tensor(X, requires_grad=True)
    w.sum(axis=1, keepdims=True).mul(tracer.tensor([[[1.0, 2.0, 3.0, 4.0]]])).sum().backward()
    t = torch.tensor(X, requires_grad=True)
    t.sum(axis=1, keepdims=True).mul(torch.tensor([[[1.0, 2.0, 3.0, 4.0]]])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), t.grad.numpy())


SEQUENCE_INDICES = [
    "x[range(2)]", "x[range(1, -1, -1)]", "x[range(0)]", "x[[]]", "x[0, range(3), [1, 2, 3]]",
    "x[range(2), :, [0, 3]]", "x[:, range(3)]", "x[..., range(0, 4, 2)]", "x[(1, 0), 0]", "x[[1, 0], 0]",
    "x[0][range(3), idx]", "x[range(3)]",
]


@pytest.mark.parametrize("code", SEQUENCE_INDICES)
def test_indexing_with_python_sequences_as_torch(code):
    assert_same(*both(code, idx=np.array([3, 0, 1])))


def test_the_makemore_negative_log_likelihood():
    """``-prob[range(n), y].log().mean()`` gives torch's value and gradient."""
    logits, y = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32), [3, 0, 1, 1, 2]
    results = []
    for lib in (tracer, torch):
        z = lib.tensor(logits, requires_grad=True)
        counts = z.exp()
        prob = counts / counts.sum(1, keepdims=True)
        loss = -prob[range(5), lib.tensor(y)].log().mean()
        loss.backward()
        results.append((loss.item(), z.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("code", ["x[range(2), 0] = 5.0", "x[0, range(3), [1, 1, 2]] = -1.0", "x[range(0)] = 3.0"])
def test_assigning_through_python_sequences_as_torch(code):
    out = []
    for lib in (tracer, torch):
        x = lib.tensor(X)
        exec(code, {"x": x})  # noqa: S102  (test statements written above)
        out.append(x.numpy())
    np.testing.assert_array_equal(*out)


A = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 0.0, 1e-9], dtype=np.float32)
B = np.array([1.000001, 2.1, np.nan, np.inf, np.inf, 1e-9, 0.0], dtype=np.float32)

CLOSENESS = [
    "torch.isclose(a, b)", "torch.isclose(a, b, equal_nan=True)", "a.isclose(b, rtol=0.1)",
    "torch.isclose(a, b, rtol=0, atol=0)", "torch.isclose(a, b, atol=0.2, rtol=0)",
    "torch.isclose(i, j)", "torch.isclose(i, j, atol=1)", "torch.isclose(i > 1, j > 1)", "torch.isclose(x, x[0])",
    "torch.allclose(a, b)", "torch.allclose(a, b, equal_nan=True, rtol=0.1)", "a[:2].allclose(b[:2], rtol=1e-5)",
    "torch.allclose(a[:2], b[:2])", "torch.allclose(x, x + 1e-7)", "torch.allclose(x[:1], x)",
    "torch.equal(a, a)", "torch.equal(a[:2], a[:2])", "torch.equal(x, x.clone())", "torch.equal(x[:1], x)",
    "torch.equal(i, i.double())", "i.equal(j)", "torch.equal(x, x.reshape(4, 6))",
    # errors: a number for a tensor, mixed dtypes, negative tolerances, shapes that do not broadcast
    "torch.isclose(a, 1.0)", "torch.isclose(a, i)", "torch.allclose(a, b.double())", "torch.isclose(a, b, rtol=-1)",
    "torch.isclose(a, b, atol=-1e-3)",
]


@pytest.mark.parametrize("code", CLOSENESS)
def test_closeness_as_torch(code):
    assert_same(*both(code, a=A, b=B, i=np.array([1, 2, 3]), j=np.array([1, 3, 3])))


def test_closeness_of_shapes_that_do_not_broadcast_is_an_error():
    """A RuntimeError as torch's (tracegrad's message names the op and both shapes)."""
    with pytest.raises(RuntimeError, match=r"float32\[1, 3, 4\], float32\[2, 3, 4\]|float32\[2\], float32\[3\]"):
        tracer.allclose(tracer.ones(2), tracer.ones(3))


def test_an_integer_new_tensor_cannot_require_grad():
    """A RuntimeError as torch's (tracegrad's message words it its own way)."""
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        tracer.ones(2, dtype=tracer.int64).new_ones(2, requires_grad=True)


NEW = [
    "x.new_zeros(2, 3)", "x.new_zeros((2, 3))", "x.new_zeros([4])", "x.new_zeros(size=(1, 2))", "x.new_ones(3)",
    "x.new_ones(2, dtype=torch.int64)", "x.new_empty((2, 0)).shape", "x.new_full((2, 2), 3)", "x.new_full([3], 7.5)",
    "i.new_full((2,), 2.9)", "x.new_full((2,), 1, dtype=torch.bool)", "x.new_tensor([1, 2])", "i.new_tensor([1.5, 2.5])",
    "x.new_tensor(3)", "x.new_tensor([[1, 2]], dtype=torch.int32)", "i.new_zeros(2).dtype == torch.int64",
    "x.double().new_ones(1)", "x.new_zeros(2, requires_grad=True).requires_grad",
]


@pytest.mark.parametrize("code", NEW)
def test_new_constructors_as_torch(code):
    assert_same(*both(code, i=np.array([1, 2, 3])))


def test_new_tensor_of_a_tensor_copies_and_warns_as_torch():
    x = tracer.ones(2)
    with pytest.warns(UserWarning, match="recommended to use sourceTensor.detach"):
        y = x.new_tensor(x)
    y.add_(1)
    assert x.tolist() == [1.0, 1.0] and not y.requires_grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.new_tensor([1.0])  # data that is not a tensor: no warning


@pytest.mark.parametrize("write", ["dst.data.add_(1)", "src.add_(10)", "dst.mul_(3)", "dst.detach().sub_(2)"])
def test_copy_copies(write):
    """``p.copy_(torch.from_numpy(a))`` (the way scripts load initial weights) leaves ``p`` and
    ``a`` apart: a later in-place write through either is not seen through the other."""
    out = []
    for lib in (tracer, torch):
        array = np.ones((2, 3), dtype=np.float32)
        src, dst = lib.from_numpy(array), lib.zeros(2, 3, requires_grad=True)
        with lib.no_grad():
            dst.copy_(src)
        with lib.no_grad():
            exec(write, {"src": src, "dst": dst})  # noqa: S102  (test statements written above)
        out.append((array.copy(), src.numpy().copy(), dst.detach().numpy().copy()))
    for ours, theirs in zip(*out):
        np.testing.assert_array_equal(ours, theirs)
