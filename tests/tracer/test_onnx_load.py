"""tracer.onnx.load: an ONNX model as an nn.Module whose float initializers are Parameters
named after them and whose forward runs eagerly with autograd, against torch."""
from __future__ import annotations

import numpy as np
import pytest

import tracer
import tracer.onnx
from backends.onnx import OnnxImportError, export
from tracer import nn

torch = pytest.importorskip("torch")


def _pair():
    tracer.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3))
    ref = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 3 * 3, 3))
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, ref


def test_loaded_module_has_named_parameters_and_matches_torch_forward_and_backward(tmp_path):
    ours, ref = _pair()
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6)).astype(np.float32)
    export(tracer.trace(ours, tracer.tensor(x)), tmp_path / "cnn.onnx")
    module = tracer.onnx.load(tmp_path / "cnn.onnx")
    assert set(ref.state_dict()) <= set(module.state_dict())
    assert all(p.requires_grad for p in module.parameters())
    y = module(tracer.tensor(x))
    ty = ref(torch.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    target = np.array([0, 2])
    nn.functional.cross_entropy(y, tracer.tensor(target)).backward()
    torch.nn.functional.cross_entropy(ty, torch.tensor(target)).backward()
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(module.get_parameter(name).grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)


def test_loaded_module_trains_with_an_optimizer(tmp_path):
    ours, _ = _pair()
    x = tracer.randn(4, 2, 6, 6)
    export(tracer.trace(ours, x), tmp_path / "cnn.onnx")
    module = tracer.onnx.load(tmp_path / "cnn.onnx")
    opt = tracer.optim.SGD(module.parameters(), lr=0.1)
    target = tracer.tensor([0, 1, 2, 0])
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(module(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_forward_checks_its_inputs(tmp_path):
    ours, _ = _pair()
    export(tracer.trace(ours, tracer.randn(1, 2, 6, 6)), tmp_path / "cnn.onnx")
    module = tracer.onnx.load(tmp_path / "cnn.onnx")
    with pytest.raises(TypeError, match="expected float32"):
        module(tracer.randn(1, 2, 5, 5))
    with pytest.raises(TypeError, match="needs the inputs"):
        module()
    with pytest.raises(OnnxImportError):
        tracer.onnx.load(b"not a model")
