"""The NumPy interpreter: feeds, freeing, type checks, error wrapping; and agreement with
onnxruntime, at its default optimisation level and with it off."""
import numpy as np
import pytest

import backends.numpy as bnp
import backends.ort as bo
import ir
import tracer as torch
from backends.numpy import KERNELS, KernelError, Program, evaluate
from backends.numpy import program as prog
from ir.ops import elementwise as E
from ir.ops import reduce as R


def test_run_feeds_by_position_name_or_traced_default():
    w = torch.tensor([2.0], requires_grad=True)
    g = torch.trace(lambda x: x * w, torch.ones(1))
    x = np.array([3.0], np.float32)
    assert bnp.run(g, x)[0][0] == 6.0
    assert bnp.run(g, x, np.array([5.0], np.float32))[0][0] == 15.0
    assert bnp.run(g, x=x, w=np.array([4.0], np.float32))[0][0] == 12.0


def test_feed_with_wrong_dtype_or_shape_is_an_error():
    g = torch.trace(lambda x: x + 1, torch.ones(2))
    with pytest.raises(KernelError, match="expected float32\\[2\\], got int64"):
        bnp.run(g, np.ones(2, np.int64))
    with pytest.raises(KernelError, match="expected shape \\[2\\]"):
        bnp.run(g, np.ones(3, np.float32))


def test_values_are_freed_after_their_last_use():
    g = torch.trace(lambda x: torch.exp(x) * 2 + 1, torch.ones(2))
    env = evaluate(g.nodes, {g.inputs[0]: np.ones(2, np.float32)}, keep=g.outputs)
    assert set(env) == set(g.outputs)


def test_kernel_returning_the_wrong_dtype_is_caught(monkeypatch):
    g = torch.trace(lambda x: torch.exp(x), torch.ones(2))
    monkeypatch.setitem(KERNELS, E.exp, lambda a, x: np.exp(x).astype(np.float64))
    with pytest.raises(KernelError, match="kernel returned float64\\[2\\] but the node declares float32\\[2\\]"):
        bnp.run(g, np.ones(2, np.float32))


def test_kernel_errors_name_the_op_and_source_line():
    g = torch.trace(lambda x, i: x[i], torch.ones(3), torch.tensor([0]))
    with pytest.raises(KernelError, match="(?s)take: index 7 is out of bounds.*test_interpreter.py"):
        bnp.run(g, np.ones(3, np.float32), np.array([7]))


def test_random_ops_draw_from_the_given_generator():
    g = torch.trace(lambda x: x + torch.rand(4), torch.zeros(4))
    a = bnp.run(g, np.zeros(4, np.float32), rng=np.random.default_rng(5))[0]
    b = bnp.run(g, np.zeros(4, np.float32), rng=np.random.default_rng(5))[0]
    c = bnp.run(g, np.zeros(4, np.float32), rng=np.random.default_rng(6))[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_program_runs_like_the_interpreter_and_checks_its_first_run(monkeypatch):
    w = torch.tensor([2.0, -1.0], requires_grad=True)
    g = ir.grad(torch.trace(lambda x: (torch.tanh(x * w) ** 2).sum(), torch.ones(2)))
    x = np.array([0.3, -0.7], np.float32)
    program = Program(g)
    first = program.run(x, w.detach().numpy())
    again = program.run(x, w.detach().numpy())
    for a, b, c in zip(first, again, bnp.run(g, x)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)
    fresh = Program(g)
    monkeypatch.setitem(KERNELS, E.tanh, lambda a, x: np.tanh(x).astype(np.float64))
    with pytest.raises(KernelError, match="tanh: kernel returned float64"):
        fresh.run(x, w.detach().numpy())


def test_program_settles_constants_shapes_and_detach_at_build_and_agrees_with_the_interpreter():
    """mean() divides by numel (a shape, known when the Program is built) and the seed of the
    gradient is a constant: neither is a kernel call per run; detach reads its input's slot."""
    w = torch.tensor([2.0, -1.0, 0.5], requires_grad=True)
    g = ir.grad(torch.trace(lambda x: ((x * w).detach() + x * w).mean(), torch.ones(3)))
    program = Program(g)
    ran = {program.graph.nodes[step[0]].op for step in program.steps}
    assert R.numel not in ran and E.detach not in ran and len(program.steps) < len(g.nodes) - len(g.inputs)
    x = np.array([0.3, -0.7, 2.0], np.float32)
    for _ in range(3):  # the first run is the checked one; later ones take the settled path
        for a, b in zip(program.run(x, w.detach().numpy()), bnp.run(g, x)):
            np.testing.assert_array_equal(a, b)


def test_program_drops_large_values_after_their_last_use(monkeypatch):
    g = torch.trace(lambda x: torch.exp(torch.exp(x)).sum(), torch.ones(100))
    monkeypatch.setattr(prog, "FREE_ABOVE", 50)
    big = Program(g)
    assert any(step[-1] for step in big.steps)
    monkeypatch.setattr(prog, "FREE_ABOVE", 1000)
    assert not any(step[-1] for step in Program(g).steps)
    x = np.zeros(100, np.float32)
    big.run(x)
    assert big.run(x)[0] == pytest.approx(100 * np.e)


def test_program_random_draws_use_the_run_generator():
    g = torch.trace(lambda x: x + torch.rand(4), torch.zeros(4))
    program = Program(g)
    program.run(np.zeros(4, np.float32), rng=np.random.default_rng(1))
    a = program.run(np.zeros(4, np.float32), rng=np.random.default_rng(5))[0]
    b = program.run(np.zeros(4, np.float32), rng=np.random.default_rng(5))[0]
    np.testing.assert_array_equal(a, b)
    assert program.run(np.zeros(4, np.float32))[0].shape == (4,)


@pytest.mark.parametrize("level", ["all", "disable"])
def test_interpreter_program_and_onnxruntime_agree_on_a_training_graph(level, monkeypatch):
    monkeypatch.setenv(bo.OPT_ENV, level)
    torch.manual_seed(0)
    w = torch.randn(4, 3, requires_grad=True)
    g = ir.grad(torch.trace(lambda x: (torch.tanh(x @ w.t()) ** 2).mean(), torch.ones(5, 3)))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    program = Program(g)
    program.run(x, w.detach().numpy())
    expected = bnp.run(g, x)
    for a, b, c in zip(expected, program.run(x, w.detach().numpy()), bo.run(g, x)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(c, a, rtol=1e-5, atol=1e-6)
