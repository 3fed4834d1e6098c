"""The bench references compute the step they claim to: the hand-written NumPy step, the
hand-built ONNX graph and tracegrad's compiled step give the same losses from the same start."""
import sys
from pathlib import Path

import numpy as np
import pytest

import tracer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
train_step = pytest.importorskip("train_step")
hand_onnx = pytest.importorskip("hand_onnx")
_timing = pytest.importorskip("_timing")


@pytest.mark.parametrize("case", ["xor 2-4-4-1 b200", "mnist 784-32-16-10 b64"])
def test_bench_steps_agree(case):
    sizes, batch, kind = train_step.CASES[case]
    weights = train_step.init_weights(sizes)
    x, y = train_step.data(sizes, batch, kind)
    by_hand = train_step.numpy_step(sizes, kind, weights)
    graph = hand_onnx.hand_step(sizes, batch, kind, weights)
    compiled = tracer.compile(train_step.build(tracer, sizes, kind, weights))
    gx, gy = tracer.tensor(x), tracer.tensor(y)
    for _ in range(6):
        expected = float(by_hand(x, y))
        np.testing.assert_allclose(float(graph(x, y)), expected, rtol=1e-5)
        np.testing.assert_allclose(float(compiled(gx, gy)), expected, rtol=1e-5)


def test_interleaved_timing_reports_every_variant(monkeypatch):
    monkeypatch.setattr(_timing, "QUIET_S", 0.0)
    calls = {"a": 0, "b": 0}

    def count(name):
        calls[name] += 1
    times = _timing.interleaved_us({"a": lambda: count("a"), "b": lambda: count("b")}, rounds=3, block=4, settle=1)
    assert set(times) == {"a", "b"} and all(t > 0 for t in times.values())
    assert calls == {"a": 15, "b": 15}
