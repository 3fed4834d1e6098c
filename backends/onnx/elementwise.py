"""ONNX lowerings for ir/ops/elementwise.py. Where ONNX and torch differ (integer division,
remainder signs, clamp bounds), the lowering reproduces torch's meaning."""
from __future__ import annotations

import math

from backends.onnx.builder import ONNX_TYPE, bools_via_int32
from backends.onnx.errors import ExportError
from ir import dtypes
from ir.ops import elementwise as E

_F32 = dtypes.float32


def _simple(op_type):
    def lower(b, node, xs):
        return b.op(op_type, xs)
    lower.__doc__ = f"ir op -> ONNX {op_type}."
    return lower


def _pass_through(b, node, xs):
    """Identity-like ir ops (detach) emit no node: ONNX values are immutable, so the input's
    name serves (an output still gets its own name from the exporter)."""
    return xs[0]


def _int_identity(op_type):
    """floor/ceil/round are the identity on integers; ONNX defines them for floats only."""
    def lower(b, node, xs):
        return b.op("Identity", xs) if not node.dtype.is_floating_point else b.op(op_type, xs)
    return lower


#: Lowerings that compute some dtypes in a narrower one on onnxruntime: op -> {dtype: (computed
#: in, why)}. ``backends.comparison`` widens its tolerance for what such a node feeds, and says so.
NARROWED = {E.erf: {"float64": ("float32", "onnxruntime's CPU provider has no float64 Erf")}}


def _erf(b, node, xs):
    """onnxruntime's CPU provider has no float64 Erf: compute it in float32 and cast back
    (about 1e-7 relative error instead of float64's 1e-16; documented in docs/onnx.md)."""
    if node.dtype.name != "float64":
        return b.op("Erf", xs)
    narrow = b.op("Cast", xs, to=ONNX_TYPE[_F32])
    return b.op("Cast", [b.op("Erf", [narrow])], to=ONNX_TYPE[node.dtype])


def _log1p_of(b, z: str, dtype) -> str:
    """log(1 + z) without cancellation (Kahan): log(u) (z / (u - 1)) with u = 1 + z, or z where
    u == 1 or u is +inf (the ratio is taken first: log(u) z overflows for z near the float max)."""
    one = b.scalar_like(1, dtype)
    u = b.op("Add", [one, z])
    u_minus_1 = b.op("Sub", [u, one])
    exact = b.op("Or", [b.op("Equal", [u_minus_1, b.scalar_like(0, dtype)]),
                        b.op("IsInf", [u], detect_negative=0)])
    safe = b.op("Where", [exact, one, u_minus_1])
    return b.op("Where", [exact, z, b.op("Mul", [b.op("Log", [u]), b.op("Div", [z, safe])])])


def _logaddexp(b, node, xs):
    """max(x, y) + log1p(exp(-|x - y|)); where x == y, x + log(2), which is also right for equal
    infinities (where the difference is nan)."""
    x, y = xs
    diff = b.op("Abs", [b.op("Sub", [x, y])])
    smooth = _log1p_of(b, b.op("Exp", [b.op("Neg", [diff])]), node.dtype)
    general = b.op("Add", [b.op("Max", [x, y]), smooth])
    tie = b.op("Add", [x, b.scalar_like(math.log(2.0), node.dtype)])
    return b.op("Where", [b.op("Equal", [x, y]), tie, general])


def _log1p(b, node, xs):
    return _log1p_of(b, xs[0], node.dtype)


def _expm1(b, node, xs):
    """exp(x) - 1 without cancellation (Kahan): (u - 1) x / log(u) with u = exp(x), or x where u == 1."""
    x = xs[0]
    one = b.scalar_like(1, node.dtype)
    u = b.op("Exp", [x])
    log_u = b.op("Log", [u])
    exact = b.op("Equal", [log_u, b.scalar_like(0, node.dtype)])
    ratio = b.op("Div", [b.op("Mul", [b.op("Sub", [u, one]), x]), b.op("Where", [exact, one, log_u])])
    big = b.op("Greater", [b.op("Abs", [x]), b.scalar_like(0.5, node.dtype)])
    return b.op("Where", [exact, x, b.op("Where", [big, b.op("Sub", [u, one]), ratio])])


def _rsqrt(b, node, xs):
    return b.op("Reciprocal", [b.op("Sqrt", xs)])


def _ne(b, node, xs):
    return b.op("Not", [b.op("Equal", xs)])


def _logical_not(b, node, xs):
    """Not on bools; x == 0 on numbers (ONNX Not is bool-only; NaN is true, as in torch)."""
    if node.inputs[0].dtype.kind == "b":
        return b.op("Not", xs)
    return b.op("Equal", [xs[0], b.scalar_like(0, node.inputs[0].dtype)])


def _fmod_parts(b, x, y, dtype):
    """(fmod(x, y), whether the quotient's floor is one below its truncation): the C fmod that
    NumPy's and torch's floor division and remainder start from (infinities and signs included)."""
    mod = b.op("Mod", [x, y], fmod=1)
    zero = b.scalar_like(0, dtype)
    nonzero = b.op("Not", [b.op("Equal", [mod, zero])])
    signs_differ = b.op("Xor", [b.op("Less", [y, zero]), b.op("Less", [mod, zero])])
    return mod, b.op("And", [nonzero, signs_differ])


def _remainder(b, node, xs):
    """torch.remainder: the result takes the divisor's sign (Python %). Floats as NumPy and
    torch compute it, fmod(x, y) plus y where the signs differ (x - floor(x / y) y is NaN for an
    infinite y: -0 * inf)."""
    x, y = xs
    if not node.dtype.is_floating_point:
        return b.op("Mod", [x, y], fmod=0)
    mod, step = _fmod_parts(b, x, y, node.dtype)
    return b.op("Where", [step, b.op("Add", [mod, y]), mod])


def _floor_divide(b, node, xs):
    """torch's // rounds toward -inf; ONNX Div truncates integers, so step down where needed."""
    x, y = xs
    if node.dtype.is_floating_point:
        return _float_floor_divide(b, node.dtype, x, y)
    q = b.op("Div", [x, y])
    zero = b.scalar_like(0, node.dtype)
    inexact = b.op("Not", [b.op("Equal", [b.op("Mul", [q, y]), x])])
    signs_differ = b.op("Xor", [b.op("Less", [x, zero]), b.op("Less", [y, zero])])
    step = b.op("Cast", [b.op("And", [inexact, signs_differ])], to=ONNX_TYPE[node.dtype])
    return b.op("Sub", [q, step])


def _float_floor_divide(b, dtype, x, y):
    """NumPy's and torch's float floor division: (x - fmod(x, y)) / y, one less where the
    signs differ, rounded to the nearest integer; x / y where y is 0 (floor(x / y) is inf for
    an infinite x, theirs NaN)."""
    mod, step = _fmod_parts(b, x, y, dtype)
    div = b.op("Div", [b.op("Sub", [x, mod]), y])
    div = b.op("Where", [step, b.op("Sub", [div, b.scalar_like(1, dtype)]), div])
    floor = b.op("Floor", [div])
    up = b.op("Greater", [b.op("Sub", [div, floor]), b.scalar_like(0.5, dtype)])
    floor = b.op("Where", [up, b.op("Add", [floor, b.scalar_like(1, dtype)]), floor])
    zero = b.scalar_like(0, dtype)
    signed_zero = b.op("Mul", [zero, b.op("Div", [x, y])])  # copysign(0, x / y)
    floor = b.op("Where", [b.op("Equal", [div, zero]), signed_zero, floor])
    return b.op("Where", [b.op("Equal", [y, zero]), b.op("Div", [x, y]), floor])


def _bce(b, node, xs):
    """-(t max(log x, -100) + (1 - t) max(log(1 - x), -100)), as torch's binary_cross_entropy."""
    x, t = xs
    floor = b.scalar_like(-100, node.dtype)
    one = b.scalar_like(1, node.dtype)
    log_x = b.op("Max", [b.op("Log", [x]), floor])
    log_1mx = b.op("Max", [b.op("Log", [b.op("Sub", [one, x])]), floor])
    total = b.op("Add", [b.op("Mul", [t, log_x]), b.op("Mul", [b.op("Sub", [one, t]), log_1mx])])
    return b.op("Neg", [total])


def _bce_logits(b, node, xs):
    """max(x, 0) - x t + softplus(-|x|), torch's stable binary_cross_entropy_with_logits.
    onnxruntime's Softplus keeps tiny terms exact but has no float64 kernel: there, Kahan's log1p.
    (Where the losses are only summed, the ONNX pass in passes/losses.py shortens this.)"""
    x, t = xs
    neg_abs = b.op("Neg", [b.op("Abs", [x])])
    if node.dtype.name == "float32":
        softplus = b.op("Softplus", [neg_abs])
    else:
        softplus = _log1p_of(b, b.op("Exp", [neg_abs]), node.dtype)
    return b.op("Add", [b.op("Sub", [b.op("Relu", [x]), b.op("Mul", [x, t])]), softplus])


def _tanh(b, node, xs):
    """Tanh; a 0-d input goes through a 1-element vector. onnxruntime's FastGeluFusion rewrites
    tanh-approximated GELU, 0.5 x (1 + tanh(...)), into com.microsoft FastGelu without checking
    the rank, and FastGelu's kernel rejects a 0-d input (INVALID_ARGUMENT); the fusion wants
    Tanh to read the scaled sum directly, which the detour breaks."""
    if node.shape:
        return b.op("Tanh", xs)
    axis = b.int64s([0])
    return b.op("Squeeze", [b.op("Tanh", [b.op("Unsqueeze", [xs[0], axis])]), axis])


def _where(b, node, xs):
    """Where; bool branches (no onnxruntime kernel) become (c and x) or (not c and y)."""
    if node.dtype.kind != "b":
        return b.op("Where", xs)
    c, x, y = xs
    return b.op("Or", [b.op("And", [c, x]), b.op("And", [b.op("Not", [c]), y])])


def _bitwise(op_type: str):
    def lower(b, node, xs):
        if b.opset < 18:
            raise ExportError(f"{node.op.name} of integers needs ONNX opset 18 or later ({op_type}); "
                              f"export with opset=18 (this export asked for {b.opset})")
        return b.op(op_type, xs)
    lower.__doc__ = f"ir integer {op_type} (ONNX opset 18+)."
    return lower


def _lerp(b, node, xs):
    """torch's lerp: start + w (end - start) for |w| < 0.5, else end - (end - start)(1 - w)."""
    x, y, w = xs
    diff = b.op("Sub", [y, x])
    one, half = b.scalar_like(1, node.dtype), b.scalar_like(0.5, node.dtype)
    near_start = b.op("Less", [b.op("Abs", [w]), half])
    from_start = b.op("Add", [x, b.op("Mul", [w, diff])])
    from_end = b.op("Sub", [y, b.op("Mul", [diff, b.op("Sub", [one, w])])])
    return b.op("Where", [near_start, from_start, from_end])


def _pow(b, node, xs):
    """Pow; an integer to a negative integer power is torch's 1, +-1 or 0 (onnxruntime's
    integer Pow turns 0 ** -1 into the int64 minimum)."""
    x, y = node.inputs
    if not (x.dtype.kind in "iu" and y.dtype.kind in "iu"):
        return b.op("Pow", xs)
    zero, one = b.scalar_like(0, y.dtype), b.scalar_like(1, x.dtype)
    negative = b.op("Less", [xs[1], zero])
    power = b.op("Pow", [xs[0], b.op("Max", [xs[1], zero])])
    odd = b.op("Not", [b.op("Equal", [b.op("Mod", [xs[1], b.scalar_like(2, y.dtype)], fmod=1), zero])])
    minus_one = b.op("Equal", [xs[0], b.scalar_like(-1, x.dtype)])
    small = b.op("Where", [b.op("Equal", [xs[0], one]), one,
                           b.op("Where", [minus_one, b.op("Where", [odd, b.scalar_like(-1, x.dtype), one]),
                                          b.scalar_like(0, x.dtype)])])
    return b.op("Where", [negative, small, power])


def _cast(b, node, xs):
    if node.inputs[0].dtype == node.attrs.dtype:  # clone(): values are immutable in ONNX
        return xs[0]
    return b.op("Cast", xs, to=ONNX_TYPE[node.attrs.dtype])


def _clamp(b, node, xs):
    """Clip with bounds as constants of the input's dtype; a one-sided clamp is Max or Min
    (onnxruntime's Clip takes a missing bound as the dtype's largest finite value, so +-inf
    would become +-3.4e38)."""
    lo = None if node.attrs.min is None else b.scalar_like(node.attrs.min, node.dtype)
    hi = None if node.attrs.max is None else b.scalar_like(node.attrs.max, node.dtype)
    if hi is None:
        return b.op("Max", [xs[0], lo]) if lo is not None else b.op("Identity", xs)
    if lo is None:
        return b.op("Min", [xs[0], hi])
    return b.op("Clip", [xs[0], lo, hi])


def _relu(b, node, xs):
    if node.dtype.is_floating_point:
        return b.op("Relu", xs)
    return b.op("Max", [xs[0], b.scalar_like(0, node.dtype)])


def _sigmoid(b, node, xs):
    """Sigmoid; float64 as 1 / (1 + exp(-x)), the interpreter's formula (onnxruntime's float64
    Sigmoid loses relative accuracy below x = -15: 1e-3 at -30, 0 instead of 4e-18 at -40)."""
    if node.dtype.name != "float64":
        return b.op("Sigmoid", xs)
    one = b.scalar_like(1, node.dtype)
    return b.op("Div", [one, b.op("Add", [one, b.op("Exp", [b.op("Neg", xs)])])])


def _sign(b, node, xs):
    return b.op("Identity", xs) if node.dtype.kind == "b" else b.op("Sign", xs)


LOWERINGS = {
    E.neg: _simple("Neg"),
    E.abs_: _simple("Abs"),
    E.relu: _relu,
    E.sign: _sign,
    E.floor: _int_identity("Floor"),
    E.ceil: _int_identity("Ceil"),
    E.round_: _int_identity("Round"),
    E.exp: _simple("Exp"),
    E.log: _simple("Log"),
    E.sqrt: _simple("Sqrt"),
    E.rsqrt: _rsqrt,
    E.sin: _simple("Sin"),
    E.cos: _simple("Cos"),
    E.tanh: _tanh,
    E.sigmoid: _sigmoid,
    E.erf: _erf,
    E.log1p: _log1p,
    E.expm1: _expm1,
    E.reciprocal: _simple("Reciprocal"),
    E.logical_not: _logical_not,
    E.detach: _pass_through,
    E.no_derivative: _pass_through,
    E.add: bools_via_int32(_simple("Add")),
    E.sub: _simple("Sub"),
    E.mul: bools_via_int32(_simple("Mul")),
    E.div: _simple("Div"),
    E.pow_: _pow,
    E.maximum: bools_via_int32(_simple("Max")),
    E.minimum: bools_via_int32(_simple("Min")),
    E.logaddexp: _logaddexp,
    E.remainder: _remainder,
    E.fmod: lambda b, node, xs: b.op("Mod", xs, fmod=1),  # C's fmod for floats and integers
    E.floor_divide: _floor_divide,
    E.binary_cross_entropy: _bce,
    E.binary_cross_entropy_with_logits: _bce_logits,
    E.eq: _simple("Equal"),
    E.ne: _ne,
    E.lt: bools_via_int32(_simple("Less")),
    E.le: bools_via_int32(_simple("LessOrEqual")),
    E.gt: bools_via_int32(_simple("Greater")),
    E.ge: bools_via_int32(_simple("GreaterOrEqual")),
    E.logical_and: _simple("And"),
    E.logical_or: _simple("Or"),
    E.logical_xor: _simple("Xor"),
    E.bitwise_and: _bitwise("BitwiseAnd"),
    E.bitwise_or: _bitwise("BitwiseOr"),
    E.bitwise_xor: _bitwise("BitwiseXor"),
    E.bitwise_not: _bitwise("BitwiseNot"),
    E.where: _where,
    E.lerp: _lerp,
    E.cast: _cast,
    E.clamp: _clamp,
}
