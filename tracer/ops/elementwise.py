"""Elementwise torch functions: arithmetic with broadcasting and promotion, math, comparisons."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ir import dtypes
from ir.errors import IRError
from ir.ops import elementwise as E
from ir.ops.rules import broadcast_shapes
from tracer.core.dispatch import apply
from tracer.core.errors import cpp_type_name, err, scalar_type_name
from tracer.ops._util import cast, is_scalar, promote, scalar, to_float
from tracer.ops.conversion import clone
from tracer.core.tensor import Tensor


def _binary(op, x, y) -> Tensor:
    if x.__class__ is Tensor and y.__class__ is Tensor and x._type.dtype is y._type.dtype:
        return apply(op, [x, y])  # two tensors of one dtype: nothing to promote
    return apply(op, promote(x, y))


def add(input, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        input, other = _common(input, other)  # a float32 other scaled into a float64 input: in float64
        other = mul(other, alpha)
    return _binary(E.add, input, other)


def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other. Compositions (losses, norms) call this one: torch's fused kernels
    take bool operands (mse_loss of a bool input); ``public_sub`` is torch.sub, which refuses them."""
    if alpha != 1:
        input, other = _common(input, other)
        other = mul(other, alpha)
    return _binary(E.sub, input, other)


def public_sub(input, other, *, alpha=1) -> Tensor:
    """torch.sub, ``-`` and ``Tensor.sub``/``sub_``: as ``sub``, but a bool operand is refused as torch does."""
    _no_bool_subtraction(input, other)
    return sub(input, other, alpha=alpha)


public_sub.__name__ = "sub"  # the name in-place errors print (sub_)


def _is_bool(x) -> bool:
    return x.dtype == dtypes.bool_ if isinstance(x, Tensor) else isinstance(x, (bool, np.bool_))


def _no_bool_subtraction(input, other) -> None:
    """torch refuses ``-`` with a bool operand (a Python bool counts): NumPy's bool - int would
    quietly compute, and ``1 - mask`` usually means ``~mask``."""
    a, b = _is_bool(input), _is_bool(other)
    if not (a or b):
        return
    shown = ", ".join(str(x._type) if isinstance(x, Tensor) else repr(x) for x in (input, other))
    if a and b:
        raise err(RuntimeError, "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                  f"`^` or `logical_xor()` operator instead. (inputs: {shown})")
    raise err(RuntimeError, "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
              f"trying to invert a mask, use the `~` or `logical_not()` operator instead. (inputs: {shown})")


def _common(*xs):
    """The operands of a fused torch op in their common dtype before any partial result, as
    torch computes addcmul, addcdiv, lerp and ``alpha=`` in one dtype."""
    return promote(*xs) if all(isinstance(x, Tensor) or is_scalar(x) for x in xs) else xs


def mul(input, other) -> Tensor:
    return _binary(E.mul, input, other)


def div(input, other, *, rounding_mode=None) -> Tensor:
    """True division (integers promote to float32), or 'floor' / 'trunc' rounding as torch."""
    if rounding_mode is None:
        x, y = promote(input, other)
        return apply(E.div, [to_float(x), to_float(y)])
    if rounding_mode == "floor":  # zero gradients, as torch's div backward gives
        _no_bools("div_floor", input, other)
        return _binary(E.floor_divide, input, other)
    if rounding_mode == "trunc":
        x, y = promote(input, other)
        if x.dtype.is_floating_point:
            return trunc(apply(E.div, [x, y]))
        q = apply(E.floor_divide, [x, y])
        inexact = apply(E.ne, [apply(E.mul, [q, y]), x])
        negative = ne(lt(x, 0), lt(y, 0))
        return where(logical_and(inexact, negative), add(q, 1), q)
    raise err(ValueError, f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {rounding_mode!r}")


true_divide = div


def _no_bools(name: str, input, other) -> None:
    """Integer division and remainders have no bool kernel in torch (and none in NumPy)."""
    if all(isinstance(t, Tensor) and t.dtype == dtypes.bool_ for t in (input, other)):
        raise err(NotImplementedError, f'"{name}_cpu" not implemented for \'Bool\' (inputs: {input._type}, {other._type})')


def no_derivative(out: Tensor, name: str) -> Tensor:
    """``out``, whose backward is torch's "derivative for aten::<name> is not implemented"
    error when it requires grad (an int or bool result never does)."""
    if not out.requires_grad:
        return out
    return apply(E.no_derivative, [out], E.NoDerivativeAttrs(name))


def floor_divide(input, other) -> Tensor:
    """``input // other``; torch has no derivative for it (``div(rounding_mode='floor')``
    has zero gradients)."""
    _no_bools("div_floor", input, other)
    return no_derivative(_binary(E.floor_divide, input, other), "floor_divide")


def remainder(input, other) -> Tensor:
    """``input % other``; with a Python number as ``input`` (``2 % x``, torch's
    remainder.Scalar_Tensor) torch has no derivative."""
    _no_bools("remainder", input, other)
    out = _binary(E.remainder, input, other)
    return no_derivative(out, "remainder") if is_scalar(input) else out


def fmod(input, other) -> Tensor:
    """C-style remainder: the result has the dividend's sign, computed exactly as C's fmod."""
    _no_bools("fmod", input, other)
    return _binary(E.fmod, input, other)


def pow(input, exponent) -> Tensor:
    """``input ** exponent``; a Python 0.5 or -0.5 on a float tensor is sqrt or rsqrt, as torch
    computes them (so -inf ** 0.5 is NaN, while a tensor exponent gives C's pow: inf)."""
    if isinstance(input, Tensor) and input.dtype.is_floating_point and type(exponent) is float:
        if exponent == 0.5:
            return sqrt(input)
        if exponent == -0.5:
            return rsqrt(input)
    if isinstance(input, Tensor) and input.dtype.kind in "iub" and type(exponent) is int and exponent < 0:
        raise err(RuntimeError, f"Integers to negative integer powers are not allowed. (pow of {input._type} "
                  f"to {exponent})")
    if isinstance(input, Tensor) and input.dtype == dtypes.bool_ and type(exponent) is bool:
        return clone(input) if exponent else eq(input, input)  # bool ** True is itself, ** False all True
    if all(isinstance(t, Tensor) and t.dtype == dtypes.bool_ for t in (input, exponent)):
        raise err(NotImplementedError, f'"pow" not implemented for \'Bool\' (inputs: {input._type}, {exponent._type})')
    return _binary(E.pow_, input, exponent)


def float_power(input, exponent) -> Tensor:
    x, y = promote(input, exponent)
    return apply(E.pow_, [cast(x, dtypes.float64), cast(y, dtypes.float64)])


def maximum(input, other) -> Tensor:
    return _binary(E.maximum, input, other)


def minimum(input, other) -> Tensor:
    return _binary(E.minimum, input, other)


def _unary(op):
    def fn(input) -> Tensor:
        return apply(op, [input])
    fn.__name__ = op.name
    return fn


def _unary_float(op):
    def fn(input) -> Tensor:
        return apply(op, [to_float(input)])
    fn.__name__ = op.name
    return fn


def neg(input) -> Tensor:
    if isinstance(input, Tensor) and input.dtype == dtypes.bool_:  # NumPy's own error would be a KernelError
        raise err(RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                  f"to invert a mask, use the `~` or `logical_not()` operator instead. (input: {input._type})")
    return apply(E.neg, [input])


def abs(input) -> Tensor:
    if isinstance(input, Tensor) and input.dtype == dtypes.bool_:  # torch has no bool kernel (NumPy's is identity)
        raise err(NotImplementedError, f'"abs_cpu" not implemented for \'Bool\' (input: {input._type})')
    return apply(E.abs_, [input])


negative = neg
absolute = abs


def relu(input) -> Tensor:
    if isinstance(input, Tensor) and input.dtype == dtypes.bool_:
        raise err(RuntimeError, f"Boolean inputs not supported for relu (input: {input._type})")
    return apply(E.relu, [input])


def _no_bool_kernel(input, kernel: str) -> None:
    """torch's rounding kernels have no bool instance (NumPy's floor of a bool is a float)."""
    if isinstance(input, Tensor) and input.dtype == dtypes.bool_:
        raise err(NotImplementedError, f"\"{kernel}\" not implemented for 'Bool' (input: {input._type})")


def floor(input) -> Tensor:
    _no_bool_kernel(input, "floor_vml_cpu")
    return apply(E.floor, [input])


def ceil(input) -> Tensor:
    _no_bool_kernel(input, "ceil_vml_cpu")
    return apply(E.ceil, [input])


sign = _unary(E.sign)
exp = _unary_float(E.exp)
log = _unary_float(E.log)
sqrt = _unary_float(E.sqrt)
rsqrt = _unary_float(E.rsqrt)
sin = _unary_float(E.sin)
cos = _unary_float(E.cos)
tanh = _unary_float(E.tanh)
sigmoid = _unary_float(E.sigmoid)
erf = _unary_float(E.erf)
reciprocal = _unary_float(E.reciprocal)
logical_not = _unary(E.logical_not)


def round(input, *, decimals: int = 0) -> Tensor:
    """Round half to even, as torch.round; ``decimals`` scales by 10**decimals first."""
    if decimals != 0 and isinstance(input, Tensor) and not input.dtype.is_floating_point:
        raise err(NotImplementedError, f"\"round_cpu\" not implemented for '{scalar_type_name(input.dtype)}' "
                  f"(input: {input._type})")
    _no_bool_kernel(input, "round_vml_cpu")
    if decimals == 0:
        return apply(E.round_, [input])
    scale = 10.0 ** decimals
    return div(apply(E.round_, [mul(input, scale)]), scale)


def trunc(input) -> Tensor:
    _no_bool_kernel(input, "trunc_vml_cpu")
    if not input.dtype.is_floating_point:
        return clone(input)  # a new tensor, as torch's
    return where(lt(input, 0), ceil(input), floor(input))


fix = trunc


def frac(input) -> Tensor:
    if isinstance(input, Tensor) and not input.dtype.is_floating_point:  # torch's kernel is float-only
        raise err(NotImplementedError, f"\"frac_cpu\" not implemented for '{scalar_type_name(input.dtype)}' "
                  f"(input: {input._type})")
    return sub(input, trunc(input))


def square(input) -> Tensor:
    """``input ** 2``: a bool tensor squares to int64, as torch's pow(x, 2)."""
    if isinstance(input, Tensor) and input.dtype == dtypes.bool_:
        input = cast(input, dtypes.int64)
    return mul(input, input)


def log2(input) -> Tensor:
    return div(log(input), math.log(2.0))


def log10(input) -> Tensor:
    return div(log(input), math.log(10.0))


log1p = _unary_float(E.log1p)
expm1 = _unary_float(E.expm1)


def tan(input) -> Tensor:
    return div(sin(input), cos(input))


def clamp(input, min=None, max=None) -> Tensor:
    """Scalar bounds are one ``clamp`` node. Tensor bounds pick, per element, the bound or the
    input as torch's clamp_backward_min_max sends the gradient: to ``max`` where the input is
    above it (or ``min`` is above ``max``), to ``min`` where the input is below it, to the input
    otherwise, ties included (maximum/minimum would split a tie); a NaN bound or a NaN input gives
    NaN and no gradient to anyone (torch's masks are all false there)."""
    if min is None and max is None:
        raise err(RuntimeError, "torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        x, *bounds = promote(input, *[b for b in (min, max) if b is not None])
        lo = bounds.pop(0) if min is not None else None
        hi = bounds.pop(0) if max is not None else None
        out = x
        if lo is not None:
            out = where(lt(x, lo), lo, out)
        if hi is not None:
            above = gt(x, hi)
            if lo is not None:
                above = logical_or(above, gt(lo, hi))
            out = where(above, hi, out)
        for held in (b for b in (lo, hi, x) if b is not None):
            out = where(isnan(held), apply(E.detach, [held]), out)
        return out
    (x,) = promote(input, *[b for b in (min, max) if b is not None])[:1]
    return apply(E.clamp, [x], E.ClampAttrs(None if min is None else float(min),
                                            None if max is None else float(max)))


clip = clamp


def clamp_min(input, min) -> Tensor:
    return clamp(input, min=min)


def clamp_max(input, max) -> Tensor:
    return clamp(input, max=max)


def _compare(op):
    def fn(input, other) -> Tensor:
        return _binary(op, input, other)
    fn.__name__ = op.name
    return fn


eq = _compare(E.eq)
ne = not_equal = _compare(E.ne)
lt = less = _compare(E.lt)
le = less_equal = _compare(E.le)
gt = greater = _compare(E.gt)
ge = greater_equal = _compare(E.ge)


def _logical(op):
    def fn(input, other) -> Tensor:
        x, y = promote(input, other)
        return apply(op, [cast(x, dtypes.bool_), cast(y, dtypes.bool_)])
    fn.__name__ = op.name
    return fn


logical_and = _logical(E.logical_and)
logical_or = _logical(E.logical_or)
logical_xor = _logical(E.logical_xor)


def where(condition, input, other) -> Tensor:
    """Elementwise choice (``tracer.where`` with one argument is ``indexing.where``). The
    condition is bool (uint8 is accepted with torch's deprecation warning)."""
    if condition.dtype == dtypes.uint8:
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be removed "
                      "in a future version of PyTorch. Use a boolean condition instead.", UserWarning, stacklevel=2)
    elif condition.dtype != dtypes.bool_:
        raise err(RuntimeError, f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                  f"{scalar_type_name(condition.dtype)} (condition: {condition._type})")
    x, y = promote(input, other)
    return apply(E.where, [cast(condition, dtypes.bool_), x, y])


def masked_fill(input, mask, value) -> Tensor:
    if mask.dtype != dtypes.bool_:
        raise err(RuntimeError, f"masked_fill_ only supports boolean masks, but got mask with dtype "
                  f"{cpp_type_name(mask.dtype)} (mask: {mask._type})")
    if tuple(mask.shape) != tuple(input.shape):
        try:  # out of place, the input and the mask broadcast together, as torch's masked_fill
            broadcast_shapes("masked_fill", [input._type, mask._type])
        except IRError as e:
            raise err(RuntimeError, str(e)) from None
    v = value if isinstance(value, Tensor) else scalar(value, input.dtype)
    return where(mask, cast(v, input.dtype), input)


def _bitwise(logical, op, name: str):
    """``&``, ``|``, ``^``: logical on bools and bitwise on integers (a bool with an integer is
    promoted to the integer), as torch; floats are torch's error."""
    def fn(input, other) -> Tensor:
        x, y = promote(input, other)
        if x.dtype.is_floating_point:
            raise err(NotImplementedError, f'"{name}_cpu" not implemented for \'{scalar_type_name(x.dtype)}\' '
                      f"(inputs: {x._type}, {y._type})")
        if x.dtype == dtypes.bool_:
            return logical(x, y)
        return apply(op, [x, y])
    fn.__name__ = name
    return fn


bitwise_and = _bitwise(logical_and, E.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(logical_or, E.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(logical_xor, E.bitwise_xor, "bitwise_xor")


def bitwise_not(input) -> Tensor:
    if input.dtype.kind == "f":
        raise err(TypeError, "~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    if input.dtype.kind == "b":
        return logical_not(input)
    return apply(E.bitwise_not, [input])


def isnan(input) -> Tensor:
    return ne(input, input)


def isinf(input) -> Tensor:
    return eq(abs(input), math.inf) if input.dtype.is_floating_point else ne(input, input)


def isfinite(input) -> Tensor:
    return logical_not(logical_or(isnan(input), isinf(input)))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None) -> Tensor:
    if not input.dtype.is_floating_point:  # integers and bools hold no nan or inf: a copy, as torch
        return clone(input)
    info = np.finfo(input.dtype.np)
    out = where(isnan(input), nan, input)
    out = where(eq(out, math.inf), info.max if posinf is None else posinf, out)
    return where(eq(out, -math.inf), info.min if neginf is None else neginf, out)


def lerp(input, end, weight) -> Tensor:
    """input + weight * (end - input) for |weight| < 0.5, else end - (end - input) (1 - weight),
    as torch computes it (exact at weight 1, and its infinities); torch requires ``end`` (and a
    tensor ``weight`` of more than 0 dims) in ``input``'s dtype, and computes floats only."""
    for name, other in (("end", end), ("weight", weight)):
        if isinstance(other, Tensor) and other.dtype != input.dtype and (name == "end" or other.dim() > 0):
            raise err(RuntimeError, f"expected dtype {cpp_type_name(input.dtype)} for `{name}` but got dtype "
                      f"{cpp_type_name(other.dtype)} (lerp of {input._type}, {other._type})")
    if not isinstance(weight, Tensor) and not input.dtype.is_floating_point:
        raise err(NotImplementedError, f'"lerp_kernel_scalar" not implemented for \'{scalar_type_name(input.dtype)}\'')
    x, y, w = promote(input, end, weight)  # a tensor weight takes part in the promotion, as in torch
    if not x.dtype.is_floating_point:
        raise err(NotImplementedError, f'"lerp_kernel_tensor" not implemented for \'{scalar_type_name(x.dtype)}\'')
    return apply(E.lerp, [x, y, w])


def logaddexp(input, other) -> Tensor:
    """log(exp(input) + exp(other)), stable for large inputs; floats only, as torch."""
    if not isinstance(other, Tensor):
        raise err(TypeError, f"logaddexp(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    x, y = promote(input, other)
    if not x.dtype.is_floating_point:
        raise err(NotImplementedError, f'"logaddexp_cpu" not implemented for \'{scalar_type_name(x.dtype)}\'')
    return apply(E.logaddexp, [x, y])


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2, in torch's CPU order: (value * tensor1) * tensor2."""
    input, tensor1, tensor2 = _common(input, tensor1, tensor2)
    scaled = tensor1 if value == 1 else mul(tensor1, value)
    return add(input, mul(scaled, tensor2))


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2, in torch's CPU order: (value * tensor1) / tensor2.
    torch refuses two integer (or bool) divisors, whose meaning changed from floor to true division."""
    if all(isinstance(t, Tensor) and not t.dtype.is_floating_point for t in (tensor1, tensor2)):
        raise err(RuntimeError, "Integer division with addcdiv is no longer supported, and in a future  release "
                  "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                  "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer "
                  "inputs and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior "
                  "is just the latter implementation: (input + value * tensor1 / tensor2), for all dtypes. "
                  f"(inputs: {tensor1._type}, {tensor2._type})")
    input, tensor1, tensor2 = _common(input, tensor1, tensor2)
    scaled = tensor1 if value == 1 else mul(tensor1, value)
    return add(input, div(scaled, tensor2))


#: What ``from tracer.ops.elementwise import *`` (and so ``tracer``) exports: the torch functions, no helpers.
__all__ = """
abs absolute add addcdiv addcmul bitwise_and bitwise_not bitwise_or bitwise_xor ceil clamp clamp_max clamp_min clip cos div eq erf exp expm1
fix float_power floor floor_divide fmod frac ge greater greater_equal gt isfinite isinf isnan le
lerp less less_equal log log10 log1p log2 logaddexp logical_and logical_not logical_or logical_xor lt
masked_fill maximum minimum mul nan_to_num ne neg negative not_equal pow reciprocal relu
remainder round rsqrt sigmoid sign sin sqrt square sub tan tanh true_divide trunc where
""".split()


# -- closeness (torch's isclose, allclose, equal) ---------------------------------------------

def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """``|input - other| <= atol + |rtol * other|`` elementwise, or equal (so same-signed
    infinities are close); NaNs close only with ``equal_nan``. Both tensors of one dtype.

    Raises:
        TypeError: ``other`` is not a tensor. RuntimeError: the dtypes differ or a tolerance is negative.
    """
    _check_closeness_args(input, other, rtol, atol)
    close = eq(input, other)
    if equal_nan and input.dtype.is_floating_point:
        close = logical_or(close, logical_and(isnan(input), isnan(other)))
    if rtol == 0 and atol == 0:
        return close
    x, y = to_float(input) if input.dtype == dtypes.bool_ else input, to_float(other) if other.dtype == dtypes.bool_ else other
    allowed = add(abs(mul(y, rtol)), atol)
    actual = abs(sub(x, y))
    return logical_or(close, logical_and(isfinite(actual), le(actual, allowed)))


def _check_closeness_args(input, other, rtol, atol) -> None:
    for position, (name, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor):
            raise err(TypeError, f"isclose(): argument '{name}' (position {position}) must be Tensor, "
                      f"not {type(value).__name__}")
    if input.dtype != other.dtype:
        raise err(RuntimeError, f"{scalar_type_name(input.dtype)} did not match {scalar_type_name(other.dtype)}")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise err(RuntimeError, f"{name} must be greater than or equal to zero, but got {value}")


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see ``isclose``), as a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other) -> bool:
    """Whether the two tensors have the same shape and the same values (dtypes promoted; NaN is
    never equal), as a Python bool."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(eq(input, other).all())


__all__ += ["allclose", "equal", "isclose"]
