"""The misuse table: wrong calls users make, each run on tracer and on torch through the same
function ``call(m, s)`` (``m`` is either module, ``s`` the objects the case set up with it).

Each case asserts that tracer raises the exception type torch raises, that the message names
the op and the shapes/dtypes involved (the case's ``words``) and the user's line (the line of
this file that made the call), and that every tensor, gradient, module and optimizer the case
set up is exactly as it was before the call.
"""
from __future__ import annotations

import os
import types
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

HERE = os.path.abspath(__file__)


@dataclass
class Case:
    name: str
    call: Callable
    words: tuple[str, ...]
    setup: dict = field(default_factory=dict)
    before: Callable | None = None  # legitimate steps before the misuse (a first backward)
    marks: tuple = ()


def C(name, call, words, before=None, marks=(), **setup) -> Case:
    """A case: ``words`` is a ``|``-separated list of substrings tracer's message must hold."""
    return Case(name, call, tuple(w for w in words.split("|") if w), setup, before, marks)


# -- builders: each takes (m, s) and returns one object of the case's setup -----------------
def T(*shape, dtype="float32", grad=False):
    def build(m, s):
        n = int(np.prod(shape)) if shape else 1
        if dtype == "bool":
            t = (m.arange(n) % 2 == 0).reshape(shape)
        else:
            t = (m.arange(n, dtype=getattr(m, dtype)) + 1).reshape(shape)
        return t.requires_grad_() if grad else t
    return build


def V(value, dtype=None, grad=False):
    def build(m, s):
        t = m.tensor(value, dtype=None if dtype is None else getattr(m, dtype))
        return t.requires_grad_() if grad else t
    return build


def L(i, o, bias=True):
    def build(m, s):
        m.manual_seed(0)
        return m.nn.Linear(i, o, bias=bias)
    return build


def NET():
    def build(m, s):
        m.manual_seed(0)
        return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.ReLU(), m.nn.Linear(4, 2))
    return build


def SGD_OF(name, **kw):
    return lambda m, s: m.optim.SGD(getattr(s, name).parameters(), **{"lr": 0.1, **kw})


def OUT(fn):
    """An object computed from the ones before it (a graph output, a dataset)."""
    return fn


CORE = "needs tracer/core/tensor.py (owned elsewhere): "
NO_STRIDES = pytest.mark.xfail(strict=True, reason=CORE + "tensors keep no strides, so view() of a transposed "
                               "tensor cannot tell it is not contiguous and succeeds")
SIZE_NAME = pytest.mark.xfail(strict=True, reason=CORE + "Tensor.size(dim)'s error does not name size()")
ITEM_NAME = pytest.mark.xfail(strict=True, reason=CORE + "Tensor.item()'s error does not name item() or the shape")
FLOAT_TYPE = pytest.mark.xfail(strict=True, reason=CORE + "float() of a multi-element tensor raises RuntimeError; "
                               "torch raises ValueError('only one element tensors can be converted to Python "
                               "scalars')")


def _stepped(m, s):
    """One real optimizer step, so the optimizer has state to keep."""
    s.lin(m.ones(2, 3)).sum().backward()
    s.opt.step()


def _backward(m, s):
    s.y.backward()


# -- the table ----------------------------------------------------------------------------
F = "nn.functional"

CASES = [
    # shape mismatches: matmul
    C("matmul 2-d inner dims", lambda m, s: s.a @ s.b, "matmul|2x3|4x5", a=T(2, 3), b=T(4, 5)),
    C("matmul 1-d lengths", lambda m, s: m.matmul(s.a, s.b), "matmul|[3]|[4]", a=T(3), b=T(4)),
    C("matmul matrix-vector", lambda m, s: s.a @ s.b, "matmul|[2, 3]|[4]", a=T(2, 3), b=T(4)),
    C("matmul vector-matrix", lambda m, s: s.b @ s.a, "matmul|[2, 3]|[4]", a=T(2, 3), b=T(4)),
    C("matmul batch dims", lambda m, s: s.a @ s.b, "matmul|[2, 3, 4]|[3, 4, 5]", a=T(2, 3, 4), b=T(3, 4, 5)),
    C("matmul of a 0-d", lambda m, s: m.matmul(s.a, s.b), "matmul|[]|[3]", a=V(2.0), b=T(3)),
    C("matmul int @ float", lambda m, s: s.a @ s.b, "matmul|int64|float32", a=T(2, 2, dtype="int64"), b=T(2, 2)),
    C("matmul float32 @ float64", lambda m, s: s.a @ s.b, "matmul|float32|float64", a=T(2, 2), b=T(2, 2, dtype="float64")),
    C("mm of a 3-d", lambda m, s: m.mm(s.a, s.b), "mm|[2, 3, 4]", a=T(2, 3, 4), b=T(4, 5)),
    C("mm inner dims", lambda m, s: m.mm(s.a, s.b), "mm|2x3|2x3", a=T(2, 3), b=T(2, 3)),
    C("bmm of 2-d", lambda m, s: m.bmm(s.a, s.b), "bmm|[2, 3]", a=T(2, 3), b=T(3, 2)),
    C("bmm batch sizes", lambda m, s: m.bmm(s.a, s.b), "bmm|[2, 3, 4]|[3, 4, 5]", a=T(2, 3, 4), b=T(3, 4, 5)),
    # shape mismatches: elementwise
    C("add broadcast", lambda m, s: s.a + s.b, "add|[2, 3]|[4, 3]", a=T(2, 3), b=T(4, 3)),
    C("mul broadcast", lambda m, s: s.a * s.b, "mul|[3]|[4]", a=T(3), b=T(4)),
    C("sub broadcast 3-d", lambda m, s: m.sub(s.a, s.b), "sub|[2, 3, 4]|[2, 4]", a=T(2, 3, 4), b=T(2, 4)),
    C("where broadcast", lambda m, s: m.where(s.c, s.a, s.b), "where|[2]|[3]", c=T(2, dtype="bool"), a=T(3), b=T(3)),
    C("add_ into a smaller tensor", lambda m, s: s.a.add_(s.b), "add_|[3]|[2, 3]", a=T(3), b=T(2, 3)),
    C("mul_ into a smaller tensor", lambda m, s: s.a.mul_(s.b), "mul_|[1, 3]|[2, 3]", a=T(1, 3), b=T(2, 3)),
    C("copy_ of another shape", lambda m, s: s.a.copy_(s.b), "copy_|[3]|[5]", a=T(3), b=T(5)),
    C("masked_fill mask shape", lambda m, s: s.a.masked_fill(s.c, 0.0), "masked_fill|[2, 3]|[3, 2]",
      a=T(2, 3), c=T(3, 2, dtype="bool")),
    C("expand_as", lambda m, s: s.a.expand_as(s.b), "expand|[3]|[2, 4]", a=T(3), b=T(2, 4)),
    # shape mismatches: cat and stack
    C("cat other dims differ", lambda m, s: m.cat([s.a, s.b]), "cat|[2, 3]|[2, 4]", a=T(2, 3), b=T(2, 4)),
    C("cat ranks differ", lambda m, s: m.cat([s.a, s.b]), "cat|[2, 3]|[3]", a=T(2, 3), b=T(3)),
    C("cat empty list", lambda m, s: m.cat([]), "cat|non-empty"),
    C("cat dim out of range", lambda m, s: m.cat([s.a, s.a], 1), "cat|got 1|[-1, 0]", a=T(2)),
    C("cat of 0-d", lambda m, s: m.cat([s.a, s.a]), "cat|zero-dimensional", a=V(1.0)),
    C("stack shapes differ", lambda m, s: m.stack([s.a, s.b]), "stack|[2]|[3]", a=T(2), b=T(3)),
    C("stack dim out of range", lambda m, s: m.stack([s.a, s.a], 3), "stack|got 3|[-2, 1]", a=T(2)),
    C("stack empty list", lambda m, s: m.stack([]), "stack|non-empty"),
    C("hstack shapes differ", lambda m, s: m.hstack([s.a, s.b]), "cat|[2, 3]|[3, 3]", a=T(2, 3), b=T(3, 3)),
    # shape mismatches: view, reshape, expand and friends
    C("view numel", lambda m, s: s.a.view(4, 2), "view|[4, 2]|6", a=T(2, 3)),
    C("view two -1", lambda m, s: s.a.view(-1, -1), "view|one dimension", a=T(2, 3)),
    C("view -1 not dividing", lambda m, s: s.a.view(-1, 4), "view|[-1, 4]|6", a=T(2, 3)),
    C("view negative size", lambda m, s: s.a.view(-2, 3), "view|-2", a=T(2, 3)),
    C("view of a transpose", lambda m, s: s.a.t().view(6), "view|stride", a=T(2, 3), marks=NO_STRIDES),
    C("reshape numel", lambda m, s: s.a.reshape(5), "reshape|[5]|6", a=T(2, 3)),
    C("reshape -1 of empty", lambda m, s: s.a.reshape(-1, 0), "reshape|[-1, 0]", a=T(2, 0)),
    C("expand a non-singleton", lambda m, s: s.a.expand(2), "expand|(2)|(3)", a=T(3)),
    C("expand fewer dims", lambda m, s: s.a.expand(3), "expand|(1)|(2)", a=T(2, 3)),
    C("expand -1 in a new dim", lambda m, s: s.a.expand(-1, 3), "expand|-1", a=T(3)),
    C("permute too few dims", lambda m, s: s.a.permute(0), "permute|[2, 3]", a=T(2, 3)),
    C("permute repeated dim", lambda m, s: s.a.permute(0, 0), "permute|repeated", a=T(2, 3)),
    C("flatten start after end", lambda m, s: s.a.flatten(2, 1), "flatten|start_dim", a=T(2, 3, 4)),
    C("repeat fewer dims", lambda m, s: s.a.repeat(2), "repeat|[2, 3]", a=T(2, 3)),
    C("split sizes sum", lambda m, s: s.a.split([2, 2]), "split|5|[2, 2]", a=T(5)),
    C("split size 0", lambda m, s: s.a.split(0), "split|0", a=T(5)),
    C("chunk 0", lambda m, s: s.a.chunk(0), "chunk|0", a=T(4)),
    C("unflatten sizes", lambda m, s: s.a.unflatten(1, (2, 2)), "unflatten|[3, 5]|(2, 2)", a=T(3, 5)),
    C("t of a 3-d", lambda m, s: s.a.t(), "t|3", a=T(2, 3, 4)),
    C("mT of a 1-d", lambda m, s: s.a.mT, "mT|1", a=T(3)),
    C("squeeze dim out of range", lambda m, s: s.a.squeeze(2), "squeeze|got 2|[-2, 1]", a=T(2, 1)),
    C("unsqueeze dim out of range", lambda m, s: s.a.unsqueeze(3), "unsqueeze|got 3|[-2, 1]", a=T(2)),
    C("transpose dim out of range", lambda m, s: s.a.transpose(0, 2), "transpose|got 2|[-2, 1]", a=T(2, 3)),
    C("narrow past the end", lambda m, s: s.a.narrow(0, 2, 3), "narrow|[4]", a=T(4)),
    C("unbind dim out of range", lambda m, s: s.a.unbind(2), "unbind|got 2|[-2, 1]", a=T(2, 3)),
    C("size dim out of range", lambda m, s: s.a.size(2), "size|got 2|[-2, 1]", a=T(2, 3), marks=SIZE_NAME),
    # bad dims in reductions and softmax
    C("sum dim out of range", lambda m, s: s.a.sum(2), "sum|got 2|[-2, 1]", a=T(2, 3)),
    C("mean dim out of range", lambda m, s: s.a.mean(-3), "mean|got -3|[-2, 1]", a=T(2, 3)),
    C("amax dim out of range", lambda m, s: s.a.amax(5), "amax|got 5|[-2, 1]", a=T(2, 3)),
    C("argmax dim out of range", lambda m, s: s.a.argmax(2), "argmax|got 2|[-2, 1]", a=T(2, 3)),
    C("max dim out of range", lambda m, s: s.a.max(2), "max|got 2|[-2, 1]", a=T(2, 3)),
    C("softmax dim out of range", lambda m, s: m.softmax(s.a, 2), "softmax|got 2|[-2, 1]", a=T(2, 3)),
    C("log_softmax dim out of range", lambda m, s: getattr(m, "nn").functional.log_softmax(s.a, -3),
      "log_softmax|got -3|[-2, 1]", a=T(2, 3)),
    C("Softmax module dim", lambda m, s: m.nn.Softmax(dim=1)(s.a), "softmax|got 1|[-1, 0]", a=T(3)),
    C("sum repeated dim", lambda m, s: s.a.sum((0, 0)), "sum|0", a=T(2, 3)),
    C("Flatten of a 1-d", lambda m, s: m.nn.Flatten()(s.a), "flatten|got 1|[-1, 0]", a=T(3)),
    # wrong dtypes
    C("mean of int", lambda m, s: s.a.mean(), "mean|Long|int64[3]", a=T(3, dtype="int64")),
    C("mean of bool over a dim", lambda m, s: s.a.mean(0), "mean|Bool", a=T(3, dtype="bool")),
    C("softmax of int", lambda m, s: m.softmax(s.a, 0), "softmax|Long", a=T(3, dtype="int64")),
    C("log_softmax of int", lambda m, s: m.log_softmax(s.a, 0), "log_softmax|Long", a=T(3, dtype="int64")),
    C("std of int", lambda m, s: s.a.std(), "std and var|int64[3]", a=T(3, dtype="int64")),
    C("var of int", lambda m, s: s.a.var(0), "std and var|int64[3]", a=T(3, dtype="int64")),
    C("norm of int", lambda m, s: s.a.norm(), "norm|Long", a=T(3, dtype="int64")),
    C("float index", lambda m, s: s.a[s.i], "indices|float32", a=T(3), i=V([0.0, 1.0])),
    C("float index_select", lambda m, s: s.a.index_select(0, s.i), "index_select|float32", a=T(3), i=V([0.0])),
    C("float gather", lambda m, s: s.a.gather(0, s.i), "gather|float32", a=T(3), i=V([0.0])),
    C("float masked_fill mask", lambda m, s: s.a.masked_fill(s.c, 0.0), "masked_fill|float32",
      a=T(2), c=V([1.0, 0.0])),
    C("lerp of an int start", lambda m, s: m.lerp(s.i, s.a, 0.5), "lerp|expected dtype long int for `end`|float",
      a=T(2), i=T(2, dtype="int64")),
    C("lerp of mixed floats", lambda m, s: s.a.lerp(s.b, 0.5), "lerp|expected dtype float for `end`|double",
      a=T(2), b=T(2, dtype="float64")),
    C("lerp weight of another dtype", lambda m, s: m.lerp(s.a, s.a, s.b), "lerp|for `weight`|double|float64[2]",
      a=T(2), b=T(2, dtype="float64")),
    C("lerp of ints", lambda m, s: m.lerp(s.i, s.i, 0.5), "lerp_kernel_scalar|Long", i=T(2, dtype="int64")),
    C("mm of mixed dtypes", lambda m, s: m.mm(s.a, s.b), "mm|same dtype|float != double|float32[2, 2]",
      a=T(2, 2), b=T(2, 2, dtype="float64")),
    C("int masked_fill mask", lambda m, s: s.a.masked_fill(s.c, 0.0), "masked_fill|dtype long int",
      a=T(2), c=T(2, dtype="int64")),
    C("float where condition", lambda m, s: m.where(s.c, s.a, s.a), "where|float32", a=T(2), c=V([1.0, 0.0])),
    C("int requires_grad", lambda m, s: m.tensor([1, 2], requires_grad=True), "int64|floating point"),
    C("int requires_grad_", lambda m, s: s.a.requires_grad_(), "int64|floating point", a=T(2, dtype="int64")),
    C("Linear of an int input", lambda m, s: s.lin(s.x), "linear|int64|float32", lin=L(2, 3), x=T(1, 2, dtype="int64")),
    C("randn of int dtype", lambda m, s: m.randn(3, dtype=m.int64), "randn|Long"),
    C("rand of int dtype", lambda m, s: m.rand(3, dtype=m.int64), "rand|Long"),
    C("one_hot of float", lambda m, s: F_(m).one_hot(s.a, 3), "one_hot|float32", a=V([0.0, 1.0])),
    C("& of floats", lambda m, s: s.a & s.a, "bitwise_and|Float", a=T(2)),
    C("int // 0", lambda m, s: s.a // s.b, "floor_divide|ZeroDivisionError", a=T(2, dtype="int64"), b=V([0, 1])),
    # out-of-range indices
    C("index past the end", lambda m, s: s.a[3], "index 3|size 3", a=T(3)),
    C("negative index past the start", lambda m, s: s.a[-4], "index -4|size 3", a=T(3)),
    C("second index past the end", lambda m, s: s.a[0, 5], "index 5|size 3", a=T(2, 3)),
    C("too many indices", lambda m, s: s.a[0, 0], "too many indices|1", a=T(3)),
    C("index of a 0-d", lambda m, s: s.a[0], "too many indices|dimension 0", a=V(1.0)),
    C("tensor index past the end", lambda m, s: s.a[s.i], "index 5|size 3", a=T(3), i=V([0, 5])),
    C("index_select past the end", lambda m, s: s.a.index_select(0, s.i), "take|index 5|float32[3]|int64[1]", a=T(3), i=V([5])),
    C("gather past the end", lambda m, s: s.a.gather(0, s.i), "gather|5|3", a=T(3), i=V([5])),
    C("setitem past the end", lambda m, s: s.a.__setitem__(5, 1.0), "index 5|size 3", a=T(3)),
    C("setitem value shape", lambda m, s: s.a.__setitem__(0, s.b), "[5]|[3]", a=T(2, 3), b=T(5)),
    C("one_hot class too large", lambda m, s: F_(m).one_hot(s.i, 2), "one_hot|num_classes", i=V([3])),
    # losses: reduction strings and targets
    C("mse_loss reduction", lambda m, s: F_(m).mse_loss(s.a, s.a, reduction="avg"), "avg|reduction", a=T(2)),
    C("l1_loss reduction", lambda m, s: F_(m).l1_loss(s.a, s.a, reduction="Mean"), "Mean|reduction", a=T(2)),
    C("MSELoss reduction", lambda m, s: m.nn.MSELoss(reduction="average")(s.a, s.a), "average|reduction", a=T(2)),
    C("cross_entropy reduction", lambda m, s: F_(m).cross_entropy(s.x, s.t, reduction="avg"), "avg|reduction",
      x=T(2, 3), t=V([0, 1])),
    C("nll_loss reduction", lambda m, s: F_(m).nll_loss(s.x, s.t, reduction="all"), "all|reduction",
      x=T(2, 3), t=V([0, 1])),
    C("bce reduction", lambda m, s: F_(m).binary_cross_entropy(s.p, s.p, reduction="avg"), "avg|reduction",
      p=V([0.5, 0.25])),
    C("huber_loss reduction", lambda m, s: F_(m).huber_loss(s.a, s.a, reduction="avg"), "avg|reduction", a=T(2)),
    C("cross_entropy batch sizes", lambda m, s: F_(m).cross_entropy(s.x, s.t), "cross_entropy|(2)|(3)",
      x=T(2, 3), t=V([0, 1, 2])),
    C("cross_entropy float target of wrong shape", lambda m, s: F_(m).cross_entropy(s.x, s.t),
      "cross_entropy|float32[2, 3]|float32[2]", x=T(2, 3), t=V([0.0, 1.0])),
    C("cross_entropy int32 target", lambda m, s: F_(m).cross_entropy(s.x, s.t), "cross_entropy|Int",
      x=T(2, 3), t=V([0, 1], dtype="int32")),
    C("cross_entropy target out of range", lambda m, s: F_(m).cross_entropy(s.x, s.t), "cross_entropy|3",
      x=T(2, 3), t=V([0, 3])),
    C("cross_entropy negative target", lambda m, s: F_(m).cross_entropy(s.x, s.t), "cross_entropy|-1",
      x=T(2, 3), t=V([0, -1])),
    C("cross_entropy weight size", lambda m, s: F_(m).cross_entropy(s.x, s.t, weight=s.w), "cross_entropy|3|[2]",
      x=T(2, 3), t=V([0, 1]), w=T(2)),
    C("cross_entropy label_smoothing", lambda m, s: F_(m).cross_entropy(s.x, s.t, label_smoothing=1.5),
      "cross_entropy|label_smoothing|1.5", x=T(2, 3), t=V([0, 1])),
    C("cross_entropy spatial target shape", lambda m, s: F_(m).cross_entropy(s.x, s.t), "cross_entropy|[2, 3, 4]|[2, 5]",
      x=T(2, 3, 4), t=V([[0] * 5, [1] * 5])),
    C("nll_loss float target", lambda m, s: F_(m).nll_loss(s.x, s.t), "nll_loss|Float", x=T(2, 3), t=V([0.0, 1.0])),
    C("nll_loss batch sizes", lambda m, s: F_(m).nll_loss(s.x, s.t), "nll_loss|(2)|(1)", x=T(2, 3), t=V([0])),
    C("nll_loss target out of range", lambda m, s: F_(m).nll_loss(s.x, s.t), "nll_loss|3", x=T(2, 3), t=V([0, 3])),
    C("NLLLoss target 2-d", lambda m, s: m.nn.NLLLoss()(s.x, s.t), "nll_loss|[2, 3]|[2, 1]", x=T(2, 3), t=V([[0], [1]])),
    C("mse_loss shapes", lambda m, s: F_(m).mse_loss(s.a, s.b), "mse_loss|[2, 3]|[4]", a=T(2, 3), b=T(4)),
    C("l1_loss shapes", lambda m, s: m.nn.L1Loss()(s.a, s.b), "l1_loss|[3]|[2]", a=T(3), b=T(2)),
    C("bce target size", lambda m, s: F_(m).binary_cross_entropy(s.p, s.t), "binary_cross_entropy|[2]|[3]",
      p=V([0.5, 0.25]), t=V([0.0, 1.0, 0.0])),
    C("bce_with_logits target size", lambda m, s: F_(m).binary_cross_entropy_with_logits(s.a, s.b),
      "binary_cross_entropy_with_logits|[2]|[3]", a=T(2), b=T(3)),
    C("huber_loss negative delta", lambda m, s: F_(m).huber_loss(s.a, s.a, delta=-1.0), "huber_loss|delta", a=T(2)),
    C("smooth_l1_loss negative beta", lambda m, s: F_(m).smooth_l1_loss(s.a, s.a, beta=-1.0), "smooth_l1_loss|beta",
      a=T(2)),
    # autograd
    C("backward twice", lambda m, s: s.y.backward(), "backward|second time|retain_graph",
      x=T(2, grad=True), y=OUT(lambda m, s: (s.x * s.x).sum()), before=_backward),
    C("backward of a non-scalar", lambda m, s: s.y.backward(), "backward|scalar|[2]",
      x=T(2, grad=True), y=OUT(lambda m, s: s.x * 2)),
    C("backward without grad", lambda m, s: s.y.backward(), "backward|grad", x=T(2), y=OUT(lambda m, s: s.x.sum())),
    C("backward gradient shape", lambda m, s: s.y.backward(s.g), "backward|[3]|[2]",
      x=T(2, grad=True), y=OUT(lambda m, s: s.x * 2), g=T(3)),
    C("in-place on a leaf", lambda m, s: s.x.add_(1), "add_|leaf", x=T(2, grad=True)),
    C("setitem on a leaf", lambda m, s: s.x.__setitem__(0, 1.0), "leaf", x=T(2, grad=True)),
    C("in-place on a value backward needs", lambda m, s: s.y.sum().backward(), "backward|modified|inplace",
      x=T(2, grad=True), y=OUT(lambda m, s: s.x.exp().add_(1))),
    C("requires_grad_(False) of a non-leaf", lambda m, s: s.y.requires_grad_(False), "requires_grad|leaf",
      x=T(2, grad=True), y=OUT(lambda m, s: s.x * 2)),
    C("numpy of a tensor requiring grad", lambda m, s: s.x.numpy(), "numpy|detach", x=T(2, grad=True)),
    C("autograd.grad of an unused input", lambda m, s: m.autograd.grad(s.y, s.z), "grad|not have been used",
      x=T(2, grad=True), z=T(2, grad=True), y=OUT(lambda m, s: s.x.sum())),
    C("autograd.grad of a non-scalar", lambda m, s: m.autograd.grad(s.y, s.x), "grad|scalar",
      x=T(2, grad=True), y=OUT(lambda m, s: s.x * 2)),
    C("assigned grad shape", lambda m, s: setattr(s.x, "grad", s.g), "grad|[3]|[2]", x=T(2, grad=True), g=T(3)),
    C("assigned grad dtype", lambda m, s: setattr(s.x, "grad", s.g), "grad|float64|float32",
      x=T(2, grad=True), g=T(2, dtype="float64")),
    # optimizers
    C("optimizer of a non-leaf", lambda m, s: m.optim.SGD([s.x * 2], lr=0.1), "non-leaf", x=T(2, grad=True)),
    C("parameter in two groups", lambda m, s: m.optim.SGD([{"params": [s.x]}, {"params": [s.x]}], lr=0.1),
      "more than one parameter group", x=T(2, grad=True)),
    C("add_param_group again", lambda m, s: s.opt.add_param_group({"params": s.lin.weight}),
      "more than one parameter group", lin=L(3, 2), opt=SGD_OF("lin")),
    C("optimizer of a bare tensor", lambda m, s: m.optim.SGD(s.x, lr=0.1), "SGD|iterable|float32[2]", x=T(2, grad=True)),
    C("optimizer of nothing", lambda m, s: m.optim.Adam([], lr=0.1), "empty parameter list"),
    C("negative lr", lambda m, s: m.optim.SGD(s.lin.parameters(), lr=-0.1), "learning rate|-0.1", lin=L(3, 2)),
    C("negative momentum", lambda m, s: m.optim.SGD(s.lin.parameters(), lr=0.1, momentum=-1), "momentum|-1",
      lin=L(3, 2)),
    C("nesterov without momentum", lambda m, s: m.optim.SGD(s.lin.parameters(), lr=0.1, nesterov=True),
      "nesterov", lin=L(3, 2)),
    C("Adam beta out of range", lambda m, s: m.optim.Adam(s.lin.parameters(), betas=(1.5, 0.9)), "beta|1.5",
      lin=L(3, 2)),
    C("Adam negative eps", lambda m, s: m.optim.Adam(s.lin.parameters(), eps=-1e-8), "epsilon|-1e-08", lin=L(3, 2)),
    C("AdamW negative weight_decay", lambda m, s: m.optim.AdamW(s.lin.parameters(), weight_decay=-1),
      "weight_decay|-1", lin=L(3, 2)),
    C("RMSprop negative alpha", lambda m, s: m.optim.RMSprop(s.lin.parameters(), alpha=-0.5), "alpha|-0.5",
      lin=L(3, 2)),
    C("optimizer load_state_dict group count",
      lambda m, s: s.opt.load_state_dict({"state": {}, "param_groups": []}), "load_state_dict|parameter groups|0 saved|1 in",
      lin=L(3, 2), opt=SGD_OF("lin", momentum=0.9), before=_stepped),
    C("optimizer load_state_dict group size",
      lambda m, s: s.opt.load_state_dict({"state": {}, "param_groups": [{**s.opt.param_groups[0], "params": [0]}]}),
      "load_state_dict|size|group 0|1 saved|2 in the optimizer", lin=L(3, 2), opt=SGD_OF("lin", momentum=0.9), before=_stepped),
    C("scheduler of a module", lambda m, s: m.optim.lr_scheduler.StepLR(s.lin, 1), "StepLR|Linear|Optimizer", lin=L(3, 2)),
    # modules
    C("Linear in_features", lambda m, s: s.lin(s.x), "linear|4x5|3x2", lin=L(3, 2), x=T(4, 5)),
    C("Linear of a 0-d", lambda m, s: s.lin(s.x), "linear|[]", lin=L(3, 2), x=V(1.0)),
    C("Sequential layer sizes", lambda m, s: s.net(s.x), "linear|1x4|3x4", net=OUT(
        lambda m, s: m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Linear(3, 4))), x=T(1, 3)),
    C("load_state_dict missing key", lambda m, s: s.lin.load_state_dict({"weight": s.w}), "Missing|bias",
      lin=L(3, 2), w=T(2, 3)),
    C("load_state_dict unexpected key",
      lambda m, s: s.lin.load_state_dict({"weight": s.w, "bias": s.b, "scale": s.b}), "Unexpected|scale",
      lin=L(3, 2), w=T(2, 3), b=T(2)),
    C("load_state_dict mis-shaped", lambda m, s: s.lin.load_state_dict({"weight": s.w, "bias": s.b}),
      "size mismatch|weight|[3, 2]|[2, 3]", lin=L(3, 2), w=T(3, 2), b=T(2)),
    C("load_state_dict mis-shaped, not strict",
      lambda m, s: s.lin.load_state_dict({"weight": s.w, "bias": s.b}, strict=False),
      "size mismatch|bias|[3]|[2]", lin=L(3, 2), w=T(2, 3), b=T(3)),
    C("load_state_dict nested mis-shaped", lambda m, s: s.net.load_state_dict({**s.net.state_dict(), "2.bias": s.b}),
      "size mismatch|2.bias|[5]|[2]", net=NET(), b=T(5)),
    C("load_state_dict of a list", lambda m, s: s.lin.load_state_dict([s.w]), "state_dict|list",
      lin=L(3, 2), w=T(2, 3)),
    C("attribute typo", lambda m, s: s.lin.wieght, "Linear|wieght|did you mean 'weight'", lin=L(3, 2)),
    C("submodule attribute typo", lambda m, s: s.net.lyaers, "Sequential|lyaers", net=NET()),
    C("tensor assigned to a parameter", lambda m, s: setattr(s.lin, "weight", s.w), "weight|Parameter",
      lin=L(3, 2), w=T(2, 3)),
    C("parameter name with a dot", lambda m, s: s.lin.register_parameter("a.b", None), "a.b|.", lin=L(3, 2)),
    C("buffer of an int", lambda m, s: s.lin.register_buffer("scale", 3), "scale|int", lin=L(3, 2)),
    C("Linear with negative in_features", lambda m, s: m.nn.Linear(-1, 3), "-1"),
    C("Module.to an int dtype", lambda m, s: s.lin.to(m.int64), "int64|floating point", lin=L(3, 2)),
    C("get_submodule typo", lambda m, s: s.net.get_submodule("5"), "Sequential|5", net=NET()),
    C("Sequential index past the end", lambda m, s: s.net[3], "index 3", net=NET()),
    C("ModuleDict missing key", lambda m, s: s.md["b"], "b", md=OUT(lambda m, s: m.nn.ModuleDict({"a": m.nn.ReLU()}))),
    C("Dropout p above 1", lambda m, s: m.nn.Dropout(1.5), "dropout|1.5"),
    C("dropout p negative", lambda m, s: F_(m).dropout(s.a, p=-0.1), "dropout|-0.1", a=T(2)),
    # data
    C("DataLoader batch_size 0", lambda m, s: m.utils.data.DataLoader(s.ds, batch_size=0), "batch_size|0",
      ds=OUT(lambda m, s: m.utils.data.TensorDataset(m.ones(4, 2)))),
    C("DataLoader batch_size negative", lambda m, s: m.utils.data.DataLoader(s.ds, batch_size=-2), "batch_size|-2",
      ds=OUT(lambda m, s: m.utils.data.TensorDataset(m.ones(4, 2)))),
    C("DataLoader batch_size float", lambda m, s: m.utils.data.DataLoader(s.ds, batch_size=1.5), "batch_size|1.5",
      ds=OUT(lambda m, s: m.utils.data.TensorDataset(m.ones(4, 2)))),
    C("DataLoader sampler and shuffle", lambda m, s: m.utils.data.DataLoader(s.ds, sampler=[0, 1], shuffle=True),
      "DataLoader|sampler|shuffle", ds=OUT(lambda m, s: m.utils.data.TensorDataset(m.ones(4, 2)))),
    C("TensorDataset sizes", lambda m, s: m.utils.data.TensorDataset(s.a, s.b), "TensorDataset|Size mismatch|[3]|[4]",
      a=T(3), b=T(4)),
    C("TensorDataset index past the end", lambda m, s: s.ds[5], "index 5|size 3",
      ds=OUT(lambda m, s: m.utils.data.TensorDataset(m.ones(3, 2)))),
    C("random_split lengths", lambda m, s: m.utils.data.random_split(s.ds, [1, 1]), "lengths|length",
      ds=OUT(lambda m, s: m.utils.data.TensorDataset(m.ones(3, 2)))),
    C("collate of ragged samples", lambda m, s: next(iter(m.utils.data.DataLoader(s.ds, batch_size=2))),
      "stack|[2]|[3]", ds=OUT(lambda m, s: [m.ones(2), m.ones(3)])),
    # creation
    C("zeros negative size", lambda m, s: m.zeros(-1), "zeros|negative dimension -1|[-1]"),
    C("ones negative size", lambda m, s: m.ones(2, -3), "ones|negative dimension -3|[2, -3]"),
    C("empty negative size", lambda m, s: m.empty(-1), "empty|negative dimension -1"),
    C("randn negative size", lambda m, s: m.randn(3, -1), "randn|negative dimension -1"),
    C("full negative size", lambda m, s: m.full((-1,), 1.0), "full|negative dimension -1"),
    C("arange step 0", lambda m, s: m.arange(0, 10, 0), "arange|step"),
    C("arange wrong direction", lambda m, s: m.arange(10, 0, 1), "arange|step sign"),
    C("linspace negative steps", lambda m, s: m.linspace(0, 1, -1), "linspace|-1"),
    C("eye negative", lambda m, s: m.eye(-1), "eye|-1"),
    C("randint empty range", lambda m, s: m.randint(5, 2, (3,)), "randint|5|2"),
    C("tensor of ragged lists", lambda m, s: m.tensor([[1, 2], [3]]), "tensor|length 2|dim 1"),
    C("tensor of strings", lambda m, s: m.tensor(["a"]), "tensor|str"),
    C("zeros of a float size", lambda m, s: m.zeros(2.5), "zeros|float"),
    # scalars out of tensors
    C("item of two elements", lambda m, s: s.a.item(), "item|2 elements|[2]", a=T(2), marks=ITEM_NAME),
    C("item of an empty tensor", lambda m, s: s.a.item(), "item|0 elements|[0]", a=T(0), marks=ITEM_NAME),
    C("float of two elements", lambda m, s: float(s.a), "2 elements|scalar", a=T(2), marks=FLOAT_TYPE),
    C("bool of two elements", lambda m, s: bool(s.a), "ambiguous|more than one", a=T(2)),
]


def F_(m):
    return m.nn.functional


# -- running a case -----------------------------------------------------------------------
def _build(case, m):
    s = types.SimpleNamespace()
    for name, make in case.setup.items():
        setattr(s, name, make(m, s))
    if case.before is not None:
        case.before(m, s)
    return s


def _raise(case, m):
    """(exception, the line of this file that raised it, setup before, setup after)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = _build(case, m)
        before = _snapshot(vars(s), m)
        try:
            case.call(m, s)
        except Exception as exc:  # noqa: BLE001 - any type: the test compares it with torch's
            return exc, _user_line(exc), before, _snapshot(vars(s), m)
    pytest.fail(f"{m.__name__} accepted the misuse silently")


def _user_line(exc) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == HERE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _snapshot(obj, m, depth=0):
    """Everything a user could observe of ``obj``, as plain comparable data."""
    if isinstance(obj, m.Tensor):
        return _tensor_state(obj, m)
    if isinstance(obj, m.nn.Module):
        return ("module", type(obj).__name__, obj.training, sorted(vars(obj)),
                [(n, _tensor_state(p, m)) for n, p in obj.named_parameters()],
                [(n, _tensor_state(b, m)) for n, b in obj.named_buffers()],
                [n for n, _ in obj.named_modules()])
    if isinstance(obj, m.optim.Optimizer):
        return ("optimizer", _snapshot(obj.state_dict(), m, depth + 1),
                [[id(p) for p in g["params"]] for g in obj.param_groups])
    if isinstance(obj, dict):
        return ("dict", [(repr(k), _snapshot(v, m, depth + 1)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_snapshot(v, m, depth + 1) for v in obj])
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if hasattr(obj, "__dict__") and depth < 3:
        return (type(obj).__name__, _snapshot(dict(vars(obj)), m, depth + 1))
    return ("object", id(obj))


def _tensor_state(t, m):
    grad = t.grad if t.is_leaf else None
    return ("tensor", str(t.dtype), tuple(t.shape), t.requires_grad, t.is_leaf, _bytes(t),
            None if grad is None else (tuple(grad.shape), _bytes(grad)))


def _bytes(t):
    return t.detach().numpy().tobytes()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=c.marks) for c in CASES])
def test_misuse(case):
    expected, _, _, _ = _raise(case, torch)
    got, line, before, after = _raise(case, tracer)
    message = str(got)
    assert isinstance(got, type(expected)), (
        f"tracer raised {type(got).__name__}: {message}\ntorch raises {type(expected).__name__}: {expected}")
    missing = [w for w in case.words if w.lower() not in message.lower()]
    assert not missing, f"the message lacks {missing}:\n{message}\n(torch: {expected})"
    assert line is not None and f"{os.path.basename(HERE)}:{line}" in message, (
        f"the message does not name the user's line {line}:\n{message}")
    assert after == before, "the misuse changed the tensors, modules or optimizer it was given"


def test_dataloader_refuses_unknown_keywords():
    """A misspelt option is a TypeError, as torch's, not silently ignored (Python raises it, so
    the message carries no source line)."""
    ds = tracer.utils.data.TensorDataset(tracer.ones(4, 2))
    with pytest.raises(TypeError, match="batchsize"):
        tracer.utils.data.DataLoader(ds, batchsize=2)
    with pytest.raises(TypeError, match="batchsize"):
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 2)), batchsize=2)


def test_table_is_large():
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)
