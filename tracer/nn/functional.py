"""``nn.functional``: activations, dropout, linear and losses as compositions of tracer ops.

Losses follow torch's formulas, including its numerical guards (BCE clamps log at -100,
BCE-with-logits uses the log-sum-exp form, cross-entropy goes through log_softmax).
"""
from __future__ import annotations

import math

from ir import dtypes
from tracer.core import tracing
from tracer.core.errors import err, scalar_type_name
from tracer.ops import elementwise as ew
from tracer.ops import reduce as rd
from ir.ops import elementwise as E
from ir.ops import indexing as I
from tracer.core.dispatch import apply
from tracer.ops._util import cast, promote
from tracer.ops.indexing import gather, index_select, one_hot  # noqa: F401
from tracer.ops.reduce import log_softmax, softmax  # noqa: F401
from tracer.core.tensor import Tensor
from tracer.nn.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                             conv_transpose3d)
from tracer.nn.normalization import batch_norm, group_norm, instance_norm, layer_norm  # noqa: F401
from tracer.nn.normalization import rms_norm  # noqa: F401
from tracer.nn.fold import fold, unfold  # noqa: F401
from tracer.nn.padding import pad  # noqa: F401
from tracer.nn.dropout import dropout, dropout1d, dropout2d, dropout3d, maybe_inplace  # noqa: F401
from tracer.ops.linalg import linear  # noqa: F401
from tracer.nn.sparse import embedding  # noqa: F401
from tracer.nn.sparse import embedding_bag  # noqa: F401
from tracer.nn.activation_functions import float_only as _float_only
from tracer.nn.activation_functions import (celu, glu, hardshrink, hardsigmoid, hardswish,  # noqa: F401
                                          log1p_exp, logsigmoid, mish, prelu, selu, softshrink, softsign,
                                          tanhshrink)
from tracer.nn.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
from tracer.nn.pixelshuffle import pixel_shuffle, pixel_unshuffle  # noqa: F401
from tracer.nn.upsampling import interpolate  # noqa: F401
from tracer.nn.loss_functions import (cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss,  # noqa: F401
                                      kl_div, margin_ranking_loss, multi_margin_loss, multilabel_margin_loss,
                                      multilabel_soft_margin_loss, poisson_nll_loss, soft_margin_loss,
                                      triplet_margin_loss, triplet_margin_with_distance_loss)
from tracer.nn.distance import cosine_similarity, pairwise_distance, pdist  # noqa: F401
from tracer.nn.activation_extra import (gumbel_softmax, rrelu, rrelu_, softmin, threshold,  # noqa: F401
                                       threshold_)
from tracer.nn.dropout import alpha_dropout, feature_alpha_dropout  # noqa: F401
from tracer.nn.linear_extra import bilinear  # noqa: F401
from tracer.nn.pool_more import (channel_shuffle, local_response_norm, lp_pool1d, lp_pool2d,  # noqa: F401
                                 lp_pool3d, max_unpool1d, max_unpool2d)
from tracer.nn.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,  # noqa: F401
                            adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d, avg_pool1d, avg_pool2d,
                            avg_pool3d, max_pool1d, max_pool2d, max_pool3d)


# -- layers ------------------------------------------------------------------------------
def _refuse_bool(input, message: str, cls: type[Exception] = NotImplementedError) -> None:
    """torch's activations have no bool kernels; the message is torch's for that function."""
    if isinstance(input, Tensor) and input.dtype == dtypes.bool_:
        raise err(cls, f"{message} (input: {input._type})")


def relu(input, inplace: bool = False) -> Tensor:
    return maybe_inplace(input, ew.relu, inplace)  # ew.relu refuses bools, as torch


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    _refuse_bool(input, "Bool inputs not supported for hardtanh", RuntimeError)
    if min_val > max_val:
        raise err(ValueError, "min_val cannot be greater than max_val")
    if input.dtype.kind in "iu":  # an integer input stays integer: torch truncates the bounds
        min_val, max_val = int(min_val), int(max_val)
    return maybe_inplace(input, lambda x: ew.clamp(x, min_val, max_val), inplace)


def relu6(input, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    _float_only(input, "leaky_relu_cpu")
    return maybe_inplace(input, lambda x: ew.where(ew.gt(x, 0), x, ew.mul(x, negative_slope)), inplace)


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    _float_only(input, "elu_cpu")
    # expm1 of min(x, 0): the branch where() drops must stay finite, or its zero gradient is 0 * inf
    return maybe_inplace(input, lambda x: ew.where(ew.gt(x, 0), x, ew.mul(ew.expm1(ew.clamp(x, max=0.0)), alpha)), inplace)


# the in-place forms torch.nn.functional names with a trailing underscore
def relu_(input) -> Tensor:
    return relu(input, inplace=True)


def elu_(input, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def selu_(input) -> Tensor:
    return selu(input, inplace=True)


def celu_(input, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def sigmoid(input) -> Tensor:
    return ew.sigmoid(input)


def tanh(input) -> Tensor:
    return ew.tanh(input)


def silu(input, inplace: bool = False) -> Tensor:
    _float_only(input, "silu_cpu")
    return maybe_inplace(input, lambda x: ew.mul(x, ew.sigmoid(x)), inplace)


def _softplus(z) -> Tensor:
    """log(1 + exp(z)), stable, with gradient sigmoid(z) (activation_functions.log1p_exp)."""
    return log1p_exp(z)


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    _float_only(input, "softplus_cpu")
    scaled = ew.mul(input, beta)
    soft = _softplus(scaled) if beta == 1 else ew.div(_softplus(scaled), beta)
    return ew.where(ew.gt(scaled, threshold), input, soft)


def gelu(input, approximate: str = "none") -> Tensor:
    _float_only(input, "GeluKernelImpl")
    if approximate == "tanh":
        inner = ew.mul(ew.add(input, ew.mul(ew.pow(input, 3.0), 0.044715)), math.sqrt(2.0 / math.pi))
        return ew.mul(ew.mul(input, 0.5), ew.add(ew.tanh(inner), 1.0))
    if approximate != "none":
        raise err(RuntimeError, f"approximate argument must be either none or tanh (got {approximate!r})")
    return ew.mul(ew.mul(input, 0.5), ew.add(ew.erf(ew.mul(input, 1.0 / math.sqrt(2.0))), 1.0))


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    return ew.div(input, ew.clamp_min(rd.norm(input, p, dim, keepdim=True), eps))


# -- losses ------------------------------------------------------------------------------
# the reduction helpers live in tracer/nn/reduction.py, shared with tracer/nn/loss_functions.py
from tracer.nn.reduction import check_reduction, legacy_reduction  # noqa: E402,F401
from tracer.nn.reduction import reduce_loss as _reduce, same_shape as _same_shape  # noqa: E402


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("mse_loss", reduction)
    _same_shape("mse_loss", input, target)
    diff = ew.sub(input, target)
    return _reduce(ew.mul(diff, diff), reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("l1_loss", reduction)
    _same_shape("l1_loss", input, target)
    return _reduce(ew.abs(ew.sub(input, target)), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta: float = 1.0) -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise err(RuntimeError, f"smooth_l1_loss: smooth_l1_loss does not support negative values for beta "
                  f"(beta={beta}).")
    _same_shape("smooth_l1_loss", input, target)
    diff = ew.abs(ew.sub(input, target))
    if beta == 0.0:
        return _reduce(diff, reduction)
    near = ew.minimum(diff, beta)  # the branch where() drops stays finite at inf (0 * inf), NaN stays NaN
    quad = ew.div(ew.mul(ew.mul(near, near), 0.5), beta)
    return _reduce(ew.where(ew.lt(diff, beta), quad, ew.sub(diff, 0.5 * beta)), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise err(RuntimeError, f"huber_loss: huber_loss does not support non-positive values for delta "
                  f"(delta={delta}).")
    _same_shape("huber_loss", input, target)
    diff = ew.abs(ew.sub(input, target))
    near = ew.minimum(diff, delta)  # the branch where() drops stays finite at inf (0 * inf), NaN stays NaN
    quad = ew.mul(ew.mul(near, near), 0.5)
    return _reduce(ew.where(ew.lt(diff, delta), quad, ew.mul(ew.sub(diff, 0.5 * delta), delta)), reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """-(t log x + (1 - t) log(1 - x)), each log clamped at -100, with torch's stable gradient
    (one ir primitive: a composition would give 0 * inf = nan where x saturates to 0 or 1)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("binary_cross_entropy", reduction)
    if tuple(input.shape) != tuple(target.shape):
        raise err(ValueError, f"binary_cross_entropy: Using a target size ({target.shape}) that is different to the input size "
                  f"({input.shape}) is deprecated. Please ensure they have the same size.")
    x, t = promote(input, target)
    if tracing.current() is None and x._value.size and not ((x._value >= 0) & (x._value <= 1)).all():
        raise err(RuntimeError, f"binary_cross_entropy: all elements of input should be between 0 and 1 "
                  f"(input: {x._type})")  # eagerly, as torch
    loss = apply(E.binary_cross_entropy, [x, t])
    if weight is not None:
        loss = ew.mul(loss, weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """Stable form: (1 - t) x + w_log (log(1 + exp(-|x|)) + max(-x, 0))."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("binary_cross_entropy_with_logits", reduction)
    if tuple(input.shape) != tuple(target.shape):
        raise err(ValueError, f"binary_cross_entropy_with_logits: Target size ({target.shape}) must be the same as input size ({input.shape})")
    if pos_weight is None:
        loss = apply(E.binary_cross_entropy_with_logits, promote(input, target))
        return _reduce(loss if weight is None else ew.mul(loss, weight), reduction)
    softplus_neg = _softplus(ew.neg(input))
    log_weight = ew.add(ew.mul(ew.sub(pos_weight, 1.0), target), 1.0)
    softplus_neg = ew.mul(log_weight, softplus_neg)
    loss = ew.add(ew.mul(ew.sub(1.0, target), input), softplus_neg)
    if weight is not None:
        loss = ew.mul(loss, weight)
    return _reduce(loss, reduction)


def check_class_target(op, input, target, weight, ignore_index, reduction) -> None:
    """torch's checks of class-index targets (nll_loss, cross_entropy), made before anything is
    computed so that the message names the loss the user called: rank, dtype, batch and spatial
    sizes, the class weights' size and (eagerly, as torch reads them) the target values."""
    types = f"(inputs: {input._type}, {target._type})"
    if input.dim() < 1:
        raise err(RuntimeError, f"{op}: expected an input of shape (C), (N, C) or (N, C, d1, ...), got a 0-d "
                  f"tensor {types}")
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise err(RuntimeError, f"{op}: expected target dtype to be Long or Byte, but got "
                  f"{scalar_type_name(target.dtype)} {types}")
    if input.dim() == 2 and target.dim() > 1:
        raise err(RuntimeError, f"{op}: 0D or 1D target tensor expected, multi-target not supported {types}")
    if input.dim() >= 2 and target.dim() >= 1 and input.shape[0] != target.shape[0]:
        raise err(ValueError, f"{op}: Expected input batch_size ({input.shape[0]}) to match target batch_size "
                  f"({target.shape[0]}) {types}.")
    want = [input.shape[0]] + list(input.shape[2:])
    if input.dim() > 2 and list(target.shape) != want:
        raise err(RuntimeError, f"{op}: Expected target size {want}, got {list(target.shape)} {types}")
    classes = input.shape[0 if input.dim() == 1 else 1]
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != classes):
        raise err(RuntimeError, f"{op}: weight tensor should be defined either for all {classes} classes or no "
                  f"classes but got weight tensor of shape: {list(weight.shape)}")
    check_reduction(op, reduction)
    if tracing.current() is None:  # values are read eagerly only, as torch's kernels read them
        v = target._value.astype("int64")
        bad = v[(v != ignore_index) & ((v < 0) | (v >= classes))]
        if bad.size:
            raise err(IndexError, f"{op}: Target {bad.flat[0]} is out of bounds (classes: {classes}) {types}.")


def _class_weights(weight, target_safe):
    """weight[target] as a tensor shaped like the target."""
    return index_select(weight, 0, target_safe.reshape(-1)).reshape(target_safe.shape)


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] (weighted), averaged over the non-ignored targets' weights."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_class_target("nll_loss", input, target, weight, ignore_index, reduction)
    if input.dim() == 1:  # one sample: (C,) logits against a 0-d class, as torch
        loss = nll_loss(input.unsqueeze(0), target.reshape(1), weight, ignore_index=ignore_index, reduction=reduction)
        return loss.reshape(()) if reduction == "none" and target.dim() == 0 else loss
    target = cast(target, dtypes.int64)
    if weight is None:
        return apply(I.nll_loss, [input, target], I.NllAttrs(int(ignore_index), reduction))
    losses = apply(I.nll_loss, [input, target], I.NllAttrs(int(ignore_index)))
    valid = ew.ne(target, ignore_index)
    w = ew.where(valid, _class_weights(weight, ew.where(valid, target, 0)), 0.0)
    losses = ew.mul(losses, w)
    if reduction == "mean":
        return ew.div(rd.sum(losses), rd.sum(w))
    return _reduce(losses, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over dim 1 then NLL (class indices) or the soft-label sum (probabilities)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if label_smoothing > 1.0:
        raise err(RuntimeError, f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    soft = target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape)
    if not soft:
        check_class_target("cross_entropy", input, target, weight, ignore_index, reduction)
    check_reduction("cross_entropy", reduction)
    class_dim = 0 if input.dim() == 1 else 1
    logp = log_softmax(input, class_dim)
    classes = input.shape[class_dim]
    if soft:
        return _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, class_dim, classes)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0.0:
        return nll
    target = cast(target, dtypes.int64)
    unbatched = logp.dim() == 1
    if unbatched:
        logp, target = logp.unsqueeze(0), target.reshape(1)
    valid = ew.ne(target, ignore_index)
    per_class = logp if weight is None else ew.mul(logp, weight.reshape([1, classes] + [1] * (logp.dim() - 2)))
    smooth = ew.where(valid, ew.neg(rd.sum(per_class, 1)), 0.0)
    if reduction == "mean":
        if weight is None:
            smooth = ew.div(rd.sum(smooth), rd.sum(cast(valid, logp.dtype)))
        else:
            denom = rd.sum(ew.where(valid, _class_weights(weight, ew.where(valid, target, 0)), 0.0))
            smooth = ew.div(rd.sum(smooth), denom)
    else:
        smooth = _reduce(smooth, reduction)
        if unbatched and reduction == "none":  # back to the 0-d loss of one unbatched sample
            smooth = smooth.reshape(())
    return ew.add(ew.mul(nll, 1.0 - label_smoothing), ew.mul(smooth, label_smoothing / classes))


def _soft_cross_entropy(logp, target, weight, reduction, eps, class_dim, classes):
    if eps > 0.0:
        target = ew.add(ew.mul(target, 1.0 - eps), eps / classes)
    terms = ew.mul(logp, target)
    if weight is not None:
        shape = [classes] + [1] * (logp.dim() - class_dim - 1)
        terms = ew.mul(terms, weight.reshape(shape))
    loss = ew.neg(rd.sum(terms, class_dim))
    if reduction == "mean":
        return ew.div(rd.sum(loss), float(max(logp.numel() // classes, 1)))
    return _reduce(loss, reduction)
