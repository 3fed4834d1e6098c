"""compile(...).export and feeds(): the steady-state training step exported without real steps
first, its state inputs' arrays for a plain onnxruntime loop, and a warning when the graph
exported is that of an odd final batch."""
import copy
import warnings

import numpy as np
import onnxruntime as ort
import pytest

import tracer as torch
from tracer import nn

OPTIMIZERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
    "adamw_amsgrad": lambda ps: torch.optim.AdamW(ps, lr=0.01, amsgrad=True),
    "rmsprop_centered": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "adadelta": lambda ps: torch.optim.Adadelta(ps, lr=1.0, weight_decay=0.01),
}


def _setup(make_opt):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, opt, step


def _batches(n=6, size=16):
    rng = np.random.default_rng(3)
    return [(rng.standard_normal((size, 3)).astype(np.float32), rng.standard_normal((size, 1)).astype(np.float32))
            for _ in range(n)]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_export_with_example_needs_no_real_steps_and_trains_on_plain_onnxruntime(name, tmp_path):
    model, opt, step = _setup(OPTIMIZERS[name])
    twin = copy.deepcopy(model)
    twin_opt = OPTIMIZERS[name](twin.parameters())
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    compiled = torch.compile(step)
    batches = _batches()
    x0, y0 = map(torch.tensor, batches[0])
    compiled.export(tmp_path / "step.onnx", example=(x0, y0))
    # nothing changed: weights, grads, optimizer state
    assert all(np.array_equal(before[k], v.numpy()) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters()) and len(opt.state) == 0
    feeds = compiled.feeds()
    assert all(np.array_equal(feeds[k], v) for k, v in before.items())  # from scratch, not the dry run's
    session = ort.InferenceSession(str(tmp_path / "step.onnx"))
    assert {i.name for i in session.get_inputs()} == set(feeds) | {"x", "y"}
    outputs = [o.name for o in session.get_outputs()]
    for x, y in batches:  # plain onnxruntime from scratch vs eager torch-style training
        result = dict(zip(outputs, session.run(None, {"x": x, "y": y, **feeds})))
        for k in feeds:
            if f"updated.{k}" in result:
                feeds[k] = result[f"updated.{k}"]
        twin_opt.zero_grad()
        loss = nn.functional.mse_loss(twin(torch.tensor(x)), torch.tensor(y))
        loss.backward()
        twin_opt.step()
        np.testing.assert_allclose(result[outputs[0]], loss.item(), rtol=2e-5)
    for k, v in twin.state_dict().items():
        np.testing.assert_allclose(feeds[k], v.numpy(), rtol=2e-5, atol=1e-6)


def test_feeds_after_real_steps_are_the_live_state():
    model, opt, step = _setup(OPTIMIZERS["adam"])
    compiled = torch.compile(step)
    for x, y in _batches(3):
        compiled(torch.tensor(x), torch.tensor(y))
    feeds = compiled.feeds()
    for k, v in model.state_dict().items():
        assert np.array_equal(feeds[k], v.numpy())
    states = [s["exp_avg"].numpy() for s in opt.state.values()]
    assert any(np.array_equal(f, s) for f in feeds.values() for s in states)
    assert feeds["opt.lr"] == np.float32(0.01)
    feeds[next(iter(model.state_dict()))][...] = 7  # copies: the model is untouched
    assert not (next(iter(model.parameters())).detach().numpy() == 7).all()


def test_feeds_refuse_sgd_dampening_without_a_real_step():
    model, opt, step = _setup(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1))
    compiled = torch.compile(step)
    x, y = map(torch.tensor, _batches(1)[0])
    compiled.export(None, example=(x, y))
    with pytest.raises(ValueError, match="dampening"):
        compiled.feeds()


def test_exporting_after_a_final_partial_batch_warns_and_example_picks_the_full_one(tmp_path):
    model, opt, step = _setup(OPTIMIZERS["sgd"])
    compiled = torch.compile(step)
    for x, y in _batches(5):
        compiled(torch.tensor(x), torch.tensor(y))
    x, y = _batches(1, size=3)[0]
    compiled(torch.tensor(x), torch.tensor(y))
    with pytest.warns(UserWarning, match=r"partial batch.*float32\[16, 3\]"):
        compiled.export(tmp_path / "a.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model_proto = compiled.export(tmp_path / "b.onnx", example=tuple(map(torch.tensor, _batches(1)[0])))
    dims = [d.dim_value for d in model_proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [16, 3]


def test_export_before_any_call_says_what_to_do():
    _, _, step = _setup(OPTIMIZERS["sgd"])
    with pytest.raises(RuntimeError, match="example="):
        torch.compile(step).export("never.onnx")
