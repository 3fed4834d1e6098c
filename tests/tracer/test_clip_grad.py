"""nn.utils.clip_grad_norm_ / clip_grad_value_ / get_total_norm against torch 2.13, eagerly and
inside a compiled training step on both backends."""
from __future__ import annotations

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")
GRADS = [np.random.default_rng(0).standard_normal(s).astype(np.float32) * 3 for s in [(3, 4), (5,), ()]]


def _params(mod):
    params = [mod.nn.Parameter(mod.zeros(g.shape)) for g in GRADS]
    for p, g in zip(params, GRADS):
        p.grad = mod.tensor(g.copy())
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, float("inf"), 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_as_torch(norm_type, max_norm):
    ours, theirs = _params(tracer), _params(torch)
    got = tracer.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, foreach=False)
    np.testing.assert_allclose(float(got), float(want), rtol=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_value_total_norm_and_edge_cases_as_torch():
    ours, theirs = _params(tracer), _params(torch)
    tracer.nn.utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    grads = [tracer.tensor(g) for g in GRADS]
    np.testing.assert_allclose(float(tracer.nn.utils.get_total_norm(grads, 3.0)),
                               float(torch.nn.utils.get_total_norm([torch.tensor(g) for g in GRADS], 3.0)), rtol=1e-6)
    assert float(tracer.nn.utils.clip_grad_norm_([], 1.0)) == 0.0
    single = tracer.nn.Parameter(tracer.ones(2))  # one tensor, and one without a gradient
    assert float(tracer.nn.utils.clip_grad_norm_(single, 1.0)) == 0.0
    bad = _params(tracer)
    bad[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        tracer.nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_clipping_inside_a_compiled_step_as_torch(backend):
    r = np.random.default_rng(1)
    x, y = r.standard_normal((16, 4)).astype(np.float32) * 5, r.standard_normal((16, 1)).astype(np.float32)
    tracer.manual_seed(0)
    ours = tracer.nn.Linear(4, 1)
    twin = torch.nn.Linear(4, 1)
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    opt, topt = tracer.optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(twin.parameters(), lr=0.1)

    def step(a, b):
        opt.zero_grad()
        loss = tracer.nn.functional.mse_loss(ours(a), b)
        loss.backward()
        norm = tracer.nn.utils.clip_grad_norm_(ours.parameters(), 0.25)
        opt.step()
        return loss, norm
    run = tracer.compile(step, backend=backend)
    for _ in range(5):
        loss, norm = run(tracer.tensor(x), tracer.tensor(y))
        topt.zero_grad()
        tloss = torch.nn.functional.mse_loss(twin(torch.tensor(x)), torch.tensor(y))
        tloss.backward()
        tnorm = torch.nn.utils.clip_grad_norm_(twin.parameters(), 0.25)
        topt.step()
        np.testing.assert_allclose([float(loss), float(norm)], [tloss.item(), tnorm.item()], rtol=1e-5)
