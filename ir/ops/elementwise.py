"""Elementwise ops: unary math, broadcasting binary arithmetic, comparisons, where, cast, clamp."""
from __future__ import annotations

from dataclasses import dataclass

from ir import dtypes
from ir.dtypes import DType
from ir.errors import IRTypeError, op_error
from ir.ops.base import Op
from ir.ops.rules import elementwise, require_float, require_integer, same_dtype
from ir.types import TensorType


def _unary_any(name: str, differentiable: bool = True) -> Op:
    return Op(name, lambda types, a: types[0], elementwise=True, differentiable=differentiable)


def _unary_float(name: str) -> Op:
    def infer(types, a):
        require_float(name, types)
        return types[0]
    return Op(name, infer, elementwise=True)


def _binary(name: str, out_dtype: DType | None = None, float_only: bool = False,
            differentiable: bool = True) -> Op:
    """A broadcasting binary op; inputs share a dtype, the output has it or ``out_dtype``."""
    def infer(types, a):
        if float_only:
            require_float(name, types)
        dtype = same_dtype(name, types)
        return elementwise(name, types, dtype if out_dtype is None else out_dtype)
    return Op(name, infer, arity=2, elementwise=True, differentiable=differentiable)


def _predicate(name: str) -> Op:
    """A broadcasting comparison or logical op: bool out, so no gradient flows through it."""
    return _binary(name, dtypes.bool_, differentiable=False)


# Unary ops that keep the dtype (integers allowed).
neg = _unary_any("neg")
abs_ = _unary_any("abs")
relu = _unary_any("relu")
sign = _unary_any("sign")
floor = _unary_any("floor")
ceil = _unary_any("ceil")
round_ = _unary_any("round")

# Unary ops defined on floating point only (the tracer casts integer inputs first).
exp = _unary_float("exp")
log = _unary_float("log")
sqrt = _unary_float("sqrt")
rsqrt = _unary_float("rsqrt")
sin = _unary_float("sin")
cos = _unary_float("cos")
tanh = _unary_float("tanh")
sigmoid = _unary_float("sigmoid")  # primitive for a stable kernel and a single ONNX node
erf = _unary_float("erf")
# Trigonometric and hyperbolic functions beyond sin/cos/tanh: primitives, as compositions
# (sinh = (e^x - e^-x) / 2, atan2 = atan(y / x) + quadrant fixes) lose precision near 0 or at x = 0.
sinh = _unary_float("sinh")
cosh = _unary_float("cosh")
asinh = _unary_float("asinh")
acosh = _unary_float("acosh")
atanh = _unary_float("atanh")
asin = _unary_float("asin")
acos = _unary_float("acos")
atan = _unary_float("atan")
log1p = _unary_float("log1p")  # primitives: log(1 + x) and exp(x) - 1 lose all precision near 0
expm1 = _unary_float("expm1")
reciprocal = _unary_float("reciprocal")

#: Identity that stops gradients: ``Tensor.detach`` and no-grad results inside a trace.
detach = _unary_any("detach", differentiable=False)


@dataclass(frozen=True)
class NoDerivativeAttrs:
    name: str  # the torch op whose derivative torch does not implement (its aten name)


#: Identity whose gradient is an error: the result of a torch op that requires grad but whose
#: backward torch refuses ("derivative for aten::floor_divide is not implemented"), so a
#: backward through it raises as torch's does instead of passing a made-up gradient.
no_derivative = Op("no_derivative", lambda types, a: types[0], NoDerivativeAttrs, elementwise=True)

logical_not = Op("logical_not", lambda types, a: TensorType(types[0].shape, dtypes.bool_),
                 elementwise=True, differentiable=False)

# Binary arithmetic: same dtype in, same dtype out.
add = _binary("add")
sub = _binary("sub")
mul = _binary("mul")
div = _binary("div", float_only=True)  # true division; the tracer promotes integers to float
atan2 = _binary("atan2", float_only=True)  # the angle of (x, y): one node, exact at x = 0
pow_ = _binary("pow")
maximum = _binary("maximum")
minimum = _binary("minimum")
remainder = _binary("remainder")  # Python/torch sign convention: result has the divisor's sign
fmod = _binary("fmod")  # C's fmod, exact: the result has the dividend's sign (x - trunc(x / y) y rounds)
floor_divide = _binary("floor_divide")  # rounds toward -inf, as torch's // does
#: log(exp(x) + exp(y)) without overflow: a primitive so equal infinities give that infinity
#: (the masked-attention case) where max + log1p(exp(-|x - y|)) would give nan.
logaddexp = _binary("logaddexp", float_only=True)

#: Elementwise binary cross-entropy of probabilities x against targets t, logs clamped at
#: -100: a primitive so its gradient can be torch's stable (x - t) / max(x (1 - x), 1e-12).
binary_cross_entropy = _binary("binary_cross_entropy", float_only=True)

#: Elementwise BCE of logits x against targets t, max(x, 0) - x t + log(1 + exp(-|x|)): a
#: primitive so its gradient is the two-node (sigmoid(x) - t) g instead of a long chain.
binary_cross_entropy_with_logits = _binary("binary_cross_entropy_with_logits", float_only=True)

# Comparisons and logic: bool out.
eq = _predicate("eq")
ne = _predicate("ne")
lt = _predicate("lt")
le = _predicate("le")
gt = _predicate("gt")
ge = _predicate("ge")
logical_and = _predicate("logical_and")
logical_or = _predicate("logical_or")
logical_xor = _predicate("logical_xor")


def _bitwise(name: str) -> Op:
    """A broadcasting bitwise op on integers (bools use the logical ops): no gradient."""
    def infer(types, a):
        require_integer(name, types)
        return elementwise(name, types, same_dtype(name, types))
    return Op(name, infer, arity=2, elementwise=True, differentiable=False)


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def _infer_bitwise_not(types, a):
    require_integer("bitwise_not", types)
    return types[0]


bitwise_not = Op("bitwise_not", _infer_bitwise_not, elementwise=True, differentiable=False)


def _infer_where(types, a):
    cond, x, y = types
    if cond.dtype != dtypes.bool_:
        raise op_error("where", types, "condition must be a bool tensor", IRTypeError)
    same_dtype("where", (x, y))
    return elementwise("where", types, x.dtype)


where = Op("where", _infer_where, arity=3, elementwise=True)


def _infer_lerp(types, a):
    require_float("lerp", types)
    return elementwise("lerp", types, same_dtype("lerp", types))


#: start + weight (end - start), as torch computes it (end - (end - start)(1 - weight) for
#: |weight| >= 0.5): a primitive so its gradient is torch's (1 - w) g, w g, (end - start) g,
#: finite where a where() of the two forms would leak 0 * inf from the unused one.
lerp = Op("lerp", _infer_lerp, arity=3, elementwise=True)


@dataclass(frozen=True)
class CastAttrs:
    dtype: DType


cast = Op("cast", lambda types, a: TensorType(types[0].shape, a.dtype), CastAttrs, elementwise=True)


@dataclass(frozen=True)
class ClampAttrs:
    """Bounds of ``clamp``; None means unbounded on that side (0.0 is a real bound)."""

    min: float | None = None
    max: float | None = None


def _infer_clamp(types, a: ClampAttrs):
    if a.min is None and a.max is None:
        raise op_error("clamp", types, "At least one of 'min' or 'max' must not be None")
    return types[0]


clamp = Op("clamp", _infer_clamp, ClampAttrs, elementwise=True)
