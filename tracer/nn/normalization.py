"""Normalisation layers as torch: ``batch_norm`` and ``BatchNorm1d/2d/3d`` (training and eval,
momentum including None's cumulative average, running statistics with the unbiased running
variance, ``track_running_stats``, ``affine``, ``num_batches_tracked``), ``layer_norm`` and
``LayerNorm``, ``rms_norm`` and ``RMSNorm``, ``group_norm`` and ``GroupNorm``, ``instance_norm`` and
``InstanceNorm1d/2d/3d``.

All are compositions of existing ops (mean, biased variance, rsqrt), so their gradients,
kernels and ONNX lowerings are those ops'. A training step's running-statistics update is an
in-place write of the buffers under no_grad: a trace records it as a state update
(``updated.<buffer>``), so a compiled or exported training step keeps the statistics too.
"""
from __future__ import annotations

import warnings

import numpy as np

from ir import dtypes
from tracer.core.errors import cpp_type_name, err, scalar_type_name
from tracer.core.tensor import Tensor
from tracer.core.grad_mode import no_grad
from tracer.nn import init
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter
from tracer.ops import elementwise as ew
from tracer.ops import reduce as rd
from tracer.ops._util import cast
from tracer.ops.creation import empty, ones, tensor, zeros


def _normalize(input, mean, var, weight, bias, eps, shape):
    """(input - mean) / sqrt(var + eps), then the affine map; ``shape`` broadcasts weight/bias."""
    out = ew.mul(ew.sub(input, mean), ew.rsqrt(ew.add(var, eps)))
    return _normalize_affine(out, weight, bias, shape)


def _normalize_affine(out, weight, bias, shape):
    if weight is not None:
        out = ew.mul(out, weight.reshape(shape))
    if bias is not None:
        out = ew.add(out, bias.reshape(shape))
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5):
    """torch.nn.functional.batch_norm: statistics over every dim but the channels (dim 1)."""
    if input.dim() < 2:
        raise err(ValueError, f"batch_norm: expected a (N, C, ...) input, got {input.dim()}-D input of size "
                  f"{list(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise err(RuntimeError, f"batch_norm: {name} should contain {channels} elements not {t.numel()}")
    dims = (0,) + tuple(range(2, input.dim()))
    shape = [1, channels] + [1] * (input.dim() - 2)
    if training or running_mean is None:
        count = input.numel() // max(channels, 1)
        if training and count <= 1:
            raise err(ValueError, f"Expected more than 1 value per channel when training, got input size "
                      f"{list(input.shape)}")
        mean = rd.mean(input, dims, keepdim=True)
        var = rd.var(input, dims, keepdim=True, correction=0)
        if training and running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(ew.mul(mean.reshape(channels).detach(), momentum))
                unbiased = ew.mul(var.reshape(channels).detach(), count / (count - 1))
                running_var.mul_(1 - momentum).add_(ew.mul(unbiased, momentum))
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    return _normalize(input, mean, var, weight, bias, eps, shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """torch.nn.functional.layer_norm: statistics over the last ``len(normalized_shape)`` dims."""
    normalized = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(normalized)
    if tuple(input.shape[input.dim() - n:]) != normalized or input.dim() < n:
        raise err(RuntimeError, f"Given normalized_shape={list(normalized)}, expected input with shape "
                  f"[*, {', '.join(map(str, normalized))}], but got input of size{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized:
            raise err(RuntimeError, f"layer_norm: {name} of shape {list(t.shape)} does not match normalized_shape "
                      f"{list(normalized)}")
    dims = tuple(range(input.dim() - n, input.dim()))
    mean = rd.mean(input, dims, keepdim=True)
    var = rd.var(input, dims, keepdim=True, correction=0)
    return _normalize(input, mean, var, weight, bias, eps, normalized)


def _check_rms_norm(input, normalized, weight) -> None:
    """torch's checks of rms_norm's arguments, in its order."""
    for i, d in enumerate(normalized):
        if not isinstance(d, (int, np.integer)):
            raise err(TypeError, f"rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, but "
                      f"found element of type {type(d).__name__} at pos {i}")
    if weight is not None and not isinstance(weight, Tensor):
        raise err(TypeError, f"rms_norm(): argument 'weight' (position 3) must be Tensor, not {type(weight).__name__}")
    if not normalized:
        raise err(RuntimeError, "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
                  "one element, but got normalized_shape = []")
    if weight is not None and tuple(weight.shape) != normalized:
        raise err(RuntimeError, f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                  f"{list(weight.shape)} and normalized_shape = {list(normalized)}")
    n = len(normalized)
    if input.dim() < n:
        raise err(ValueError, f"Input tensor must have at least {n} dimensions, but got {input.dim()}")
    if tuple(input.shape[input.dim() - n:]) != normalized:
        raise err(RuntimeError, f"Given normalized_shape={list(normalized)}, expected input with shape "
                  f"[*{', '.join(map(str, normalized))}], but got input of size{list(input.shape)}")
    if not input.dtype.is_floating_point:
        raise err(NotImplementedError, f"\"rms_norm\" not implemented for '{scalar_type_name(input.dtype)}' "
                  f"(input: {input._type})")


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """torch.nn.functional.rms_norm: ``input / sqrt(mean(input**2) + eps) * weight`` over the
    last ``len(normalized_shape)`` dims.

    Args:
        input: a float tensor whose trailing dims are ``normalized_shape``.
        normalized_shape: a sequence of ints (torch refuses a bare int here; nn.RMSNorm takes one).
        weight: optional per-element scale of shape ``normalized_shape``.
        eps: added to the mean square; None is ``torch.finfo(input.dtype).eps``.

    Returns:
        The input's shape and dtype (a weight of another dtype is applied, then cast back, as torch).

    Raises:
        TypeError, RuntimeError, ValueError, NotImplementedError: torch's, with its messages.
    """
    if isinstance(normalized_shape, (int, np.integer)):
        raise err(TypeError, "rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    normalized = tuple(normalized_shape)
    _check_rms_norm(input, normalized, weight)
    if eps is None:
        eps = float(np.finfo(input.dtype.np).eps)
    dims = tuple(range(input.dim() - len(normalized), input.dim()))
    out = ew.mul(input, ew.rsqrt(ew.add(rd.mean(ew.mul(input, input), dims, keepdim=True), eps)))
    if weight is None:
        return out
    if weight.dtype != input.dtype:
        warnings.warn(f"Mismatch dtype between input and weight: input dtype = {cpp_type_name(input.dtype)}, weight "
                      f"dtype = {cpp_type_name(weight.dtype)}, Cannot dispatch to fused implementation.",
                      UserWarning, stacklevel=2)
    return cast(ew.mul(out, weight), input.dtype)


def _spatial_count(input) -> int:
    count = 1
    for d in input.shape[2:]:
        count *= d
    return count


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """torch.nn.functional.group_norm: statistics per sample over each group of channels
    (and all spatial positions), then a per-channel affine map."""
    if input.dim() < 2:
        raise err(RuntimeError, f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    batch, channels = input.shape[0], input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise err(RuntimeError, f"Expected number of channels in input to be divisible by num_groups, but got input "
                  f"of shape {list(input.shape)} and num_groups={num_groups}")
    if batch * channels // num_groups * _spatial_count(input) == 1:
        raise err(ValueError, f"Expected more than 1 value per channel when training, got input size "
                  f"{[batch * channels // num_groups, num_groups] + list(input.shape[2:])}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise err(RuntimeError, f"group_norm: expected {name} to be a vector of size equal to the number of "
                      f"channels in input, but got {name} of shape {list(t.shape)} and input of shape "
                      f"{list(input.shape)}")
    grouped = input.reshape(batch, num_groups, channels // num_groups * _spatial_count(input))
    mean = rd.mean(grouped, 2, keepdim=True)
    var = rd.var(grouped, 2, keepdim=True, correction=0)
    out = _normalize(grouped, mean, var, None, None, eps, None).reshape(input.shape)
    shape = [1, channels] + [1] * (input.dim() - 2)
    return _normalize_affine(out, weight, bias, shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5):
    """torch.nn.functional.instance_norm: statistics per sample and channel over the spatial
    dims. With running statistics and ``use_input_stats``, they move towards the batch
    average of the per-instance mean and unbiased variance, as torch's update does."""
    if input.dim() < 2:
        raise err(ValueError, f"instance_norm: expected a (N, C, ...) input, got {input.dim()}-D input")
    channels, count = input.shape[1], _spatial_count(input)
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise err(RuntimeError, f"instance_norm: {name} should contain {channels} elements not {t.numel()}")
    shape = [1, channels] + [1] * (input.dim() - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise err(ValueError, "Expected running_mean and running_var to be defined when use_input_stats is false")
        return _normalize(input, running_mean.reshape(shape), running_var.reshape(shape), weight, bias, eps, shape)
    if count <= 1:
        raise err(ValueError, f"Expected more than 1 spatial element when training, got input size "
                  f"{list(input.shape)}")
    dims = tuple(range(2, input.dim()))
    mean = rd.mean(input, dims, keepdim=True)
    var = rd.var(input, dims, keepdim=True, correction=0)
    if running_mean is not None and running_var is not None and input.shape[0] > 0:
        with no_grad():
            batch_mean = rd.mean(mean.detach().reshape(input.shape[0], channels), 0)
            batch_var = ew.mul(rd.mean(var.detach().reshape(input.shape[0], channels), 0), count / (count - 1))
            running_mean.mul_(1 - momentum).add_(ew.mul(batch_mean, momentum))
            running_var.mul_(1 - momentum).add_(ew.mul(batch_var, momentum))
    return _normalize(input, mean, var, weight, bias, eps, shape)


class _BatchNorm(Module):
    _ranks: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features, dtype=dtype, device=device)) if affine else None
        self.bias = Parameter(zeros(num_features, dtype=dtype, device=device)) if affine and bias else None
        for name in ("weight", "bias"):
            if getattr(self, name) is None:
                self.register_parameter(name, None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        if input.dim() not in self._ranks:
            raise err(ValueError, f"expected {' or '.join(f'{r}D' for r in self._ranks)} input (got {input.dim()}D input)")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average, 1 / batches (a tensor: traces keep it)
                factor = ew.div(1.0, self.num_batches_tracked)
        use_batch = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean if not self.training or self.track_running_stats else None,
                          self.running_var if not self.training or self.track_running_stats else None,
                          self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    _ranks = (5,)


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, device=device)) if elementwise_affine else None
        self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype, device=device)) \
            if elementwise_affine and bias else None
        for name in ("weight", "bias"):
            if getattr(self, name) is None:
                self.register_parameter(name, None)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dims (``F.rms_norm``),
    with a per-element ``weight`` initialised to ones when ``elementwise_affine``."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise err(ValueError, "num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self.weight = Parameter(ones(num_channels, dtype=dtype, device=device)) if affine else None
        self.bias = Parameter(zeros(num_channels, dtype=dtype, device=device)) if affine and bias else None
        for name in ("weight", "bias"):
            if getattr(self, name) is None:
                self.register_parameter(name, None)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """torch's _InstanceNorm: no affine map and no running statistics unless asked; an
    unbatched input is normalised as a batch of one; ``num_batches_tracked`` is kept in the
    state dict but never counted, and ``momentum=None`` leaves the statistics unchanged, as in
    torch."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        if input.dim() not in self._ranks:
            raise err(ValueError, f"expected {' or '.join(f'{r}D' for r in self._ranks)} input (got {input.dim()}D "
                      "input)")
        unbatched = input.dim() == self._ranks[0]
        feature_dim = 0 if unbatched else 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise err(ValueError, f"expected input's size at dim={feature_dim} to match num_features "
                          f"({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        x = input.unsqueeze(0) if unbatched else input
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out



class InstanceNorm1d(_InstanceNorm):
    _ranks = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    _ranks = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    _ranks = (4, 5)
