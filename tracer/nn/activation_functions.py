"""The activation functions of ``nn.functional`` beyond the first few (those live in
``functional.py``): mish, glu, logsigmoid, hardswish, hardsigmoid, selu, celu, prelu, softsign,
tanhshrink, softshrink and hardshrink, as compositions of existing ops.

Each follows torch's kernel: its value formula, its branch at the boundaries (which side of
``x == 3`` or ``x == lambd`` a gradient belongs to), the dtypes it refuses with torch's message,
and ``inplace=`` where torch has it (``maybe_inplace``, as relu and elu).
"""
from __future__ import annotations

import numpy as np

from ir import dtypes
from ir.ops import elementwise as E
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.core.tensor import Tensor
from tracer.nn.dropout import maybe_inplace
from tracer.ops import elementwise as ew
from tracer.ops._util import norm_dim, scalar, to_float
from tracer.ops.shape import narrow

#: SELU's constants, as torch's (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def float_only(input, kernel: str) -> None:
    """torch's kernels for these functions exist for floating dtypes only."""
    if isinstance(input, Tensor) and not input.dtype.is_floating_point:
        raise err(NotImplementedError, f"\"{kernel}\" not implemented for '{scalar_type_name(input.dtype)}' "
                  f"(input: {input._type})")


def log1p_exp(z) -> Tensor:
    """log(1 + exp(z)) without overflow, with gradient sigmoid(z) everywhere (0.5 at 0, where a
    max(z, 0) + log1p(exp(-|z|)) composition would give 0): the BCE-with-logits primitive
    against a zero target is exactly this function, except at z = +-inf (inf - inf there), where
    it is relu(z)."""
    z = to_float(z)
    finite = apply(E.binary_cross_entropy_with_logits, [z, scalar(0.0, z.dtype)])
    return ew.where(ew.isinf(z), ew.relu(z), finite)


def mish(input, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    float_only(input, "mish_cpu")
    return maybe_inplace(input, lambda x: ew.mul(x, ew.tanh(log1p_exp(x))), inplace)


def logsigmoid(input) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for large negative x."""
    float_only(input, "log_sigmoid_cpu")
    return ew.neg(log1p_exp(ew.neg(input)))


def glu(input, dim: int = -1) -> Tensor:
    """a * sigmoid(b), with a and b the two halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise err(RuntimeError, "glu does not support scalars because halving size must be even")
    float_only(input, "glu_cpu")
    d = norm_dim(dim, input.dim(), "glu")
    size = input.shape[d]
    if size % 2:
        raise err(RuntimeError, f"Halving dimension must be even, but dimension {d} is size {size} "
                  f"(input: {input._type})")
    half = size // 2
    return ew.mul(narrow(input, d, 0, half), ew.sigmoid(narrow(input, d, half, half)))


def _hardswish(x) -> Tensor:
    # torch's gradient is 0 for x <= -3, x/3 + 1/2 for -3 < x < 3, 1 for x >= 3
    inner = ew.div(ew.mul(x, ew.add(x, 3.0)), 6.0)
    return ew.where(ew.le(x, -3.0), ew.mul(x, 0.0), ew.where(ew.lt(x, 3.0), inner, x))


def hardswish(input, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    float_only(input, "hardswish_cpu")
    return maybe_inplace(input, _hardswish, inplace)


def _hardsigmoid(x) -> Tensor:
    # torch's gradient is 1/6 strictly inside (-3, 3) and 0 at the boundaries and outside; NaN stays NaN
    return ew.where(ew.le(x, -3.0), 0.0, ew.where(ew.ge(x, 3.0), 1.0, ew.div(ew.add(x, 3.0), 6.0)))


def hardsigmoid(input, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    float_only(input, "hardsigmoid_cpu")
    return maybe_inplace(input, _hardsigmoid, inplace)


def _elu(x, alpha: float, scale: float, input_scale: float) -> Tensor:
    """torch's elu kernel: x * scale for x > 0, else expm1(x * input_scale) * alpha * scale.
    expm1 reads min(x, 0): the branch where() drops must stay finite, or its zero gradient is
    0 * inf."""
    negative = ew.expm1(ew.mul(ew.clamp(x, max=0.0), input_scale))
    return ew.where(ew.gt(x, 0.0), ew.mul(x, scale), ew.mul(negative, alpha * scale))


def selu(input, inplace: bool = False) -> Tensor:
    """scale * (max(0, x) + min(0, alpha * (exp(x) - 1))) with SELU's fixed constants."""
    float_only(input, "elu_cpu")
    return maybe_inplace(input, lambda x: _elu(x, SELU_ALPHA, SELU_SCALE, 1.0), inplace)


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise err(RuntimeError, "ZeroDivisionError: alpha cannot be 0 for CELU")
    float_only(input, "elu_cpu")
    return maybe_inplace(input, lambda x: _elu(x, alpha, 1.0, 1.0 / alpha), inplace)


def prelu(input, weight) -> Tensor:
    """x for x > 0, else weight * x; a 1-D weight of C > 1 elements is per channel (dim 1)."""
    count = weight.numel()
    if count != 1:
        if input.dim() == 0:
            raise err(RuntimeError, "Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() > 1 else 1
        if channels != count:
            raise err(RuntimeError, f"Mismatch of parameter numbers and input channel size. Found parameter "
                      f"numbers = {count} and channel size = {channels}.")
    if weight.dim() > 1:
        raise err(RuntimeError, f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
                  f"{weight.dim()}")
    if input.dtype != weight.dtype:
        raise err(RuntimeError, f"prelu: Type promoting not supported. Got {scalar_type_name(input.dtype)} and "
                  f"{scalar_type_name(weight.dtype)}")
    if weight.dim() == 1 and input.dim() > 1:  # one slope per channel, broadcast over the other dims
        weight = weight.reshape([1, count] + [1] * (input.dim() - 2))
    elif input.dim() < 2:
        weight = weight.reshape([count] * input.dim())
    return ew.where(ew.gt(input, 0.0), input, ew.mul(weight, input))


def _refuse_bool(input, cls: type[Exception], message: str) -> None:
    if input.dtype == dtypes.bool_:
        raise err(cls, f"{message} (input: {input._type})")


def softsign(input) -> Tensor:
    """x / (1 + |x|), torch's own composition."""
    _refuse_bool(input, NotImplementedError, "\"abs_cpu\" not implemented for 'Bool'")
    return ew.div(input, ew.add(ew.abs(input), 1))


def tanhshrink(input) -> Tensor:
    """x - tanh(x), torch's own composition."""
    _refuse_bool(input, RuntimeError, "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                 "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return ew.sub(input, ew.tanh(input))


def softshrink(input, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between (and at the bounds)."""
    float_only(input, "softshrink_check")
    top = float(np.finfo(input.dtype.np).max)
    if not 0 <= lambd <= top:
        raise err(RuntimeError, f"lambda must be in range [0, {top:g}] for input dtype "
                  f"{scalar_type_name(input.dtype)}, but found {lambd:g}")
    shrunk = ew.where(ew.lt(input, -lambd), ew.add(input, lambd), ew.mul(input, 0.0))
    return ew.where(ew.gt(input, lambd), ew.sub(input, lambd), shrunk)


def hardshrink(input, lambd: float = 0.5) -> Tensor:
    """x outside [-lambd, lambd], 0 inside (bounds included)."""
    float_only(input, "hardshrink_cpu")
    inside = ew.logical_and(ew.ge(input, -lambd), ew.le(input, lambd))
    return ew.where(inside, 0.0, input)
