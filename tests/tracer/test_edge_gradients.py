"""Values and gradients at the points where a naive composition goes wrong (a subgradient of
0 at a kink, 0 * inf from a branch where() drops, inf - inf in a stabiliser), against torch."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

INF = float("inf")


def _softplus(m):
    x = m.tensor([0.0, -3.0, 2.0, 30.0, -120.0], requires_grad=True)
    y = m.nn.functional.softplus(x)
    y.sum().backward()
    return y, x.grad


def _softplus_beta(m):
    x = m.tensor([0.0, -3.0, 2.0, 30.0], requires_grad=True)
    y = m.nn.functional.softplus(x, beta=2.0, threshold=5.0)
    y.sum().backward()
    return y, x.grad


def _bce_pos_weight_at_zero(m):
    """A zero-initialised layer: logits exactly 0 (torch: bias.grad = -1.5)."""
    lin = m.nn.Linear(3, 1)
    with m.no_grad():
        lin.weight.zero_()
        lin.bias.zero_()
    loss = m.nn.BCEWithLogitsLoss(pos_weight=m.tensor([2.0]))(lin(m.ones(4, 3)), m.ones(4, 1))
    loss.backward()
    return loss, lin.bias.grad, lin.weight.grad


def _elu_large(m):
    x = m.tensor([100.0, -1.0, 0.5, 0.0], requires_grad=True)
    y = m.nn.functional.elu(x)
    y.sum().backward()
    return y, x.grad


def _logsumexp_infinite_rows(m):
    return (m.logsumexp(m.tensor([[1.0, INF], [-INF, -INF], [1.0, 2.0]]), 1),)


def _std_of_constant_rows(m):
    x = m.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], requires_grad=True)
    y = x.std(1)
    y.sum().backward()
    return y, x.grad


def _norm_of_zero_rows(m):
    x = m.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    y = x.norm(dim=1)
    y.sum().backward()
    return y, x.grad


def _normalize_zero_rows(m):
    x = m.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    y = m.nn.functional.normalize(x, dim=1)
    (y * m.tensor([[1.0, 2.0], [3.0, -1.0]])).sum().backward()
    return y, x.grad


CASES = [_softplus, _softplus_beta, _bce_pos_weight_at_zero, _elu_large, _logsumexp_infinite_rows,
         _std_of_constant_rows, _norm_of_zero_rows, _normalize_zero_rows]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.strip("_") for c in CASES])
def test_matches_torch_at_the_edge(case):
    for ours, theirs in zip(case(tracer), case(torch)):
        ours, theirs = ours.detach().numpy(), theirs.detach().numpy()
        assert ours.shape == theirs.shape
        assert not np.isnan(ours).any()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", [_softplus, _elu_large, _std_of_constant_rows], ids=["softplus", "elu", "std"])
def test_the_compiled_graph_agrees(case):
    """The same fixes hold in a traced graph on both backends (the compositions are graph ops)."""
    x0 = {_softplus: [0.0, -3.0, 2.0], _elu_large: [100.0, -1.0, 0.0], _std_of_constant_rows: [1.0, 1.0, 1.0]}[case]

    def fn(x):
        f = {_softplus: tracer.nn.functional.softplus, _elu_large: tracer.nn.functional.elu,
             _std_of_constant_rows: lambda v: v.std(0)}[case]
        return f(x).sum()
    graph = tracer.trace(fn, tracer.tensor(x0))
    from backends.testing import assert_backends_agree
    report = assert_backends_agree(graph)
    assert report.ok
