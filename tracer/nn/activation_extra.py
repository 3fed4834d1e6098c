"""More activations as torch 2.13, functions and modules together: ``softmin``, ``threshold``,
``rrelu`` (randomised leaky ReLU), ``gumbel_softmax`` and the ``Softmin``, ``Softmax2d``,
``Threshold`` and ``RReLU`` modules, as compositions of existing ops.

Random slopes and Gumbel noise come from tracer's generator (``tracer.manual_seed``), so they
are reproducible but not torch's draws.
"""
from __future__ import annotations

import warnings

from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.nn.dropout import maybe_inplace
from tracer.nn.module import Module
from tracer.ops import elementwise as ew
from tracer.ops import reduce as rd
from tracer.ops._util import cast, norm_dim
from tracer.ops.creation import arange
from tracer.ops.random import uniform_tensor


def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    """torch's ``_get_softmax_dim``: the legacy choice, with its deprecation warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-input) along ``dim``."""
    if dim is None:
        dim = _implicit_dim("softmin", input.dim(), _stacklevel)
    return rd.softmax(ew.neg(input), dim, dtype=dtype)


def _threshold(input, bound: float, value: float, inplace: bool) -> Tensor:
    return maybe_inplace(input, lambda x: ew.where(ew.gt(x, bound), x, value), inplace)


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, else value (the gradient is 0 there)."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold: float, value: float) -> Tensor:
    return _threshold(input, threshold, value, True)


def _rrelu(x, lower: float, upper: float, training: bool) -> Tensor:
    if not training:  # the mean slope, as torch's eval
        return ew.where(ew.gt(x, 0), x, ew.mul(x, (lower + upper) / 2))
    slopes = uniform_tensor(x.shape, x.dtype, lower, upper, op="rrelu")
    return ew.where(ew.le(x, 0), ew.mul(x, slopes), x)  # torch draws a slope where x <= 0


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """x for x > 0, else a * x: in training a ~ U(lower, upper) per element, else (lower + upper) / 2."""
    if lower > upper:
        raise err(RuntimeError, "Lower bound should be less than or equal to the upper bound")
    return maybe_inplace(input, lambda x: _rrelu(x, lower, upper, training), inplace)


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


def gumbel_softmax(logits, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) with g ~ Gumbel(0, 1); ``hard``: the one-hot of its argmax in
    value, with the soft sample's gradient (straight through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning, stacklevel=2)
    exponential = ew.neg(ew.log1p(ew.neg(uniform_tensor(logits.shape, logits.dtype, 0.0, 1.0, op="gumbel_softmax"))))
    gumbels = ew.div(ew.sub(logits, ew.log(exponential)), tau)
    y_soft = rd.softmax(gumbels, dim)
    if not hard:
        return y_soft
    d = norm_dim(dim, logits.dim(), "gumbel_softmax")
    positions = arange(logits.shape[d]).reshape([-1] + [1] * (logits.dim() - d - 1))
    y_hard = cast(ew.eq(positions, rd.argmax(y_soft, d, keepdim=True)), y_soft.dtype)
    return ew.add(ew.sub(y_hard, y_soft.detach()), y_soft)


class Softmin(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of a (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise err(ValueError, f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return rd.softmax(input, -3)


class Threshold(Module):
    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return _threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class RReLU(Module):
    """Randomised leaky ReLU: slopes drawn per element in training, their mean in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")
