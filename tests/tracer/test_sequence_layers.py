"""The sequence-model layers beyond the op table (tests/op_table_activations.py): the new
activations (Mish, GLU, LogSigmoid, Hardswish, Hardsigmoid, SELU, CELU, PReLU, Softsign,
Tanhshrink, Softshrink, Hardshrink), Embedding and EmbeddingBag, RMSNorm and LayerNorm's bias.
Module reprs and state dicts as torch's, initialisation, gradients at the activations' corners,
``inplace=``, padding_idx and scale_grad_by_freq gradients, from_pretrained, torch's exception
types and messages for misuse, and a small model using them all trained compiled (numpy and
onnxruntime) step by step against torch."""
import warnings

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

MODULES = [
    lambda nn: nn.Mish(), lambda nn: nn.Mish(inplace=True), lambda nn: nn.GLU(), lambda nn: nn.GLU(dim=1),
    lambda nn: nn.LogSigmoid(), lambda nn: nn.Hardswish(), lambda nn: nn.Hardswish(inplace=True),
    lambda nn: nn.Hardsigmoid(True), lambda nn: nn.SELU(), lambda nn: nn.SELU(inplace=True), lambda nn: nn.CELU(),
    lambda nn: nn.CELU(0.5, inplace=True), lambda nn: nn.PReLU(), lambda nn: nn.PReLU(3, init=0.1),
    lambda nn: nn.PReLU(2, dtype=torch.float64 if nn is torch.nn else tracer.float64), lambda nn: nn.Softsign(),
    lambda nn: nn.Tanhshrink(), lambda nn: nn.Softshrink(), lambda nn: nn.Softshrink(1.5), lambda nn: nn.Hardshrink(),
    lambda nn: nn.Hardshrink(lambd=0.25), lambda nn: nn.Softplus(2.0, 5.0),
    lambda nn: nn.RMSNorm(4), lambda nn: nn.RMSNorm([2, 3], eps=1e-6), lambda nn: nn.RMSNorm((3,), None, False),
    lambda nn: nn.LayerNorm(4, bias=False), lambda nn: nn.LayerNorm([2, 3], 1e-3, elementwise_affine=False),
]


@pytest.mark.parametrize("make", MODULES, ids=[repr(m(torch.nn)) for m in MODULES])
def test_modules_print_and_hold_state_as_torch(make):
    ours, theirs = make(tracer.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        got = ours.state_dict()[k].numpy()
        assert str(got.dtype) == str(v.numpy().dtype), k
        np.testing.assert_array_equal(got, v.numpy(), err_msg=k)


EMBEDDINGS = [
    lambda nn: nn.Embedding(7, 3), lambda nn: nn.Embedding(7, 3, padding_idx=-2, max_norm=1.5, norm_type=1.0),
    lambda nn: nn.Embedding(5, 2, scale_grad_by_freq=True, sparse=True),
    lambda nn: nn.EmbeddingBag(7, 3), lambda nn: nn.EmbeddingBag(7, 3, mode="sum", padding_idx=-1),
    lambda nn: nn.EmbeddingBag(6, 2, max_norm=2.0, norm_type=3.0, scale_grad_by_freq=True, mode="max",
                               include_last_offset=True),
]


@pytest.mark.parametrize("make", EMBEDDINGS, ids=[repr(m(torch.nn)) for m in EMBEDDINGS])
def test_embedding_modules_print_and_hold_state_as_torch(make):
    ours, theirs = make(tracer.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    for name in ("padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse", "mode", "include_last_offset"):
        assert getattr(ours, name, None) == getattr(theirs, name, None), name


@pytest.mark.parametrize("cls", ["Embedding", "EmbeddingBag"])
def test_embedding_init_is_standard_normal_with_the_padding_row_zeroed(cls):
    tracer.manual_seed(0)
    w = getattr(tracer.nn, cls)(3000, 8, padding_idx=5).weight.detach().numpy()
    assert np.all(w[5] == 0)
    rest = np.delete(w, 5, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02
    tracer.manual_seed(0)
    again = getattr(tracer.nn, cls)(3000, 8, padding_idx=5).weight.detach().numpy()
    np.testing.assert_array_equal(w, again)


def test_prelu_rmsnorm_init_and_dtype_as_torch():
    assert tracer.nn.PReLU(4, init=-0.3).weight.dtype == tracer.float32
    assert tracer.nn.RMSNorm(3, dtype=tracer.float64).weight.dtype == tracer.float64
    for make in (lambda nn: nn.PReLU(4, init=-0.3), lambda nn: nn.RMSNorm(3)):
        ours, theirs = make(tracer.nn), make(torch.nn)
        np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
        assert ours.weight.requires_grad


# -- activations: corners, non-finite values, inplace ----------------------------------------
ACTIVATIONS = {
    "mish": lambda F, x: F.mish(x), "logsigmoid": lambda F, x: F.logsigmoid(x),
    "hardswish": lambda F, x: F.hardswish(x), "hardsigmoid": lambda F, x: F.hardsigmoid(x),
    "selu": lambda F, x: F.selu(x), "celu": lambda F, x: F.celu(x, 0.7), "softsign": lambda F, x: F.softsign(x),
    "tanhshrink": lambda F, x: F.tanhshrink(x), "softshrink": lambda F, x: F.softshrink(x),
    "softshrink_0": lambda F, x: F.softshrink(x, 0.0), "hardshrink": lambda F, x: F.hardshrink(x),
    "softplus": lambda F, x: F.softplus(x), "softplus_threshold": lambda F, x: F.softplus(x, 2.0, 1.0),
    "prelu": lambda F, x: F.prelu(x, x.new_ones(1) * 0.2), "glu": lambda F, x: F.glu(x, 0),
}
CORNERS = np.array([-100.0, -7.0, -3.0, -1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0, 3.0, 6.5, 25.0, 100.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_values_and_gradients_at_the_corners_as_torch(name, dtype):
    """The kinks (+-3, +-lambd, 0, the softplus threshold) get torch's one-sided gradient."""
    results = []
    for m in (torch, tracer):
        x = m.tensor(CORNERS.astype(dtype), requires_grad=True)
        y = ACTIVATIONS[name](m.nn.functional, x)
        y.backward(m.ones(tuple(y.shape), dtype=y.dtype))
        results.append((y.detach().numpy(), x.grad.numpy()))
    (theirs, their_grad), (ours, our_grad) = results
    assert ours.dtype == theirs.dtype
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ours, theirs, **tol)
    if name == "hardsigmoid" and dtype == "float64":
        tol = dict(rtol=1e-7)  # torch's double kernel multiplies by the float constant 1.0f / 6.0f
    if name == "celu" and dtype == "float64":
        tol = dict(rtol=1e-6, atol=1e-15)  # torch's double backward reads 1 / alpha as a float
    np.testing.assert_allclose(our_grad, their_grad, **tol)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_non_finite_values_as_torch(name):
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 2.0], np.float32)
    ours = ACTIVATIONS[name](tracer.nn.functional, tracer.tensor(special)).numpy()
    theirs = ACTIVATIONS[name](torch.nn.functional, torch.tensor(special)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)  # nan where torch's is, the same infinities


INPLACE = {
    "mish": lambda F, x, inplace: F.mish(x, inplace),
    "hardswish": lambda F, x, inplace: F.hardswish(x, inplace=inplace),
    "hardsigmoid": lambda F, x, inplace: F.hardsigmoid(x, inplace),
    "selu": lambda F, x, inplace: F.selu(x, inplace=inplace),
    "celu": lambda F, x, inplace: F.celu(x, 0.6, inplace),
    "Mish": lambda F, x, inplace: (tracer if F is tracer.nn.functional else torch).nn.Mish(inplace)(x),
    "SELU": lambda F, x, inplace: (tracer if F is tracer.nn.functional else torch).nn.SELU(inplace)(x),
    "CELU": lambda F, x, inplace: (tracer if F is tracer.nn.functional else torch).nn.CELU(1.3, inplace)(x),
    "Hardswish": lambda F, x, inplace: (tracer if F is tracer.nn.functional else torch).nn.Hardswish(inplace)(x),
    "Hardsigmoid": lambda F, x, inplace: (tracer if F is tracer.nn.functional else torch).nn.Hardsigmoid(inplace)(x),
}
VALUES = np.array([-7.0, -3.0, -0.6, -0.1, 0.0, 0.3, 0.8, 3.0, 6.5], np.float32)


def _run(m, apply):
    """``apply(h)`` on a non-leaf h = 2 w; returns h after, the result, whether they are one
    tensor, and w's gradient of (result * w).sum()."""
    w = m.tensor(VALUES / 2, requires_grad=True)
    h = w * 2
    out = apply(h)
    (out * w).sum().backward()
    return h.detach().numpy().copy(), out.detach().numpy(), out is h, w.grad.numpy()


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_writes_the_input_as_torch(name, inplace):
    ours = _run(tracer, lambda h: INPLACE[name](tracer.nn.functional, h, inplace))
    theirs = _run(torch, lambda h: INPLACE[name](torch.nn.functional, h, inplace))
    assert ours[2] == theirs[2] == inplace
    for a, b in zip(ours[:2] + ours[3:], theirs[:2] + theirs[3:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["mish", "hardswish", "selu", "celu"])
def test_inplace_on_a_leaf_that_requires_grad_raises_as_torch(name):
    for m in (torch, tracer):
        x = m.tensor(VALUES, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            INPLACE[name](m.nn.functional, x, True)
        np.testing.assert_array_equal(x.detach().numpy(), VALUES)


def test_prelu_learns_one_slope_per_channel_as_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    grads = []
    for m in (torch, tracer):
        layer = m.nn.PReLU(3)
        (layer(m.tensor(x)) ** 2).sum().backward()
        grads.append(layer.weight.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)


# -- embeddings -----------------------------------------------------------------------------
IDX = np.array([[0, 2, 2, 5], [1, 0, 2, 3]])


def _weights_and_grad(m, fn, weight):
    w = m.tensor(weight, requires_grad=True)
    out = fn(m, w)
    g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(weight.dtype)
    (out * m.tensor(g)).sum().backward()
    return out.detach().numpy(), w.grad.numpy(), w.detach().numpy()


def test_padding_idx_gets_no_gradient_and_repeated_indices_sum():
    for cls in ("Embedding", "EmbeddingBag"):
        layer = getattr(tracer.nn, cls)(6, 3, padding_idx=2)
        out = layer(tracer.tensor(IDX))
        (out * 3).sum().backward()
        g = layer.weight.grad.numpy()
        assert np.all(g[2] == 0) and np.all(g[4] == 0)
        assert np.all(g[0] != 0) and np.all(g[5] != 0)
    layer = tracer.nn.Embedding(6, 3)
    layer(tracer.tensor(IDX)).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[:, 0], [2, 1, 3, 1, 0, 1])  # counts of each index


@pytest.mark.parametrize("kw", [{"scale_grad_by_freq": True}, {"scale_grad_by_freq": True, "padding_idx": 2},
                                {"scale_grad_by_freq": True, "max_norm": 0.7}])
def test_embedding_scale_grad_by_freq_as_torch(kw):
    weight = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    ours = _weights_and_grad(tracer, lambda m, w: m.nn.functional.embedding(m.tensor(IDX), w, **kw), weight)
    theirs = _weights_and_grad(torch, lambda m, w: m.nn.functional.embedding(m.tensor(IDX), w, **kw), weight)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq_divides_by_each_index_count(mode):
    """As documented (and as torch's CUDA kernel and F.embedding): torch 2.13's CPU
    embedding_bag divides by the count of another index (pytorch/pytorch#190063), so the
    reference is torch's embedding followed by the bag's sum or mean."""
    weight = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    ours = _weights_and_grad(tracer, lambda m, w: m.nn.functional.embedding_bag(
        m.tensor(IDX), w, mode=mode, scale_grad_by_freq=True), weight)
    reduce = (lambda t: t.sum(1)) if mode == "sum" else (lambda t: t.mean(1))
    theirs = _weights_and_grad(torch, lambda m, w: reduce(m.nn.functional.embedding(
        m.tensor(IDX), w, scale_grad_by_freq=True)), weight)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


BAGS = [
    dict(input=IDX, mode="mean"), dict(input=IDX, mode="max", padding_idx=2), dict(input=IDX, mode="sum", max_norm=1.0),
    dict(input=IDX.reshape(-1), offsets=[0, 3, 3, 5], mode="max", max_norm=0.5, norm_type=1.0),
    dict(input=IDX.reshape(-1), offsets=[0, 0, 8], mode="mean", include_last_offset=True, padding_idx=0),
    dict(input=IDX.reshape(-1), offsets=[0, 2, 2, 2], mode="sum", per_sample_weights=np.arange(8.0) / 4 - 1),
]


@pytest.mark.parametrize("case", BAGS, ids=[str(i) for i in range(len(BAGS))])
def test_embedding_bag_forward_backward_renorm_and_module_as_torch(case):
    weight = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    args = dict(case)

    def call(m, w):
        kw = {k: m.tensor(v) if isinstance(v, (list, np.ndarray)) else v for k, v in args.items()}
        if "per_sample_weights" in kw:
            kw["per_sample_weights"] = kw["per_sample_weights"].float()
        return m.nn.functional.embedding_bag(weight=w, **kw)

    for a, b in zip(_weights_and_grad(tracer, call, weight), _weights_and_grad(torch, call, weight)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    module_kw = {k: v for k, v in args.items() if k not in ("input", "offsets", "per_sample_weights")}
    outs = []
    for m in (tracer, torch):
        bag = m.nn.EmbeddingBag.from_pretrained(m.tensor(weight), **module_kw)
        offsets = m.tensor(args["offsets"]) if "offsets" in args else None
        psw = m.tensor(args["per_sample_weights"]).float() if "per_sample_weights" in args else None
        outs.append(bag(m.tensor(args["input"]), offsets, psw).detach().numpy())
        assert not bag.weight.requires_grad
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-7)


def test_embedding_bag_max_gives_a_tie_to_the_first_maximum_as_torch():
    grads = []
    for m in (torch, tracer):
        w = m.ones(4, 2, requires_grad=True)
        m.nn.functional.embedding_bag(m.tensor([[3, 1, 2], [0, 2, 2]]), w, mode="max").sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])
    np.testing.assert_array_equal(grads[1][:, 0], [1, 0, 0, 1])


def test_from_pretrained_freezes_by_default_and_trains_when_asked():
    w = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    for cls in ("Embedding", "EmbeddingBag"):
        frozen = getattr(tracer.nn, cls).from_pretrained(tracer.tensor(w))
        assert not frozen.weight.requires_grad and not frozen(tracer.tensor([[1, 3]])).requires_grad
        assert repr(frozen) == repr(getattr(torch.nn, cls).from_pretrained(torch.tensor(w)))
        trainable = getattr(tracer.nn, cls).from_pretrained(tracer.tensor(w), freeze=False, padding_idx=1)
        trainable(tracer.tensor([[1, 3]])).sum().backward()
        assert trainable.weight.requires_grad and trainable.padding_idx == 1
        np.testing.assert_array_equal(trainable.weight.grad.numpy()[:, 0] != 0, [False, False, False, True])


def test_sparse_gradients_are_refused_with_a_clear_error():
    w = tracer.ones(4, 2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="no sparse tensors"):
        tracer.nn.functional.embedding(tracer.tensor([1]), w, sparse=True)
    with pytest.raises(NotImplementedError, match="no sparse tensors"):
        tracer.nn.EmbeddingBag(4, 2, sparse=True)(tracer.tensor([[1, 2]]))
    with pytest.raises(NotImplementedError, match="no sparse tensors"):
        tracer.nn.functional.embedding(tracer.tensor([3]), w, max_norm=0.1, sparse=True)
    np.testing.assert_array_equal(w.detach().numpy(), np.ones((4, 2)))  # refused before the renorm


def test_include_last_offset_must_end_at_the_input_length():
    """torch 2.13 reads a last offset short of the input inconsistently (its mean divides by
    the distance to the input's end, max folds the rest in); refused instead."""
    with pytest.raises(RuntimeError, match="the last offset value should be the size of the indices"):
        tracer.nn.functional.embedding_bag(tracer.tensor([1, 2, 3]), tracer.ones(5, 3), tracer.tensor([0, 2]),
                                           include_last_offset=True)


def test_embedding_bag_keeps_the_old_argument_order_with_torchs_warning():
    w = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    outs = []
    for m in (tracer, torch):
        with pytest.warns(UserWarning, match="Argument order of nn.functional.embedding_bag was changed"):
            outs.append(m.nn.functional.embedding_bag(m.tensor(w), m.tensor([[1, 2, 2]])).numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)


# -- RMSNorm ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rms_norm_eps_none_is_the_dtype_machine_epsilon(dtype):
    x = (np.random.default_rng(0).standard_normal((3, 4)) * 1e-8).astype(dtype)
    ours = tracer.nn.functional.rms_norm(tracer.tensor(x), [4]).numpy()
    theirs = torch.nn.functional.rms_norm(torch.tensor(x), [4]).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6 if dtype == "float32" else 1e-13)
    eps = np.finfo(dtype).eps  # comparable to the tiny mean square, so a wrong eps shows
    np.testing.assert_allclose(ours, x / np.sqrt((x * x).mean(-1, keepdims=True) + eps), rtol=1e-6)


@pytest.mark.parametrize("x_dtype, w_dtype", [("float32", "float64"), ("float64", "float32")])
def test_rms_norm_weight_of_another_dtype_keeps_the_input_dtype_and_warns(x_dtype, w_dtype):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)).astype(x_dtype), rng.standard_normal(4).astype(w_dtype)
    with pytest.warns(UserWarning, match="Mismatch dtype between input and weight"):
        ours = tracer.nn.functional.rms_norm(tracer.tensor(x), [4], tracer.tensor(w))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.functional.rms_norm(torch.tensor(x), [4], torch.tensor(w))
    assert str(ours.numpy().dtype) == x_dtype
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_layer_norm_without_bias_as_torch():
    x = np.random.default_rng(0).standard_normal((2, 5, 4)).astype(np.float32)
    outs = []
    for m in (tracer, torch):
        m.manual_seed(0)
        norm = m.nn.LayerNorm(4, bias=False)
        assert norm.bias is None
        y = norm(m.tensor(x))
        y.pow(2).sum().backward()
        outs.append((y.detach().numpy(), norm.weight.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# -- misuse ---------------------------------------------------------------------------------
E = lambda m: m.nn.functional  # noqa: E731
MISUSE = [
    lambda m: E(m).mish(m.ones(2, dtype=m.int64)),
    lambda m: E(m).mish(m.ones(2, dtype=m.bool)),
    lambda m: E(m).logsigmoid(m.ones(2, dtype=m.int32)),
    lambda m: E(m).hardswish(m.ones(2, dtype=m.int64)),
    lambda m: E(m).hardsigmoid(m.ones(2, dtype=m.bool)),
    lambda m: E(m).selu(m.ones(2, dtype=m.int64)),
    lambda m: E(m).celu(m.ones(2, dtype=m.int64)),
    lambda m: E(m).celu(m.ones(2), 0.0),
    lambda m: E(m).softshrink(m.ones(2), -0.5),
    lambda m: E(m).softshrink(m.ones(2, dtype=m.float64), -1.0),
    lambda m: E(m).softshrink(m.ones(2, dtype=m.int64)),
    lambda m: E(m).hardshrink(m.ones(2, dtype=m.uint8)),
    lambda m: E(m).softplus(m.ones(2, dtype=m.int64)),
    lambda m: E(m).softsign(m.ones(2, dtype=m.bool)),
    lambda m: E(m).tanhshrink(m.ones(2, dtype=m.bool)),
    lambda m: E(m).glu(m.ones(3, 5)),
    lambda m: E(m).glu(m.ones(())),
    lambda m: E(m).glu(m.ones(3, 4), 2),
    lambda m: E(m).glu(m.ones(2, 4, dtype=m.int64)),
    lambda m: E(m).prelu(m.ones(2, 3), m.ones(2, 2)),
    lambda m: E(m).prelu(m.ones(2, 1), m.ones(1, 1)),
    lambda m: E(m).prelu(m.ones(2, 3), m.ones(2)),
    lambda m: E(m).prelu(m.ones(()), m.ones(2)),
    lambda m: E(m).prelu(m.ones(3), m.ones(3)),
    lambda m: E(m).prelu(m.ones(2, 3, dtype=m.float64), m.ones(3)),
    lambda m: E(m).prelu(m.ones(2, 3, dtype=m.int64), m.ones(1)),
    lambda m: m.nn.PReLU(3)(m.ones(2, 4)),
    lambda m: E(m).rms_norm(m.ones(2, 3), []),
    lambda m: E(m).rms_norm(m.ones(2, 3), [2]),
    lambda m: E(m).rms_norm(m.ones(2, 3, 4), [2, 4]),
    lambda m: E(m).rms_norm(m.ones(2, 3), [3], m.ones(2)),
    lambda m: E(m).rms_norm(m.ones(3), [2, 3]),
    lambda m: E(m).rms_norm(m.ones(2, 3), 3),
    lambda m: E(m).rms_norm(m.ones(2, 3), (3.0,)),
    lambda m: E(m).rms_norm(m.ones(2, 3, dtype=m.int64), [3]),
    lambda m: E(m).rms_norm(m.ones(2, 3), [3], "w"),
    lambda m: m.nn.RMSNorm(4)(m.ones(2, 3)),
    lambda m: E(m).embedding(m.tensor([1.0]), m.ones(4, 2)),
    lambda m: E(m).embedding(m.tensor([True]), m.ones(4, 2)),
    lambda m: E(m).embedding(m.tensor([1], dtype=m.uint8), m.ones(4, 2)),
    lambda m: E(m).embedding(m.tensor([1.0]), m.ones(4, 2), max_norm=1.0),
    lambda m: E(m).embedding(m.tensor([4]), m.ones(4, 2)),
    lambda m: E(m).embedding(m.tensor([[0, -1]]), m.ones(4, 2)),
    lambda m: E(m).embedding(m.tensor([5]), m.ones(4, 2), max_norm=1.0),
    lambda m: E(m).embedding(m.tensor([-1]), m.ones(4, 2), max_norm=1.0),
    lambda m: E(m).embedding(m.tensor([1]), m.ones(4)),
    lambda m: E(m).embedding(m.tensor([1]), m.ones(4), max_norm=1.0),
    lambda m: E(m).embedding(m.tensor([1]), m.ones(4, 2, dtype=m.int32), max_norm=1.0),
    lambda m: E(m).embedding([1], m.ones(4, 2)),
    lambda m: E(m).embedding(m.tensor([1]), m.ones(4, 2), padding_idx=4),
    lambda m: E(m).embedding(m.tensor([1]), m.ones(4, 2), padding_idx=1.5),
    lambda m: m.nn.Embedding(4, 2, _weight=m.ones(3, 2)),
    lambda m: m.nn.Embedding.from_pretrained(m.ones(3)),
    lambda m: m.nn.Embedding(4, 2, padding_idx=4),
    lambda m: m.nn.Embedding(4, 2, padding_idx=-5),
    lambda m: E(m).embedding_bag(m.tensor([1, 2, 3]), m.ones(5, 3), m.tensor([1, 2])),
    lambda m: E(m).embedding_bag(m.tensor([1, 2, 3]), m.ones(5, 3), m.tensor([0, 4])),
    lambda m: E(m).embedding_bag(m.tensor([1.0, 2, 3]), m.ones(5, 3), m.tensor([0, 2])),
    lambda m: E(m).embedding_bag(m.tensor([1, 2, 7]), m.ones(5, 3), m.tensor([0, 2])),
    lambda m: E(m).embedding_bag(m.tensor([1, 2, -1]), m.ones(5, 3), m.tensor([0, 2])),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), m.tensor([0])),
    lambda m: E(m).embedding_bag(m.tensor([1, 2, 3]), m.ones(5, 3)),
    lambda m: E(m).embedding_bag(m.tensor([1, 2, 3]), m.ones(5, 3), m.tensor([[0]])),
    lambda m: E(m).embedding_bag(m.tensor([[[1, 2, 3]]]), m.ones(5, 3)),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), mode="foo"),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), mode="max", scale_grad_by_freq=True),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), mode="max", sparse=True),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), per_sample_weights=m.ones(1, 3)),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), mode="sum", per_sample_weights=m.ones(3)),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), mode="sum",
                                 per_sample_weights=m.ones(1, 3, dtype=m.float64)),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5)),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), padding_idx=5),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3), padding_idx=-6),
    lambda m: E(m).embedding_bag(m.tensor([[1, 2, 3]]), m.ones(5, 3, dtype=m.int64)),
    lambda m: E(m).embedding_bag(m.zeros(2, 0, dtype=m.int64), m.ones(5, 3)),
    lambda m: E(m).embedding_bag(m.tensor([1, 2, 3]), m.ones(5, 3), m.tensor([0, 3, 2]), include_last_offset=True),
    lambda m: m.nn.EmbeddingBag(4, 2, padding_idx=4),
    lambda m: m.nn.EmbeddingBag(4, 2, _weight=m.ones(4, 3)),
    lambda m: m.nn.EmbeddingBag.from_pretrained(m.ones(2, 2, 2)),
]


@pytest.mark.parametrize("call", MISUSE, ids=[str(i) for i in range(len(MISUSE))])
def test_misuse_raises_torchs_exception_and_message(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            call(torch)
        with pytest.raises(type(theirs.value)) as ours:
            call(tracer)
    # torch's first line, up to the type it prints; ours may name the op first and adds the types
    expected = str(theirs.value).split("\n")[0].replace("<class 'torch.Tensor'>", "")
    assert expected in str(ours.value)
    assert "test_sequence_layers.py" in str(ours.value)


def test_index_checks_leave_the_weight_as_it_was():
    w = tracer.ones(4, 2, requires_grad=True)
    for bad in ([5], [-1]):
        with pytest.raises(IndexError):
            tracer.nn.functional.embedding(tracer.tensor(bad), w, max_norm=0.5)
    np.testing.assert_array_equal(w.detach().numpy(), np.ones((4, 2)))


# -- a small model trained compiled -----------------------------------------------------------
def _net(m):
    """Every new layer in one small sequence classifier."""
    nn = m.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(11, 8, padding_idx=0, scale_grad_by_freq=True)
            self.bag = nn.EmbeddingBag(11, 6, mode="max", padding_idx=0)
            self.norm = nn.RMSNorm(8)
            self.gate = nn.Linear(8, 12)
            self.glu = nn.GLU()
            self.prelu = nn.PReLU()
            self.acts = nn.ModuleList([nn.Mish(), nn.Hardswish(), nn.SELU(), nn.CELU(0.8), nn.LogSigmoid(),
                                       nn.Softsign(), nn.Tanhshrink(), nn.Softshrink(0.2), nn.Hardshrink(0.1),
                                       nn.Hardsigmoid()])
            self.head = nn.Linear(6 * len(self.acts) + 6, 3)

        def forward(self, tokens):
            h = self.glu(self.gate(self.norm(self.emb(tokens))))       # (N, T, 6)
            h = self.prelu(h).mean(1)                                 # (N, 6)
            feats = [act(h) for act in self.acts] + [self.bag(tokens)]
            return self.head(m.cat(feats, 1))
    return Net()


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_a_model_of_the_new_layers_trains_compiled_as_torch(backend):
    rng = np.random.default_rng(3)
    xs = [rng.integers(0, 11, (4, 7)) for _ in range(8)]
    ys = [rng.integers(0, 3, 4) for _ in range(8)]
    tracer.manual_seed(0)
    ours = _net(tracer)
    theirs = _net(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    opt_a = tracer.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)

    def step(m, net, opt, x, y):
        opt.zero_grad()
        loss = m.nn.functional.cross_entropy(net(x), y)
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
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-3, atol=1e-5, err_msg=name)
    assert np.all(ours.emb.weight.detach().numpy()[0] == 0)  # the padding row never moved
