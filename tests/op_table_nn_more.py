"""Op-table rows of the everyday-API issue (13): the remaining losses, distances, softmin and
friends, the in-place functional forms, bilinear, channel shuffle, local response norm, LP
pooling and max unpooling. Every row is prefixed ``nnm_``. The random functions (rrelu in
training, alpha dropout, gumbel softmax) cannot match torch's draws: their eval behaviour and
deterministic corners are rows here, their statistics are in tests/tracer/test_nn_more.py."""
from __future__ import annotations

from op_rows import Int, R  # noqa: F401

S = (3, 4)
POS = dict(low=0.1, high=2.0)


def F(m):
    return m.nn.functional


def pm1(i, like):
    """A +-1 target of ``like``'s dtype from a {0, 1} integer input."""
    return (i * 2 - 1).to(like.dtype)


def unpool2d(m, x, k, stride=None, **kw):
    y, i = F(m).max_pool2d(x, k, stride, return_indices=True)
    return F(m).max_unpool2d(y, i, k, stride, **kw)


def unpool1d(m, x, k, stride=None, **kw):
    y, i = F(m).max_pool1d(x, k, stride, return_indices=True)
    return F(m).max_unpool1d(y, i, k, stride, **kw)


LABELS = [[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0], [0, 1, 2, 3], [2, 2, -1, 3]]

ROWS = [
    # KL divergence: xlogy(t, t) - t * x, or exp(t) (t - x) for a log target
    R("nnm_kl_div_mean", lambda m, x, t: F(m).kl_div(x, t.exp()), S, S),
    R("nnm_kl_div_batchmean", lambda m, x, t: F(m).kl_div(x, t.exp(), reduction="batchmean"), (2, 3, 4), (2, 3, 4)),
    R("nnm_kl_div_sum", lambda m, x, t: F(m).kl_div(x, t.exp(), reduction="sum"), S, S),
    R("nnm_kl_div_none", lambda m, x, t: F(m).kl_div(x, t.exp(), reduction="none"), S, S),
    R("nnm_kl_div_log_target", lambda m, x, t: F(m).kl_div(x, t, reduction="batchmean", log_target=True), S, S),
    R("nnm_kl_div_legacy_reduce", lambda m, x, t: F(m).kl_div(x, t.exp(), reduce=False), S, S),
    R("nnm_kl_div_legacy_size_average", lambda m, x, t: F(m).kl_div(x, t.exp(), size_average=False), S, S),
    # at target 0 torch's gradient of xlogy(t, t) is 0 + 0/0 = nan; ours counts that term as 0 (values agree)
    R("nnm_kl_div_zero_target", lambda m, x, t: F(m).kl_div(x, t.relu(), reduction="none"), S, S, grad=False),
    R("nnm_kl_div_0d", lambda m, x, t: F(m).kl_div(x, t.exp(), reduction="batchmean"), (), ()),
    R("nnm_kl_div_broadcast", lambda m, x, t: F(m).kl_div(x, t.exp(), reduction="sum"), S, (4,)),
    R("nnm_kl_div_empty", lambda m, x, t: F(m).kl_div(x, t.exp(), reduction="sum"), (0, 3), (0, 3)),
    R("nnm_kl_div_module", lambda m, x, t: m.nn.KLDivLoss(reduction="batchmean", log_target=True)(x, t), S, S),
    # Poisson NLL: exp(x) - t x, or x - t log(x + eps); full adds Stirling's term where t > 1
    R("nnm_poisson_nll", lambda m, x, t: F(m).poisson_nll_loss(x, t + 2), S, S),
    R("nnm_poisson_nll_rates", lambda m, x, t: F(m).poisson_nll_loss(x, t, log_input=False, reduction="sum"), S, S,
      **POS),
    R("nnm_poisson_nll_full", lambda m, x, t: F(m).poisson_nll_loss(x, t + 2, full=True, reduction="none"), S, S),
    R("nnm_poisson_nll_full_rates_eps", lambda m, x, t: F(m).poisson_nll_loss(
        x, t * 2, log_input=False, full=True, eps=0.5), S, S, **POS),
    R("nnm_poisson_nll_legacy", lambda m, x, t: F(m).poisson_nll_loss(x, t + 2, size_average=False), S, S),
    R("nnm_poisson_nll_0d", lambda m, x, t: F(m).poisson_nll_loss(x, t + 2, full=True), (), ()),
    R("nnm_poisson_nll_module", lambda m, x, t: m.nn.PoissonNLLLoss(full=True, reduction="sum")(x, t + 2), S, S),
    # Gaussian NLL: (log(max(var, eps)) + (x - t)^2 / max(var, eps)) / 2
    R("nnm_gaussian_nll", lambda m, x, t, v: F(m).gaussian_nll_loss(x, t, v * v), S, S, S),
    R("nnm_gaussian_nll_homoscedastic", lambda m, x, t, v: F(m).gaussian_nll_loss(
        x, t, v * v + 0.1, reduction="none"), (2, 3, 4), (2, 3, 4), (2, 3)),
    R("nnm_gaussian_nll_broadcast_var", lambda m, x, t, v: F(m).gaussian_nll_loss(x, t, v.abs() + 0.1, full=True,
                                                                                   reduction="sum"), S, S, (3, 1)),
    # torch clamps var without autograd: its gradient is the unclamped one's (not the derivative)
    R("nnm_gaussian_nll_clamped_var", lambda m, x, t, v: F(m).gaussian_nll_loss(x, t, v * v * 0.01, eps=0.01),
      S, S, S, fd=False),
    R("nnm_gaussian_nll_float_var", lambda m, x, t: F(m).gaussian_nll_loss(x, t, 0.5, full=True), S, S),
    R("nnm_gaussian_nll_0d", lambda m, x, t, v: F(m).gaussian_nll_loss(x, t, v * v), (), (), ()),
    R("nnm_gaussian_nll_module", lambda m, x, t, v: m.nn.GaussianNLLLoss(full=True, eps=1e-3)(x, t, v.abs()), S, S,
      S),
    # margin losses
    R("nnm_margin_ranking", lambda m, a, b, i: F(m).margin_ranking_loss(a, b, pm1(i, a)), (6,), (6,), Int((6,), 0, 2)),
    R("nnm_margin_ranking_margin_none", lambda m, a, b, i: F(m).margin_ranking_loss(
        a, b, pm1(i, a), margin=0.5, reduction="none"), S, S, Int(S, 0, 2)),
    R("nnm_margin_ranking_sum_0d", lambda m, a, b, i: F(m).margin_ranking_loss(a, b, pm1(i, a), 0.3, reduction="sum"),
      (), (), Int((), 0, 2)),
    R("nnm_margin_ranking_module", lambda m, a, b, i: m.nn.MarginRankingLoss(0.2, reduce=False)(a, b, pm1(i, a)),
      (5,), (5,), Int((5,), 0, 2)),
    R("nnm_hinge_embedding", lambda m, x, i: F(m).hinge_embedding_loss(x, pm1(i, x)), S, Int(S, 0, 2)),
    R("nnm_hinge_embedding_margin_none", lambda m, x, i: F(m).hinge_embedding_loss(
        x, pm1(i, x), margin=0.5, reduction="none"), S, Int(S, 0, 2)),
    R("nnm_hinge_embedding_other_targets", lambda m, x, i: F(m).hinge_embedding_loss(
        x, i.to(x.dtype) - 1, reduction="sum"), S, Int(S, 0, 3)),  # a 0 target counts both terms, as ATen
    R("nnm_hinge_embedding_0d_empty", lambda m, x, y, i: F(m).hinge_embedding_loss(x, pm1(i, x))
      + F(m).hinge_embedding_loss(y, y, reduction="sum"), (), (0, 2), Int((), 0, 2)),
    R("nnm_hinge_embedding_module", lambda m, x, i: m.nn.HingeEmbeddingLoss(2.0, reduction="sum")(x, pm1(i, x)), S,
      Int(S, 0, 2)),
    R("nnm_soft_margin", lambda m, x, i: F(m).soft_margin_loss(x, pm1(i, x)), S, Int(S, 0, 2)),
    R("nnm_soft_margin_none", lambda m, x, i: F(m).soft_margin_loss(x, pm1(i, x), reduction="none"), S, Int(S, 0, 2)),
    R("nnm_soft_margin_sum_legacy", lambda m, x, i: F(m).soft_margin_loss(x, pm1(i, x), size_average=False), S,
      Int(S, 0, 2)),
    R("nnm_soft_margin_0d_module", lambda m, x, i: m.nn.SoftMarginLoss()(x, pm1(i, x)), (), Int((), 0, 2)),
    R("nnm_cosine_embedding", lambda m, a, b, i: F(m).cosine_embedding_loss(a, b, pm1(i, a)), (5, 4), (5, 4),
      Int((5,), 0, 2)),
    R("nnm_cosine_embedding_margin_none", lambda m, a, b, i: F(m).cosine_embedding_loss(
        a, b, pm1(i, a), margin=0.3, reduction="none"), (6, 3), (6, 3), Int((6,), 0, 2)),
    R("nnm_cosine_embedding_1d_sum", lambda m, a, b, i: F(m).cosine_embedding_loss(a, b, pm1(i, a), -0.2,
                                                                                   reduction="sum"),
      (4,), (4,), Int((), 0, 2)),
    R("nnm_cosine_embedding_module", lambda m, a, b, i: m.nn.CosineEmbeddingLoss(0.1)(a, b, pm1(i, a)), (5, 4),
      (5, 4), Int((5,), 0, 2)),
    # triplet losses: max(0, d(a, p) - d(a, n) + margin)
    R("nnm_triplet_margin", lambda m, a, p, n: F(m).triplet_margin_loss(a, p, n), (5, 4), (5, 4), (5, 4)),
    R("nnm_triplet_margin_p1_swap_none", lambda m, a, p, n: F(m).triplet_margin_loss(
        a, p, n, margin=0.5, p=1, swap=True, reduction="none"), (5, 4), (5, 4), (5, 4)),
    R("nnm_triplet_margin_p3_eps_sum", lambda m, a, p, n: F(m).triplet_margin_loss(
        a, p, n, 2.0, 3, eps=1e-3, reduction="sum"), (5, 4), (5, 4), (5, 4)),
    R("nnm_triplet_margin_1d", lambda m, a, p, n: F(m).triplet_margin_loss(a, p, n, 3.0), (4,), (4,), (4,)),
    R("nnm_triplet_margin_module", lambda m, a, p, n: m.nn.TripletMarginLoss(1.5, swap=True)(a, p, n), (5, 4), (5, 4),
      (5, 4)),
    R("nnm_triplet_distance_default", lambda m, a, p, n: F(m).triplet_margin_with_distance_loss(a, p, n), (5, 4),
      (5, 4), (5, 4)),
    R("nnm_triplet_distance_cosine_swap", lambda m, a, p, n: F(m).triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda x, y: 1 - F(m).cosine_similarity(x, y), margin=0.4, swap=True,
        reduction="none"), (5, 4), (5, 4), (5, 4)),
    R("nnm_triplet_distance_module", lambda m, a, p, n: m.nn.TripletMarginWithDistanceLoss(
        distance_function=m.nn.PairwiseDistance(p=1), margin=2.0, reduction="sum")(a, p, n), (5, 4), (5, 4), (5, 4)),
    # multi-label and multi-class margins
    R("nnm_multilabel_soft_margin", lambda m, x, i: F(m).multilabel_soft_margin_loss(x, i.to(x.dtype)), S,
      Int(S, 0, 2), low=-5, high=5),
    R("nnm_multilabel_soft_margin_weight_none", lambda m, x, i, w: F(m).multilabel_soft_margin_loss(
        x, i.to(x.dtype), w, reduction="none"), S, Int(S, 0, 2), (4,)),
    R("nnm_multilabel_soft_margin_sum_module", lambda m, x, i: m.nn.MultiLabelSoftMarginLoss(reduction="sum")(
        x, i.to(x.dtype)), (2, 3, 4), Int((2, 3, 4), 0, 2)),
    R("nnm_multi_margin", lambda m, x, y: F(m).multi_margin_loss(x, y), (5, 4), Int((5,), 0, 4)),
    R("nnm_multi_margin_p2_margin_none", lambda m, x, y: F(m).multi_margin_loss(x, y, p=2, margin=0.5,
                                                                                reduction="none"),
      (5, 4), Int((5,), 0, 4)),
    # torch's weight is not differentiable (a weight that requires grad is refused: tests/tracer/test_nn_more.py)
    R("nnm_multi_margin_weight_sum", lambda m, x, y: F(m).multi_margin_loss(
        x, y, weight=m.tensor([0.5, 2.0, 1.0, 0.1], dtype=x.dtype), reduction="sum"), (5, 4), Int((5,), 0, 4)),
    R("nnm_multi_margin_1d", lambda m, x, y: F(m).multi_margin_loss(x, y, reduction="none"), (4,), Int((), 0, 4)),
    R("nnm_multi_margin_1d_target1", lambda m, x, y: F(m).multi_margin_loss(x, y, reduction="none"), (4,),
      Int((1,), 0, 4)),
    # (torch 2.13's CPU kernels reduce an empty batch to uninitialised memory; ours: 0 for sum, nan for mean)
    R("nnm_multi_margin_empty_batch", lambda m, x, y: F(m).multi_margin_loss(x, y, reduction="none"), (0, 3),
      Int((0,), 0, 3)),
    R("nnm_multi_margin_0d", lambda m, x, y: F(m).multi_margin_loss(x, y, reduction="none"), (), Int((), 0, 1)),
    R("nnm_multi_margin_module", lambda m, x, y: m.nn.MultiMarginLoss(2, 0.7)(x, y), (5, 4), Int((5,), 0, 4)),
    R("nnm_multilabel_margin", lambda m, x: F(m).multilabel_margin_loss(x, m.tensor(LABELS)), (5, 4)),
    R("nnm_multilabel_margin_none", lambda m, x: F(m).multilabel_margin_loss(x, m.tensor(LABELS), reduction="none"),
      (5, 4)),
    R("nnm_multilabel_margin_1d_sum", lambda m, x: F(m).multilabel_margin_loss(x, m.tensor([2, 0, -1, 3]),
                                                                              reduction="sum"), (4,)),
    R("nnm_multilabel_margin_0d", lambda m, x: F(m).multilabel_margin_loss(x, m.tensor(0)), ()),
    R("nnm_multilabel_margin_empty_batch_none", lambda m, x: F(m).multilabel_margin_loss(
        x, m.zeros(0, 3, dtype=m.int64), reduction="none"), (0, 3)),
    R("nnm_multilabel_margin_module", lambda m, x: m.nn.MultiLabelMarginLoss(reduce=False)(x, m.tensor(LABELS)),
      (5, 4)),

    # distances
    R("nnm_cosine_similarity", lambda m, a, b: F(m).cosine_similarity(a, b), S, S),
    R("nnm_cosine_similarity_dim_broadcast", lambda m, a, b: F(m).cosine_similarity(a, b, dim=-1), (2, 3, 4), (4,)),
    R("nnm_cosine_similarity_zero_row", lambda m, a, b: F(m).cosine_similarity(m.cat([a[:1] * 0, a[1:]]), b, 1),
      S, S),
    # torch 2.13 clamps the norms without autograd: the gradient is the unclamped one's (not the derivative)
    R("nnm_cosine_similarity_eps_clamp", lambda m, a, b: F(m).cosine_similarity(a * 1e-3, b, 0, eps=0.1), S, S,
      fd=False),
    R("nnm_cosine_similarity_module", lambda m, a, b: m.nn.CosineSimilarity(0, 1e-6)(a, b), S, S),
    R("nnm_cosine_similarity_empty", lambda m, a, b: F(m).cosine_similarity(a, b), (0, 3), (0, 3)),
    R("nnm_pairwise_distance", lambda m, a, b: F(m).pairwise_distance(a, b), S, S),
    R("nnm_pairwise_distance_p1_keepdim", lambda m, a, b: F(m).pairwise_distance(a, b, 1, keepdim=True), S, (4,)),
    R("nnm_pairwise_distance_p3_eps", lambda m, a, b: F(m).pairwise_distance(a, b, 3, 1e-2), (2, 3, 4), S),
    R("nnm_pairwise_distance_1d_module", lambda m, a, b: m.nn.PairwiseDistance(keepdim=True)(a, b), (4,), (4,)),
    R("nnm_pdist", lambda m, x: F(m).pdist(x), (5, 3)),
    R("nnm_pdist_p1", lambda m, x: F(m).pdist(x, 1), (4, 3)),
    R("nnm_pdist_p3", lambda m, x: F(m).pdist(x, 3.0), (4, 2)),
    R("nnm_pdist_one_row", lambda m, x: F(m).pdist(x), (1, 3)),

    # softmin, softmax2d, threshold
    R("nnm_softmin", lambda m, x: F(m).softmin(x, 1), S),
    R("nnm_softmin_dim0_dtype", lambda m, x: F(m).softmin(x, 0, dtype=m.float64), S, dtypes=("float32",)),
    R("nnm_softmin_implicit_dim", lambda m, x: F(m).softmin(x), (2, 3, 4)),
    R("nnm_softmin_module", lambda m, x: m.nn.Softmin(-1)(x), (2, 3, 4)),
    R("nnm_softmin_0d", lambda m, x: F(m).softmin(x, 0), ()),
    R("nnm_softmax2d", lambda m, x: m.nn.Softmax2d()(x), (2, 3, 2, 2)),
    R("nnm_softmax2d_3d", lambda m, x: m.nn.Softmax2d()(x), (3, 2, 4)),
    R("nnm_threshold", lambda m, x: F(m).threshold(x, 0.1, 20.0), S),
    R("nnm_threshold_module_inplace", lambda m, x: m.nn.Threshold(-0.5, 1.5, inplace=True)(x * 1), S),
    R("nnm_threshold_inplace_fn", lambda m, x: F(m).threshold_(x * 1, 0.0, -1.0), S),
    R("nnm_threshold_at_threshold", lambda m, x: F(m).threshold(x.round(), 1.0, 5.0), S, fd=False),
    R("nnm_threshold_empty_0d", lambda m, x, y: F(m).threshold(x, 0.2, 0.0) + F(m).threshold(y, 0.0, 1.0).sum(), (),
      (0, 3)),
    # in-place functional forms (on a non-leaf copy, as torch allows)
    R("nnm_relu_", lambda m, x: F(m).relu_(x * 1), S),
    R("nnm_elu_", lambda m, x: F(m).elu_(x * 1, 0.5), S),
    R("nnm_leaky_relu_", lambda m, x: F(m).leaky_relu_(x * 1, 0.2), S),
    R("nnm_hardtanh_", lambda m, x: F(m).hardtanh_(x * 1, -0.5, 0.7), S),
    R("nnm_selu_", lambda m, x: F(m).selu_(x * 1), S),
    R("nnm_celu_", lambda m, x: F(m).celu_(x * 1, 1.5), S),
    R("nnm_relu__returns_input", lambda m, x: (lambda y: F(m).relu_(y) + y)(x * 1), S),
    # rrelu and alpha dropout outside training are deterministic
    R("nnm_rrelu_eval", lambda m, x: F(m).rrelu(x), S),
    R("nnm_rrelu_eval_bounds", lambda m, x: F(m).rrelu(x, 0.1, 0.5, training=False), S),
    R("nnm_rrelu__eval", lambda m, x: F(m).rrelu_(x * 1, 0.2, 0.3), S),
    R("nnm_rrelu_module_eval", lambda m, x: m.nn.RReLU(0.05, 0.25).eval()(x), (2, 3, 4)),
    R("nnm_alpha_dropout_eval", lambda m, x: F(m).alpha_dropout(x, 0.3), S),
    R("nnm_alpha_dropout_p0_training", lambda m, x: F(m).alpha_dropout(x, 0.0, training=True), S),
    R("nnm_alpha_dropout_p1_training", lambda m, x: F(m).alpha_dropout(x, 1.0, training=True), S),
    R("nnm_feature_alpha_dropout_p1_training", lambda m, x: F(m).feature_alpha_dropout(x, 1.0, True), (2, 3, 4)),
    R("nnm_alpha_dropout_module_eval", lambda m, x: m.nn.AlphaDropout(0.2).eval()(x), S),
    R("nnm_feature_alpha_dropout_module_eval", lambda m, x: m.nn.FeatureAlphaDropout(0.2).eval()(x), (2, 3, 4)),

    # bilinear: x1^T A x2 + b
    R("nnm_bilinear", lambda m, a, b, w, c: F(m).bilinear(a, b, w, c), (3, 4), (3, 5), (2, 4, 5), (2,)),
    R("nnm_bilinear_no_bias_batch", lambda m, a, b, w: F(m).bilinear(a, b, w), (2, 3, 4), (2, 3, 2), (3, 4, 2)),
    R("nnm_bilinear_1d", lambda m, a, b, w, c: F(m).bilinear(a, b, w, c), (4,), (3,), (2, 4, 3), (2,)),
    R("nnm_bilinear_empty_batch", lambda m, a, b, w: F(m).bilinear(a, b, w), (0, 4), (0, 3), (2, 4, 3)),
    # channel shuffle, local response norm
    R("nnm_channel_shuffle", lambda m, x: F(m).channel_shuffle(x, 3), (2, 6, 2, 2)),
    R("nnm_channel_shuffle_3d_module", lambda m, x: m.nn.ChannelShuffle(2)(x), (2, 4, 3)),
    R("nnm_local_response_norm_3d", lambda m, x: F(m).local_response_norm(x, 3), (2, 5, 4)),
    R("nnm_local_response_norm_4d", lambda m, x: F(m).local_response_norm(x, 2, alpha=0.1, beta=0.5, k=2.0),
      (2, 6, 3, 3)),
    R("nnm_local_response_norm_5d_module", lambda m, x: m.nn.LocalResponseNorm(4, 0.5, 1.0, 1.5)(x), (2, 5, 2, 2, 3)),
    R("nnm_local_response_norm_empty", lambda m, x: F(m).local_response_norm(x, 2), (0, 3, 4)),
    # power-average pooling
    R("nnm_lp_pool1d", lambda m, x: F(m).lp_pool1d(x, 2, 3), (2, 3, 7)),
    R("nnm_lp_pool1d_stride_ceil", lambda m, x: F(m).lp_pool1d(x, 1.5, 2, stride=2, ceil_mode=True), (2, 3, 7),
      **POS),
    R("nnm_lp_pool1d_inf", lambda m, x: F(m).lp_pool1d(x, float("inf"), 2), (2, 3, 6)),
    R("nnm_lp_pool2d", lambda m, x: F(m).lp_pool2d(x, 2, 2), (2, 3, 4, 4)),
    R("nnm_lp_pool2d_rect_stride", lambda m, x: F(m).lp_pool2d(x, 3, (2, 3), stride=1), (1, 2, 4, 5), **POS),
    R("nnm_lp_pool2d_module_unbatched", lambda m, x: m.nn.LPPool2d(1, 2)(x), (3, 4, 4), **POS),
    R("nnm_lp_pool1d_module", lambda m, x: m.nn.LPPool1d(2, 2, 1)(x), (2, 3, 5)),
    R("nnm_lp_pool3d", lambda m, x: F(m).lp_pool3d(x, 2, (2, 1, 2)), (2, 2, 4, 3, 4)),
    R("nnm_lp_pool3d_module_inf", lambda m, x: m.nn.LPPool3d(float("inf"), 2, stride=1)(x), (1, 2, 3, 3, 3)),
    # max unpooling: the pooled values back at their indices
    R("nnm_max_unpool2d", lambda m, x: unpool2d(m, x, 2), (2, 3, 4, 4)),
    R("nnm_max_unpool2d_output_size", lambda m, x: unpool2d(m, x, 2, output_size=(5, 5)), (1, 2, 5, 5)),
    # overlapping windows: one value written several times, torch's gradient (a gather) gives each copy all
    # of it, which is not the derivative of the value
    R("nnm_max_unpool2d_overlapping", lambda m, x: unpool2d(m, x, 3, 1), (1, 2, 4, 4), fd=False),
    R("nnm_max_unpool2d_unbatched", lambda m, x: unpool2d(m, x, (2, 1)), (2, 4, 3)),
    R("nnm_max_unpool1d", lambda m, x: unpool1d(m, x, 2), (2, 3, 6)),
    R("nnm_max_unpool1d_output_size", lambda m, x: unpool1d(m, x, 3, 2, output_size=[2, 3, 8]), (2, 3, 7),
      fd=False),  # windows of 3 at stride 2 overlap
    R("nnm_max_unpool2d_module", lambda m, x: m.nn.MaxUnpool2d(2)(*F(m).max_pool2d(x, 2, return_indices=True)),
      (1, 2, 4, 6)),
    R("nnm_max_unpool1d_module", lambda m, x: m.nn.MaxUnpool1d(2, 2)(*F(m).max_pool1d(x, 2, return_indices=True)),
      (2, 2, 6)),
]
