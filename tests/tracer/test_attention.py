"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against torch
2.13 with copied weights: outputs, attention weights and every gradient (float64, so the
comparison is tight), masks of every kind, reprs, state-dict keys, errors, and compiled
training steps on both backends."""
from __future__ import annotations

import numpy as np
import pytest

import tracer
from tracer.nn.attention import MultiheadAttention, scaled_dot_product_attention

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _pair(arrays, grad=True):
    theirs = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ours = [tracer.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    return theirs, ours


def _assert_close(ours, theirs, what, rtol=1e-10, atol=1e-12):
    got = ours.detach().numpy() if hasattr(ours, "detach") else ours
    want = theirs.detach().numpy()
    assert got.shape == want.shape, f"{what}: shape {got.shape} != torch {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def _backward_both(out_theirs, out_ours, seed=0):
    w = np.random.default_rng(seed).standard_normal(tuple(out_theirs.shape))
    (out_theirs * torch.tensor(w)).nansum().backward()
    (tracer.nan_to_num(out_ours, nan=0.0) * tracer.tensor(w)).sum().backward()


rng = np.random.default_rng(0)
Q, K, V = rng.standard_normal((2, 3, 4, 8)), rng.standard_normal((2, 3, 6, 8)), rng.standard_normal((2, 3, 6, 5))
BOOL = rng.random((4, 6)) > 0.4
BOOL[1] = False  # a query that may attend to nothing: zeros, as torch's safe softmax
SDPA_CASES = {
    "plain": ((Q, K, V), {}),
    "bool_mask_with_a_fully_masked_row": ((Q, K, V, BOOL), {}),
    "float_mask": ((Q, K, V, rng.standard_normal((4, 6))), {}),
    "float_mask_with_minus_inf_row": ((Q, K, V, np.where(BOOL, 0.0, -np.inf)), {}),
    "per_batch_mask": ((Q, K, V, rng.random((2, 1, 4, 6)) > 0.3), {}),
    "causal": ((Q, K, V), {"is_causal": True}),
    "causal_square": ((Q, K[:, :, :4], V[:, :, :4]), {"is_causal": True}),
    "scale": ((Q, K, V), {"scale": 0.3}),
    "grouped_query_heads": ((rng.standard_normal((2, 6, 4, 8)), K, V), {"enable_gqa": True}),
    "three_d": ((Q[0], K[0], V[0]), {}),
    "two_d": ((Q[0, 0], K[0, 0], V[0, 0]), {}),
    "empty_batch": ((Q[:0], K[:0], V[:0]), {}),
}


@pytest.mark.parametrize("case", SDPA_CASES, ids=str)
def test_sdpa_values_and_gradients_equal_torch(case):
    arrays, kw = SDPA_CASES[case]
    theirs, ours = _pair(arrays)
    mask = {"attn_mask": 3} if len(arrays) == 4 else {}
    t = F.scaled_dot_product_attention(*theirs[:3], **{k: theirs[v] for k, v in mask.items()}, **kw)
    o = scaled_dot_product_attention(*ours[:3], **{k: ours[v] for k, v in mask.items()}, **kw)
    _assert_close(o, t, "output")
    if t.numel():
        _backward_both(t, o)
        for name, a, b in zip("qkv", ours, theirs):
            _assert_close(a.grad, b.grad, f"d{name}")


def test_sdpa_causal_and_mask_together_combine_as_torchs_fused_kernel():
    q = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)
    mask = rng.random((3, 3)) > 0.3
    with torch.no_grad():
        want = F.scaled_dot_product_attention(*(torch.tensor(q),) * 3, attn_mask=torch.tensor(mask), is_causal=True)
    got = scaled_dot_product_attention(*(tracer.tensor(q),) * 3, attn_mask=tracer.tensor(mask), is_causal=True)
    _assert_close(got, want, "causal & mask", rtol=1e-5, atol=1e-6)


def test_sdpa_dropout_zeroes_weights_and_rescales():
    tracer.manual_seed(0)
    q = tracer.ones(1, 1, 64, 4)
    v = tracer.ones(1, 1, 64, 4)
    out = scaled_dot_product_attention(q, q, v, dropout_p=0.5)
    # uniform weights 1/64, half dropped and the rest doubled: each row sums to about 1
    assert 0.6 < float(out.mean()) < 1.4 and float(out.std()) > 0.05


@pytest.mark.parametrize("call, kind, text", [
    (lambda m, q: m(q, q[..., :3], q), RuntimeError, "same embedding size"),
    (lambda m, q: m(q, q, q[..., :2, :]), RuntimeError, "same sequence length"),
    (lambda m, q: m(q, q, q, dropout_p=1.5), RuntimeError, "dropout probability has to be between 0 and 1"),
    (lambda m, q: m(q, q.double(), q), RuntimeError, "same dtype"),
])
def test_sdpa_misuse_raises_torchs_exception_type(call, kind, text):
    # 3-D: torch's 4-D fused CPU kernel accepts a value of the wrong length without a word
    q = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(kind):
        call(F.scaled_dot_product_attention, torch.tensor(q))
    with pytest.raises(kind, match=text):
        call(scaled_dot_product_attention, tracer.tensor(q))


def _twin_mha(ours, **kw):
    twin = torch.nn.MultiheadAttention(ours.embed_dim, ours.num_heads, dtype=torch.float64, **kw)
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return twin


MHA_CONFIGS = {
    "default": {},
    "batch_first": {"batch_first": True},
    "no_bias": {"bias": False},
    "kdim_vdim": {"kdim": 5, "vdim": 3},
    "bias_kv": {"add_bias_kv": True},
    "zero_attn": {"add_zero_attn": True},
    "bias_kv_and_zero_attn": {"add_bias_kv": True, "add_zero_attn": True},
}
MHA_CALLS = {
    "plain": {},
    "no_weights": {"need_weights": False},
    "per_head_weights": {"average_attn_weights": False},
    "key_padding_bool": {"key_padding_mask": "kpm"},
    "key_padding_bool_no_weights": {"key_padding_mask": "kpm", "need_weights": False},
    "key_padding_float": {"key_padding_mask": "kpm_float"},
    "attn_mask_bool": {"attn_mask": "mask"},
    "attn_mask_float_no_weights": {"attn_mask": "mask_float", "need_weights": False},
    "attn_mask_3d": {"attn_mask": "mask3"},
    "causal_hint": {"attn_mask": "causal", "is_causal": True, "need_weights": False},
    "both_masks": {"attn_mask": "mask_float", "key_padding_mask": "kpm_float"},
}


def _mha_inputs(cfg, length=4, source=5, batch=2, embed=6, heads=2):
    r = np.random.default_rng(1)
    kdim, vdim = cfg.get("kdim", embed), cfg.get("vdim", embed)
    shape = (lambda n: (batch, n)) if cfg.get("batch_first") else (lambda n: (n, batch))
    arrays = {"q": r.standard_normal(shape(length) + (embed,)), "k": r.standard_normal(shape(source) + (kdim,)),
              "v": r.standard_normal(shape(source) + (vdim,))}
    kpm = r.random((batch, source)) < 0.3
    kpm[:, 0] = False  # every query keeps one key: no all-masked rows here (see the test below)
    masks = {"kpm": kpm, "kpm_float": r.standard_normal((batch, source)),
             "mask": np.triu(np.ones((length, source), bool), 2), "mask_float": r.standard_normal((length, source)),
             "mask3": r.standard_normal((batch * heads, length, source)),
             "causal": np.triu(np.ones((length, source), bool), 1)}
    return arrays, masks


@pytest.mark.parametrize("call", MHA_CALLS, ids=str)
@pytest.mark.parametrize("config", MHA_CONFIGS, ids=str)
def test_multihead_attention_equals_torch(config, call):
    cfg, kw = MHA_CONFIGS[config], MHA_CALLS[call]
    if (cfg.get("add_bias_kv") or cfg.get("add_zero_attn")) and kw.get("attn_mask") == "mask3":
        pytest.skip("a 3-D mask is padded along its keys by torch as by us; covered by the 2-D masks")
    tracer.manual_seed(0)
    ours = MultiheadAttention(6, 2, dtype=tracer.float64, **cfg)
    twin = _twin_mha(ours, **cfg)
    arrays, masks = _mha_inputs(cfg)
    theirs_in, ours_in = _pair([arrays["q"], arrays["k"], arrays["v"]])
    extra_t = {k: torch.tensor(masks[v]) if isinstance(v, str) else v for k, v in kw.items()}
    extra_o = {k: tracer.tensor(masks[v]) if isinstance(v, str) else v for k, v in kw.items()}
    t_out, t_w = twin(*theirs_in, **extra_t)
    o_out, o_w = ours(*ours_in, **extra_o)
    _assert_close(o_out, t_out, "output")
    assert (o_w is None) == (t_w is None)
    if t_w is not None:
        _assert_close(o_w, t_w, "weights")
    _backward_both(t_out, o_out)
    for name, p in ours.named_parameters():
        _assert_close(p.grad, dict(twin.named_parameters())[name].grad, f"d{name}")
    for name, a, b in zip("qkv", ours_in, theirs_in):
        _assert_close(a.grad, b.grad, f"d{name}")


def test_multihead_attention_unbatched_and_fully_padded_rows_as_torch():
    tracer.manual_seed(0)
    ours = MultiheadAttention(4, 2, dtype=tracer.float64)
    twin = _twin_mha(ours)
    x = np.random.default_rng(2).standard_normal((3, 4))
    t_out, t_w = twin(*(torch.tensor(x),) * 3)
    o_out, o_w = ours(*(tracer.tensor(x),) * 3)
    _assert_close(o_out, t_out, "unbatched output")
    _assert_close(o_w, t_w, "unbatched weights")
    padded = np.ones((1, 3), bool)
    xb = x[:, None]
    for need_weights in (True, False):  # softmax gives NaN rows; the SDPA path gives zeros
        t_out, _ = twin(*(torch.tensor(xb),) * 3, key_padding_mask=torch.tensor(padded), need_weights=need_weights)
        o_out, _ = ours(*(tracer.tensor(xb),) * 3, key_padding_mask=tracer.tensor(padded), need_weights=need_weights)
        np.testing.assert_array_equal(np.isnan(o_out.detach().numpy()), np.isnan(t_out.detach().numpy()))
        np.testing.assert_allclose(np.nan_to_num(o_out.detach().numpy()), np.nan_to_num(t_out.detach().numpy()), atol=1e-12)


def test_multihead_attention_repr_state_dict_and_init_as_torch():
    ours, theirs = MultiheadAttention(8, 2, add_bias_kv=True), torch.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]
    split = MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert list(split.state_dict()) == list(torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5).state_dict())
    assert float(ours.in_proj_bias.abs().sum()) == 0.0 and float(ours.out_proj.bias.abs().sum()) == 0.0
    bound = np.sqrt(6.0 / (8 + 24))  # xavier_uniform over (3E, E)
    w = ours.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound


MHA_MISUSE = [
    ((6, 4), None, AssertionError),  # embed_dim not divisible by num_heads
    ((0, 2), None, ValueError),
    ((6, 2), lambda m, x: m(x, x, x, is_causal=True), RuntimeError),  # the hint needs its mask
    ((6, 2), lambda m, x: m(x[..., :4], x[..., :4], x[..., :4]), AssertionError),
    ((6, 2), lambda m, x: m(x, x, x[0]), AssertionError),
]


@pytest.mark.parametrize("args, call, kind", MHA_MISUSE)
def test_multihead_attention_misuse_raises_as_torch(args, call, kind):
    x = np.zeros((3, 2, 6), np.float32)
    for cls, mod in ((torch.nn.MultiheadAttention, torch), (MultiheadAttention, tracer)):
        with pytest.raises(kind):
            layer = cls(*args)
            call(layer, mod.tensor(x))


def test_attention_trains_compiled_on_both_backends_as_torch():
    """A self-attention block with a causal mask, trained 6 compiled SGD steps on NumPy and
    on onnxruntime, against torch from the same weights (float32)."""
    r = np.random.default_rng(3)
    x = r.standard_normal((5, 4, 8)).astype(np.float32)
    y = r.standard_normal((5, 4, 8)).astype(np.float32)
    causal = np.triu(np.ones((5, 5), bool), 1)
    tracer.manual_seed(0)
    init = MultiheadAttention(8, 2).state_dict()
    results = {}
    for backend in ("numpy", "onnxruntime"):
        ours = MultiheadAttention(8, 2)
        ours.load_state_dict(init)
        opt = tracer.optim.SGD(ours.parameters(), lr=0.1)
        mask = tracer.tensor(causal)

        def step(a, b):
            opt.zero_grad()
            out, _ = ours(a, a, a, attn_mask=mask, need_weights=False)
            loss = tracer.nn.functional.mse_loss(out, b)
            loss.backward()
            opt.step()
            return loss
        run = tracer.compile(step, backend=backend)
        results[backend] = [float(run(tracer.tensor(x), tracer.tensor(y))) for _ in range(6)]
    twin = torch.nn.MultiheadAttention(8, 2)
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in init.items()})
    topt = torch.optim.SGD(twin.parameters(), lr=0.1)
    expected = []
    for _ in range(6):
        topt.zero_grad()
        out, _ = twin(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(causal), need_weights=False)
        loss = F.mse_loss(out, torch.tensor(y))
        loss.backward()
        topt.step()
        expected.append(loss.item())
    for backend, losses in results.items():
        np.testing.assert_allclose(losses, expected, rtol=2e-5, err_msg=backend)


from tracer.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,  # noqa: E402
                                   TransformerEncoder, TransformerEncoderLayer)


def _copy_into_torch(ours, twin):
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return twin


LAYER_CONFIGS = {
    "post_norm": {},
    "norm_first": {"norm_first": True},
    "gelu_batch_first": {"activation": "gelu", "batch_first": True},
    "callable_activation": {"activation": "silu"},
    "no_bias": {"bias": False},
}


def _activation_for(mod, cfg):
    cfg = dict(cfg)
    if cfg.get("activation") == "silu":
        cfg["activation"] = mod.nn.functional.silu
    return cfg


@pytest.mark.parametrize("masks", ["none", "causal", "padding"])
@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=str)
def test_transformer_encoder_equals_torch(config, masks):
    cfg = LAYER_CONFIGS[config]
    tracer.manual_seed(0)
    layer = TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, dtype=tracer.float64,
                                    **_activation_for(tracer, cfg))
    ours = TransformerEncoder(layer, 2, norm=tracer.nn.LayerNorm(8, dtype=tracer.float64))
    twin_layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, dtype=torch.float64,
                                                  **_activation_for(torch, cfg))
    twin = _copy_into_torch(ours, torch.nn.TransformerEncoder(twin_layer, 2, norm=torch.nn.LayerNorm(
        8, dtype=torch.float64), enable_nested_tensor=False))
    r = np.random.default_rng(4)
    shape = (3, 5, 8) if cfg.get("batch_first") else (5, 3, 8)
    x = r.standard_normal(shape)
    kw_t, kw_o = {}, {}
    if masks == "causal":
        kw_t["mask"] = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
        kw_o["mask"] = Transformer.generate_square_subsequent_mask(5, dtype=tracer.float64)
        kw_t["is_causal"] = kw_o["is_causal"] = True
    elif masks == "padding":
        pad = np.zeros((3, 5), bool)
        pad[0, 3:] = pad[2, 1:] = True
        kw_t["src_key_padding_mask"], kw_o["src_key_padding_mask"] = torch.tensor(pad), tracer.tensor(pad)
    (xt,), (xo,) = _pair([x])
    t, o = twin(xt, **kw_t), ours(xo, **kw_o)
    _assert_close(o, t, "output", rtol=1e-9, atol=1e-11)
    _backward_both(t, o)
    _assert_close(xo.grad, xt.grad, "dsrc", rtol=1e-9, atol=1e-11)
    for name, p in ours.named_parameters():
        _assert_close(p.grad, dict(twin.named_parameters())[name].grad, f"d{name}", rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("config", ["post_norm", "norm_first", "gelu_batch_first"])
def test_transformer_equals_torch(config):
    cfg = LAYER_CONFIGS[config]
    tracer.manual_seed(0)
    ours = Transformer(8, 2, 2, 2, 16, dropout=0.0, dtype=tracer.float64, **cfg)
    twin = _copy_into_torch(ours, torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, dtype=torch.float64, **cfg))
    r = np.random.default_rng(5)
    src, tgt = (r.standard_normal((2, n, 8) if cfg.get("batch_first") else (n, 2, 8)) for n in (6, 4))
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    mask_o = Transformer.generate_square_subsequent_mask(4, dtype=tracer.float64)
    pad = np.zeros((2, 6), bool)
    pad[1, 4:] = True
    (st, tt), (so, to) = _pair([src, tgt])
    t = twin(st, tt, tgt_mask=mask_t, src_key_padding_mask=torch.tensor(pad), memory_key_padding_mask=torch.tensor(pad))
    o = ours(so, to, tgt_mask=mask_o, src_key_padding_mask=tracer.tensor(pad), memory_key_padding_mask=tracer.tensor(pad))
    _assert_close(o, t, "output", rtol=1e-9, atol=1e-11)
    _backward_both(t, o)
    for name, p in ours.named_parameters():
        _assert_close(p.grad, dict(twin.named_parameters())[name].grad, f"d{name}", rtol=1e-9, atol=1e-11)


def test_transformer_reprs_state_dicts_and_masks_as_torch():
    pairs = [
        (TransformerEncoderLayer(8, 2, 16), torch.nn.TransformerEncoderLayer(8, 2, 16)),
        (TransformerDecoderLayer(8, 2, 16, norm_first=True), torch.nn.TransformerDecoderLayer(8, 2, 16, norm_first=True)),
        (TransformerEncoderLayer(8, 2, 16, activation=tracer.nn.GELU()),
         torch.nn.TransformerEncoderLayer(8, 2, 16, activation=torch.nn.GELU())),
        (Transformer(8, 2, 1, 1, 16), torch.nn.Transformer(8, 2, 1, 1, 16)),
        (TransformerDecoder(TransformerDecoderLayer(8, 2, 16), 2),
         torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, 16), 2)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(Transformer.generate_square_subsequent_mask(4).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    with pytest.raises(RuntimeError, match="relu/gelu"):
        TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(RuntimeError, match="batch number"):
        Transformer(8, 2, 1, 1, 16)(tracer.zeros(3, 2, 8), tracer.zeros(3, 4, 8))


def test_transformer_encoder_trains_compiled_on_both_backends_as_torch():
    """A 2-layer encoder with a causal mask, 6 compiled Adam steps on NumPy and onnxruntime
    against torch from the same weights (float32, dropout off)."""
    r = np.random.default_rng(6)
    x = r.standard_normal((2, 6, 8)).astype(np.float32)
    y = r.standard_normal((2, 6, 8)).astype(np.float32)
    tracer.manual_seed(0)
    make = lambda: TransformerEncoder(TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2)  # noqa: E731
    init = make().state_dict()
    mask = Transformer.generate_square_subsequent_mask(6)
    results = {}
    for backend in ("numpy", "onnxruntime"):
        ours = make()
        ours.load_state_dict(init)
        opt = tracer.optim.Adam(ours.parameters(), lr=0.01)

        def step(a, b):
            opt.zero_grad()
            loss = tracer.nn.functional.mse_loss(ours(a, mask=mask, is_causal=True), b)
            loss.backward()
            opt.step()
            return loss
        run = tracer.compile(step, backend=backend)
        results[backend] = [float(run(tracer.tensor(x), tracer.tensor(y))) for _ in range(6)]
    twin = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
                                       enable_nested_tensor=False)
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in init.items()})
    topt = torch.optim.Adam(twin.parameters(), lr=0.01)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(6)
    expected = []
    for _ in range(6):
        topt.zero_grad()
        loss = F.mse_loss(twin(torch.tensor(x), mask=tmask, is_causal=True), torch.tensor(y))
        loss.backward()
        topt.step()
        expected.append(loss.item())
    for backend, losses in results.items():
        np.testing.assert_allclose(losses, expected, rtol=2e-5, err_msg=backend)
