"""backends.compare and backends.testing: agreement reports and finding a wrong lowering.
Every test here runs with onnxruntime at its default optimisation level and with it off."""
import numpy as np
import onnxruntime as ort
import pytest

import backends.ort as bo
import ir
import tracer as torch
from backends import compare
from backends.comparison import narrowings
from backends.onnx.lowerings import LOWERINGS
from backends.testing import assert_backends_agree
from ir.ops import elementwise as E
from tracer import nn


@pytest.fixture(autouse=True, params=["all", "disable"])
def ort_level(request, monkeypatch):
    """onnxruntime's optimisation level for the test, as a user would set it."""
    monkeypatch.setenv(bo.OPT_ENV, request.param)
    return request.param


def test_report_is_a_readable_table():
    g = torch.trace(lambda x: torch.tanh(x) * 2, torch.randn(3, 4))
    report = compare(g, torch.randn(3, 4))
    assert report.ok
    text = str(report)
    assert "max abs err" in text and "output" in text and "yes" in text


def test_a_wrong_lowering_is_caught_and_located(monkeypatch):
    def f(x):
        h = torch.exp(x)
        s = torch.sigmoid(h)  # the node we break
        return (s * 3).sum()

    g = ir.grad(torch.trace(f, torch.randn(5)))
    monkeypatch.setitem(LOWERINGS, E.sigmoid, lambda b, node, xs: b.op("Tanh", xs))
    report = compare(g, torch.randn(5))
    assert not report.ok
    d = report.divergence
    assert d.op == "sigmoid" and d.phase == "forward"
    assert d.source.startswith("tests/backends/test_compare.py:")
    assert "first diverging node" in str(report) and "sigmoid" in str(report)


def test_integer_outputs_must_match_exactly():
    g = torch.trace(lambda x: x.argmax(1), torch.randn(4, 3))
    assert compare(g, torch.randn(4, 3)).outputs[0].atol == 0.0


def test_assert_backends_agree_on_a_module_with_gradients():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    x = torch.randn(4, 3)
    report = assert_backends_agree(torch.trace(model, x), x)
    assert [o.name for o in report.outputs][:2] == ["output", "grad.input"]


def test_assert_backends_agree_raises_with_the_table(monkeypatch):
    monkeypatch.setitem(LOWERINGS, E.exp, lambda b, node, xs: b.op("Sigmoid", xs))
    with pytest.raises(AssertionError, match="first diverging node: %\\d+ exp"):
        x = torch.randn(3)
        assert_backends_agree(torch.trace(lambda x: torch.exp(x).sum(), x), x)


def test_session_is_built_once_per_graph(monkeypatch):
    g = torch.trace(lambda x: x * 2, torch.ones(3))
    built = []
    real = bo.export
    monkeypatch.setattr(bo, "export", lambda *a, **k: built.append(1) or real(*a, **k))
    for _ in range(3):
        np.testing.assert_array_equal(bo.run(g, np.ones(3, np.float32))[0], [2, 2, 2])
    assert len(built) == 1


def test_backends_compare_is_the_function_even_after_importing_the_module():
    import backends
    import backends.comparison  # noqa: F401
    g = torch.trace(lambda x: x + 1, torch.ones(2))
    assert backends.compare(g, torch.ones(2)).ok


def test_sessions_run_at_the_level_asked_for(ort_level, monkeypatch):
    g = torch.trace(lambda x: torch.exp(x) + 1, torch.ones(3))
    level = bo.session_for(g).get_session_options().graph_optimization_level
    assert level == bo.LEVELS[ort_level]
    other = "disable" if ort_level == "all" else "all"
    chosen = bo.session_for(g, optimization=other).get_session_options().graph_optimization_level
    assert chosen == bo.LEVELS[other]  # the argument wins over the environment
    np.testing.assert_allclose(bo.run(g, np.zeros(3, np.float32), optimization=other)[0], [2, 2, 2])
    assert bo.optimization_level(None) == bo.LEVELS[ort_level]
    monkeypatch.delenv(bo.OPT_ENV)
    assert bo.optimization_level() == ort.GraphOptimizationLevel.ORT_ENABLE_ALL  # onnxruntime's default
    monkeypatch.setenv(bo.OPT_ENV, "fast")
    with pytest.raises(ValueError, match="TRACEGRAD_ORT_OPT"):
        bo.optimization_level()


def test_float64_gelu_compares_at_float32_tolerance_and_says_why():
    """onnxruntime has no float64 Erf (the lowering computes it in float32): a float64 gelu
    model agrees at float32's tolerance, and the report names the narrowed node; a float32
    model and the ops before the erf keep their own tolerances."""
    F = torch.nn.functional
    x = torch.tensor(np.linspace(-3, 3, 24).reshape(4, 6), dtype=torch.float64)
    graph = torch.trace(lambda x: (F.gelu(x * 1.5) + x).sum(1), x)
    report = compare(graph)
    assert report.ok, str(report)
    out = report.outputs[0]
    assert out.rtol == 1e-4 and "erf (float64) computed in float32" in out.note
    assert "narrower dtype" in str(report) and "erf (float64)" in str(report)
    narrow = narrowings(graph)
    erf = next(iter(narrow))
    assert erf.op.name == "erf" and all(graph.index(n) >= graph.index(erf) for n in narrow)
    x32 = torch.tensor(np.linspace(-3, 3, 24).reshape(4, 6), dtype=torch.float32)
    report32 = compare(torch.trace(lambda x: F.gelu(x).sum(1), x32))
    assert report32.ok and report32.outputs[0].note == "" and "narrower" not in str(report32)


def test_float64_without_erf_keeps_its_tight_tolerance():
    x = torch.tensor(np.linspace(-3, 3, 24).reshape(4, 6), dtype=torch.float64)
    report = compare(torch.trace(lambda x: (x.tanh() * 2).sum(1), x))
    assert report.ok and report.outputs[0].rtol == 1e-9 and report.outputs[0].note == ""
