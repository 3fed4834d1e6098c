"""The everyday-API modules and functions of issue 13 beyond the op table
(tests/op_table_nn_more.py): module reprs, state dicts and outputs/gradients against torch
with copied weights, initialisation, ParameterList/ParameterDict, LazyLinear, the random
functions' statistics and eval behaviour (rrelu, alpha dropout, gumbel softmax), and misuse
with torch's exception types and messages."""
import re
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")


def _same_repr(ours, theirs):
    """Tensor reprs name the library (tracer.float32 / torch.float32); all else is torch's."""
    assert repr(ours) == repr(theirs).replace("torch.", "tracer.")


MODULES = [
    lambda nn: nn.KLDivLoss(), lambda nn: nn.KLDivLoss(reduction="batchmean", log_target=True),
    lambda nn: nn.PoissonNLLLoss(), lambda nn: nn.PoissonNLLLoss(False, True, eps=1e-3, reduction="sum"),
    lambda nn: nn.GaussianNLLLoss(), lambda nn: nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="none"),
    lambda nn: nn.CosineEmbeddingLoss(0.5), lambda nn: nn.MarginRankingLoss(margin=0.1),
    lambda nn: nn.HingeEmbeddingLoss(2.0), lambda nn: nn.SoftMarginLoss(reduction="sum"),
    lambda nn: nn.MultiLabelSoftMarginLoss(), lambda nn: nn.MultiMarginLoss(2, 0.5),
    lambda nn: nn.MultiLabelMarginLoss(), lambda nn: nn.TripletMarginLoss(), lambda nn: nn.TripletMarginLoss(2.0, 1),
    lambda nn: nn.TripletMarginWithDistanceLoss(), lambda nn: nn.TripletMarginWithDistanceLoss(
        distance_function=nn.PairwiseDistance(1), swap=True),
    lambda nn: nn.CosineSimilarity(), lambda nn: nn.CosineSimilarity(0, 1e-3), lambda nn: nn.PairwiseDistance(),
    lambda nn: nn.PairwiseDistance(1.0, 1e-3, True), lambda nn: nn.Softmin(), lambda nn: nn.Softmin(1),
    lambda nn: nn.Softmax2d(), lambda nn: nn.Threshold(0.1, 20), lambda nn: nn.Threshold(-1.0, 0.5, True),
    lambda nn: nn.RReLU(), lambda nn: nn.RReLU(0.1, 0.3, inplace=True), lambda nn: nn.AlphaDropout(),
    lambda nn: nn.FeatureAlphaDropout(0.2, True), lambda nn: nn.ChannelShuffle(2), lambda nn: nn.LocalResponseNorm(3),
    lambda nn: nn.LocalResponseNorm(2, 1e-3, 0.5, 2.0), lambda nn: nn.LPPool1d(2, 3),
    lambda nn: nn.LPPool2d(1.5, (2, 3), stride=1, ceil_mode=True), lambda nn: nn.LPPool3d(2, 2),
    lambda nn: nn.MaxUnpool1d(2),
    lambda nn: nn.MaxUnpool2d((2, 3), stride=1, padding=1), lambda nn: nn.Bilinear(2, 3, 4),
    lambda nn: nn.Bilinear(2, 3, 4, bias=False), lambda nn: nn.LazyLinear(3), lambda nn: nn.LazyLinear(3, False),
]


@pytest.mark.parametrize("make", MODULES, ids=[repr(m(torch.nn)).replace("\n", "") for m in MODULES])
def test_modules_print_and_hold_state_as_torch(make):
    ours, theirs = make(tracer.nn), make(torch.nn)
    _same_repr(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_weighted_loss_modules_hold_weight_buffers():
    for name, args in (("MultiLabelSoftMarginLoss", ()), ("MultiMarginLoss", (1, 1.0))):
        w = np.array([0.5, 1.0, 2.0], dtype=np.float32)
        ours = getattr(tracer.nn, name)(*args, weight=tracer.tensor(w))
        theirs = getattr(torch.nn, name)(*args, weight=torch.tensor(w))
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
        assert list(dict(ours.named_buffers())) == ["weight"]


def _copy_params(ours, theirs):
    for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == tn
        with tracer.no_grad():
            p.copy_(tracer.tensor(tp.detach().numpy()))


def _check_outputs_and_grads(ours, theirs, *arrays, rtol=1e-5):
    xs = [tracer.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, tout = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=rtol, atol=1e-6)
    w = np.random.default_rng(1).standard_normal(tuple(tout.shape)).astype(tout.detach().numpy().dtype)
    (out * tracer.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for x, t in zip(xs, ts):
        if t.requires_grad:
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-6)
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=1e-6, err_msg=n)


def test_bilinear_matches_torch_with_copied_weights():
    rng = np.random.default_rng(0)
    ours, theirs = tracer.nn.Bilinear(4, 3, 5), torch.nn.Bilinear(4, 3, 5)
    _copy_params(ours, theirs)
    _check_outputs_and_grads(ours, theirs, rng.standard_normal((2, 6, 4)).astype(np.float32),
                             rng.standard_normal((2, 6, 3)).astype(np.float32))


def test_bilinear_initialises_as_torch():
    tracer.manual_seed(0)
    m = tracer.nn.Bilinear(16, 3, 200, dtype=tracer.float64)
    bound = 1 / 4
    for p in (m.weight, m.bias):
        v = p.detach().numpy()
        assert v.dtype == np.float64 and np.abs(v).max() <= bound
        assert np.abs(v).max() > 0.9 * bound  # spread over the whole range
    assert tuple(m.weight.shape) == (200, 16, 3) and tuple(m.bias.shape) == (200,)


def test_lazy_linear_learns_in_features_and_becomes_linear():
    tracer.manual_seed(0)
    m = tracer.nn.LazyLinear(3)
    t = torch.nn.LazyLinear(3)
    assert isinstance(m.weight, tracer.nn.parameter.UninitializedParameter)
    assert repr(m.weight) == repr(t.weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        m.weight.shape
    x = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    y, ty = m(tracer.tensor(x)), t(torch.tensor(x))
    _same_repr(m, t)
    assert type(m) is tracer.nn.Linear and type(t) is torch.nn.Linear
    assert tuple(m.weight.shape) == tuple(t.weight.shape) == (3, 5) and tuple(y.shape) == (2, 3)
    assert type(m.weight) is tracer.nn.Parameter and m.weight.requires_grad and m.weight.is_leaf
    assert np.abs(m.weight.detach().numpy()).max() <= 1 / np.sqrt(5)  # kaiming_uniform(a=sqrt(5)), as Linear
    _copy_params(m, t)
    _check_outputs_and_grads(m, t, x)


def test_lazy_linear_reset_parameters_waits_for_the_first_call():
    m = tracer.nn.LazyLinear(2, bias=False, dtype=tracer.float64)
    m.reset_parameters()  # nothing to initialise yet: no error, still lazy
    assert m.in_features == 0 and isinstance(m.weight, tracer.nn.parameter.UninitializedParameter)
    m(tracer.ones(4, 7, dtype=tracer.float64))
    assert m.weight.dtype == tracer.float64 and m.bias is None and m.in_features == 7
    before = m.weight.detach().numpy().copy()
    m.reset_parameters()
    assert not np.array_equal(before, m.weight.detach().numpy())


def test_lazy_linear_loads_a_checkpoint_before_its_first_call():
    source = torch.nn.Linear(5, 3)
    ours, theirs = tracer.nn.LazyLinear(3), torch.nn.LazyLinear(3)
    ours.load_state_dict({k: tracer.tensor(v.numpy()) for k, v in source.state_dict().items()})
    theirs.load_state_dict(source.state_dict())
    _same_repr(ours, theirs)
    np.testing.assert_array_equal(ours.weight.detach().numpy(), source.weight.detach().numpy())
    x = np.ones((2, 5), np.float32)
    np.testing.assert_allclose(ours(tracer.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6)
    _same_repr(ours, theirs)


def test_parameter_list_registers_indexes_and_prints_as_torch():
    values = [np.ones((3, 4), np.float32), np.zeros(2, np.float64)]
    ours = tracer.nn.ParameterList([tracer.nn.Parameter(tracer.tensor(values[0])), tracer.tensor(values[1]), "hi"])
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(values[0])), torch.tensor(values[1]), "hi"])
    _same_repr(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1"]
    assert len(ours) == 3 and type(ours[1]) is tracer.nn.Parameter and ours[-1] == "hi"
    assert isinstance(ours[0:2], tracer.nn.ParameterList) and len(ours[0:2]) == 2
    ours.append(tracer.zeros(1))
    ours += [tracer.zeros(2, 2)]
    theirs.append(torch.zeros(1))
    theirs += [torch.zeros(2, 2)]
    _same_repr(ours, theirs)
    with pytest.raises(IndexError, match="index 9 is out of range"):
        ours[9]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable"):
        ours.extend(tracer.zeros(2))
    model, tmodel = tracer.nn.Module(), torch.nn.Module()
    model.ps, tmodel.ps = tracer.nn.ParameterList([tracer.zeros(1)]), torch.nn.ParameterList([torch.zeros(1)])
    _same_repr(model, tmodel)
    assert list(model.state_dict()) == list(tmodel.state_dict()) == ["ps.0"]
    assert len(list(model.parameters())) == 1


def test_parameter_dict_registers_orders_and_prints_as_torch():
    a, b = np.ones(3, np.float64), np.zeros((2, 2), np.float32)
    ours = tracer.nn.ParameterDict({"b": tracer.tensor(b), "a": tracer.tensor(a)})  # a plain dict: sorted, as torch
    theirs = torch.nn.ParameterDict({"b": torch.tensor(b), "a": torch.tensor(a)})
    _same_repr(ours, theirs)
    assert list(ours) == list(theirs) == ["a", "b"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ordered = tracer.nn.ParameterDict(OrderedDict([("z", tracer.zeros(1)), ("y", tracer.zeros(1))]))
    assert list(ordered) == ["z", "y"]
    ours["c"] = 3
    theirs["c"] = 3
    _same_repr(ours, theirs)
    assert "c" in ours and ours.get("missing", 5) == 5 and len(ours) == 3
    assert ours.pop("c") == 3 and "c" not in ours
    key, value = ours.popitem()
    assert key == "b" and isinstance(value, tracer.nn.Parameter) and list(ours) == ["a"]
    merged = ours | tracer.nn.ParameterDict([("q", tracer.ones(1))])
    assert list(merged) == ["a", "q"] and list(ours) == ["a"]
    with pytest.raises(TypeError, match="Index given to ParameterDict cannot be used as a key"):
        ours[1] = tracer.zeros(1)
    with pytest.raises(AttributeError):
        ours["missing"]
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        ours.update([("a", 1, 2)])
    ours.clear()
    assert len(ours) == 0 and list(ours.state_dict()) == []


COPIED = [
    ("MultiMarginLoss_weight", lambda m: m.nn.MultiMarginLoss(2, 0.5, weight=m.tensor([1.0, 0.5, 2.0, 1.5])),
     lambda rng: [rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 4, 5)]),
    ("MultiLabelSoftMarginLoss_weight", lambda m: m.nn.MultiLabelSoftMarginLoss(m.tensor([1.0, 0.5, 2.0])),
     lambda rng: [rng.standard_normal((4, 3)).astype(np.float32), (rng.random((4, 3)) < 0.5).astype(np.float32)]),
    ("TripletMarginWithDistanceLoss", lambda m: m.nn.TripletMarginWithDistanceLoss(
        distance_function=m.nn.PairwiseDistance(1), swap=True),
     lambda rng: [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(3)]),
    ("GaussianNLLLoss", lambda m: m.nn.GaussianNLLLoss(full=True),
     lambda rng: [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32),
                  rng.random((4, 1)).astype(np.float32) + 0.1]),
    ("CosineSimilarity", lambda m: m.nn.CosineSimilarity(dim=-1),
     lambda rng: [rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4))]),
    ("LPPool2d", lambda m: m.nn.LPPool2d(2, 2), lambda rng: [rng.standard_normal((2, 3, 4, 4)).astype(np.float32)]),
    ("Softmax2d", lambda m: m.nn.Softmax2d(), lambda rng: [rng.standard_normal((2, 3, 2, 2)).astype(np.float32)]),
]


@pytest.mark.parametrize("name,make,inputs", COPIED, ids=[c[0] for c in COPIED])
def test_modules_compute_as_torch(name, make, inputs):
    _check_outputs_and_grads(make(tracer), make(torch), *inputs(np.random.default_rng(0)))


# -- the random functions: statistics and eval behaviour ---------------------------------------
def test_rrelu_training_draws_slopes_in_range_from_the_generator():
    x = tracer.full((200, 100), -1.0)
    tracer.manual_seed(3)
    a = tracer.nn.functional.rrelu(x, 0.1, 0.3, training=True)
    tracer.manual_seed(3)
    b = tracer.nn.RReLU(0.1, 0.3)(x)  # a module trains by default
    slopes = -a.numpy()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005 and abs(slopes.std() - 0.2 / np.sqrt(12)) < 0.005
    assert len(np.unique(slopes)) > 1000
    pos = tracer.nn.functional.rrelu(tracer.full((10,), 2.0), training=True)
    np.testing.assert_array_equal(pos.numpy(), np.full(10, 2.0, np.float32))


def test_rrelu_gradient_is_the_drawn_slope():
    x = tracer.full((50,), -2.0, requires_grad=True)
    y = tracer.nn.functional.rrelu(x, training=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy() / -2.0, rtol=1e-6)


def test_rrelu_inplace_writes_into_its_input():
    x = tracer.full((4,), -1.0)
    out = tracer.nn.functional.rrelu_(x, 0.25, 0.25, training=True)
    assert out is x
    np.testing.assert_allclose(x.numpy(), np.full(4, -0.25, np.float32))


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_mean_and_variance(feature):
    tracer.manual_seed(0)
    x = tracer.randn(400, 50, 20, dtype=tracer.float64)
    fn = tracer.nn.functional.feature_alpha_dropout if feature else tracer.nn.functional.alpha_dropout
    y = fn(x, 0.3, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7)
    dropped = np.isclose(y, a * 1.7580993408473766 * (0.3 - 1))
    assert abs(dropped.mean() - 0.3) < 0.01
    if feature:  # whole channels drop together
        ones = fn(tracer.ones(40, 50, 20, dtype=tracer.float64), 0.3, training=True).numpy()
        assert (ones == ones[:, :, :1]).all() and len(np.unique(ones)) == 2


def test_alpha_dropout_modules_are_the_identity_in_eval():
    x = tracer.randn(3, 4, 5)
    for module in (tracer.nn.AlphaDropout(0.4), tracer.nn.FeatureAlphaDropout(0.4)):
        assert not np.array_equal(module(x).numpy(), x.numpy())
        module.eval()
        np.testing.assert_array_equal(module(x).numpy(), x.numpy())
    np.testing.assert_array_equal(tracer.nn.functional.alpha_dropout(x, 0.5).numpy(), x.numpy())  # training=False


def test_gumbel_softmax_samples_follow_the_softmax():
    tracer.manual_seed(0)
    logits = tracer.tensor([[1.0, 0.0, -1.0, 2.0]]).expand(20000, 4)
    soft = tracer.nn.functional.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.numpy().sum(1), 1.0, rtol=1e-5)
    hard = tracer.nn.functional.gumbel_softmax(logits, hard=True).numpy()
    assert set(np.unique(hard)) == {0.0, 1.0} and (hard.sum(1) == 1).all()
    expected = torch.softmax(torch.tensor([1.0, 0.0, -1.0, 2.0]), 0).numpy()
    np.testing.assert_allclose(hard.mean(0), expected, atol=0.015)  # argmax of logits + Gumbel noise ~ softmax


def test_gumbel_softmax_hard_is_straight_through():
    tracer.manual_seed(1)
    logits = tracer.randn(3, 5, requires_grad=True)
    w = tracer.randn(3, 5)
    tracer.manual_seed(2)
    (tracer.nn.functional.gumbel_softmax(logits, tau=2.0, hard=True, dim=1) * w).sum().backward()
    hard_grad = logits.grad.numpy().copy()
    logits.grad = None
    tracer.manual_seed(2)
    (tracer.nn.functional.gumbel_softmax(logits, tau=2.0, dim=1) * w).sum().backward()
    np.testing.assert_allclose(hard_grad, logits.grad.numpy(), rtol=1e-6)  # the soft sample's gradient
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        tracer.nn.functional.gumbel_softmax(logits, eps=1e-5)


def test_random_functions_draw_afresh_in_a_traced_graph():
    import backends.numpy as bnp
    g = tracer.trace(lambda x: tracer.nn.functional.rrelu(x, training=True), tracer.full((100,), -1.0))
    first, second = bnp.run(g, np.full(100, -1.0, np.float32))[0], bnp.run(g, np.full(100, -1.0, np.float32))[0]
    assert not np.array_equal(first, second) and (-first >= 1 / 8).all() and (-first <= 1 / 3).all()


# -- misuse: torch's exception types and messages --------------------------------------------
def _both_raise(fn, cls, match):
    """``fn(m)`` raises ``cls`` with ``match`` for m = torch, and the same for tracer."""
    for m in (torch, tracer):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(cls, match=match):
                fn(m)


def F(m):
    return m.nn.functional


MISUSE = [
    (lambda m: F(m).kl_div(m.zeros(3), m.zeros(3), reduction="bad"), ValueError, "bad is not a valid value"),
    (lambda m: F(m).soft_margin_loss(m.zeros(3), m.ones(3), reduction="avg"), ValueError, "avg is not a valid value"),
    (lambda m: F(m).margin_ranking_loss(m.zeros(3), m.zeros(3), m.zeros(3, 1)), RuntimeError,
     "All input tensors should have same dimension"),
    (lambda m: F(m).cosine_embedding_loss(m.zeros(2, 3), m.zeros(2, 3), m.zeros(2, 1)), RuntimeError,
     "0D or 1D target tensor expected"),
    (lambda m: F(m).cosine_embedding_loss(m.zeros(3), m.zeros(3), m.zeros(2)), RuntimeError,
     "1D target tensor expects 2D input tensors"),
    (lambda m: F(m).triplet_margin_loss(m.zeros(2, 3), m.zeros(2, 3), m.zeros(2, 3), margin=0), ValueError,
     "margin must be greater than 0"),
    (lambda m: F(m).triplet_margin_loss(m.zeros(2, 3), m.zeros(3), m.zeros(2, 3)), RuntimeError,
     "expected to have the same number of dimensions"),
    (lambda m: F(m).triplet_margin_with_distance_loss(m.zeros(2, 3), m.zeros(2, 3), m.zeros(2, 3),
                                                      reduction="x"), ValueError, "x is not a valid value"),
    (lambda m: m.nn.TripletMarginLoss(margin=-1), ValueError, "TripletMarginLoss: expected margin"),
    (lambda m: m.nn.TripletMarginWithDistanceLoss(margin=0), ValueError, "expected margin to be greater than 0"),
    (lambda m: F(m).gaussian_nll_loss(m.zeros(3), m.zeros(3), -m.ones(3)), ValueError, "var has negative entry"),
    (lambda m: F(m).gaussian_nll_loss(m.zeros(3, 2), m.zeros(3, 2), m.ones(2, 3)), ValueError,
     "var is of incorrect size"),
    (lambda m: F(m).gaussian_nll_loss(m.zeros(3), m.zeros(3), m.ones(3), reduction="x"), ValueError,
     "x is not valid"),
    (lambda m: F(m).multi_margin_loss(m.zeros(2, 3), m.tensor([0, 1]), p=3), ValueError,
     "only p == 1 and p == 2 supported"),
    (lambda m: F(m).multi_margin_loss(m.zeros(2, 3), m.tensor([0, 1, 2])), RuntimeError,
     re.escape("target tensor should be 1-D with size equal to the number of input samples (batch size). Expected "
               "target size [2], but got [3]. Input has shape [2, 3].")),
    (lambda m: F(m).multi_margin_loss(m.zeros(2, 3), m.tensor([0, 5])), RuntimeError, "target out of range"),
    (lambda m: F(m).multi_margin_loss(m.zeros(2, 3), m.tensor([0.0, 1.0])), RuntimeError,
     "expected scalar type Long but found Float"),
    (lambda m: F(m).multilabel_margin_loss(m.zeros(2, 3), m.tensor([[0, 5, 1], [0, 1, 2]])), RuntimeError,
     "argument #2 'target' is out of range"),
    (lambda m: F(m).multilabel_margin_loss(m.zeros(2, 0), m.zeros(2, 0, dtype=m.int64)), RuntimeError,
     "Expected non-empty vector or matrix"),
    (lambda m: F(m).multi_margin_loss(m.zeros(2, 3), m.tensor([0, 1]), weight=m.ones(2)), RuntimeError,
     "inconsistent weight size"),
    (lambda m: F(m).multi_margin_loss(m.zeros(2, 3), m.tensor([0, 1]), weight=m.ones(1, 3)), ValueError,
     "weight must be one-dimensional"),
    (lambda m: F(m).multi_margin_loss(m.zeros(2, 3), m.tensor([0, 1]), weight=m.ones(3, requires_grad=True)),
     RuntimeError, "not differentiable with respect to argument 'weight'"),
    (lambda m: F(m).multi_margin_loss(m.zeros(2, 0), m.tensor([0, 1])), RuntimeError,
     "Expected non-empty vector or matrix"),
    (lambda m: F(m).multilabel_margin_loss(m.zeros(2, 3), m.tensor([0, 1])), RuntimeError,
     "inconsistent target size"),
    (lambda m: m.nn.MultiMarginLoss(p=3), ValueError, "only p == 1 and p == 2 supported"),
    (lambda m: m.nn.MultiMarginLoss(weight=m.ones(2, 2)), ValueError, "expected weight to be None or 1D tensor"),
    (lambda m: F(m).cosine_similarity(m.tensor([1, 2]), m.tensor([1, 2]), 0), RuntimeError,
     "expected common dtype to be floating point"),
    (lambda m: F(m).pdist(m.zeros(3)), RuntimeError, "pdist only supports 2D tensors, got: 1D"),
    (lambda m: F(m).pdist(m.zeros(3, 2), -1), RuntimeError, "pdist only supports non-negative p values"),
    (lambda m: m.nn.Softmax2d()(m.zeros(3, 3)), ValueError, "Softmax2d: expected input to be 3D or 4D, got 2D"),
    (lambda m: F(m).rrelu(m.zeros(3), 0.5, 0.1), RuntimeError, "Lower bound should be less than or equal"),
    (lambda m: F(m).relu_(m.zeros(3, requires_grad=True)), RuntimeError, "a leaf Variable that requires grad"),
    (lambda m: F(m).alpha_dropout(m.zeros(3), 1.5), ValueError, "dropout probability has to be between 0 and 1"),
    (lambda m: F(m).feature_alpha_dropout(m.zeros(3), 0.5, True), RuntimeError,
     "Feature dropout requires at least 2 dimensions"),
    (lambda m: F(m).bilinear(m.zeros(2, 3), m.zeros(2, 4), m.zeros(5, 3, 3)), RuntimeError,
     re.escape("bilinear(): input2 size does not match weight size: got 4 but expected 3")),
    (lambda m: F(m).bilinear(m.zeros(2, 3), m.zeros(3, 4), m.zeros(5, 3, 4)), RuntimeError,
     re.escape("bilinear(): input batch dimensions do not match at dim 0: got 2 and 3")),
    (lambda m: F(m).bilinear(m.zeros(2, 3), m.zeros(2, 4), m.zeros(5, 3, 4), m.zeros(4)), RuntimeError,
     re.escape("bilinear(): bias size does not match weight size: got 4 but expected 5")),
    (lambda m: F(m).bilinear(m.zeros(2, 3), m.zeros(2, 4), m.zeros(5, 3, 4), m.zeros(5, dtype=m.float64)),
     RuntimeError, "All tensors must have the same dtype, got input1: float, input2: float, weight: float, bias: "
     "double"),
    (lambda m: F(m).kl_div(m.zeros(3), m.tensor([1, 0, 2])), RuntimeError, "Integral inputs not supported"),
    (lambda m: F(m).channel_shuffle(m.zeros(2, 4), 2), RuntimeError, "channel_shuffle expects input with > 2 dims"),
    (lambda m: F(m).channel_shuffle(m.zeros(2, 4, 3), 3), RuntimeError,
     "Number of channels must be divisible by groups. Got 4 channels and 3 groups."),
    (lambda m: F(m).channel_shuffle(m.zeros(2, 4, 3), 0), RuntimeError, "Number of groups to divide channels in"),
    (lambda m: F(m).local_response_norm(m.zeros(2, 4), 2), ValueError, "Expected 3D or higher dimensionality"),
    (lambda m: F(m).max_unpool2d(m.zeros(1, 1, 2, 2), m.zeros(1, 1, 2, 2, dtype=m.int32), 2), RuntimeError,
     "elements in indices should be type int64 but got: Int"),
    (lambda m: F(m).max_unpool2d(m.zeros(1, 1, 2, 2), m.full((1, 1, 2, 2), 99, dtype=m.int64), 2), RuntimeError,
     "Found an invalid max index: 99"),
    (lambda m: F(m).max_unpool2d(m.zeros(2, 2), m.zeros(2, 2, dtype=m.int64), 2), RuntimeError,
     "Input to max_unpooling2d should be a 3d or 4d Tensor"),
    (lambda m: F(m).max_unpool2d(m.zeros(1, 1, 2, 2), m.zeros(1, 1, 2, 2, dtype=m.int64), 2, output_size=(9, 9)),
     ValueError, "invalid output_size"),
    (lambda m: F(m).max_unpool1d(m.zeros(1, 1, 2), m.zeros(1, 1, 2, dtype=m.int64), 2, output_size=(1, 2, 3, 4)),
     ValueError, "output_size should be a sequence containing 1 or 3 elements"),
    (lambda m: m.nn.ParameterDict()(m.zeros(1)), RuntimeError, "ParameterDict should not be called."),
]


@pytest.mark.parametrize("fn,cls,match", MISUSE, ids=[f"{i}-{m[1].__name__}" for i, m in enumerate(MISUSE)])
def test_misuse_raises_as_torch(fn, cls, match):
    _both_raise(fn, cls, match)


def test_legacy_reduction_arguments_warn_and_override():
    x, t = tracer.zeros(3), tracer.ones(3)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        out = tracer.nn.functional.soft_margin_loss(x, t, reduce=False)
    assert tuple(out.shape) == (3,)
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss"):
        tracer.nn.functional.kl_div(x, t)
    with pytest.warns(UserWarning, match="size_average and reduce args"):
        m = tracer.nn.MultiLabelMarginLoss(size_average=False)
    assert m.reduction == "sum"


def test_inplace_functional_forms_return_their_input():
    for name, args in (("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.5)),
                       ("selu_", ()), ("celu_", (2.0,)), ("threshold_", (0.0, 9.0)), ("rrelu_", ())):
        x = tracer.tensor([-1.0, 0.5, 2.0])
        ref = getattr(torch.nn.functional, name)(torch.tensor([-1.0, 0.5, 2.0]), *args)
        assert getattr(tracer.nn.functional, name)(x, *args) is x
        np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-6, err_msg=name)


# -- a small model of the new layers, trained compiled ---------------------------------------
def _net(m):
    nn = m.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3, padding=1)
            self.shuffle = nn.ChannelShuffle(2)
            self.lrn = nn.LocalResponseNorm(3, alpha=0.1)
            self.pool = nn.LPPool2d(2, 2)
            self.bilinear = nn.Bilinear(16, 16, 5)
            self.scales = nn.ParameterList([nn.Parameter(m.ones(16)), nn.Parameter(m.zeros(16))])
            self.acts = nn.ModuleList([nn.Softmin(1), nn.Threshold(-0.1, 0.2), nn.RReLU().eval()])

        def forward(self, x):
            h = self.pool(self.lrn(self.shuffle(self.conv(x)))).flatten(1)  # (N, 16)
            h = self.bilinear(h * self.scales[0], h + self.scales[1])
            return sum(act(h) for act in self.acts)
    return Net()


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_a_model_of_the_new_layers_trains_compiled_as_torch(backend):
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((3, 2, 4, 4)).astype(np.float32) for _ in range(5)]
    ys = [rng.standard_normal((3, 5)).astype(np.float32) for _ in range(5)]
    tracer.manual_seed(0)
    ours, theirs = _net(tracer), _net(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    opt_a = tracer.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)

    def step(m, net, opt, x, y):
        opt.zero_grad()
        out = net(x)
        loss = m.nn.functional.smooth_l1_loss(out, y) + m.nn.functional.triplet_margin_loss(out, y, out.flip(0))
        loss = loss + m.nn.functional.cosine_embedding_loss(out, y, m.ones(3)) + m.nn.KLDivLoss(
            reduction="batchmean")(m.log_softmax(out, 1), m.softmax(y, 1))
        loss.backward()
        opt.step()
        return loss

    compiled = tracer.compile(lambda x, y: step(tracer, ours, opt_a, x, y), backend=backend)
    for x, y in zip(xs, ys):
        a = compiled(tracer.tensor(x), tracer.tensor(y)).item()
        b = step(torch, theirs, opt_b, torch.tensor(x), torch.tensor(y)).item()
        assert a == pytest.approx(b, rel=1e-4)
    assert compiled.trace_count == 2  # the first call creates the optimizer's momentum: a new signature
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-3, atol=1e-4, err_msg=name)


def test_a_parameter_shares_storage_with_the_tensor_it_wraps_as_torch():
    """nn.Parameter(t) is t's storage: an optimizer step or an in-place write on either shows in
    the other and in a NumPy array under t (from_numpy), in torch's numbers."""
    for m in (tracer, torch):
        arr = np.ones(3, np.float32)
        t = m.from_numpy(arr)
        p = m.nn.Parameter(t)
        (p * p).sum().backward()
        m.optim.SGD([p], lr=0.25).step()
        with m.no_grad():
            t.add_(1)
        assert arr.tolist() == [1.5, 1.5, 1.5] and p.tolist() == [1.5, 1.5, 1.5], m.__name__
