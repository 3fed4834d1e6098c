"""nn.Module, layers, init and losses against torch."""
import math

import numpy as np
import pytest

import tracer
from tracer import nn

torch = pytest.importorskip("torch")


class XavierModule(nn.Module):
    """The textbook's Xavier-initialised module built from plain tensors."""

    def __init__(self):
        super().__init__()
        self.w1 = tracer.empty(2, 3, requires_grad=True)
        nn.init.xavier_normal_(self.w1)
        self.w2 = tracer.empty(1, 2, requires_grad=True)
        nn.init.xavier_normal_(self.w2)


def test_registration_of_parameters_modules_and_plain_tensors():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in m.named_modules()] == ["", "0", "1", "2"]
    assert len(list(m.children())) == 3 and len(m) == 3
    assert isinstance(m[0], nn.Linear) and isinstance(m[-1], nn.Linear) and len(m[:2]) == 2
    x = XavierModule()
    assert list(x.parameters()) == []  # plain tensors stay unregistered, as in torch
    assert x.w1.requires_grad and x.w1.shape == (2, 3)


def test_repr_matches_torch():
    def build(m):
        return m.nn.Sequential(m.nn.Linear(2, 4), m.nn.ReLU(), m.nn.Dropout(0.2), m.nn.Linear(4, 1), m.nn.Sigmoid())
    assert repr(build(tracer)) == repr(build(torch))
    assert repr(tracer.nn.LeakyReLU(0.2)) == repr(torch.nn.LeakyReLU(0.2))
    assert repr(tracer.nn.Softmax(dim=1)) == repr(torch.nn.Softmax(dim=1))
    assert repr(tracer.nn.Flatten()) == repr(torch.nn.Flatten())


def test_state_dict_round_trip_and_strict_errors():
    a = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    b = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    b.load_state_dict(a.state_dict())
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    bad = dict(a.state_dict())
    bad["extra"] = bad.pop("1.bias")
    with pytest.raises(RuntimeError, match='(?s)Missing key\\(s\\) in state_dict: "1.bias".*Unexpected key\\(s\\) in state_dict: "extra"'):
        b.load_state_dict(bad)
    wrong = dict(a.state_dict())
    wrong["0.weight"] = tracer.zeros(4, 4)
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        b.load_state_dict(wrong)
    assert repr(b.load_state_dict(bad, strict=False)).startswith("_IncompatibleKeys")


def test_train_eval_zero_grad_apply_buffers():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    assert m.training and m[1].training
    m.eval()
    assert not m[1].training
    m(tracer.ones(1, 2)).sum().backward()
    assert m[0].weight.grad is not None
    m.zero_grad()
    assert m[0].weight.grad is None
    m.register_buffer("steps", tracer.zeros(()))
    assert "steps" in m.state_dict()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Dropout", "Sequential"]


def test_linear_default_init_bounds():
    tracer.manual_seed(0)
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    assert float(lin.weight.abs().max()) <= bound and float(lin.bias.abs().max()) <= bound
    assert float(lin.weight.std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)


@pytest.mark.parametrize("init, expected_std", [
    (lambda t: nn.init.xavier_normal_(t), math.sqrt(2 / (400 + 300))),
    (lambda t: nn.init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(2 / (400 + 300))),
    (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2) / math.sqrt(400)),
    (lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)), math.sqrt(2 / 6) / math.sqrt(400)),
    (lambda t: nn.init.normal_(t, 0.0, 0.02), 0.02),
    (lambda t: nn.init.uniform_(t, -1, 1), 1 / math.sqrt(3)),
    (lambda t: nn.init.trunc_normal_(t, std=1.0), 0.8796),
])
def test_init_distributions_follow_the_formulas(init, expected_std):
    tracer.manual_seed(0)
    t = tracer.empty(300, 400, requires_grad=True)
    init(t)
    assert abs(float(t.mean())) < 0.01 * max(expected_std, 0.1)
    assert float(t.std()) == pytest.approx(expected_std, rel=0.02)
    assert t.requires_grad and t.is_leaf


def test_init_is_reproducible_and_other_initialisers():
    tracer.manual_seed(5)
    a = nn.init.xavier_normal_(tracer.empty(3, 3))
    tracer.manual_seed(5)
    b = nn.init.xavier_normal_(tracer.empty(3, 3))
    assert a.tolist() == b.tolist()
    q = nn.init.orthogonal_(tracer.empty(4, 6))
    np.testing.assert_allclose((q @ q.T).numpy(), np.eye(4), atol=1e-5)
    assert nn.init.constant_(tracer.empty(2), 0.3).tolist() == pytest.approx([0.3, 0.3])
    assert nn.init.calculate_gain("tanh") == torch.nn.init.calculate_gain("tanh")
    assert nn.init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain("leaky_relu", 0.2)
    t = nn.init.trunc_normal_(tracer.empty(10000), a=-0.5, b=0.5)
    assert float(t.min()) >= -0.5 and float(t.max()) <= 0.5


@pytest.mark.parametrize("loss", ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
                                  "SmoothL1Loss", "HuberLoss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_match_torch(loss, reduction):
    rng = np.random.default_rng(0)
    if loss in ("CrossEntropyLoss", "NLLLoss"):
        x, y = rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 4, 6)
    elif loss == "BCELoss":
        x, y = rng.uniform(0.05, 0.95, (6, 4)).astype(np.float32), rng.integers(0, 2, (6, 4)).astype(np.float32)
    else:
        x, y = rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((6, 4)).astype(np.float32)

    def run(m):
        xt = m.tensor(x, requires_grad=True)
        out = getattr(m.nn, loss)(reduction=reduction)(xt, m.tensor(y))
        out.sum().backward()
        return out.detach().numpy(), xt.grad.numpy()
    for a, b in zip(run(tracer), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_losses_are_stable_where_torch_is():
    x = tracer.tensor([100.0, -100.0], requires_grad=True)
    loss = nn.BCEWithLogitsLoss()(x, tracer.tensor([0.0, 1.0]))
    assert float(loss) == pytest.approx(100.0)
    loss.backward()
    assert np.isfinite(x.grad.numpy()).all()
    p = tracer.tensor([0.0, 1.0])
    assert float(nn.BCELoss()(p, tracer.tensor([1.0, 0.0]))) == pytest.approx(100.0)
    logits = tracer.tensor([[1000.0, 0.0]])
    assert float(nn.CrossEntropyLoss()(logits, tracer.tensor([1]))) == pytest.approx(1000.0)


@pytest.mark.parametrize("layer", ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Softplus", "ELU",
                                   "Identity", "Flatten"])
def test_activation_modules_match_torch(layer):
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    ours = getattr(tracer.nn, layer)()(tracer.tensor(x)).numpy()
    np.testing.assert_allclose(ours, getattr(torch.nn, layer)()(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    for mod in ("Softmax", "LogSoftmax"):
        np.testing.assert_allclose(getattr(tracer.nn, mod)(dim=1)(tracer.tensor(x)).numpy(),
                                   getattr(torch.nn, mod)(dim=1)(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_module_containers():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md
    seq = nn.Sequential()
    seq.append(nn.Linear(2, 2))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]


@pytest.mark.parametrize("bad", [4, -1, -101])
def test_cross_entropy_target_out_of_range_is_a_clear_error(bad):
    logits = tracer.zeros(3, 4)
    with pytest.raises(Exception, match=f"Target {bad} is out of bounds"):
        nn.functional.cross_entropy(logits, tracer.tensor([0, bad, 1]))
    ignored = nn.functional.cross_entropy(logits, tracer.tensor([0, -100, 1]))  # -100: ignore_index
    assert float(ignored) == pytest.approx(np.log(4))


def test_deepcopy_of_a_model_and_its_optimizer_as_torch():
    import copy
    import pickle
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    opt = tracer.optim.Adam(model.parameters(), lr=0.1)
    model(tracer.ones(4, 2)).sum().backward()
    opt.step()
    best = copy.deepcopy(model)
    assert isinstance(best[0].weight, nn.Parameter) and best[0].weight.requires_grad
    np.testing.assert_array_equal(best[0].weight.grad.numpy(), model[0].weight.grad.numpy())
    before = best[0].weight.detach().numpy().copy()
    opt.step()  # the copy is independent of the original
    np.testing.assert_array_equal(best[0].weight.detach().numpy(), before)
    twin = copy.deepcopy(opt)
    assert len(twin.state) == len(opt.state) and twin.param_groups[0]["lr"] == 0.1
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(model(tracer.ones(1, 2)))
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(model)
