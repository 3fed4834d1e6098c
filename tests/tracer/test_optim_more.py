"""The rest of torch.optim (Adagrad, Adamax, NAdam, RAdam, Rprop, ASGD, LBFGS) and of
torch.optim.lr_scheduler against torch 2.13: the same numbers step by step from the same
initial weights, the same state and state_dict keys, the same validation errors; traced and
compiled steps equal to eager ones."""
import math
import warnings

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

CASES = [
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-8)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),  # rho_t > 5 from step 6: both branches
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Rprop", dict(lr=0.05)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.6, t0=5, weight_decay=0.01)),  # averaging starts at step 6
    ("ASGD", dict(lr=0.05, t0=3, maximize=True)),
]
IDS = [f"{n}-{'-'.join(k)}" for n, k in CASES]


def _problem(m, dtype, seed=0):
    """A 2-layer tanh MLP regression with two param groups (the second at half the lr)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    arrays = [rng.standard_normal(s).astype(dt) for s in ((5, 3), (5,), (2, 5), (2,))]
    x = m.tensor(rng.standard_normal((16, 3)).astype(dt))
    y = m.tensor(rng.standard_normal((16, 2)).astype(dt))
    params = [m.nn.Parameter(m.tensor(a)) for a in arrays]

    def loss_fn():
        return ((m.tanh(x @ params[0].T + params[1]) @ params[2].T + params[3] - y) ** 2).mean()
    return params, loss_fn


def _train(m, name, kwargs, steps=25, dtype="float64"):
    """Per step: the loss, every parameter and every state tensor (as numpy)."""
    params, loss_fn = _problem(m, dtype)
    opt = getattr(m.optim, name)([{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] / 2}], **kwargs)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        state = {(i, k): np.array(v.detach().numpy(), dtype=np.float64)
                 for i, p in enumerate(params) for k, v in opt.state[p].items()}
        history.append((loss.item(), [p.detach().numpy().copy() for p in params], state))
    return history, opt, params


def _assert_same_history(ours, theirs, rtol, atol, state_rtol=None, state_atol=None):
    for step, ((lo, po, so), (lt, pt, st)) in enumerate(zip(ours, theirs)):
        assert lo == pytest.approx(lt, rel=rtol, abs=atol), f"loss at step {step}"
        for a, b in zip(po, pt):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"param at step {step}")
        assert so.keys() == st.keys()
        for key in so:
            np.testing.assert_allclose(so[key], st[key], rtol=state_rtol or rtol, atol=state_atol or atol,
                                       err_msg=f"state {key} at step {step}")


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_float64_steps_state_and_groups_match_torch(name, kwargs):
    ours, opt, _ = _train(tracer, name, kwargs)
    theirs, topt, _ = _train(torch, name, kwargs)
    _assert_same_history(ours, theirs, rtol=1e-10, atol=1e-12)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert list(sd["param_groups"][0]) == list(tsd["param_groups"][0])  # torch's keys in torch's order
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert {k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in g.items()} == \
               {k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in tg.items()}
    assert sd["state"].keys() == tsd["state"].keys()
    for i in sd["state"]:
        assert list(sd["state"][i]) == list(tsd["state"][i])
        for k, v in sd["state"][i].items():
            assert v.dtype.name == str(tsd["state"][i][k].dtype).removeprefix("torch."), (i, k)  # float32 step, ...


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_float32_steps_match_torch(name, kwargs):
    """float32: elementwise results agree within an ulp or so (torch fuses addcmul into an FMA,
    see test_optim.py, and reduces sums in another order); over 25 steps of a unit-scale problem
    the measured worst parameter difference is 7e-7, under 1e-5 relative + 2e-6 absolute.
    Rprop's ``prev`` is the raw gradient, whose float32 cancellation error (measured 2.8e-6 on
    0.07, with maximize) is larger than the parameters': state gets 1e-4 relative + 1e-5."""
    ours, *_ = _train(tracer, name, kwargs, dtype="float32")
    theirs, *_ = _train(torch, name, kwargs, dtype="float32")
    _assert_same_history(ours, theirs, rtol=1e-5, atol=2e-6, state_rtol=1e-4, state_atol=1e-5)


@pytest.mark.parametrize("name, kwargs", [c for c in CASES if c[0] != "ASGD"][::2],
                         ids=[i for c, i in zip(CASES, IDS) if c[0] != "ASGD"][::2])
def test_foreach_matches_torchs_foreach(name, kwargs):
    """One implementation serves foreach=True and False; torch's foreach kernels give the same
    float64 numbers for these optimizers (ASGD's foreach regroups the update: not compared)."""
    ours, *_ = _train(tracer, name, dict(kwargs, foreach=True))
    theirs, *_ = _train(torch, name, dict(kwargs, foreach=True))
    _assert_same_history(ours, theirs, rtol=1e-10, atol=1e-12)


def test_adagrad_fused_is_accepted_and_creates_state_up_front():
    ours, opt, params = _train(tracer, "Adagrad", dict(lr=0.1, fused=True), steps=5)
    theirs, *_ = _train(torch, "Adagrad", dict(lr=0.1, fused=True), steps=5)
    _assert_same_history(ours, theirs, rtol=1e-10, atol=1e-12)
    w = tracer.nn.Parameter(tracer.ones(3))
    fresh = tracer.optim.Adagrad([w], initial_accumulator_value=0.5)
    assert float(fresh.state[w]["step"]) == 0.0 and fresh.state[w]["sum"].tolist() == [0.5] * 3  # as torch


# --- traced and compiled steps -------------------------------------------------------------------

def _compiled_setup(name, kwargs, dtype):
    tracer.manual_seed(0)
    model = tracer.nn.Sequential(tracer.nn.Linear(3, 5), tracer.nn.Tanh(), tracer.nn.Linear(5, 2)).to(dtype)
    opt = getattr(tracer.optim, name)(model.parameters(), **kwargs)
    rng = np.random.default_rng(1)
    x = tracer.tensor(rng.uniform(-1, 1, (16, 3))).to(dtype)
    y = tracer.tensor(rng.uniform(-1, 1, (16, 2))).to(dtype)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return model, opt, step, x, y


COMPILED = [CASES[1], CASES[4], CASES[6], CASES[7], CASES[9], CASES[12], CASES[14]]


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, kwargs", COMPILED, ids=[f"{n}-{'-'.join(k)}" for n, k in COMPILED])
def test_compiled_steps_equal_eager(name, kwargs, dtype, backend):
    """The step count, NAdam's mu_product, ASGD's eta and mu are graph state; RAdam's
    rectification switch and ASGD's averaging start are ``where``s in the graph, so one trace
    serves every step. float64: exact up to onnxruntime's last bits; float32: the learning rate
    is fed as a float32 input (rounded, as in test_compile.py)."""
    dt = getattr(tracer, dtype)
    m1, o1, eager, x, y = _compiled_setup(name, kwargs, dt)
    eager_losses = [float(eager(x, y)) for _ in range(15)]
    m2, o2, step, x, y = _compiled_setup(name, kwargs, dt)
    compiled = tracer.compile(step, backend=backend)
    losses = [float(compiled(x, y)) for _ in range(15)]
    rtol, atol = (1e-12, 1e-14) if dtype == "float64" else (1e-5, 1e-7)
    np.testing.assert_allclose(losses, eager_losses, rtol=rtol, atol=atol)
    state_rtol, state_atol = (rtol, atol) if dtype == "float64" else (1e-4, 1e-6)  # Rprop's prev: a raw gradient
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=rtol, atol=atol)
        assert list(o1.state[p]) == list(o2.state[q])
        for key, value in o1.state[p].items():
            np.testing.assert_allclose(o2.state[q][key].numpy(), value.numpy(), rtol=state_rtol, atol=state_atol,
                                       err_msg=key)
    assert compiled.trace_count == 2  # no grads yet, then the steady state


@pytest.mark.parametrize("name, kwargs", [("NAdam", dict(lr=0.05)), ("ASGD", dict(lr=0.05, t0=3)),
                                          ("Adagrad", dict(lr=0.1, lr_decay=0.1))])
def test_a_cosine_schedule_feeds_the_rate_without_retracing(name, kwargs):
    results = []
    for compiled in (False, True):
        model, opt, step, x, y = _compiled_setup(name, kwargs, tracer.float64)
        sched = tracer.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.01)
        run = tracer.compile(step) if compiled else step
        losses = []
        for _ in range(14):
            losses.append(float(run(x, y)))
            sched.step()
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
        if compiled:
            assert run.trace_count == 2
    (eager_losses, eager_params), (losses, params) = results
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-12)
    for p, q in zip(params, eager_params):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


def test_radams_rectification_switches_inside_one_compiled_graph():
    """RAdam's rectification starts at step 6 (rho_t = 4.996 at step 5, 5.994 at step 6 for
    beta2 = 0.999): one compiled graph, fed the step count, switches there as eager does."""
    m1, o1, eager, x, y = _compiled_setup("RAdam", dict(lr=0.05), tracer.float64)
    for _ in range(7):
        eager(x, y)
    m2, o2, step, x, y = _compiled_setup("RAdam", dict(lr=0.05), tracer.float64)
    compiled = tracer.compile(step, backend="numpy")
    for _ in range(7):
        compiled(x, y)
    assert compiled.trace_count == 2
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-12)
        assert float(o2.state[q]["step"]) == 7.0


# --- state_dict round trips and errors ----------------------------------------------------------

@pytest.mark.parametrize("name, kwargs", CASES[::3], ids=IDS[::3])
def test_state_dict_round_trip_continues_like_torch(name, kwargs):
    """10 steps, state_dict, load into a fresh optimizer (other lr), 10 more steps: equal to
    torch's uninterrupted 20 steps."""
    ours, opt, params = _train(tracer, name, kwargs, steps=10)
    sd = opt.state_dict()
    fresh = getattr(tracer.optim, name)([{"params": params[:2]}, {"params": params[2:]}], **dict(kwargs, lr=0.7))
    fresh.load_state_dict(sd)
    assert fresh.param_groups[1]["lr"] == kwargs["lr"] / 2
    for p in params:
        for k, v in opt.state[p].items():
            assert fresh.state[p][k] is not v
            np.testing.assert_array_equal(fresh.state[p][k].numpy(), v.numpy())
    params2, loss_fn = _problem(tracer, "float64")
    with tracer.no_grad():
        for p, q in zip(params2, params):
            p.copy_(q)
    fresh2 = getattr(tracer.optim, name)([{"params": params2[:2]}, {"params": params2[2:]}], **kwargs)
    fresh2.load_state_dict(sd)
    for _ in range(10):
        fresh2.zero_grad()
        loss_fn().backward()
        fresh2.step()
    theirs, *_ = _train(torch, name, kwargs, steps=20)
    for a, b in zip(params2, theirs[-1][1]):
        np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-10, atol=1e-12)


def _error_of(fn):
    """(type, message) of what ``fn`` raises, without tracer's appended source line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:  # noqa: BLE001
        message = e.args[0] if isinstance(e, KeyError) else str(e)
        return type(e), message.split("\n  at ")[0]
    return None


BAD_ARGS = [
    ("Adagrad", dict(lr=-1.0)), ("Adagrad", dict(lr_decay=-0.1)), ("Adagrad", dict(weight_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("Adagrad", dict(fused=True, foreach=True)),
    ("Adamax", dict(lr=-1.0)), ("Adamax", dict(eps=-1.0)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.1))), ("Adamax", dict(weight_decay=-0.5)),
    ("NAdam", dict(lr=-1.0)), ("NAdam", dict(eps=-1.0)), ("NAdam", dict(betas=(1.5, 0.9))),
    ("NAdam", dict(betas=(0.9, 1.0))), ("NAdam", dict(weight_decay=-1)), ("NAdam", dict(momentum_decay=-1)),
    ("RAdam", dict(lr=-1.0)), ("RAdam", dict(eps=-1.0)), ("RAdam", dict(betas=(-0.1, 0.9))),
    ("RAdam", dict(betas=(0.9, 2.0))), ("RAdam", dict(weight_decay=-1)),
    ("Rprop", dict(lr=-1.0)), ("Rprop", dict(etas=(1.2, 0.5))), ("Rprop", dict(etas=(0.0, 1.2))),
    ("Rprop", dict(etas=(0.5, 1.0))),
    ("ASGD", dict(lr=-1.0)), ("ASGD", dict(weight_decay=-1)),
    ("LBFGS", dict(lr=-1.0)),
]


@pytest.mark.parametrize("name, kwargs", BAD_ARGS, ids=[f"{n}-{k}" for n, k in BAD_ARGS])
def test_argument_errors_match_torch(name, kwargs):
    theirs = _error_of(lambda: getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs))
    ours = _error_of(lambda: getattr(tracer.optim, name)([tracer.zeros(2, requires_grad=True)], **kwargs))
    assert theirs is not None and ours == theirs


@pytest.mark.parametrize("name", ["Adagrad", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_defaults_match_torch(name):
    ours = getattr(tracer.optim, name)([tracer.zeros(2, requires_grad=True)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
    assert ours == theirs


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "Adagrad"])
def test_differentiable_and_capturable_are_refused_not_ignored(name):
    w = tracer.nn.Parameter(tracer.ones(2))
    with pytest.raises(NotImplementedError, match="differentiable"):
        getattr(tracer.optim, name)([w], differentiable=True)
    if name != "Adagrad":  # torch's Adagrad has no capturable argument
        with pytest.raises(NotImplementedError, match="capturable"):
            getattr(tracer.optim, name)([w], capturable=True)


# --- LBFGS --------------------------------------------------------------------------------------

def _rosenbrock(m, opt_kwargs, steps=20, dtype="float64", problem="rosenbrock"):
    """L-BFGS on the 4-d Rosenbrock function, or on an L2-regularised logistic regression
    (convex and well conditioned: fixed-step runs of hundreds of iterations stay within
    rounding of torch, where Rosenbrock's valley amplifies last-bit differences of dot
    products by 1e7 over 400 iterations)."""
    if problem.startswith("rosenbrock"):
        x = m.nn.Parameter(m.tensor(np.array([-1.5, 2.0, -0.5, 1.2], dtype=dtype)))

        def objective():
            return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    else:
        rng = np.random.default_rng(3)
        a = m.tensor(rng.standard_normal((40, 4)).astype(dtype))
        labels = m.tensor((rng.uniform(size=40) < 0.5).astype(dtype))
        x = m.nn.Parameter(m.tensor(np.array([0.5, -0.3, 0.2, 0.1], dtype=dtype)))

        def objective():
            return m.nn.functional.binary_cross_entropy_with_logits(a @ x, labels) + 0.05 * (x ** 2).sum()
    opt = m.optim.LBFGS([x], **opt_kwargs)

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss
    history = []
    for _ in range(steps):
        loss = opt.step(closure)
        state = opt.state[x]
        history.append((loss.item(), x.detach().numpy().copy(), state["func_evals"], state["n_iter"],
                        float(state.get("t", 0)), np.array(state["d"].detach().numpy() if "d" in state else 0.0),
                        len(state.get("old_dirs", ())), float(state.get("H_diag", 0)), state.get("prev_loss", 0)))
    return history, opt, x, closure


LBFGS_CASES = [(dict(), "logistic"), (dict(lr=1, max_iter=5, history_size=3), "rosenbrock"),
               (dict(lr=0.1, max_iter=7), "rosenbrock"), (dict(lr=0.5, max_iter=3, history_size=2), "logistic"),
               (dict(lr=0.5, max_iter=4, history_size=4, line_search_fn="strong_wolfe"), "rosenbrock"),
               (dict(line_search_fn="strong_wolfe"), "rosenbrock-long"),
               (dict(line_search_fn="strong_wolfe", max_iter=10, max_eval=12, tolerance_change=1e-5), "rosenbrock"),
               (dict(line_search_fn="strong_wolfe", history_size=3), "logistic"),
               (dict(lr=1, max_iter=30, tolerance_grad=1e-3), "logistic")]


@pytest.mark.parametrize("kwargs, problem", LBFGS_CASES, ids=[f"{p}-{k}" for k, p in LBFGS_CASES])
def test_lbfgs_matches_torch(kwargs, problem):
    """20 steps (each up to max_iter iterations) in float64: iterates, loss, counters, the last
    direction, step and Hessian scale, the history length, 1e-9 relative (measured <= 3e-13).
    The logistic runs stop early on tolerance_grad / tolerance_change, as torch's do.
    "rosenbrock-long": 20 line-searched iterations per step along the curved valley take the
    same path (equal evaluation and iteration counts) but amplify the last-bit differences of
    the dot products (BLAS summation order) to 1.7e-8 relative mid-valley: 1e-7 relative + 1e-8
    there, on the loss and iterates only (near the minimum the last direction and curvature
    pair are differences of nearly equal values, 2e-5 relative apart)."""
    rtol, atol = (1e-7, 1e-8) if problem == "rosenbrock-long" else (1e-9, 1e-12)
    ours, *_ = _rosenbrock(tracer, kwargs, problem=problem)
    theirs, *_ = _rosenbrock(torch, kwargs, problem=problem)
    for step, (o, t) in enumerate(zip(ours, theirs)):
        assert o[2:4] == t[2:4] and o[6] == t[6], f"func_evals / n_iter / history at step {step}"
        picked = [0, 1, 8] if problem == "rosenbrock-long" else [0, 1, 4, 5, 7, 8]
        for a, b in zip([o[i] for i in picked], [t[i] for i in picked]):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"step {step}")


def test_lbfgs_float32_curve_fit_matches_torch():
    """The e2e curve fit in float32: the line search branches on float32 values; the same
    comparisons pick the same branches here, and the fit agrees to float32 noise."""
    def fit(m):
        t = m.linspace(0, 1, 30)
        target = m.from_numpy((2.0 * np.exp(-1.5 * np.linspace(0, 1, 30)) + 0.1).astype(np.float32))
        params = m.tensor([1.0, -1.0, 0.0], requires_grad=True)
        opt = m.optim.LBFGS([params], lr=0.5, max_iter=20, history_size=10, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = ((params[0] * m.exp(params[1] * t) + params[2] - target) ** 2).mean()
            loss.backward()
            return loss
        losses = [opt.step(closure).item() for _ in range(3)]
        return losses, params.detach().numpy(), opt.state[params]["func_evals"]
    ours, theirs = fit(tracer), fit(torch)
    assert ours[2] == theirs[2]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-5)


def test_lbfgs_state_dict_and_param_groups_match_torch():
    ours, opt, x, closure = _rosenbrock(tracer, dict(max_iter=3, history_size=2), steps=4)
    theirs, topt, tx, tclosure = _rosenbrock(torch, dict(max_iter=3, history_size=2), steps=4)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert list(sd["state"][0]) == list(tsd["state"][0])
    fresh = tracer.optim.LBFGS([x], max_iter=3, history_size=2)
    fresh.load_state_dict(sd)
    topt.step(tclosure)

    def closure2():
        fresh.zero_grad()
        loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
        loss.backward()
        return loss
    fresh.step(closure2)
    np.testing.assert_allclose(x.detach().numpy(), tx.detach().numpy(), rtol=1e-10)
    assert fresh.state[x]["n_iter"] == topt.state[tx]["n_iter"]


def test_lbfgs_errors():
    a, b = tracer.nn.Parameter(tracer.ones(2)), tracer.nn.Parameter(tracer.ones(2))
    ta, tb = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    ours = _error_of(lambda: tracer.optim.LBFGS([{"params": [a]}, {"params": [b]}]))
    assert ours == _error_of(lambda: torch.optim.LBFGS([{"params": [ta]}, {"params": [tb]}]))
    opt, topt = tracer.optim.LBFGS([a], line_search_fn="wolfe"), torch.optim.LBFGS([ta], line_search_fn="wolfe")

    def closure(m, p, o):
        def f():
            o.zero_grad()
            loss = (p ** 2).sum()
            loss.backward()
            return loss
        return f
    assert _error_of(lambda: opt.step(closure(tracer, a, opt))) == \
        _error_of(lambda: topt.step(closure(torch, ta, topt)))
    with pytest.raises(TypeError):
        opt.step()  # the closure is required, as in torch


def test_lbfgs_inside_a_trace_is_refused_clearly():
    w = tracer.nn.Parameter(tracer.ones(3))
    opt = tracer.optim.LBFGS([w])

    def fn(x):
        def closure():
            opt.zero_grad()
            loss = ((w * x) ** 2).sum()
            loss.backward()
            return loss
        return opt.step(closure)
    with pytest.raises(RuntimeError, match="LBFGS.step cannot run inside tracer.trace or tracer.compile"):
        tracer.trace(fn, tracer.ones(3))
    with pytest.raises(RuntimeError, match="eagerly"):
        tracer.compile(fn)(tracer.ones(3))
    assert w.tolist() == [1.0, 1.0, 1.0]  # nothing was changed


# --- schedulers ---------------------------------------------------------------------------------

def _sched_opt(m, opt_name="SGD"):
    ps = [m.nn.Parameter(m.zeros(2, dtype=m.float64)), m.nn.Parameter(m.zeros(3, dtype=m.float64))]
    kw = dict(lr=0.1, momentum=0.9) if opt_name == "SGD" else dict(lr=0.1)
    return getattr(m.optim, opt_name)([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}], **kw)


def _ls(m):
    return m.optim.lr_scheduler


SCHEDULERS = {
    "MultiStepLR": lambda m, o: _ls(m).MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.3),
    "MultiplicativeLR": lambda m, o: _ls(m).MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 0.9),
    "ConstantLR": lambda m, o: _ls(m).ConstantLR(o, factor=0.4, total_iters=6),
    "ConstantLR-default": lambda m, o: _ls(m).ConstantLR(o),
    "LinearLR": lambda m, o: _ls(m).LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=7),
    "LinearLR-default": lambda m, o: _ls(m).LinearLR(o),
    "CosineAnnealingLR": lambda m, o: _ls(m).CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda m, o: _ls(m).CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.002),
    "CosineAnnealingWarmRestarts-1": lambda m, o: _ls(m).CosineAnnealingWarmRestarts(o, T_0=4),
    "PolynomialLR": lambda m, o: _ls(m).PolynomialLR(o, total_iters=9, power=1.7),
    "CyclicLR": lambda m, o: _ls(m).CyclicLR(o, base_lr=0.01, max_lr=[0.2, 0.3], step_size_up=3, step_size_down=5,
                                             mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: _ls(m).CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=4, mode="exp_range",
                                                       gamma=0.9),
    "CyclicLR-scale_fn": lambda m, o: _ls(m).CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=2,
                                                      scale_fn=lambda x: 0.5 ** x, scale_mode="iterations",
                                                      cycle_momentum=False),
    "OneCycleLR": lambda m, o: _ls(m).OneCycleLR(o, max_lr=0.5, total_steps=30),
    "OneCycleLR-Adam-three_phase": lambda m, o: _ls(m).OneCycleLR(o, max_lr=[0.5, 0.2], epochs=3, steps_per_epoch=10,
                                                                  three_phase=True, anneal_strategy="linear"),
    "SequentialLR": lambda m, o: _ls(m).SequentialLR(o, [_ls(m).LinearLR(o, start_factor=0.1, total_iters=4),
                                                         _ls(m).CosineAnnealingLR(o, T_max=10),
                                                         _ls(m).ExponentialLR(o, gamma=0.9)], milestones=[4, 14]),
    "ChainedScheduler": lambda m, o: _ls(m).ChainedScheduler([_ls(m).ConstantLR(o, factor=0.5, total_iters=5),
                                                              _ls(m).ExponentialLR(o, gamma=0.9)]),
    "ChainedScheduler-nested": lambda m, o: _ls(m).ChainedScheduler(
        [_ls(m).MultiStepLR(o, milestones=[5]), _ls(m).CosineAnnealingLR(o, T_max=4)], optimizer=o),
    "StepLR": lambda m, o: _ls(m).StepLR(o, step_size=4, gamma=0.5),
    "ExponentialLR": lambda m, o: _ls(m).ExponentialLR(o, gamma=0.8),
    "LambdaLR": lambda m, o: _ls(m).LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
}


def _sweep(m, name, steps=30, split=None):
    """Per step: each group's lr and momentum/beta1, get_last_lr, last_epoch. With ``split``,
    optimizer and scheduler are rebuilt from their state_dicts after that step, in torch's
    documented order (a new scheduler, then the optimizer's state, then the scheduler's)."""
    kind = "Adam" if "Adam" in name else "SGD"
    opt = _sched_opt(m, kind)
    sched = SCHEDULERS[name](m, opt)
    out = []
    for i in range(steps):
        opt.step()
        sched.step()
        if i == split:
            opt_state, state = opt.state_dict(), sched.state_dict()
            opt = _sched_opt(m, kind)
            sched = SCHEDULERS[name](m, opt)
            opt.load_state_dict(opt_state)
            sched.load_state_dict(state)
        groups = opt.param_groups
        out.append([g["lr"] for g in groups] + [g.get("momentum", g.get("betas", (0,))[0]) for g in groups]
                   + list(sched.get_last_lr()) + [getattr(sched, "last_epoch", -99)])
    return out, sched


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_torch(name):
    """Exactly torch's floats (the same Python double arithmetic), every step."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # optimizer.step() comes first: neither library warns
        ours, sched = _sweep(tracer, name)
        theirs, tsched = _sweep(torch, name)
    assert ours == theirs
    assert sched.state_dict().keys() == tsched.state_dict().keys()


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_state_dict_round_trip(name):
    ours, _ = _sweep(tracer, name, split=9)
    theirs, _ = _sweep(torch, name)
    assert ours == theirs


def test_composite_state_dicts_hold_their_schedulers():
    for name in ("SequentialLR", "ChainedScheduler"):
        _, sched = _sweep(tracer, name, steps=6)
        _, tsched = _sweep(torch, name, steps=6)
        sd, tsd = sched.state_dict(), tsched.state_dict()
        assert sd.keys() == tsd.keys()
        assert [s.keys() for s in sd["_schedulers"]] == [s.keys() for s in tsd["_schedulers"]]
        assert sd["_last_lr"] == tsd["_last_lr"]
        sched.load_state_dict(sd)
        assert sched._schedulers[0].last_epoch == tsched._schedulers[0].last_epoch


def test_cosine_annealing_is_torchs_recursive_form():
    """The recursive update rounds differently from the closed form, and an lr set from outside
    carries on: both as torch."""
    def run(m):
        opt = _sched_opt(m)
        sched = _ls(m).CosineAnnealingLR(opt, T_max=10, eta_min=0.003)
        lrs = []
        for i in range(45):
            opt.step()
            sched.step()
            if i == 20:
                opt.param_groups[0]["lr"] = 0.05
            lrs.append(opt.param_groups[0]["lr"])
        return lrs
    ours, theirs = run(tracer), run(torch)
    assert ours == theirs
    closed = [0.003 + (0.1 - 0.003) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(1, 21)]
    assert ours[:20] != closed and ours[:20] == pytest.approx(closed, rel=1e-12)


@pytest.mark.parametrize("name, epochs", [("StepLR", [3, 9, 4]), ("MultiStepLR", [2, 8, 13]),
                                          ("CosineAnnealingLR", [2, 5, 30]), ("LinearLR", [1, 3, 9]),
                                          ("ConstantLR", [0, 8, 2]), ("PolynomialLR", [4, 12]),
                                          ("ExponentialLR", [3, 1]), ("CosineAnnealingWarmRestarts", [2, 7, 22, 1.5]),
                                          ("LambdaLR", [5, 2]), ("CyclicLR", [5, 11])])
def test_step_with_epoch_warns_and_uses_the_closed_form(name, epochs):
    results = []
    for m in (tracer, torch):
        opt = _sched_opt(m)
        sched = SCHEDULERS[name](m, opt)
        lrs = []
        for e in epochs:
            opt.step()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                sched.step(e)
            lrs.append((sched.get_last_lr(), sched.last_epoch, [str(w.message) for w in caught]))
        results.append(lrs)
    assert results[0] == results[1]
    warned = [w for *_, ws in results[0] for w in ws]
    if name == "CosineAnnealingWarmRestarts":  # its own step(epoch): torch does not warn
        assert warned == []
    else:
        assert len(warned) == len(epochs) and warned[0].startswith("The epoch parameter in `scheduler.step()`")


def test_step_order_warnings_match_torch():
    def messages(m, call_opt_step_first):
        opt = _sched_opt(m)
        sched = _ls(m).MultiStepLR(opt, milestones=[2])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if call_opt_step_first:
                opt.step()
            sched.step()
            sched.get_lr()  # outside step: the get_last_lr() hint
        return [str(w.message) for w in caught]
    for first in (True, False):
        ours, theirs = messages(tracer, first), messages(torch, first)
        assert ours == theirs and len(theirs) == (1 if first else 2)


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.05, patience=1),
                                    dict(factor=0.5, patience=2, cooldown=1, threshold=0.1, min_lr=[0.01, 0.02]),
                                    dict(mode="max", factor=0.3, patience=0, eps=0.05),
                                    dict(threshold_mode="abs", patience=1, min_lr=0.03)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.95, 0.8, 0.79, 0.78, 0.77, 0.5, 0.6, 0.61, 0.62]

    def run(m):
        opt = _sched_opt(m)
        sched = _ls(m).ReduceLROnPlateau(opt, **kwargs)
        out = []
        for i in range(40):
            opt.step()
            sched.step(metrics[i % len(metrics)] + i * 1e-3 if i % 3 else m.tensor(metrics[i % len(metrics)]))
            if i == 17:
                state = sched.state_dict()
                sched = _ls(m).ReduceLROnPlateau(opt, **kwargs)
                sched.load_state_dict(state)
            out.append([g["lr"] for g in opt.param_groups] + list(sched.get_last_lr())
                       + [sched.last_epoch, sched.num_bad_epochs, sched.cooldown_counter, sched.best])
        return out, sched.state_dict()
    (ours, sd), (theirs, tsd) = run(tracer), run(torch)
    assert ours == theirs
    assert sd.keys() == tsd.keys()


def test_reduce_lr_on_plateau_epoch_argument_warns_as_torch():
    def run(m):
        opt = _sched_opt(m)
        sched = _ls(m).ReduceLROnPlateau(opt, patience=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch, metric in [(5, 1.0), (9, 2.0), (3, 3.0)]:
                sched.step(metric, epoch)
        return [str(w.message) for w in caught], sched.last_epoch, sched.get_last_lr()
    ours, theirs = run(tracer), run(torch)
    assert ours == theirs and len(theirs[0]) == 3


def _sched_error(m, make):
    opt = _sched_opt(m)
    return _error_of(lambda: make(m, opt))


BAD_SCHEDULERS = [
    lambda m, o: _ls(m).ConstantLR(o, factor=1.5),
    lambda m, o: _ls(m).LinearLR(o, start_factor=0),
    lambda m, o: _ls(m).LinearLR(o, end_factor=1.5),
    lambda m, o: _ls(m).MultiplicativeLR(o, 0.9),
    lambda m, o: _ls(m).LambdaLR(o, [lambda e: 1.0]),
    lambda m, o: _ls(m).CosineAnnealingWarmRestarts(o, T_0=0),
    lambda m, o: _ls(m).CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
    lambda m, o: _ls(m).CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    lambda m, o: _ls(m).CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
    lambda m, o: _ls(m).OneCycleLR(o, max_lr=0.1),
    lambda m, o: _ls(m).OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda m, o: _ls(m).OneCycleLR(o, max_lr=0.1, epochs=0, steps_per_epoch=3),
    lambda m, o: _ls(m).OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=1.5),
    lambda m, o: _ls(m).OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    lambda m, o: _ls(m).OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    lambda m, o: _ls(m).OneCycleLR(o, max_lr=[0.1], total_steps=10),
    lambda m, o: (lambda s: [s.step() for _ in range(3)])(_ls(m).OneCycleLR(o, max_lr=0.1, total_steps=2)),
    lambda m, o: _ls(m).CyclicLR(o, base_lr=0.1, max_lr=1.0, mode="sine"),
    lambda m, o: _ls(m).CyclicLR(o, base_lr=[0.1, 0.2, 0.3], max_lr=1.0),
    lambda m, o: _ls(m).CyclicLR(m.optim.Rprop(o.param_groups[0]["params"]), base_lr=0.1, max_lr=1.0),
    lambda m, o: _ls(m).OneCycleLR(m.optim.Adagrad(o.param_groups[0]["params"]), max_lr=0.1, total_steps=5),
    lambda m, o: _ls(m).ReduceLROnPlateau(o, factor=1.0),
    lambda m, o: _ls(m).ReduceLROnPlateau(o, mode="avg"),
    lambda m, o: _ls(m).ReduceLROnPlateau(o, threshold_mode="pct"),
    lambda m, o: _ls(m).ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda m, o: _ls(m).SequentialLR(o, [], milestones=[]),
    lambda m, o: _ls(m).SequentialLR(o, [_ls(m).StepLR(o, 2), _ls(m).StepLR(o, 3)], milestones=[]),
    lambda m, o: _ls(m).SequentialLR(o, [_ls(m).StepLR(o, 2), _ls(m).ReduceLROnPlateau(o)], milestones=[3]),
    lambda m, o: _ls(m).ChainedScheduler([]),
    lambda m, o: _ls(m).ChainedScheduler([_ls(m).StepLR(o, 2), _ls(m).ReduceLROnPlateau(o)]),
    lambda m, o: _ls(m).ChainedScheduler([_ls(m).StepLR(o, 2), object()]),
    lambda m, o: _ls(m).StepLR(o, 2, last_epoch=3),
]


@pytest.mark.parametrize("make", BAD_SCHEDULERS, ids=[str(i) for i in range(len(BAD_SCHEDULERS))])
def test_scheduler_errors_match_torch(make):
    theirs = _sched_error(torch, make)
    assert theirs is not None
    assert _sched_error(tracer, make) == theirs


def test_scheduler_of_a_non_optimizer_is_a_type_error():
    for name, args in [("MultiStepLR", ([2],)), ("ReduceLROnPlateau", ()), ("CyclicLR", (0.1, 0.2)),
                       ("OneCycleLR", (0.1, 10)), ("CosineAnnealingLR", (5,))]:
        with pytest.raises(TypeError, match="Linear is not an Optimizer"):
            getattr(tracer.optim.lr_scheduler, name)(tracer.nn.Linear(2, 2), *args)


def test_all_of_torchs_schedulers_and_optimizers_are_importable():
    import torch.optim.lr_scheduler as tsched
    for name in tsched.__all__:
        assert hasattr(tracer.optim.lr_scheduler, name), name
    for name in ("Adagrad", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS"):
        assert getattr(tracer.optim, name).__module__ == f"tracer.optim.{name.lower()}"


def test_signatures_match_torch():
    """Argument names, order, kinds (positional / keyword-only) and defaults, as torch 2.13's."""
    import inspect
    import torch.optim.lr_scheduler as tsched

    def sig(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]
    for name in ["Adagrad", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS"]:
        assert sig(getattr(tracer.optim, name)) == sig(getattr(torch.optim, name)), name
    for name in tsched.__all__:
        assert sig(getattr(tracer.optim.lr_scheduler, name)) == sig(getattr(tsched, name)), name


def test_loaded_lbfgs_state_does_not_alias_the_state_dict(tmp_path):
    """LBFGS grows and shifts its history lists in place: a loaded optimizer must not change
    the state dict it came from (nor the optimizer that made it); save/load keeps it all."""
    _, opt, x, closure = _rosenbrock(tracer, dict(max_iter=3, history_size=2), steps=2)
    sd = opt.state_dict()
    before = [d.detach().numpy().copy() for d in sd["state"][0]["old_dirs"]]
    fresh = tracer.optim.LBFGS([x], max_iter=3, history_size=2)
    fresh.load_state_dict(sd)
    assert fresh.state[x]["old_dirs"] is not sd["state"][0]["old_dirs"]

    def closure2():
        fresh.zero_grad()
        loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
        loss.backward()
        return loss
    fresh.step(closure2)
    assert [d.detach().numpy().tolist() for d in sd["state"][0]["old_dirs"]] == [b.tolist() for b in before]
    tracer.save({"opt": sd, "sched": _sweep(tracer, "MultiStepLR", steps=4)[1].state_dict()}, tmp_path / "ckpt.pt")
    back = tracer.load(tmp_path / "ckpt.pt")
    assert back["opt"]["state"][0].keys() == sd["state"][0].keys()
    assert back["sched"]["milestones"] == {3: 1, 7: 2, 12: 1}


def test_compiled_step_under_one_cycle_momentum_trains_as_eager():
    """OneCycleLR (and CyclicLR) also cycle the momentum / beta1, a hyperparameter a compiled
    step bakes in: each new value is a new trace (past cache_size_limit, eager calls with a
    warning). Whichever runs, the numbers are eager's."""
    results = []
    for compiled in (False, True):
        model, opt, step, x, y = _compiled_setup("NAdam", dict(lr=0.01), tracer.float64)
        sched = tracer.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=12)
        run = tracer.compile(step) if compiled else step
        losses = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for _ in range(12):
                losses.append(float(run(x, y)))
                sched.step()
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()], opt.param_groups[0]["betas"]))
    (eager_losses, eager_params, eager_betas), (losses, params, betas) = results
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-12)
    for p, q in zip(params, eager_params):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)
    assert betas == eager_betas


EXPORTED = {
    "Adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "Adamax": dict(lr=0.01), "NAdam": dict(lr=0.01),
    "RAdam": dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1),
    "Rprop": dict(lr=0.01), "ASGD": dict(lr=0.05, t0=2),
}


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_exported_step_from_initial_state_trains_on_plain_onnxruntime(name, tmp_path):
    """export(example=...) without real steps, feeds() from the optimizer's initial state, then a
    bare onnxruntime loop: the same training as eager steps (the README's loop; Adagrad's state
    exists from its constructor, as in torch, and is left as it was)."""
    import copy

    import onnxruntime as ort
    tracer.manual_seed(0)
    model = tracer.nn.Sequential(tracer.nn.Linear(3, 8), tracer.nn.Tanh(), tracer.nn.Linear(8, 1))
    opt = getattr(tracer.optim, name)(model.parameters(), **EXPORTED[name])
    twin = copy.deepcopy(model)
    twin_opt = getattr(tracer.optim, name)(twin.parameters(), **EXPORTED[name])
    state_before = {id(p): {k: v.numpy().copy() for k, v in s.items()} for p, s in opt.state.items()}

    def step(x, y):
        opt.zero_grad()
        loss = tracer.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    compiled = tracer.compile(step)
    rng = np.random.default_rng(3)
    batches = [(rng.standard_normal((16, 3)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32))
               for _ in range(6)]
    compiled.export(tmp_path / "step.onnx", example=tuple(map(tracer.tensor, batches[0])))
    assert {id(p) for p in opt.state} == set(state_before)  # the dry run left the state as it was
    for p, s in opt.state.items():
        for k, v in s.items():
            np.testing.assert_array_equal(v.numpy(), state_before[id(p)][k])
    feeds = compiled.feeds()
    session = ort.InferenceSession(str(tmp_path / "step.onnx"))
    outputs = [o.name for o in session.get_outputs()]
    for x, y in batches:
        result = dict(zip(outputs, session.run(None, {"x": x, "y": y, **feeds})))
        for k in feeds:
            if f"updated.{k}" in result:
                feeds[k] = result[f"updated.{k}"]
        twin_opt.zero_grad()
        loss = tracer.nn.functional.mse_loss(twin(tracer.tensor(x)), tracer.tensor(y))
        loss.backward()
        twin_opt.step()
        np.testing.assert_allclose(result[outputs[0]], loss.item(), rtol=2e-5)
    for k, v in twin.state_dict().items():
        np.testing.assert_allclose(feeds[k], v.numpy(), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("make_opt", [lambda ps: tracer.optim.SGD(ps, lr=0.1, momentum=0.9),
                                      lambda ps: tracer.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                                      lambda ps: tracer.optim.Adam(ps, lr=0.01),
                                      lambda ps: tracer.optim.AdamW(ps, lr=0.01)],
                         ids=["sgd", "sgd_nesterov", "adam", "adamw"])
@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_cycled_momentum_and_beta1_are_fed_so_onecycle_keeps_one_graph(make_opt, backend):
    """OneCycleLR cycles SGD's momentum and Adam's beta1 with the learning rate every step: a
    compiled step takes them as inputs (opt.momentum, opt.beta1) like the rate, so it traces
    twice (before and after the optimizer state exists) and equals eager training step by step."""
    def run(compiled):
        tracer.manual_seed(0)
        model = tracer.nn.Sequential(tracer.nn.Linear(4, 8), tracer.nn.Tanh(), tracer.nn.Linear(8, 1))
        opt = make_opt(model.parameters())
        sched = tracer.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=12)
        rng = np.random.default_rng(3)
        x, y = (tracer.tensor(rng.standard_normal(s)) for s in ((16, 4), (16, 1)))
        model.double()

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        fn = tracer.compile(step, backend=backend) if compiled else step
        losses = []
        for _ in range(12):
            losses.append(float(fn(x, y)))
            sched.step()
        return losses, [p.detach().numpy().copy() for p in model.parameters()], fn
    losses, weights, fn = run(True)
    eager_losses, eager_weights, _ = run(False)
    assert fn.trace_count == 2
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-12)
    for a, b in zip(weights, eager_weights):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
