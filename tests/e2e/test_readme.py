"""The README's examples, as a user would type them."""
import numpy as np
import pytest

import backends.numpy
import backends.ort
import ir
import tracer as torch
from backends.onnx import export


def test_first_example_and_its_graph(tmp_path):
    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.5, requires_grad=True)
    x, y = torch.tensor([1.4]), torch.tensor([2.1])
    z = torch.add(torch.mul(w, x), b)
    loss = (y - z).pow(2).sum()
    loss.backward()
    assert repr(w.grad) == "tensor(-0.5600)" and repr(b.grad) == "tensor(-0.4000)"

    graph = torch.trace(lambda x, y: (y - (w * x + b)).pow(2).sum(), x, y)
    combined = ir.grad(graph, wrt=["w", "b"])
    assert combined.output_names == ["output", "grad.w", "grad.b"]
    assert "# tests/e2e/test_readme.py:" in str(combined)
    for run in (backends.numpy.run, backends.ort.run):
        got = [float(v) for v in run(combined, x, y)]
        assert got == pytest.approx([0.04, -0.56, -0.4], abs=1e-6)


def test_forces_example_exports(tmp_path):
    def forces(x):
        x = x.detach().requires_grad_()
        energy = (x ** 2).sum() * 0.5 + torch.sin(x).sum()
        (g,) = torch.autograd.grad(energy, x, create_graph=True)
        return -g

    path = tmp_path / "forces.onnx"
    export(torch.trace(forces, torch.randn(3)), path)
    import onnxruntime as ort
    x = np.array([0.1, 1.0, -2.0], np.float32)
    (out,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    np.testing.assert_allclose(out, -(x + np.cos(x)), rtol=1e-5)
