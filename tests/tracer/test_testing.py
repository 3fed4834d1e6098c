"""tracer.testing.assert_backends_agree: trace a function or module, then check both backends."""
import pytest

import tracer
from backends.onnx.lowerings import LOWERINGS
from ir.ops import elementwise as E
from tracer import nn
from tracer.testing import assert_backends_agree


def test_a_module_and_its_gradients_agree():
    tracer.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    report = assert_backends_agree(model, tracer.randn(4, 3))
    assert [o.name for o in report.outputs][:3] == ["output", "grad.input", "grad.0.weight"]


def test_a_disagreement_raises_with_the_table(monkeypatch):
    monkeypatch.setitem(LOWERINGS, E.tanh, lambda b, node, xs: b.op("Sigmoid", xs))
    with pytest.raises(AssertionError, match="first diverging node: %\\d+ tanh"):
        assert_backends_agree(lambda x: tracer.tanh(x).sum(), tracer.randn(3))
