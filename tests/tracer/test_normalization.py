"""BatchNorm, InstanceNorm, GroupNorm and LayerNorm against torch: outputs, gradients, running statistics, reprs and
state dicts step by step; torch's errors; BatchNorm inside a compiled training step, where the
running statistics are state the step updates (NumPy and onnxruntime)."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

BATCHES = [np.random.default_rng(i).standard_normal((4, 3, 5, 5)).astype(np.float32) * (i + 1) for i in range(4)]


def _run_bn(m, make, batches, train_steps=3):
    bn = make(m.nn)
    seen = []
    for x in batches[:train_steps]:
        xt = m.tensor(x, requires_grad=True)
        y = bn(xt)
        (y * y * m.arange(float(x.shape[-1]))).sum().backward()
        grads = [p.grad.numpy().copy() for p in bn.parameters()]
        seen.append([y.detach().numpy(), xt.grad.numpy()] + grads)
        bn.zero_grad()
    bn.eval()
    seen.append([bn(m.tensor(batches[-1])).detach().numpy()])
    state = {k: v.numpy() for k, v in bn.state_dict().items()}
    return seen, state, repr(bn)


MAKERS = {
    "BatchNorm2d": lambda nn: nn.BatchNorm2d(3),
    "momentum None": lambda nn: nn.BatchNorm2d(3, momentum=None),
    "no running stats": lambda nn: nn.BatchNorm2d(3, track_running_stats=False),
    "not affine": lambda nn: nn.BatchNorm2d(3, affine=False, momentum=0.3, eps=1e-3),
    "no bias": lambda nn: nn.BatchNorm2d(3, bias=False),
    "InstanceNorm2d": lambda nn: nn.InstanceNorm2d(3),
    "InstanceNorm2d running stats": lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True,
                                                                  momentum=0.2),
    "InstanceNorm2d momentum None": lambda nn: nn.InstanceNorm2d(3, track_running_stats=True, momentum=None),
    "GroupNorm": lambda nn: nn.GroupNorm(3, 3, eps=1e-3),
    "GroupNorm one group no bias": lambda nn: nn.GroupNorm(1, 3, bias=False),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_batch_norm_trains_and_evaluates_as_torch(name):
    ours, theirs = _run_bn(tracer, MAKERS[name], BATCHES), _run_bn(torch, MAKERS[name], BATCHES)
    assert ours[2] == theirs[2]
    assert list(ours[1]) == list(theirs[1])
    for k in theirs[1]:
        np.testing.assert_allclose(ours[1][k], theirs[1][k], rtol=1e-5, atol=1e-6, err_msg=k)
    for step, (a, b) in enumerate(zip(ours[0], theirs[0])):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-4, err_msg=f"step {step}")


@pytest.mark.parametrize("shape", [(6, 3), (6, 3, 4)])
def test_batch_norm_1d_takes_2d_and_3d_inputs(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    outs = []
    for m in (torch, tracer):
        bn = m.nn.BatchNorm1d(3).double()
        x = m.tensor(a, requires_grad=True)
        bn(x).pow(3).sum().backward()
        outs.append((bn(m.tensor(a)).detach().numpy(), x.grad.numpy(), bn.running_var.numpy()))
    for x, y in zip(*outs):
        np.testing.assert_allclose(x, y, rtol=1e-10)


@pytest.mark.parametrize("call", [
    lambda m: m.nn.BatchNorm1d(3)(m.ones(1, 3)),                 # one value per channel in training
    lambda m: m.nn.BatchNorm2d(3)(m.ones(2, 3, 4)),              # wrong rank
    lambda m: m.nn.functional.batch_norm(m.ones(2, 3), m.zeros(4), m.ones(4)),
    lambda m: m.nn.functional.layer_norm(m.ones(2, 3), (4,)),
])
def test_misuse_raises_torchs_exception_type(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(tracer)


@pytest.mark.parametrize("shape, normalized", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((2, 0, 3), 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_equals_torchs(shape, normalized, affine):
    a = np.random.default_rng(1).standard_normal(shape)
    outs = []
    for m in (torch, tracer):
        ln = m.nn.LayerNorm(normalized, elementwise_affine=affine).double()
        x = m.tensor(a, requires_grad=True)
        y = ln(x)
        (y * y * y).sum().backward()
        outs.append([y.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in ln.parameters()] + [repr(ln)])
    assert outs[0][-1] == outs[1][-1]
    for x, y in zip(outs[0][:-1], outs[1][:-1]):
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_batch_norm_in_a_compiled_training_step_updates_its_running_statistics(backend):
    tracer.manual_seed(0)
    model = tracer.nn.Sequential(tracer.nn.Conv2d(3, 4, 3), tracer.nn.BatchNorm2d(4), tracer.nn.ReLU(),
                                 tracer.nn.Flatten(), tracer.nn.Linear(4 * 3 * 3, 2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(4 * 3 * 3, 2))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    opt = tracer.optim.SGD(model.parameters(), lr=0.05)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    compiled = tracer.compile(step, backend=backend)
    for x in BATCHES * 2:
        loss = compiled(tracer.tensor(x))
        topt.zero_grad()
        tloss = theirs(torch.tensor(x)).pow(2).mean()
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-4)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key].numpy(), value.numpy(), rtol=1e-4, atol=1e-5, err_msg=key)
    assert int(model[1].num_batches_tracked) == 2 * len(BATCHES)
