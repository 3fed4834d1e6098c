"""Op-table rows: activations, embeddings and RMS normalisation of the sequence-model issue."""
from __future__ import annotations

from op_rows import Bool, Int, R  # noqa: F401

S = (3, 4)
F = "nn.functional"
WIDE = dict(low=-5.0, high=5.0)  # past the +-3 corners of hardswish/hardsigmoid

ROWS = [
    # smooth activations: compositions of exp/tanh/sigmoid and the stable softplus primitive
    R("mish", lambda m, x: m.nn.functional.mish(x), S, low=-6, high=6),
    R("mish_0d", lambda m, x: m.nn.functional.mish(x), ()),
    R("mish_empty", lambda m, x: m.nn.functional.mish(x), (0, 3)),
    R("mish_inplace", lambda m, x: m.nn.functional.mish(x * 1, inplace=True), S),
    R("mish_module", lambda m, x: m.nn.Mish()(x), (2, 3, 4)),
    R("logsigmoid", lambda m, x: m.nn.functional.logsigmoid(x), S, low=-30, high=30),
    R("logsigmoid_0d", lambda m, x: m.nn.functional.logsigmoid(x), ()),
    R("logsigmoid_empty", lambda m, x: m.nn.LogSigmoid()(x), (2, 0)),
    R("logsigmoid_far_negative", lambda m, x: m.nn.functional.logsigmoid(x * 100 - 500), S, fd=False),
    R("selu", lambda m, x: m.nn.functional.selu(x), S),
    R("selu_0d", lambda m, x: m.nn.SELU()(x), ()),
    R("selu_empty", lambda m, x: m.nn.functional.selu(x), (0,)),
    R("selu_inplace", lambda m, x: m.nn.SELU(inplace=True)(x * 1), S),
    R("celu", lambda m, x: m.nn.functional.celu(x), S),
    R("celu_alpha", lambda m, x: m.nn.CELU(0.6)(x), (2, 3, 4)),
    R("celu_0d", lambda m, x: m.nn.functional.celu(x, 1.7), ()),
    R("celu_inplace", lambda m, x: m.nn.functional.celu(x + 0, 2.0, inplace=True), S),
    R("softsign", lambda m, x: m.nn.functional.softsign(x), S),
    R("softsign_module_0d", lambda m, x: m.nn.Softsign()(x), ()),
    R("softsign_int", lambda m, x: m.nn.functional.softsign(x), Int(S, -5, 5), grad=False),
    R("tanhshrink", lambda m, x: m.nn.functional.tanhshrink(x), S),
    R("tanhshrink_module_empty", lambda m, x: m.nn.Tanhshrink()(x), (0, 2)),
    R("tanhshrink_int", lambda m, x: m.nn.functional.tanhshrink(x), Int(S, -3, 3, "int32"), grad=False),
    # piecewise activations: branches chosen as torch's kernels (the corner values' gradients in
    # tests/tracer/test_sequence_layers.py)
    R("hardswish", lambda m, x: m.nn.functional.hardswish(x), S, **WIDE),
    R("hardswish_0d", lambda m, x: m.nn.Hardswish()(x), ()),
    R("hardswish_empty", lambda m, x: m.nn.functional.hardswish(x), (0, 3)),
    R("hardswish_inplace", lambda m, x: m.nn.functional.hardswish(x * 1, True), S, **WIDE),
    R("hardswish_corners", lambda m, x: m.nn.functional.hardswish(x.round()), S, **WIDE, fd=False),
    R("hardsigmoid", lambda m, x: m.nn.functional.hardsigmoid(x), S, **WIDE),
    R("hardsigmoid_0d", lambda m, x: m.nn.functional.hardsigmoid(x), ()),
    R("hardsigmoid_module_inplace", lambda m, x: m.nn.Hardsigmoid(inplace=True)(x * 1), (2, 3, 4), **WIDE),
    R("hardsigmoid_corners", lambda m, x: m.nn.functional.hardsigmoid(x.round()), S, **WIDE, fd=False),
    R("softshrink", lambda m, x: m.nn.functional.softshrink(x), S),
    R("softshrink_lambd", lambda m, x: m.nn.Softshrink(1.2)(x), (2, 3, 4)),
    R("softshrink_0d_zero_lambd", lambda m, x: m.nn.functional.softshrink(x, 0.0), ()),
    R("softshrink_at_lambd", lambda m, x: m.nn.functional.softshrink(x.round(), 1.0), S, fd=False),
    R("hardshrink", lambda m, x: m.nn.functional.hardshrink(x), S),
    R("hardshrink_lambd", lambda m, x: m.nn.Hardshrink(1.2)(x), (2, 3, 4)),
    R("hardshrink_empty", lambda m, x: m.nn.functional.hardshrink(x, 0.1), (0, 4)),
    R("hardshrink_at_lambd", lambda m, x: m.nn.functional.hardshrink(x.round(), 1.0), S, fd=False),
    # softplus: log1p(exp(beta x)) / beta, the input itself above the threshold
    R("softplus_beta_threshold", lambda m, x: m.nn.functional.softplus(x, beta=2.0, threshold=1.0), S, low=-3, high=3),
    R("softplus_module_threshold", lambda m, x: m.nn.Softplus(0.5, 0.4)(x), S, low=-3, high=3),
    R("softplus_large", lambda m, x: m.nn.functional.softplus(x * 20), S, fd=False),
    R("softplus_0d_empty", lambda m, x, y: m.nn.functional.softplus(x) + m.nn.functional.softplus(y).sum(), (),
      (0, 2)),
    # glu: first half times the sigmoid of the second
    R("glu", lambda m, x: m.nn.functional.glu(x), (3, 4)),
    R("glu_dim0", lambda m, x: m.nn.functional.glu(x, 0), (4, 3, 2)),
    R("glu_module_dim", lambda m, x: m.nn.GLU(1)(x), (2, 6, 3)),
    R("glu_empty", lambda m, x: m.nn.functional.glu(x, 0), (0, 4)),
    # prelu: one slope, or one per channel (dim 1)
    R("prelu_per_channel", lambda m, x, w: m.nn.functional.prelu(x, w), (2, 3, 4), (3,)),
    R("prelu_shared", lambda m, x, w: m.nn.functional.prelu(x, w), (2, 3), (1,)),
    R("prelu_0d_weight", lambda m, x, w: m.nn.functional.prelu(x, w), (4, 2), ()),
    R("prelu_1d_input", lambda m, x, w: m.nn.functional.prelu(x, w), (5,), (1,)),
    R("prelu_0d_input", lambda m, x, w: m.nn.functional.prelu(x, w), (), (1,)),
    R("prelu_empty", lambda m, x, w: m.nn.functional.prelu(x, w), (0, 3, 2), (3,)),
    R("prelu_module", lambda m, x: m.nn.PReLU(dtype=x.dtype).requires_grad_(False)(x), (2, 3)),
    R("prelu_module_channels", lambda m, x: m.nn.PReLU(3, init=0.1, dtype=x.dtype).requires_grad_(False)(x), (2, 3, 2, 2)),

    # embeddings: scale_grad_by_freq divides each row's gradient by its index's count (not the
    # derivative of the value, so no finite differences)
    R("embedding_scale_grad_by_freq", lambda m, i, w: m.nn.functional.embedding(i, w, scale_grad_by_freq=True),
      Int((3, 5), 0, 4), (4, 3), fd=False),
    R("embedding_scale_grad_by_freq_padding", lambda m, i, w: m.nn.functional.embedding(
        i, w, padding_idx=1, scale_grad_by_freq=True), Int((2, 6), 0, 4, "int32"), (4, 2), fd=False),
    R("embedding_module_pretrained", lambda m, i, w: m.nn.Embedding.from_pretrained(w, padding_idx=0)(i),
      Int((4,), 0, 3), (3, 5), grad=False),  # frozen: a parameter of w's values, no gradient to w
    R("embedding_module_max_norm", lambda m, i, w: m.nn.Embedding(5, 3, max_norm=1.0, _weight=w * 1, _freeze=True)(i),
      Int((2, 4), 0, 5), (5, 3), grad=False),
    # embedding bags: a scatter-add of the rows (sum, mean) or a masked max; empty bags are zeros
    R("embedding_bag_mean_2d", lambda m, i, w: m.nn.functional.embedding_bag(i, w), Int((3, 4), 0, 6), (6, 3)),
    R("embedding_bag_sum_offsets", lambda m, i, w: m.nn.functional.embedding_bag(
        i, w, m.tensor([0, 3, 3, 5]), mode="sum"), Int((8,), 0, 6), (6, 3)),
    R("embedding_bag_mean_offsets_empty_bag", lambda m, i, w: m.nn.functional.embedding_bag(
        i, w, m.tensor([0, 0, 2, 7])), Int((7,), 0, 5), (5, 2)),
    R("embedding_bag_max_offsets", lambda m, i, w: m.nn.functional.embedding_bag(
        i, w, m.tensor([0, 3, 3, 5]), mode="max"), Int((8,), 0, 6), (6, 3)),
    R("embedding_bag_max_2d_padding", lambda m, i, w: m.nn.functional.embedding_bag(
        i, w, mode="max", padding_idx=2), Int((4, 3), 0, 4), (4, 3)),
    R("embedding_bag_mean_padding_negative", lambda m, i, w: m.nn.functional.embedding_bag(
        i, w, m.tensor([0, 2, 6]), padding_idx=-1), Int((9,), 0, 4, "int32"), (4, 3)),
    R("embedding_bag_include_last_offset", lambda m, i, w: m.nn.functional.embedding_bag(
        i, w, m.tensor([0, 2, 2, 7]), mode="sum", include_last_offset=True), Int((7,), 0, 5), (5, 2)),
    R("embedding_bag_per_sample_weights", lambda m, i, w, p: m.nn.functional.embedding_bag(
        i, w, m.tensor([0, 1, 4]), mode="sum", per_sample_weights=p), Int((6,), 0, 5), (5, 3), (6,)),
    R("embedding_bag_per_sample_weights_2d", lambda m, i, w, p: m.nn.functional.embedding_bag(
        i, w, mode="sum", per_sample_weights=p), Int((2, 3), 0, 5), (5, 3), (2, 3)),
    R("embedding_bag_empty_input", lambda m, i, w: m.nn.functional.embedding_bag(i, w, m.tensor([0, 0]), mode="max"),
      Int((0,), 0, 4), (4, 3)),
    R("embedding_bag_no_bags", lambda m, i, w: m.nn.functional.embedding_bag(i, w), Int((0, 3), 0, 4), (4, 3)),
    R("embedding_bag_module", lambda m, i, w: m.nn.EmbeddingBag.from_pretrained(w, mode="sum")(i),
      Int((2, 5), 0, 4), (4, 3), grad=False),
    R("embedding_bag_module_max_norm", lambda m, i, w: m.nn.EmbeddingBag(
        4, 3, max_norm=0.8, mode="max", _weight=w * 1).requires_grad_(False)(i, m.tensor([0, 2, 2])),
      Int((6,), 0, 4), (4, 3), grad=False),
    # torch 2.13's CPU kernel divides by the count of another index (pytorch/pytorch#190063, fixed after
    # 2.13); ours divides by each index's own count, as its documentation, CUDA and F.embedding do
    R("embedding_bag_scale_grad_by_freq", lambda m, i, w: m.nn.functional.embedding_bag(
        i, w, m.tensor([0, 4]), mode="sum", scale_grad_by_freq=True), Int((7,), 0, 3), (3, 2), fd=False,
      xfail={"grad_torch": "torch 2.13 CPU embedding_bag scales by the wrong count (pytorch/pytorch#190063)"}),
    # RMS normalisation: x / sqrt(mean(x^2) + eps) * weight, eps None = finfo(dtype).eps
    R("rms_norm", lambda m, x: m.nn.functional.rms_norm(x, [4]), (3, 4)),
    R("rms_norm_weight_eps", lambda m, x, w: m.nn.functional.rms_norm(x, (3, 4), w, eps=1e-3), (2, 3, 4), (3, 4)),
    R("rms_norm_tiny_values", lambda m, x: m.nn.functional.rms_norm(x * 1e-5, [4]), (3, 4)),
    R("rms_norm_empty_batch", lambda m, x, w: m.nn.functional.rms_norm(x, [3], w), (0, 3), (3,)),
    R("rms_norm_whole_tensor", lambda m, x: m.nn.functional.rms_norm(x, x.shape), (2, 3)),
    R("rms_norm_weight_float64", lambda m, x, w: m.nn.functional.rms_norm(x, [4], w.double()), (3, 4), (4,),
      dtypes=("float32",)),
    R("rms_norm_module", lambda m, x: m.nn.RMSNorm(4, elementwise_affine=False)(x), (2, 3, 4)),
    R("rms_norm_module_affine", lambda m, x: m.nn.RMSNorm([3, 4], dtype=x.dtype).requires_grad_(False)(x), (2, 3, 4)),
]
