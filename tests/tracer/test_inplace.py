"""In-place ops and indexed assignment: eager mutation, pure graphs, torch's values."""
import numpy as np
import pytest

import backends.numpy as bnp
import tracer
from backends import compare

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("assign", [
    lambda m, t: t.__setitem__(1, 5.0),
    lambda m, t: t.__setitem__((slice(None), 2), m.tensor([7.0, 8.0, 9.0])),
    lambda m, t: t.__setitem__((slice(0, 3, 2), slice(1, None)), -1.0),
    lambda m, t: t.__setitem__(t > 0.5, 0.0),
    lambda m, t: t.__setitem__(m.tensor([2, 0]), m.tensor([1.0, 2.0, 3.0, 4.0])),
    lambda m, t: t.__setitem__((m.tensor([0, 2]), m.tensor([1, 3])), 9.0),
    lambda m, t: t.add_(1).mul_(2),
    lambda m, t: t.clamp_(0.2, 0.6),
    lambda m, t: t.zero_(),
    lambda m, t: t.fill_(3),
    lambda m, t: t.copy_(m.ones(4)),
    lambda m, t: t.masked_fill_(t < 0.3, -1.0),
])
def test_in_place_values_match_torch(assign):
    data = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    ours, theirs = tracer.tensor(data), torch.tensor(data)
    assign(tracer, ours)
    assign(torch, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    assert ours._version >= 1


def test_indexed_assignment_is_differentiable():
    def run(m):
        w = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        v = m.tensor([5.0, 6.0], requires_grad=True)
        h = w * 2
        h[0] = v * 3
        (h * m.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        return w.grad.numpy(), v.grad.numpy()
    for a, b in zip(run(tracer), run(torch)):
        np.testing.assert_allclose(a, b)


def test_traced_mutation_is_a_new_value_and_the_graph_stays_pure():
    def f(x):
        y = x * 1
        y[1:3] = 0.0
        y.add_(2)
        return y

    x = tracer.arange(4.0)
    g = tracer.trace(f, x)
    assert "slice_update" in g.op_counts()
    np.testing.assert_array_equal(bnp.run(g, np.arange(4, dtype=np.float32))[0], [2, 2, 2, 5])
    assert compare(g, x).ok
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_mutating_an_input_inside_a_trace_is_visible_and_recorded():
    state = tracer.zeros(2)

    def f(x):
        state.add_(x)
        return state * 1

    f_graph = tracer.trace(f, tracer.ones(2))
    assert state.tolist() == [1.0, 1.0]  # the trace really ran, as torch.jit.trace does
    assert f_graph.outputs


def test_traced_mutation_of_an_input_is_an_updated_output():
    w = tracer.ones(3, requires_grad=True)

    def step(x):
        with tracer.no_grad():
            w.sub_(x * 0.5)
        return (w * 2).sum()

    g = tracer.trace(step, tracer.ones(3))
    assert g.output_names == ["output", "updated.w"]
    out, updated = bnp.run(g, np.array([1.0, 2.0, 3.0], np.float32), np.ones(3, np.float32))
    np.testing.assert_allclose(updated, [0.5, 0.0, -0.5])
    assert float(out) == 0.0


def test_fill_then_writes_through_data_and_views_as_torch():
    """fill_/zeros_ used to leave the tensor holding a read-only broadcast of one element, so a
    later ``p.data.add_`` (the hand-written SGD of pytorch/examples) or an index write failed."""
    bias = tracer.nn.Linear(3, 4).bias
    tracer.nn.init.zeros_(bias)
    bias.data.add_(tracer.ones(4), alpha=-0.5)
    assert bias.detach().numpy().tolist() == [-0.5] * 4
    x = tracer.empty(2, 3).fill_(2.0)
    x[1, 1] = 5.0
    x.view(-1)[0] = 7.0
    assert x.numpy().tolist() == [[7.0, 2.0, 2.0], [2.0, 5.0, 2.0]]


@pytest.mark.parametrize("pattern", ["scaled", "shifted", "addmm_beta", "squared"])
def test_in_place_after_use_raises_exactly_when_torch_saved_the_value(pattern):
    """A backward rule's branch for an input that needs no gradient (the constant of h * 0.5)
    saves nothing, as in torch: changing h in place afterwards is fine; h * h saved h."""
    torch = pytest.importorskip("torch")

    def run(m):
        w = m.ones(2, 2, requires_grad=True)
        h = w * 1
        y = {"scaled": lambda: h * 0.5, "shifted": lambda: h + 3.0, "squared": lambda: h * h,
             "addmm_beta": lambda: m.addmm(h, m.ones(2, 2), m.ones(2, 2), beta=2.0)}[pattern]()
        h.add_(1)
        try:
            y.sum().backward()
        except RuntimeError as error:
            return "modified by an inplace operation" in str(error)
        return w.grad.tolist()
    assert run(tracer) == run(torch)
