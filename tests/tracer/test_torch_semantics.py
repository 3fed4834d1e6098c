"""Small cases where tracer must do what torch does: 0-d and empty tensors, misuse that torch
refuses (same exception type), and results whose shape or dtype torch defines. Each case runs
on tracer and on torch; results are compared by shape, dtype and value, errors by type."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")


def _iadd_float_into_int(m):
    t = m.tensor([1, 2])
    t.add_(1.5)
    return t


def _copy_into_non_leaf(m):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.copy_(m.tensor([5.0, 6.0], requires_grad=True))
    b.sum().backward()
    return a.grad


def _softmax_0d_backward(m):
    x = m.tensor(0.5, requires_grad=True)
    m.softmax(x, 0).backward()
    return x.grad


def _assign_selected(m):
    x = m.zeros(2, 3)
    x[m.tensor([[False, True, True], [False, True, True]])] = m.tensor([1.0, 2.0, 3.0, 4.0])
    return x


def _written_after(m, fn, int_base=False, base=None):
    """``fn(x)``, then ``x`` (or ``base(x)``) changed in place: a result that aliases ``x``
    would change with it."""
    x = m.tensor([[1.0, 2.0], [3.0, 4.0]])
    if int_base:
        x = x.long()
    out = fn(x)
    target = x if base is None else base(x)
    target.add_(10)
    return out


def _setitem(m, x, index, value):
    x[index] = value
    return x


def _assign_nothing(m):
    x = m.ones(1)
    x[m.tensor([False])] = m.zeros(0)
    return x


CASES = {
    "gelu 0-d": lambda m: m.nn.functional.gelu(m.tensor(0.5)),
    "erf 0-d": lambda m: m.erf(m.tensor(0.5)),
    "bool mask on 0-d": lambda m: (lambda x: x[x > 0])(m.tensor(0.5)),
    "false 0-d mask": lambda m: (lambda x: x[x < 0])(m.tensor(0.5)),
    "softmax 0-d backward": _softmax_0d_backward,
    "log_softmax 0-d": lambda m: m.log_softmax(m.tensor(0.5), -1),
    "hstack 0-d": lambda m: m.hstack([m.tensor(1.0), m.tensor(2.0)]),
    "vstack 0-d": lambda m: m.vstack([m.tensor(1.0), m.tensor(2.0)]),
    "vstack 1-d": lambda m: m.vstack([m.ones(3), m.zeros(3)]),
    "movedim 0-d": lambda m: m.movedim(m.tensor(1.0), 0, -1),
    "softmax empty": lambda m: m.softmax(m.zeros(2, 0), -1),
    "chunk empty": lambda m: m.zeros(0, 5).chunk(1, 0)[0],
    "split empty count": lambda m: m.tensor(float(len(m.zeros(0).split(1)))),
    "short bool mask": lambda m: m.arange(4.0)[m.tensor([True, False])],
    "long bool mask": lambda m: m.arange(2.0)[m.tensor([True, False, True])],
    "2-d mask wrong shape": lambda m: m.ones(2, 3)[m.ones(3, 2, dtype=m.bool)],
    "int // 0": lambda m: m.tensor([4, 5]) // m.tensor([0, 1]),
    "int % 0": lambda m: m.tensor([4, 5]) % m.tensor([0, 1]),
    "float // 0": lambda m: m.tensor([4.0, -5.0]) // m.tensor([0.0, 0.0]),
    "float where condition": lambda m: m.where(m.tensor([1.0, 0.0]), m.ones(2), m.zeros(2)),
    "int masked_fill mask": lambda m: m.ones(2).masked_fill(m.tensor([1, 0]), 0.0),
    "int add_ float": _iadd_float_into_int,
    "bool add_ int": lambda m: m.tensor([True]).add_(1),
    "float add_ int": lambda m: m.tensor([1.0]).add_(m.tensor([1])),
    "int fill_ float": lambda m: m.tensor([1, 2]).fill_(1.5),
    "int copy_ float": lambda m: m.tensor([1, 2]).copy_(m.tensor([1.5, 2.5])),
    "& on floats": lambda m: m.tensor([1.0]) & m.tensor([1.0]),
    "| on floats": lambda m: m.tensor([1.0]) | m.tensor([1.0]),
    "~ on floats": lambda m: ~m.tensor([1.0]),
    "& on bools": lambda m: m.tensor([True, False]) & m.tensor([True, True]),
    "~ on bools": lambda m: ~m.tensor([True, False]),
    "bce input above 1": lambda m: m.nn.functional.binary_cross_entropy(m.tensor([1.5]), m.tensor([1.0])),
    "bce input below 0": lambda m: m.nn.BCELoss()(m.tensor([-0.1]), m.tensor([1.0])),
    "MSELoss(size_average=False)": lambda m: m.nn.MSELoss(size_average=False)(m.tensor([1.0, 2.0]), m.zeros(2)),
    "mse_loss(reduce=False)": lambda m: m.nn.functional.mse_loss(m.tensor([1.0, 2.0]), m.zeros(2), reduce=False),
    "CrossEntropyLoss(reduce=False)": lambda m: m.nn.CrossEntropyLoss(reduce=False)(m.ones(2, 3), m.tensor([0, 2])),
    "l1_loss(size_average=False, reduce=True)": lambda m: m.nn.functional.l1_loss(
        m.tensor([1.0, -2.0]), m.zeros(2), size_average=False, reduce=True),
    "tensor of 0-d tensors": lambda m: m.tensor([m.tensor(1.5), m.tensor(2.0)]),
    "tensor of float64 0-d tensors": lambda m: m.tensor([m.tensor(1.5, dtype=m.float64), m.tensor(2.0, dtype=m.float64)]),
    "tensor of int and float": lambda m: m.tensor([1, 2.5]),
    "cross_entropy 1-d none": lambda m: m.nn.functional.cross_entropy(m.tensor([1.0, 2.0, 0.5]), m.tensor(1),
                                                                      reduction="none"),
    "copy_ into a non-leaf": _copy_into_non_leaf,
    "mT of 0-d": lambda m: m.tensor(1.5).mT,
    "relu6 of ints": lambda m: m.nn.functional.relu6(m.tensor([-3, 2, 9])),
    "lerp of bools by a float64 tensor weight": lambda m: m.lerp(m.tensor(False), m.tensor([True, False]),
                                                                 m.tensor(-2.0, dtype=m.float64)),
    "lerp of ints by a float tensor weight": lambda m: m.lerp(m.tensor(1), m.tensor([2, 3]), m.tensor(0.5)),
    "hardtanh of ints truncates the bounds": lambda m: m.nn.functional.hardtanh(m.tensor([-3, 2, 9]), -1.5, 2.5),
    "int fmod of an empty tensor by zero": lambda m: m.fmod(m.zeros(0, dtype=m.int64), m.tensor(0)),
    "mask put of one value of another dtype": lambda m: _setitem(m, m.zeros(3), m.tensor([False, True, False]),
                                                                 m.tensor([1.5], dtype=m.float64)),
    "0-d bool mask indexing is a copy": lambda m: _written_after(m, lambda x: x[0, 0][x[0, 0] > 0], base=lambda t: t[0, 0]),
    "True indexing is a copy": lambda m: _written_after(m, lambda x: x[True]),
    "contiguous of a transpose is a copy": lambda m: _written_after(m, lambda x: x.t().contiguous()),
    "contiguous of an expand is a copy": lambda m: _written_after(m, lambda x: x[:1].expand(3, 2).contiguous()),
    "contiguous of a row is the row": lambda m: _written_after(m, lambda x: x[0].contiguous()),
    "outer of mixed dtypes": lambda m: m.outer(m.ones(2), m.arange(3, dtype=m.float64)),
    "outer of a matrix": lambda m: m.outer(m.ones(2, 2), m.ones(3)),
    "bool ** True": lambda m: m.tensor([True, False]) ** True,
    "bool ** False": lambda m: m.tensor([True, False]) ** False,
    "int & int": lambda m: m.tensor([5, -3, 7]) & m.tensor([3, 3, -1]),
    "int ^ bool": lambda m: m.tensor([5, -3, 7]) ^ m.tensor([True, False, True]),
    "~int": lambda m: ~m.tensor([5, -3, 0]),
    "int & float": lambda m: m.tensor([5, -3]) & 1.5,
    "cat of one tensor is a copy": lambda m: _written_after(m, lambda x: m.cat([x])),
    "stack of one tensor is a copy": lambda m: _written_after(m, lambda x: m.stack([x])[0]),
    "repeat adding a leading dim is a copy": lambda m: _written_after(m, lambda x: x.repeat(2, 1, 1)[1]),
    "repeat by ones is a copy": lambda m: _written_after(m, lambda x: x.repeat(1, 1)),
    "trunc of ints is a copy": lambda m: _written_after(m, lambda x: x.long().trunc(), int_base=True),
    "round of ints is a copy": lambda m: _written_after(m, lambda x: x.long().round(), int_base=True),
    "amin of 0-d is a copy": lambda m: _written_after(m, lambda x: x[0, 0].amin(-1), base=lambda t: t[0, 0]),
    "max(dim) of 0-d is a copy": lambda m: _written_after(m, lambda x: x[0, 0].max(0).values, base=lambda t: t[0, 0]),
    "negative integer powers of integers": lambda m: m.tensor([2, -1, 1, 0, 3, -1]) ** m.tensor([-1, -3, -2, -1, 2, -2]),
    "integer to a Python negative power": lambda m: m.tensor([2, 3]) ** -1,
    "bool ** bool": lambda m: m.tensor([True, False]) ** m.tensor([True, True]),
    "bool ** 2": lambda m: m.tensor([True, False]) ** 2,
    "index tensors that do not broadcast": lambda m: m.ones(3, 3)[m.tensor([0, 1, 2]), m.tensor([[0, 1], [1, 0]])],
    "remainder of bools": lambda m: m.tensor([True, False]) % m.tensor([True, True]),
    "fmod of bools": lambda m: m.fmod(m.tensor([True, False]), m.tensor([True, True])),
    "floor_divide of bools": lambda m: m.tensor([True, False]) // m.tensor([True, True]),
    "bool remainder int": lambda m: m.tensor([True, False]) % 2,
    "full-shape mask assignment of the selected values": _assign_selected,
    "full-shape mask assignment of nothing": _assign_nothing,
    "index put of another dtype": lambda m: _setitem(m, m.zeros(3, dtype=m.float64), m.tensor([0, 1]),
                                                     m.tensor([1.0, 2.0])),
    "mask put of a 0-d tensor of another dtype": lambda m: _setitem(m, m.zeros(3, dtype=m.float64),
                                                                    m.tensor([True, False, True]), m.tensor(1.5)),
    "index put of a 0-d tensor of another dtype": lambda m: _setitem(m, m.zeros(3, dtype=m.float64),
                                                                     m.tensor([0, 2]), m.tensor(1.5)),
    "negative step assignment": lambda m: _setitem(m, m.zeros(3), slice(None, None, -1), 1.0),
    "-inf ** 0.5 and -0.5": lambda m: m.stack([m.tensor([-m.inf, 4.0]) ** 0.5, m.tensor([-m.inf, 4.0]) ** -0.5]),
    "-inf ** tensor 0.5": lambda m: m.tensor([-m.inf, 4.0]) ** m.tensor(0.5),
    "fmod of a small quotient": lambda m: m.fmod(m.tensor([-0.37316, 0.5], dtype=m.float64),
                                                 m.tensor([-0.037316, 0.05], dtype=m.float64)),
    "cross_entropy 1-d none with 0-d target and smoothing": lambda m: m.nn.functional.cross_entropy(
        m.tensor([1.0, 2.0, 0.5]), m.tensor(1), label_smoothing=0.1, reduction="none"),
    "square of bools": lambda m: m.square(m.tensor([True, False])),
    "masked_fill with a bigger mask": lambda m: m.zeros(1).masked_fill(m.tensor([True, False]), 7.0),
    "lerp with a 0-d float64 weight": lambda m: m.lerp(m.zeros(2), m.ones(2), m.tensor(0.25, dtype=m.float64)),
}


def _outcome(fn, m):
    try:
        out = fn(m)
    except Exception as e:  # noqa: BLE001 - the exception type is the result under test
        return e
    return out


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(CASES))
def test_like_torch(name):
    ours, theirs = _outcome(CASES[name], tracer), _outcome(CASES[name], torch)
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), f"torch raised {type(theirs).__name__}: {theirs}; we gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"we raised {type(ours).__name__}: {ours}"
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_legacy_reduction_arguments_warn_as_torch():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        tracer.nn.MSELoss(size_average=False)
