"""Graph passes: dead-code elimination and constant folding keep the meaning."""
import numpy as np

import backends.numpy as bnp
import ir
import tracer as torch
from backends.numpy import run_node
from ir.passes import dce, fold_constants


def test_dce_drops_unused_nodes_and_keeps_results():
    def f(x):
        torch.exp(x) * 3  # computed and never used
        return x + 1
    g = torch.trace(f, torch.ones(3))
    slim = dce(g)
    assert "exp" in g.op_counts() and "exp" not in slim.op_counts()
    ir.lint(slim)
    np.testing.assert_array_equal(bnp.run(slim, np.ones(3, np.float32))[0], [2, 2, 2])


def test_fold_constants_precomputes_parameter_free_subgraphs():
    k = torch.arange(4.0)

    def f(x):
        return x + torch.exp(k) * 2

    g = torch.trace(f, torch.ones(4))
    folded = fold_constants(g, run_node)
    assert "exp" not in folded.op_counts()
    ir.lint(folded)
    x = np.ones(4, np.float32)
    np.testing.assert_allclose(bnp.run(folded, x)[0], bnp.run(g, x)[0])


def test_folding_keeps_random_ops():
    g = torch.trace(lambda x: x + torch.rand(3), torch.ones(3))
    assert "random_uniform" in fold_constants(g, run_node).op_counts()


def test_draws_as_inputs_feeds_what_the_interpreter_draws():
    from backends.numpy import RANDOM_KERNELS
    from ir.passes import draws_as_inputs

    def f(x):
        return torch.nn.functional.dropout(x, 0.5) + torch.rand(3) * x
    g = torch.trace(f, torch.ones(2, 3))
    fed, draws = draws_as_inputs(g)
    assert [n.op.name for n in draws] == [n.op.name for n in g.nodes if n.op.nondeterministic]
    assert fed.input_names == g.input_names + ["random.0", "random.1"]
    assert not any(n.op.nondeterministic for n in fed.nodes)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    (expected,) = bnp.run(g, x, rng=np.random.default_rng(5))
    rng = np.random.default_rng(5)
    (got,) = bnp.run(fed, x, *[RANDOM_KERNELS[n.op](n.attrs, rng) for n in draws])
    np.testing.assert_array_equal(got, expected)
    assert draws_as_inputs(torch.trace(lambda x: x * 2, torch.ones(2)))[1] == []
