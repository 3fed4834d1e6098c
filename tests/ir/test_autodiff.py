"""ir.grad and the autodiff driver: the textbook gradients, seeds, errors, grad of grad, and the
kinds of gradient rule."""
import numpy as np
import pytest

import backends.numpy as bnp
import ir
import tracer as torch
from ir.gradients import RULES, Rule
from ir.ops import elementwise as E
from ir.ops import source


def textbook():
    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.5, requires_grad=True)
    return torch.trace(lambda x, y: (y - (w * x + b)).pow(2).sum(), torch.tensor([1.4]), torch.tensor([2.1]))


def test_textbook_gradients_through_ir_grad_and_the_interpreter():
    g = ir.grad(textbook(), wrt=["w", "b"])
    ir.lint(g)
    loss, dw, db = bnp.run(g, [1.4], [2.1])
    assert g.output_names == ["output", "grad.w", "grad.b"]
    assert float(dw) == pytest.approx(-0.56, abs=1e-6)
    assert float(db) == pytest.approx(-0.4, abs=1e-6)


def test_backward_nodes_are_marked_and_keep_the_forward_source():
    g = ir.grad(textbook(), wrt=["w"])
    backward = [n for n in g.nodes if n.phase == ir.BACKWARD and n.op is not source.constant]
    assert backward
    assert all(n.source and "test_autodiff.py" in n.source for n in backward)


def test_original_graph_is_left_unchanged():
    g = textbook()
    before = len(g.nodes)
    ir.grad(g)
    assert len(g.nodes) == before


def test_non_scalar_output_needs_grad_output():
    g = torch.trace(lambda x: x * 2, torch.ones(3))
    with pytest.raises(ir.IRError, match="only for scalar outputs"):
        ir.grad(g)
    seeded = ir.grad(g, grad_output=True)
    out, dx = bnp.run(seeded, np.ones(3, np.float32), grad_output=np.array([1, 2, 3], np.float32))
    np.testing.assert_allclose(dx, [2, 4, 6])


def test_unused_input_gets_a_zero_gradient():
    g = torch.trace(lambda x, y: (x * 3).sum(), torch.ones(2), torch.ones(2))
    _, dx, dy = bnp.run(ir.grad(g), np.ones(2, np.float32), np.ones(2, np.float32))
    np.testing.assert_array_equal(dy, [0, 0])
    np.testing.assert_array_equal(dx, [3, 3])


def test_integer_inputs_have_no_gradient():
    g = torch.trace(lambda x, i: x[i].sum(), torch.ones(3), torch.tensor([0, 2]))
    assert ir.grad(g).output_names == ["output", "grad.x"]
    with pytest.raises(ir.IRError, match="only floating-point"):
        ir.grad(g, wrt=["i"])


def test_gradient_of_a_gradient_graph():
    """d/dx of (d/dx x^3) = 6x: differentiate the combined graph again."""
    g = torch.trace(lambda x: (x ** 3).sum(), torch.tensor([2.0, -1.0]))
    first = ir.grad(g)
    first.set_outputs([first.outputs[1]], ["dx"])
    second = ir.grad(first, grad_output=True)
    x = np.array([2.0, -1.0], np.float32)
    _, d2 = bnp.run(second, x, grad_output=np.ones(2, np.float32))
    np.testing.assert_allclose(d2, 6 * x)


def test_an_op_without_rule_is_a_clear_error():
    from ir.ops.base import REGISTRY, Op
    weird = Op("test_weird_identity", lambda types, a: types[0], elementwise=True)
    REGISTRY.pop("test_weird_identity")  # keep the registry to real ops
    g = ir.Graph("g")
    x = g.add_input("x", (2,), ir.float32)
    y = g.add(weird, (x,), source_="user.py:7")
    s = g.add(ir.ops.reduce.sum_, (y,), ir.ops.reduce.ReduceAttrs((0,)))
    g.set_outputs([s])
    assert weird not in RULES
    with pytest.raises(ir.IRError, match="(?s)test_weird_identity: no gradient rule.*user.py:7"):
        ir.grad(g)


def test_fan_out_sums_gradients():
    g = torch.trace(lambda x: (x * x + x).sum(), torch.tensor([3.0]))
    _, dx = bnp.run(ir.grad(g), np.array([3.0], np.float32))
    assert float(dx[0]) == pytest.approx(7.0)


def test_mixed_dtypes_are_rejected_by_the_ir_with_a_pointer_to_promotion():
    g = ir.Graph("g")
    a = g.add_input("a", (2,), ir.float32)
    b = g.add_input("b", (2,), ir.float64)
    with pytest.raises(ir.IRTypeError, match="promotion"):
        g.add(E.add, (a, b))


#: One small function per op whose rule is ``linear`` (the test below fails on a missing one).
LINEAR_CASES = [
    lambda x: -x, lambda x: x.double(), lambda x: x.sum(0), lambda x: x.reshape(6),
    lambda x: x.permute(1, 0), lambda x: x.expand(2, 2, 3), lambda x: x[1:],
    lambda x: torch.nn.functional.pad(x, (1, -1)), lambda x: x.cumsum(1), lambda x: x.tril(-1),
]


def test_linear_rules_read_no_forward_values():
    """A linear op's gradient is its transpose applied to g: nothing is saved for backward."""
    linear_ops = {op for op, rule in RULES.items() if rule.kind == "linear"}
    seen = set()
    for case in LINEAR_CASES:
        g = torch.trace(lambda x: case(x).sum(), torch.ones(2, 3))
        reads = {}
        ir.append_gradients(g, g.outputs[0], [g.inputs[0]], reads=reads)
        for node, read in reads.items():
            if node.op in linear_ops:
                assert read == set(), f"{node.op.name} reads {read}"
                seen.add(node.op)
    assert seen == linear_ops


def test_every_rule_is_made_by_one_of_the_kinds():
    kinds = {rule.kind for rule in RULES.values()}
    assert all(isinstance(rule, Rule) for rule in RULES.values())
    assert kinds == {"general", "unary", "linear", "piecewise_constant", "not_implemented"}


def test_piecewise_constant_ops_pass_zeros():
    g = torch.trace(lambda x: (torch.floor(x) + torch.sign(x) * x).sum(), torch.tensor([1.5, -2.0]))
    _, dx = bnp.run(ir.grad(g), np.array([1.5, -2.0], np.float32))
    np.testing.assert_array_equal(dx, [1.0, -1.0])


def _prod_grads(m, values, dim, twice):
    x = m.tensor(values, requires_grad=True)
    y = x.prod() if dim is None else x.prod(dim)
    (g,) = m.autograd.grad((y * m.tensor(1.5)).sum(), [x], create_graph=twice)
    if twice:
        g.sum().backward()
        return g.detach().numpy(), x.grad.numpy()
    return g.numpy(), None


@pytest.mark.parametrize("values,dim,twice", [([2.0, 0.0, 3.0], None, True), ([0.0, 0.0, 3.0], None, False),
                                              ([2.0, 5.0, 3.0], None, True), ([[0.0, 2.0], [3.0, 4.0]], -1, True),
                                              ([[0.0, 0.0], [3.0, 0.0]], 0, False)],
                         ids=["one zero", "two zeros", "no zero", "rows", "columns"])
def test_prod_gradient_at_zeros_is_the_product_of_the_others(values, dim, twice):
    """torch's prod_backward (found by the differential fuzzer: prod / x was 0 / 0 at a zero);
    grad of grad too where a slice holds at most one zero."""
    import torch as real
    want, ours = _prod_grads(real, values, dim, twice), _prod_grads(torch, values, dim, twice)
    np.testing.assert_array_equal(ours[0], want[0])
    if twice:
        np.testing.assert_allclose(ours[1], want[1], rtol=1e-6)
    graph = torch.trace(lambda x: (x.prod() if dim is None else x.prod(dim)).sum() * 1.5, torch.tensor(values))
    combined = ir.grad(graph, wrt=[graph.input_names[0]])
    np.testing.assert_array_equal(bnp.run(combined, np.asarray(values, np.float32))[1], want[0])


def _backward_ops(g):
    return [n.op.name for n in g.nodes if n.phase == ir.BACKWARD]


def test_a_unit_step_slices_gradient_is_one_pad_and_a_strided_one_scatters():
    """A pad, not a scatter into zeros (ScatterND on onnxruntime writes an index at a time);
    both equal torch's gradient, zeros where the slice did not reach."""
    x = torch.arange(12.0).reshape(3, 4)
    for fn, pad, want in [(lambda t: t[1:, 1:3], True, [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0]]),
                          (lambda t: t[:, ::2], False, [[1, 0, 1, 0]] * 3),
                          (lambda t: t[2:1], True, [[0] * 4] * 3)]:  # empty
        g = ir.grad(torch.trace(lambda t: fn(t).sum(), x), wrt=["t"])
        ops = _backward_ops(g)
        assert ("pad" in ops, "slice_update" in ops) == (pad, not pad), ops
        assert bnp.run(g, x.numpy())[1].tolist() == want


def test_a_linear_over_a_sequence_has_one_weight_gradient_matmul_and_no_batch_sum():
    """x (B, T, K) @ w (K, N): dw is one (K, B*T) @ (B*T, N) matmul, equal to the batched form."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    g = ir.grad(torch.trace(lambda x, w: (x @ w).sum(), torch.tensor(x), torch.tensor(w)), wrt=["x", "w"])
    assert _backward_ops(g).count("reduce_sum") + _backward_ops(g).count("sum") == 0, _backward_ops(g)
    _, dx, dw = bnp.run(g, x, w)
    np.testing.assert_allclose(dw, np.einsum("btk,btn->kn", x, np.ones((2, 3, 5))), rtol=1e-12)
    np.testing.assert_allclose(dx, np.ones((2, 3, 5)) @ w.T, rtol=1e-12)
