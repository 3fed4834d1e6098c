"""The losses of ``nn.functional`` beyond the first few (those live in ``functional.py``): KL
divergence, the margin and embedding losses, the Gaussian and Poisson negative log likelihoods
and the triplet losses, as compositions of existing ops.

Each follows torch 2.13's ATen formula (``aten/src/ATen/native/Loss.cpp``, ``LossMulti*.cpp``),
its argument checks and messages, and its handling of the deprecated ``size_average=`` and
``reduce=`` arguments.
"""
from __future__ import annotations

import math
import warnings

from ir import dtypes
from tracer.core import tracing
from tracer.core.errors import err, scalar_type_name
from tracer.core.grad_mode import is_grad_enabled
from tracer.core.tensor import Tensor
from tracer.nn.activation_functions import logsigmoid
from tracer.nn.distance import pairwise_distance
from tracer.nn.reduction import legacy_reduction, reduce_loss
from tracer.ops import elementwise as ew
from tracer.ops import reduce as rd
from tracer.ops._util import cast
from tracer.ops.creation import arange, full_like
from tracer.ops.indexing import gather, index_select
from tracer.ops.sequence import cumsum

#: ATen's guard on the squared norms of cosine_embedding_loss.
EPSILON = 1e-12


def _reduction(size_average, reduce, reduction: str) -> str:
    """torch's ``_Reduction.get_enum``: a bad string is a ValueError before anything is computed."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise err(ValueError, f"{reduction} is not a valid value for reduction")
    return reduction


def _xlogy_self(t) -> Tensor:
    """t * log(t), 0 where t == 0 (torch's xlogy(t, t)); log reads 1 there so no 0 * inf."""
    zero = ew.eq(t, 0)
    return ew.where(zero, ew.mul(t, 0.0), ew.mul(t, ew.log(ew.where(zero, 1.0, t))))


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """target * (log(target) - input), pointwise; ``log_target``: target is given as its log.
    ``batchmean`` sums and divides by the batch size (the KL divergence's definition)."""
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    batchmean = size_average is None and reduce is None and reduction == "batchmean"
    reduction = _reduction(size_average, reduce, "sum" if batchmean else reduction)
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise err(RuntimeError, f"kl_div: Integral inputs not supported. (inputs: {input._type}, {target._type})")
    if log_target:
        loss = ew.mul(ew.exp(target), ew.sub(target, input))
    else:
        loss = ew.sub(_xlogy_self(target), ew.mul(target, input))
    out = reduce_loss(loss, reduction)
    if batchmean and input.dim() != 0:
        out = ew.div(out, input.shape[0])
    return out


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """exp(input) - target * input (``log_input``), else input - target * log(input + eps);
    ``full`` adds Stirling's term target*log(target) - target + log(2 pi target)/2 where target > 1."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = ew.sub(ew.exp(input), ew.mul(target, input))
    else:
        loss = ew.sub(input, ew.mul(target, ew.log(ew.add(input, eps))))
    if full:
        big = ew.gt(target, 1)
        safe = ew.where(big, target, 2.0)  # the dropped branch stays finite, so its zero gradient is not nan
        stirling = ew.add(ew.sub(ew.mul(safe, ew.log(safe)), safe), ew.mul(ew.log(ew.mul(safe, 2 * math.pi)), 0.5))
        loss = ew.add(loss, ew.where(big, stirling, 0.0))
    return reduce_loss(loss, reduction)


def _gaussian_var(input, var):
    """torch's checks and broadcasting of ``var``: the input's shape, one dim short of it
    (homoscedastic), or broadcastable with exactly one mismatched dim of size 1."""
    if not isinstance(var, Tensor):
        if var < 0:
            raise err(ValueError, "var has negative entry/entries")
        return full_like(input, float(var))
    if tracing.current() is None and bool((var._value < 0).any()):
        raise err(ValueError, "var has negative entry/entries")
    if tuple(var.shape) == tuple(input.shape):
        return var
    if tuple(input.shape[:-1]) == tuple(var.shape):
        return var.unsqueeze(-1)
    if input.dim() == var.dim() and sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1:
        return var
    raise err(ValueError, "var is of incorrect size")


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """(log(max(var, eps)) + (input - target)^2 / max(var, eps)) / 2, plus log(2 pi)/2 if ``full``.
    As torch, the clamp is made without autograd: var's gradient flows as if unclamped."""
    var = _gaussian_var(input, var)
    if reduction not in ("none", "mean", "sum"):
        raise err(ValueError, f"{reduction} is not valid")
    clamped = ew.add(var, ew.sub(ew.clamp_min(var, eps), var).detach())
    diff = ew.sub(input, target)
    loss = ew.mul(ew.add(ew.log(clamped), ew.div(ew.mul(diff, diff), clamped)), 0.5)
    if full:
        loss = ew.add(loss, 0.5 * math.log(2 * math.pi))
    return reduce_loss(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise err(RuntimeError, f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                  f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return reduce_loss(ew.clamp_min(ew.add(ew.mul(ew.neg(target), ew.sub(input1, input2)), margin), 0), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """input where target == 1, max(0, margin - input) where target == -1 (ATen adds both
    terms, so any other target value counts both)."""
    reduction = _reduction(size_average, reduce, reduction)
    margin_term = ew.where(ew.ne(target, 1), ew.clamp_min(ew.sub(margin, input), 0), 0.0)
    self_term = ew.where(ew.ne(target, -1), input, 0.0)
    return reduce_loss(ew.add(margin_term, self_term), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)), as ATen computes it (it overflows where ATen does)."""
    reduction = _reduction(size_average, reduce, reduction)
    return reduce_loss(ew.log1p(ew.exp(ew.mul(ew.neg(input), target))), reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1; the
    cosine is ATen's: <x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))."""
    reduction = _reduction(size_average, reduce, reduction)
    d = target.dim()
    if d not in (0, 1):
        raise err(RuntimeError, "0D or 1D target tensor expected, multi-target not supported")
    want = 2 if d == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise err(RuntimeError, f"{d}D target tensor expects {want}D input tensors, but found inputs with sizes "
                  f"{list(input1.shape)} and {list(input2.shape)}.")
    prod = rd.sum(ew.mul(input1, input2), d)
    mag1 = ew.add(rd.sum(ew.mul(input1, input1), d), EPSILON)
    mag2 = ew.add(rd.sum(ew.mul(input2, input2), d), EPSILON)
    cos = ew.div(prod, ew.sqrt(ew.mul(mag1, mag2)))
    pos = ew.where(ew.eq(target, 1), ew.sub(1, cos), 0.0)
    neg = ew.where(ew.eq(target, -1), ew.clamp_min(ew.sub(cos, margin), 0), 0.0)
    return reduce_loss(ew.add(pos, neg), reduction)


def _triplet(dist_pos, dist_neg, margin, reduction) -> Tensor:
    return reduce_loss(ew.clamp_min(ew.sub(ew.add(dist_pos, margin), dist_neg), 0), reduction)


def _same_ranks(anchor, positive, negative) -> None:
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not a == p == n:
        raise err(RuntimeError, f"The anchor, positive, and negative tensors are expected to have the same number "
                  f"of dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin), d the pairwise p-norm distance; ``swap``: d(a, n) is
    replaced by d(p, n) where that is smaller."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise err(ValueError, f"margin must be greater than 0, got {margin}")
    _same_ranks(anchor, positive, negative)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = ew.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    return _triplet(pairwise_distance(anchor, positive, p, eps), dist_neg, margin, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """triplet_margin_loss with any ``distance_function(x, y)`` (default: pairwise_distance)."""
    if reduction not in ("mean", "sum", "none"):
        raise err(ValueError, f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise err(ValueError, f"margin must be greater than 0, got {margin}")
    _same_ranks(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = ew.minimum(dist_neg, distance(positive, negative))
    return _triplet(distance(anchor, positive), dist_neg, margin, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """-(t log sigmoid(x) + (1 - t) log sigmoid(-x)), weighted, averaged over the classes (last dim)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise err(ValueError, f"{reduction} is not valid")
    loss = ew.neg(ew.add(ew.mul(target, logsigmoid(input)), ew.mul(ew.sub(1, target), logsigmoid(ew.neg(input)))))
    if weight is not None:
        loss = ew.mul(loss, weight)
    loss = ew.div(rd.sum(loss, input.dim() - 1), input.shape[input.dim() - 1])
    return reduce_loss(loss, reduction)


def _multi_checks(op: str, input) -> tuple[int, int]:
    """ATen's shape check shared by the multi-class margin losses: (frames, classes)."""
    n = input.dim()
    if not ((n == 2 and input.shape[1] != 0) or (n == 1 and input.shape[0] != 0) or n == 0):
        raise err(RuntimeError, f"{op}: Expected non-empty vector or matrix with optional 0-dim batch size, but "
                  f"got: {list(input.shape)}")
    return (1 if n <= 1 else input.shape[0]), (1 if n == 0 else input.shape[n - 1])


def _check_targets(op: str, target, low: int, classes: int, message: str) -> None:
    if target.dtype != dtypes.int64:
        raise err(RuntimeError, f"{op}: expected scalar type Long but found {scalar_type_name(target.dtype)}")
    if tracing.current() is None and target._value.size:  # read eagerly, as ATen's kernel reads them
        v = target._value
        if v.min() < low or v.max() >= classes:
            raise err(RuntimeError, f"{op}: {message} (classes: {classes}, targets: {list(target.shape)})")


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                      reduce=None, reduction: str = "mean") -> Tensor:
    """sum over classes i != y of w[y] * max(0, margin - x[y] + x[i])^p, divided by the class count."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise err(ValueError, "only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise err(ValueError, "weight must be one-dimensional")
    frames, classes = _multi_checks("multi_margin_loss", input)
    if target.dim() > 1 or target.numel() != frames:
        raise err(RuntimeError, f"multi_margin_loss: target tensor should be 1-D with size equal to the number of "
                  f"input samples (batch size). Expected target size [{frames}], but got {list(target.shape)}. "
                  f"Input has shape {list(input.shape)}.")
    if weight is not None and weight.numel() != classes:
        raise err(RuntimeError, f"multi_margin_loss: inconsistent weight size, expected {classes} but got "
                  f"{list(weight.shape)}")
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise err(RuntimeError, "The function 'multi_margin_loss' is not differentiable with respect to argument "
                  "'weight'. This input cannot have requires_grad True.")
    _check_targets("multi_margin_loss", target, 0, classes, "target out of range")
    x, y = input.reshape(frames, classes), target.reshape(frames, 1)
    z = ew.add(ew.sub(margin, gather(x, 1, y)), x)
    h = ew.where(ew.gt(z, 0), z, ew.mul(z, 0.0))
    if p == 2:
        h = ew.mul(h, h)
    if weight is not None:
        h = ew.mul(h, index_select(weight.reshape(-1), 0, y.reshape(-1)).reshape(frames, 1))
    h = ew.where(ew.eq(arange(classes), y), 0.0, h)
    loss = ew.div(rd.sum(h, 1), classes)
    if reduction == "none" and target.dim() == 0:
        return loss.reshape(())
    return reduce_loss(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """sum over target classes j (up to the first -1) and non-target classes i of
    max(0, 1 - (x[j] - x[i])), divided by the class count."""
    reduction = _reduction(size_average, reduce, reduction)
    frames, classes = _multi_checks("multilabel_margin_loss", input)
    if input.dim() <= 1:
        ok = target.dim() <= 1 and target.numel() == classes
    else:
        ok = target.dim() == 2 and tuple(target.shape) == (frames, classes)
    if not ok:
        raise err(RuntimeError, f"multilabel_margin_loss: inconsistent target size: {list(target.shape)} for input "
                  f"of size: {list(input.shape)}")
    _check_targets("multilabel_margin_loss", target, -1, classes, "argument #2 'target' is out of range")
    x, y = input.reshape(frames, classes), target.reshape(frames, classes)
    valid = ew.eq(cumsum(cast(ew.eq(y, -1), dtypes.int64), 1), 0)  # the targets before the first -1
    safe = ew.where(valid, y, 0)
    hits = ew.logical_and(ew.eq(safe.unsqueeze(2), arange(classes)), valid.unsqueeze(2))
    is_target = rd.any(hits, 1)  # (frames, classes)
    terms = ew.clamp_min(ew.add(ew.sub(1, gather(x, 1, safe).unsqueeze(2)), x.unsqueeze(1)), 0)
    counted = ew.logical_and(valid.unsqueeze(2), ew.logical_not(is_target).unsqueeze(1))
    loss = ew.div(rd.sum(ew.where(counted, terms, 0.0), (1, 2)), classes)
    if input.dim() <= 1:
        loss = loss.reshape(())
    return reduce_loss(loss, reduction)
