"""ir.formula: values whose operators emit ir ops, the language of the gradient rules."""
import operator

import numpy as np
import pytest

import backends.numpy as bnp
import ir
from ir.formula import Value, where, zeros_like
from ir.gradients import RULES, rule, unary
from ir.ops import elementwise as E
from ir.ops import linalg as L
from ir.ops import shape as S
from ir.ops import source


def values(*shapes, dtype=ir.float32):
    """A graph, its builder, and one input value per shape."""
    g = ir.Graph("g")
    b = ir.Builder(g, ir.BACKWARD)
    return g, [Value(b, g.add_input(f"x{i}", s, dtype)) for i, s in enumerate(shapes)]


BINARY = [
    (operator.add, E.add), (operator.sub, E.sub), (operator.mul, E.mul), (operator.truediv, E.div),
    (operator.pow, E.pow_), (operator.floordiv, E.floor_divide), (operator.gt, E.gt),
    (operator.ge, E.ge), (operator.lt, E.lt), (operator.le, E.le), (Value.eq, E.eq),
    (Value.ne, E.ne), (Value.maximum, E.maximum),
]


@pytest.mark.parametrize("fn, op", BINARY, ids=[op.name for _, op in BINARY])
def test_binary_operators_emit_their_op_with_inputs_in_order(fn, op):
    _, (x, y) = values((3,), (3,))
    out = fn(x, y)
    assert out.node.op is op and out.node.inputs == (x.node, y.node)
    assert out.node.phase == ir.BACKWARD


@pytest.mark.parametrize("fn, op", BINARY[:6], ids=[op.name for _, op in BINARY[:6]])
def test_a_number_on_the_left_is_the_first_input(fn, op):
    _, (x,) = values((3,))
    out = fn(2.0, x)
    assert out.node.op is op
    c, right = out.node.inputs
    assert c.op is source.constant and float(c.attrs.value) == 2.0 and right is x.node


def test_unary_methods_and_shapes():
    _, (x, i) = values((2, 3), (2, 3))
    assert (-x).node.op is E.neg
    for name in ("exp", "log", "sqrt", "sin", "cos", "sign", "sigmoid"):
        assert getattr(x, name)().node.op is getattr(E, name)
    assert x.cast(ir.float64).dtype is ir.float64
    assert x.sum((1,), keepdim=True).shape == (2, 1)
    assert x.reshape((3, 2)).shape == (3, 2)
    assert x.reshape((2, 3)).node is x.node  # nothing emitted
    assert x.permute((1, 0)).shape == (3, 2)
    assert x.mT.node.attrs.perm == (1, 0)
    assert x.sum((0,)).expand_like(x).node.op is S.expand_like
    assert ((x > 0) & (i > 0)).node.op is E.logical_and


def test_constants_are_shared_and_take_the_other_operands_dtype():
    g, (x,) = values((3,))
    _, (d,) = values((3,), dtype=ir.float64)
    a, b, c = x + 1, 1 - x, x * 1.0
    one = a.node.inputs[1]
    assert b.node.inputs[0] is one and c.node.inputs[1] is one and x.const(1).node is one
    assert one.dtype is ir.float32 and one.type.rank == 0
    assert (d + 1).node.inputs[1].dtype is ir.float64
    assert sum(n.op is source.constant for n in g.nodes) == 1


def test_numbers_meet_integer_values_as_integers():
    _, (t,) = values((3,), dtype=ir.int64)
    c = t.ne(2).node.inputs[1]
    assert c.dtype is ir.int64 and c.attrs.value.dtype == np.int64


def test_numpy_scalars_lift_like_python_numbers():
    _, (x,) = values((3,))
    out = np.float64(2.0) * x
    assert isinstance(out, Value) and out.node.op is E.mul
    assert out.node.inputs[0].dtype is ir.float32


def test_equality_is_identity_and_truth_is_an_error():
    _, (x, y) = values((3,), (3,))
    assert x == x and x != y and {x: 1}[x] == 1
    with pytest.raises(TypeError, match="no truth value"):
        bool(x > y)
    with pytest.raises(TypeError, match="got str"):
        x + "1"
    with pytest.raises(TypeError, match="got bool"):
        x * True


def test_where_lifts_a_number_to_the_other_branch_dtype():
    _, (x,) = values((3,), dtype=ir.float64)
    out = where(x > 0, x, 0)
    cond, a, b = out.node.inputs
    assert cond.op is E.gt and a is x.node and b.dtype is ir.float64
    assert where(x > 0, 0, x).node.inputs[1] is b
    with pytest.raises(TypeError, match="at least one"):
        where(x > 0, 0, 1)


def test_zeros_like_follows_the_reference_at_run_time():
    _, (x,) = values((2, 3))
    z = zeros_like(x, ir.float64)
    assert z.node.op is S.expand_like and z.dtype is ir.float64 and z.node.inputs[1] is x.node


def test_builder_peepholes_apply_to_values():
    _, (a, b, y) = values((2, 3), (3, 4), (3,))
    assert a.permute((0, 1)).node is a.node         # an identity permute is dropped
    assert a.mT.mT.node is a.node                    # permutes compose into the identity
    t = (a @ b).mT                                   # (AB)^T = B^T A^T
    assert t.node.op is L.matmul and [i.op for i in t.node.inputs] == [S.permute, S.permute]
    neg = -(2.0 / y)                                 # -(c / y) = (-c) / y
    assert neg.node.op is E.div and float(neg.node.inputs[0].attrs.value) == -2.0


#: Rules written here with the value type, in other forms than ir/gradients.py's.
QUOTIENT = rule(lambda g, out, x, y: (g / y, -(g * x) / y ** 2))
SIGMOID_FROM_INPUT = unary(lambda g, out, x: g * x.exp() / (1 + x.exp()) ** 2)


@pytest.mark.parametrize("name, fn_rule, op, n_inputs", [
    ("quotient", QUOTIENT, E.div, 2),
    ("sigmoid_from_input", SIGMOID_FROM_INPUT, E.sigmoid, 1),
    ("tanh", RULES[E.tanh], E.tanh, 1),
    ("pow", RULES[E.pow_], E.pow_, 2),
    ("bce", RULES[E.binary_cross_entropy], E.binary_cross_entropy, 2),
])
def test_a_rule_written_with_values_matches_finite_differences(name, fn_rule, op, n_inputs):
    """<grad, v> against a central difference along a random v, float64, on the interpreter."""
    rng = np.random.default_rng(1)
    arrays = [rng.uniform(0.2, 0.8, (3, 4)) for _ in range(n_inputs)]
    g = ir.Graph("g")
    xs = [g.add_input(f"x{i}", a.shape, ir.float64) for i, a in enumerate(arrays)]
    out = g.add(op, xs)
    seed = g.add_input("seed", out.shape, ir.float64)
    grads = fn_rule(ir.Builder(g, ir.BACKWARD), out, seed)
    g.set_outputs([out, *grads])
    ir.lint(g)
    w = rng.standard_normal(out.shape)
    results = bnp.run(g, *arrays, w)
    for i, grad in enumerate(results[1:]):
        v = rng.standard_normal(arrays[i].shape)
        assert float(np.sum(grad * v)) == pytest.approx(_numeric(g, arrays, w, i, v), rel=1e-6), name


def _numeric(g, arrays, w, i, v, eps=1e-6):
    def f(e):
        moved = [a + e * v if k == i else a for k, a in enumerate(arrays)]
        return float(np.sum(bnp.run(g, *moved, w)[0] * w))
    return (f(eps) - f(-eps)) / (2 * eps)
