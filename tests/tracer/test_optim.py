"""Optimizers and schedulers against torch over 20 steps, and their state dicts."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01, maximize=True)),
]


def _train(m, name, kwargs, steps=20, scheduler=False):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    b0 = rng.standard_normal(3).astype(np.float32)
    x = m.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    y = m.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    w = m.nn.Parameter(m.tensor(w0))
    b = m.nn.Parameter(m.tensor(b0))
    opt = getattr(m.optim, name)([{"params": [w]}, {"params": [b], "lr": kwargs["lr"] / 2}], **kwargs)
    sched = m.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5) if scheduler else None
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((x @ w.T + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        losses.append(loss.item())
    return losses, w.detach().numpy(), b.detach().numpy(), opt


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_optimizer_matches_torch(name, kwargs):
    ours = _train(tracer, name, kwargs)
    theirs = _train(torch, name, kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-4, atol=1e-6)


def test_step_lr_matches_torch():
    ours = _train(tracer, "SGD", dict(lr=0.1, momentum=0.9), scheduler=True)
    theirs = _train(torch, "SGD", dict(lr=0.1, momentum=0.9), scheduler=True)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    assert ours[3].param_groups[0]["lr"] == pytest.approx(theirs[3].param_groups[0]["lr"])


def test_optimizer_state_dict_round_trip():
    *_, opt = _train(tracer, "Adam", dict(lr=0.01), steps=3)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert float(sd["state"][0]["step"]) == 3.0
    w = tracer.nn.Parameter(tracer.zeros(3, 4))
    b = tracer.nn.Parameter(tracer.zeros(3))
    fresh = tracer.optim.Adam([{"params": [w]}, {"params": [b]}], lr=0.5)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[1]["lr"] == pytest.approx(0.005)
    np.testing.assert_array_equal(fresh.state[w]["exp_avg"].numpy(), sd["state"][0]["exp_avg"].numpy())


def test_optimizer_argument_errors():
    p = tracer.nn.Parameter(tracer.zeros(2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        tracer.optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        tracer.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        tracer.optim.Adam([], lr=0.1)


def _tiny_steps(m, name, grad, steps=3, compiled=False, **kwargs):
    p = m.nn.Parameter(m.zeros(2))
    opt = getattr(m.optim, name)([p], **kwargs)

    def step(g):
        p.grad = g
        opt.step()
        return p * 1
    run = tracer.compile(step, backend=compiled) if compiled else step
    return np.array([run(m.full((2,), grad)).detach().numpy() for _ in range(steps)])


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("compiled", [False, "numpy", "onnxruntime"])
def test_adam_bias_corrections_are_double_precision(name, compiled):
    """lr=1, grad=1e-3: the first update is -(1 - 1e-5); float32 corrections gave -1.7e-5 off."""
    ours = _tiny_steps(tracer, name, 1e-3, lr=1.0, compiled=compiled)
    theirs = _tiny_steps(torch, name, 1e-3, lr=1.0)
    np.testing.assert_allclose(ours, theirs, rtol=3e-7, atol=0)
    assert abs(ours[0, 0] + 1) == pytest.approx(1e-5, rel=0.02)


@pytest.mark.parametrize("name, kwargs, rtol", [("Adam", dict(lr=3e-3), 1e-6), ("AdamW", dict(lr=3e-3, amsgrad=True), 1e-6),
                                                ("RMSprop", dict(lr=1e-3, centered=True), 2e-5),
                                                ("Adadelta", dict(lr=1.0), 2e-5)])
def test_a_long_run_stays_with_torch(name, kwargs, rtol):
    """600 steps. Measured: Adam's losses stay within 3e-7 of torch's (float32 noise); with
    the bias corrections in float32 they drifted to 3.4e-6, past this tolerance. RMSprop's
    sqrt differs from torch's by an ulp now and then (3e-6)."""
    ours = _train(tracer, name, kwargs, steps=600)
    theirs = _train(torch, name, kwargs, steps=600)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=10 * rtol, atol=1e-7)


def test_addcdiv_and_addcmul_follow_torchs_order_and_dtype():
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(4096).astype(np.float32) for _ in range(3))
    b = np.abs(b) + 0.5
    for fn in ("addcdiv", "addcmul"):
        ours = getattr(tracer, fn)(tracer.tensor(c), tracer.tensor(a), tracer.tensor(b), value=-0.37).numpy()
        theirs = getattr(torch, fn)(torch.tensor(c), torch.tensor(a), torch.tensor(b), value=-0.37).numpy()
        match = (ours == theirs).mean()
        assert match == 1.0 if fn == "addcdiv" else match > 0.6  # torch fuses addcmul into one FMA
    mixed = tracer.addcmul(tracer.ones(2, dtype=tracer.float64), tracer.full((2,), 1 / 3), tracer.full((2,), 1 / 3), value=0.1)
    assert mixed.dtype == tracer.float64
    want = torch.addcmul(torch.ones(2, dtype=torch.float64), torch.full((2,), 1 / 3), torch.full((2,), 1 / 3), value=0.1)
    np.testing.assert_allclose(mixed.numpy(), want.numpy(), rtol=1e-15)


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(differentiable=True)), ("Adam", dict(capturable=True)),
                                          ("Adam", dict(differentiable=True)), ("RMSprop", dict(capturable=True)),
                                          ("Adadelta", dict(differentiable=True)), ("AdamW", dict(fused=True, foreach=True))])
def test_implementation_switches_that_change_the_step_are_refused_not_ignored(name, kwargs):
    w = tracer.nn.Parameter(tracer.ones(2))
    with pytest.raises((NotImplementedError, RuntimeError), match="capturable|differentiable|fused"):
        getattr(tracer.optim, name)([w], lr=0.1, **kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta"])
def test_foreach_gives_the_same_steps_as_torchs_foreach(name):
    ours = _train(tracer, name, dict(lr=0.01, foreach=True))
    theirs = _train(torch, name, dict(lr=0.01, foreach=True))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
