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
