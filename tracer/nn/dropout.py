"""Dropout as torch: ``dropout`` (each element), ``dropout1d/2d/3d`` (whole channels, torch's
handling of unbatched inputs and its warnings), and ``maybe_inplace``, the ``inplace=``
switch they share with the activations in ``functional``. Masks are uniform draws compared
with ``p``, so seeded runs draw the same masks eagerly, traced and compiled."""
from __future__ import annotations

import warnings

from tracer.core.errors import err
from tracer.core.grad_mode import is_grad_enabled
from tracer.core.tensor import Tensor
from tracer.ops import elementwise as ew
from tracer.ops.conversion import clone
from tracer.ops.random import uniform_tensor


def maybe_inplace(input, fn, inplace: bool) -> Tensor:
    """``fn(input)``; with ``inplace=True`` written into ``input`` and returned, as torch's
    ``relu_``. When autograd records it, ``fn`` reads a clone, so the gradient's saved value is
    not the one the write overwrites (torch's in-place kernels save their result instead)."""
    if not inplace:
        return fn(input)
    if input.requires_grad and is_grad_enabled() and not input.is_leaf:
        return input.copy_(fn(clone(input)))
    return input.copy_(fn(input))


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p), in training only."""
    if not 0.0 <= p <= 1.0:
        raise err(ValueError, f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return maybe_inplace(input, lambda x: ew.mul(x, 0.0), inplace)
    keep = ew.ge(uniform_tensor(input.shape, input.dtype, 0.0, 1.0), p)
    return maybe_inplace(input, lambda x: ew.mul(ew.where(keep, x, 0.0), 1.0 / (1.0 - p)), inplace)


def _feature_dropout(input, p: float, training: bool, inplace: bool) -> Tensor:
    """Zero whole channels (one draw per (sample, channel)) and scale the rest by 1/(1-p)."""
    if input.dim() < 2:
        raise err(RuntimeError, "Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return maybe_inplace(input, lambda x: ew.mul(x, 0.0), inplace)
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    keep = ew.ge(uniform_tensor(shape, input.dtype, 0.0, 1.0), p)
    return maybe_inplace(input, lambda x: ew.mul(ew.where(keep, x, 0.0), 1.0 / (1.0 - p)), inplace)


def _channel_dropout(name: str, spatial: int, input, p: float, training: bool, inplace: bool) -> Tensor:
    """dropout1d/2d/3d: an unbatched input is a batch of one, as torch (dropout2d keeps
    torch's historical reading of a 3-D input as (N, C, L), with its warnings)."""
    if not 0.0 <= p <= 1.0:
        raise err(ValueError, f"dropout probability has to be between 0 and 1, but got {p}")
    ranks = (spatial + 1, spatial + 2)
    if input.dim() not in ranks:
        if spatial == 1:
            raise err(RuntimeError, f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note "
                      "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                      "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
        warnings.warn(f"{name}: Received a {input.dim()}-D input to {name}, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead. Note that {name} exists to provide channel-wise dropout on inputs with "
                      f"{spatial} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{ranks[0]}D or {ranks[1]}D inputs).", stacklevel=3)
    if spatial == 2 and input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This "
                      "behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=3)
        return _feature_dropout(input, p, training, inplace)
    if input.dim() == ranks[0] and spatial != 2:
        if inplace:
            return _feature_dropout(input.unsqueeze_(0), p, training, True).squeeze_(0)
        return _feature_dropout(input.unsqueeze(0), p, training, False).squeeze(0)
    return _feature_dropout(input, p, training, inplace)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero entire channels of a (N, C, L) or (C, L) input with probability ``p``."""
    return _channel_dropout("dropout1d", 1, input, p, training, inplace)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero entire channels of a (N, C, H, W) input with probability ``p``."""
    return _channel_dropout("dropout2d", 2, input, p, training, inplace)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero entire channels of a (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    return _channel_dropout("dropout3d", 3, input, p, training, inplace)


#: SELU's negative saturation, -scale * alpha, that alpha dropout sets dropped units to (torch's constant).
ALPHA_PRIME = 1.7580993408473766


def _alpha_dropout(input, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:
    """Dropped units become -ALPHA_PRIME, then everything is scaled by a and shifted by b so that
    a unit-variance, zero-mean input keeps its mean and variance (torch's ``_dropout_impl``)."""
    if not 0.0 <= p <= 1.0:
        raise err(ValueError, f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0.0 or not training or input.numel() == 0:
        return input
    if p == 1.0:
        return maybe_inplace(input, lambda x: ew.mul(x, 0.0), inplace)
    if feature and input.dim() < 2:
        raise err(RuntimeError, "Feature dropout requires at least 2 dimensions in the input")
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2) if feature else input.shape
    keep = ew.ge(uniform_tensor(shape, input.dtype, 0.0, 1.0), p)
    a = 1.0 / ((ALPHA_PRIME ** 2 * p + 1) * (1 - p)) ** 0.5
    kept = ew.where(keep, 1.0, 0.0)
    shift = ew.add(ew.mul(ew.sub(kept, 1.0), ALPHA_PRIME * a), ALPHA_PRIME * a * p)
    return maybe_inplace(input, lambda x: ew.add(ew.mul(x, ew.mul(kept, a)), shift), inplace)


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance (note torch's
    ``training=False`` default)."""
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels: one draw per (sample, channel)."""
    return _alpha_dropout(input, p, training, inplace, feature=True)
