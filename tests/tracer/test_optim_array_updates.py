"""SGD, Adam and AdamW's eager steps on arrays (tracer/optim/array_updates.py) give the same
bits as their tensor-op path (``foreach=False``) and torch's numbers, in float32 and float64,
with every option; and fall back to the tensor path where arrays cannot serve."""
import numpy as np
import pytest

import tracer

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1.0)),
    ("SGD", dict(lr=0.1, weight_decay=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), eps=1e-6, weight_decay=0.1)),  # lerp's other branch
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.9, 0.0))),  # addcmul's value of 1
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]
IDS = [f"{n}-{'-'.join(k)}" for n, k in CASES]


def _train(m, name, kwargs, dtype, steps=12):
    """Two param groups (the second at half the rate), a quadratic loss; the losses, the final
    parameters and the optimizer's state as arrays."""
    rng = np.random.default_rng(0)
    w = m.nn.Parameter(m.tensor(rng.standard_normal((3, 4)).astype(dtype)))
    b = m.nn.Parameter(m.tensor(rng.standard_normal(3).astype(dtype)))
    x = m.tensor(rng.standard_normal((8, 4)).astype(dtype))
    y = m.tensor(rng.standard_normal((8, 3)).astype(dtype))
    opt = getattr(m.optim, name)([{"params": [w]}, {"params": [b], "lr": kwargs["lr"] / 2}], **kwargs)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((x @ w.T + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    state = [{k: np.asarray(v.detach().numpy()) for k, v in opt.state[p].items()} for p in (w, b)]
    return losses, [w.detach().numpy().copy(), b.detach().numpy().copy()], state


def _same_bits(a, b):
    losses_a, params_a, state_a = a
    losses_b, params_b, state_b = b
    assert losses_a == losses_b
    for pa, pb in zip(params_a, params_b):
        assert pa.dtype == pb.dtype and np.array_equal(pa, pb)
    for sa, sb in zip(state_a, state_b):
        assert sa.keys() == sb.keys()
        for k in sa:
            assert np.array_equal(sa[k], sb[k]), k


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_array_step_gives_the_tensor_paths_bits(name, kwargs, dtype):
    _same_bits(_train(tracer, name, kwargs, dtype), _train(tracer, name, dict(kwargs, foreach=False), dtype))


def _steps_from_given_gradients(m, name, kwargs, dtype, steps=12):
    """The optimizer alone: the same gradients each step (torch's loss would differ from ours
    in the last bit through BLAS's summation order), the parameters and state after."""
    rng = np.random.default_rng(1)
    params = [m.nn.Parameter(m.tensor(rng.standard_normal(shape).astype(dtype))) for shape in ((3, 4), (3,))]
    opt = getattr(m.optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": kwargs["lr"] / 2}], **kwargs)
    for _ in range(steps):
        for p in params:
            p.grad = m.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype))
        opt.step()
    state = [{k: np.asarray(v.detach().numpy()) for k, v in opt.state[p].items()} for p in params]
    return None, [p.detach().numpy().copy() for p in params], state


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_array_step_gives_torchs_numbers(name, kwargs, dtype):
    """To rounding: torch's CPU kernels fuse ``p + alpha * g`` into one FMA where ours round twice."""
    torch = pytest.importorskip("torch")
    _, ours, ours_state = _steps_from_given_gradients(tracer, name, kwargs, dtype)
    _, theirs, their_state = _steps_from_given_gradients(torch, name, dict(kwargs, foreach=False), dtype)
    rtol, atol = (2e-6, 1e-7) if dtype == np.float32 else (1e-14, 1e-15)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for sa, sb in zip(ours_state, their_state):
        assert sa.keys() == sb.keys()
        for k in sa:
            np.testing.assert_allclose(sa[k], sb[k], rtol=rtol, atol=atol, err_msg=k)


def test_the_array_step_writes_through_shared_storage_and_bumps_versions():
    """A parameter made from a NumPy array keeps sharing it, as the tensor path does."""
    arr = np.ones((2, 2), np.float32)
    p = tracer.nn.Parameter(tracer.from_numpy(arr))
    opt = tracer.optim.Adam([p], lr=0.5)
    (p * p).sum().backward()
    version = p._version
    opt.step()
    assert np.array_equal(arr, p.detach().numpy()) and not np.array_equal(arr, np.ones((2, 2)))
    assert p._version > version and p.is_leaf and p.requires_grad


def test_a_view_of_a_parameter_sees_the_array_step():
    p = tracer.nn.Parameter(tracer.ones(4))
    view = p.detach()[1:3]
    opt = tracer.optim.SGD([p], lr=0.25)
    (p * 2).sum().backward()
    opt.step()
    assert view.tolist() == [0.5, 0.5]


def test_a_tensor_learning_rate_takes_the_tensor_path():
    """torch accepts a tensor lr; the arrays path needs numbers, so the tensor ops run (same numbers)."""
    def run(lr):
        p = tracer.nn.Parameter(tracer.tensor([1.0, -2.0]))
        opt = tracer.optim.Adam([p], lr=lr)
        for _ in range(3):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
        return p.detach().numpy()
    assert np.array_equal(run(tracer.tensor(0.1)), run(0.1))


def test_a_state_of_another_dtype_takes_the_tensor_path():
    """A loaded state dict in float64 for float32 parameters: the tensor path promotes as torch does."""
    p = tracer.nn.Parameter(tracer.tensor([1.0, -2.0]))
    q = tracer.nn.Parameter(tracer.tensor([1.0, -2.0]))
    opt = tracer.optim.SGD([p], lr=0.1, momentum=0.9)
    ref = tracer.optim.SGD([q], lr=0.1, momentum=0.9, foreach=False)
    for t, o in ((p, opt), (q, ref)):
        for _ in range(2):
            (t ** 2).sum().backward()
            o.step()
            o.state[t]["momentum_buffer"] = tracer.tensor([0.5, 0.5], dtype=tracer.float64)
    assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    assert opt.state[p]["momentum_buffer"].dtype == ref.state[q]["momentum_buffer"].dtype


def test_a_traced_step_still_records_its_update():
    """Inside compile the step is graph nodes (arrays would bake one update into the graph):
    compiled steps follow the eager ones, whose arrays path the graph does not see."""
    def losses(compiled: bool):
        tracer.manual_seed(0)
        model = tracer.nn.Linear(3, 1)
        opt = tracer.optim.Adam(model.parameters(), lr=0.01)
        x = tracer.ones(2, 3)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            return loss
        run = tracer.compile(step) if compiled else step
        return [run(x).item() for _ in range(5)]
    eager = losses(False)
    assert len(set(eager)) == 5
    np.testing.assert_allclose(losses(True), eager, rtol=1e-6)
