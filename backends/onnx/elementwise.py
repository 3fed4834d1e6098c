"""ONNX lowerings for ir/ops/elementwise.py. Where ONNX and torch differ (integer division,
remainder signs, clamp bounds), the lowering reproduces torch's meaning."""
from __future__ import annotations

import math

import numpy as np

from backends.onnx.builder import ONNX_TYPE, bools_via_int32
from backends.onnx.importing import ir_dtype, normalize_axes, unsupported
from backends.onnx.errors import ExportError
from ir import dtypes
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
from ir.ops import shape as S

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
#: ONNX ops onnxruntime's CPU provider runs in float32 only: float64 is computed in float32.
_FLOAT32_ONLY = {E.sinh: "Sinh", E.cosh: "Cosh", E.asinh: "Asinh", E.acosh: "Acosh", E.atanh: "Atanh",
                 E.asin: "Asin", E.acos: "Acos", E.atan: "Atan"}
NARROWED.update({op: {"float64": ("float32", f"onnxruntime's CPU provider has no float64 {t}")}
                 for op, t in _FLOAT32_ONLY.items()})
NARROWED[E.atan2] = {"float64": ("float32", "onnxruntime's CPU provider has no float64 Atan")}


def _float32_only(op_type):
    """An ONNX op onnxruntime runs in float32 only: float64 is cast down and back (about 1e-7
    relative error; NARROWED tells the comparison report)."""
    def lower(b, node, xs):
        if node.dtype.name != "float64":
            return b.op(op_type, xs)
        narrow = b.op(op_type, [b.op("Cast", xs, to=ONNX_TYPE[_F32])])
        return b.op("Cast", [narrow], to=ONNX_TYPE[node.dtype])
    lower.__doc__ = f"ir op -> ONNX {op_type} (float64 through float32 on onnxruntime)."
    return lower


def _atan2(b, node, xs):
    """ir atan2(y, x) -> Atan(y / x) moved to the right quadrant: +-pi where x < 0 (by y's sign,
    +pi for y = +-0 as Where cannot see a zero's sign), and 0 where x = y = 0 (0/0 is NaN)."""
    y, x = xs
    dt = ONNX_TYPE[node.dtype]
    work = _F32 if node.dtype.name == "float64" else node.dtype
    if work is not node.dtype:
        y, x = (b.op("Cast", [v], to=ONNX_TYPE[work]) for v in (y, x))
    zero, pi = b.const(np.zeros((), work.np)), b.const(np.array(np.pi, work.np))
    angle = b.op("Atan", [b.op("Div", [y, x])])
    turned = b.op("Where", [b.op("GreaterOrEqual", [y, zero]), b.op("Add", [angle, pi]), b.op("Sub", [angle, pi])])
    out = b.op("Where", [b.op("Less", [x, zero]), turned, angle])
    both_zero = b.op("And", [b.op("Equal", [x, zero]), b.op("Equal", [y, zero])])
    out = b.op("Where", [both_zero, b.op("Mul", [x, zero]), out])
    return out if work is node.dtype else b.op("Cast", [out], to=dt)


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
    """Sign, 0 at NaN for floats as torch (onnxruntime's Sign of NaN is NaN)."""
    if node.dtype.kind == "b":
        return b.op("Identity", xs)
    if not node.dtype.is_floating_point:
        return b.op("Sign", xs)
    return b.op("Where", [b.op("IsNaN", xs), b.scalar_like(0, node.dtype), b.op("Sign", xs)])


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
    **{op: _float32_only(t) for op, t in _FLOAT32_ONLY.items()},
    E.atan2: _atan2,
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


# -- import rules (ONNX -> ir; ``backends/onnx/load.py`` is the driver) ------------------------


def _imp_unary(op):
    def rule(g):
        return g.add(op, [g.x(0)])
    rule.__doc__ = f"ONNX -> ir {op.name}."
    return rule


def _imp_binary(op):
    def rule(g):
        return g.add(op, [g.x(0), g.x(1)])
    rule.__doc__ = f"ONNX -> ir {op.name}."
    return rule


def _imp_variadic(op):
    """Max, Min, Sum: a left fold of the binary op (ONNX broadcasts all inputs together)."""
    def rule(g):
        xs = g.xs()
        out = xs[0]
        for x in xs[1:]:
            out = g.add(op, [out, x])
        if len(xs) == 1:
            out = g.add(E.cast, [out], E.CastAttrs(out.dtype))  # a copy keeps one node per output
        return out
    return rule


def _imp_mean(g):
    total = _imp_variadic(E.add)(g)
    return g.add(E.div, [total, g.scalar(len(g.xs()), total.dtype)])


def _imp_identity(g):
    """Identity and Dropout at inference pass the input through (no node)."""
    return g.x(0)


def _imp_dropout(g):
    """Dropout at inference is the identity; its mask output is all true."""
    g.attr("seed")
    training = g.const(2)
    if training is not None and bool(training):
        g.fail("training_mode=True draws a random mask; import the model for inference")
    x = g.x(0)
    return [x, g.constant(np.ones(x.shape, dtype=bool))]


def _imp_div(g):
    """Div; integers truncate toward zero (ONNX), which is floor division stepped up where
    the signs differ and the division is inexact."""
    x, y = g.x(0), g.x(1)
    if x.dtype.is_floating_point:
        return g.add(E.div, [x, y])
    q = g.add(E.floor_divide, [x, y])
    zero = g.scalar(0, x.dtype)
    inexact = g.add(E.ne, [g.add(E.fmod, [x, y]), zero])
    signs = g.add(E.logical_xor, [g.add(E.lt, [x, zero]), g.add(E.lt, [y, zero])])
    step = g.cast(g.add(E.logical_and, [inexact, signs]), x.dtype)
    return g.add(E.add, [q, step])


def _imp_pow(g):
    """Pow; ONNX lets the exponent have another dtype: it is cast to the base's."""
    x = g.x(0)
    return g.add(E.pow_, [x, g.cast(g.x(1), x.dtype)])


def _imp_mod(g):
    """Mod: fmod=1 is C's fmod (the dividend's sign), fmod=0 Python's % (the divisor's)."""
    return g.add(E.fmod if g.attr("fmod", 0) else E.remainder, [g.x(0), g.x(1)])


def _imp_not(g):
    return g.add(E.logical_not, [g.x(0)])


def _imp_cast(g):
    to = ir_dtype(g.attr("to"), g.where)
    g.attr("saturate")
    g.attr("round_mode")
    return g.add(E.cast, [g.x(0)], E.CastAttrs(to))


def _imp_cast_like(g):
    g.attr("saturate")
    g.attr("round_mode")
    return g.add(E.cast, [g.x(0)], E.CastAttrs(g.x(1).dtype))


def _imp_clip(g):
    """Clip with bounds as inputs: maximum and minimum with them (a bound absent is none)."""
    out = g.x(0)
    if g.has(1):
        out = g.add(E.maximum, [out, g.x(1)])
    if g.has(2):
        out = g.add(E.minimum, [out, g.x(2)])
    return out if out is not g.x(0) else g.add(E.cast, [out], E.CastAttrs(out.dtype))


def _imp_isnan(g):
    x = g.x(0)
    return g.add(E.ne, [x, x])


def _imp_isinf(g):
    x = g.x(0)
    pos, neg = g.attr("detect_positive", 1), g.attr("detect_negative", 1)
    inf = g.scalar(np.inf, x.dtype)
    if pos and neg:
        return g.add(E.eq, [g.add(E.abs_, [x]), inf])
    if pos:
        return g.add(E.eq, [x, inf])
    if neg:
        return g.add(E.eq, [x, g.add(E.neg, [inf])])
    return g.constant(np.zeros(x.shape, dtype=bool))


def _imp_where(g):
    return g.add(E.where, [g.x(0), g.x(1), g.x(2)])


# Activations as compositions of ir ops (their gradients follow from the parts).
def _negative_part(g, x, value):
    """where(x < 0, value, x)."""
    return g.add(E.where, [g.add(E.lt, [x, g.scalar(0, x.dtype)]), value, x])


def _imp_leaky_relu(g):
    x = g.x(0)
    return _negative_part(g, x, g.add(E.mul, [x, g.scalar(g.attr("alpha", 0.01), x.dtype)]))


def _imp_prelu(g):
    x = g.x(0)
    return _negative_part(g, x, g.add(E.mul, [x, g.x(1)]))


def _imp_elu(g):
    x = g.x(0)
    return _negative_part(g, x, g.add(E.mul, [g.add(E.expm1, [x]), g.scalar(g.attr("alpha", 1.0), x.dtype)]))


def _imp_selu(g):
    x = g.x(0)
    alpha, gamma = g.attr("alpha", 1.67326319217681884765625), g.attr("gamma", 1.05070102214813232421875)
    elu = g.add(E.where, [g.add(E.le, [x, g.scalar(0, x.dtype)]),
                          g.add(E.mul, [g.add(E.expm1, [x]), g.scalar(alpha, x.dtype)]), x])
    return g.add(E.mul, [elu, g.scalar(gamma, x.dtype)])


def _imp_celu(g):
    """max(0, x) + min(0, alpha expm1(x / alpha))."""
    x = g.x(0)
    alpha = g.scalar(g.attr("alpha", 1.0), x.dtype)
    zero = g.scalar(0, x.dtype)
    neg = g.add(E.mul, [alpha, g.add(E.expm1, [g.add(E.div, [x, alpha])])])
    return g.add(E.add, [g.add(E.maximum, [x, zero]), g.add(E.minimum, [neg, zero])])


def softplus_of(g, x):
    """log(1 + exp(x)) as relu(x) + log1p(exp(-|x|)): no overflow."""
    tail = g.add(E.log1p, [g.add(E.exp, [g.add(E.neg, [g.add(E.abs_, [x])])])])
    return g.add(E.add, [g.add(E.relu, [x]), tail])


def _imp_softplus(g):
    return softplus_of(g, g.x(0))


def _imp_softsign(g):
    x = g.x(0)
    return g.add(E.div, [x, g.add(E.add, [g.scalar(1, x.dtype), g.add(E.abs_, [x])])])


def _imp_mish(g):
    x = g.x(0)
    return g.add(E.mul, [x, g.add(E.tanh, [softplus_of(g, x)])])


def _hard_sigmoid(g, x, alpha, beta):
    lin = g.add(E.add, [g.add(E.mul, [x, g.scalar(alpha, x.dtype)]), g.scalar(beta, x.dtype)])
    return g.add(E.clamp, [lin], E.ClampAttrs(0.0, 1.0))


def _imp_hard_sigmoid(g):
    return _hard_sigmoid(g, g.x(0), g.attr("alpha", 0.2), g.attr("beta", 0.5))


def _imp_hard_swish(g):
    x = g.x(0)
    return g.add(E.mul, [x, _hard_sigmoid(g, x, 1 / 6, 0.5)])


def _imp_gelu(g):
    """0.5 x (1 + erf(x / sqrt 2)); approximate="tanh": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = g.x(0)
    approximate = g.attr("approximate", "none")
    half, one = g.scalar(0.5, x.dtype), g.scalar(1, x.dtype)
    if approximate == "none":
        inner = g.add(E.erf, [g.add(E.mul, [x, g.scalar(1 / math.sqrt(2), x.dtype)])])
    elif approximate == "tanh":
        cube = g.add(E.mul, [g.add(E.mul, [x, x]), x])
        arg = g.add(E.add, [x, g.add(E.mul, [cube, g.scalar(0.044715, x.dtype)])])
        inner = g.add(E.tanh, [g.add(E.mul, [arg, g.scalar(math.sqrt(2 / math.pi), x.dtype)])])
    else:
        unsupported(g, "approximate", approximate, "'none', 'tanh'")
    return g.add(E.mul, [g.add(E.mul, [x, half]), g.add(E.add, [one, inner])])


def _imp_thresholded_relu(g):
    x = g.x(0)
    keep = g.add(E.gt, [x, g.scalar(g.attr("alpha", 1.0), x.dtype)])
    return g.add(E.where, [keep, x, g.scalar(0, x.dtype)])


def _imp_tan(g):
    x = g.x(0)
    return g.add(E.div, [g.add(E.sin, [x]), g.add(E.cos, [x])])


def _imp_swish(g):
    x = g.x(0)
    return g.add(E.mul, [x, g.add(E.sigmoid, [g.add(E.mul, [x, g.scalar(g.attr("alpha", 1.0), x.dtype)])])])


def _imp_shrink(g):
    """x - bias where x > lambd, x + bias where x < -lambd, else 0."""
    x = g.x(0)
    lambd, bias = g.attr("lambd", 0.5), g.attr("bias", 0.0)
    zero = g.scalar(0, x.dtype)
    above = g.add(E.gt, [x, g.scalar(lambd, x.dtype)])
    below = g.add(E.lt, [x, g.scalar(-lambd, x.dtype)])
    low = g.add(E.where, [below, g.add(E.add, [x, g.scalar(bias, x.dtype)]), zero])
    return g.add(E.where, [above, g.add(E.sub, [x, g.scalar(bias, x.dtype)]), low])


def _imp_bit_shift(g):
    """BitShift: x times (LEFT) or floor-divided by (RIGHT) 2^y, the powers looked up in a
    table of the dtype's width (wrapping as C's shifts do); a shift outside [0, bits) gives 0
    (-1 for a negative x shifted right)."""
    x, y = g.x(0), g.x(1)
    direction = g.attr("direction")
    if direction not in ("LEFT", "RIGHT"):
        unsupported(g, "direction", direction, "'LEFT', 'RIGHT'")
    if x.dtype.kind not in "iu" or y.dtype is not x.dtype:
        g.fail(f"expects two integer inputs of one dtype, got {x.dtype.name} and {y.dtype.name}")
    bits = x.dtype.itemsize * 8
    table = np.array([1 << k for k in range(bits)], dtype=np.uint64).astype(x.dtype.np)
    shift = g.cast(y, dtypes.int64)
    inside = g.add(E.logical_and, [g.add(E.ge, [shift, g.scalar(0, dtypes.int64)]),
                                   g.add(E.lt, [shift, g.scalar(bits, dtypes.int64)])])
    index = g.add(E.clamp, [shift], E.ClampAttrs(0, bits - 1))
    factor = g.add(I.take, [g.constant(table), index], S.AxisAttrs(0))
    if direction == "LEFT":
        out, outside = g.add(E.mul, [x, factor]), g.scalar(0, x.dtype)
    else:
        out = g.add(E.floor_divide, [x, factor])
        outside = g.scalar(0, x.dtype)
        if x.dtype.kind == "i":
            outside = g.add(E.where, [g.add(E.lt, [x, outside]), g.scalar(-1, x.dtype), outside])
    return g.add(E.where, [inside, out, outside])


def _imp_swiglu(g):
    """SwiGLU: a sigmoid(alpha a) b."""
    a, b = g.x(0), g.x(1)
    alpha = g.attr("alpha", 1.0)
    gate = g.add(E.sigmoid, [g.add(E.mul, [a, g.scalar(alpha, a.dtype)])])
    return g.add(E.mul, [g.add(E.mul, [a, gate]), b])


def _per_axis(g, v, x, axis, block):
    """A quantization scale or zero point against ``x``: a scalar as it is, a 1-D one along
    ``axis``, a blocked one (``block`` > 0) repeated over each block of ``axis``."""
    rank = len(x.shape)
    if block or v.type.numel != 1 or len(v.shape) > 1:
        axis = normalize_axes(g, [axis], rank)[0]
    if block:
        if len(v.shape) != rank or v.shape[axis] != -(-x.shape[axis] // block):
            g.fail(f"a blocked scale/zero point {list(v.shape)} must match {list(x.shape)} with "
                   f"ceil({x.shape[axis]}/{block}) along axis {axis}")
        index = g.constant(np.arange(x.shape[axis], dtype=np.int64) // block)
        return g.add(I.take, [v, index], S.AxisAttrs(axis))
    if v.type.numel == 1 and len(v.shape) <= 1:
        return g.add(S.reshape, [v], S.ShapeAttrs(())) if v.shape else v
    if len(v.shape) != 1 or v.shape[0] != x.shape[axis]:
        g.fail(f"a per-axis scale/zero point must be 1-D of {x.shape[axis]} (axis {axis}), got {list(v.shape)}")
    column = [1] * rank
    column[axis] = v.shape[0]
    return g.add(S.reshape, [v], S.ShapeAttrs(tuple(column)))


def _quant_axis(g, x):
    axis = g.attr("axis", 1)  # normalized where a per-axis or blocked scale needs it
    block = g.attr("block_size", 0)
    if block < 0:
        g.fail(f"block_size must be non-negative, got {block}")
    if g.attr("precision", 0):
        unsupported(g, "precision", g.attr("precision"), "0 (the scale's dtype)")
    return axis, block


def _imp_dequantize_linear(g):
    """DequantizeLinear: (x - zero_point) scale, in the scale's (or ``output_dtype``'s) float dtype."""
    x, scale = g.x(0), g.x(1)
    axis, block = _quant_axis(g, x)
    code = g.attr("output_dtype", 0)
    dtype = ir_dtype(code, g.where) if code else scale.dtype
    if dtype.kind != "f" or x.dtype.kind not in "iu":
        g.fail(f"dequantizes an integer input to a float, got {x.dtype.name} to {dtype.name}")
    wide = g.cast(x, dtype)
    if g.has(2):
        wide = g.add(E.sub, [wide, g.cast(_per_axis(g, g.x(2), x, axis, block), dtype)])
    return g.add(E.mul, [wide, g.cast(_per_axis(g, scale, x, axis, block), dtype)])


def _imp_quantize_linear(g):
    """QuantizeLinear: round(x / scale) (half to even) + zero_point, saturated to the output's
    integer range (the zero point's dtype, ``output_dtype``, or uint8)."""
    x, scale = g.x(0), g.x(1)
    axis, block = _quant_axis(g, x)
    g.attr("saturate", 1)  # float8 outputs only; integer outputs always saturate
    code = g.attr("output_dtype", 0)
    dtype = ir_dtype(code, g.where) if code else (g.x(2).dtype if g.has(2) else dtypes.uint8)
    if dtype.kind not in "iu" or x.dtype.kind != "f":
        g.fail(f"quantizes a float input to an integer, got {x.dtype.name} to {dtype.name}")
    q = g.add(E.round_, [g.add(E.div, [x, g.cast(_per_axis(g, scale, x, axis, block), x.dtype)])])
    if g.has(2):
        q = g.add(E.add, [q, g.cast(_per_axis(g, g.x(2), x, axis, block), x.dtype)])
    info = np.iinfo(dtype.np)
    return g.cast(g.add(E.clamp, [q], E.ClampAttrs(float(info.min), float(info.max))), dtype)


def _imp_qlinear_matmul(g):
    """QLinearMatMul: the dequantized product ((a - a_zp) a_scale)((b - b_zp) b_scale),
    quantized with y's scale and zero point (per-tensor ones)."""
    a, b = g.x(0), g.x(3)
    scales = [g.x(i) for i in (1, 4, 6)]
    zeros = [g.x(i) for i in (2, 5, 7)]
    if any(v.type.numel != 1 for v in scales + zeros):
        g.fail("only per-tensor (one-element) scales and zero points are supported")
    dtype = scales[0].dtype
    if dtype.kind != "f" or a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        g.fail(f"expects integer a and b with float scales, got {a.dtype.name}, {b.dtype.name}, {dtype.name}")
    flat = [g.add(S.reshape, [v], S.ShapeAttrs(())) for v in scales + zeros]
    wide = dtypes.float64
    def dequant(v, scale, zero):  # noqa: E306
        return g.add(E.mul, [g.add(E.sub, [g.cast(v, wide), g.cast(zero, wide)]), g.cast(scale, wide)])
    product = g.add(L.matmul, [dequant(a, flat[0], flat[3]), dequant(b, flat[1], flat[4])])
    q = g.add(E.round_, [g.add(E.div, [product, g.cast(flat[2], wide)])])
    q = g.add(E.add, [q, g.cast(flat[5], wide)])
    out = zeros[2].dtype
    info = np.iinfo(out.np)
    return g.cast(g.add(E.clamp, [q], E.ClampAttrs(float(info.min), float(info.max))), out)


IMPORTS = {
    "QLinearMatMul": _imp_qlinear_matmul,
    "QuantizeLinear": _imp_quantize_linear,
    "DequantizeLinear": _imp_dequantize_linear,
    "BitShift": _imp_bit_shift,
    "SwiGLU": _imp_swiglu,
    "Neg": _imp_unary(E.neg),
    "Abs": _imp_unary(E.abs_),
    "Relu": _imp_unary(E.relu),
    "Sign": _imp_unary(E.sign),
    "Floor": _imp_unary(E.floor),
    "Ceil": _imp_unary(E.ceil),
    "Round": _imp_unary(E.round_),
    "Exp": _imp_unary(E.exp),
    "Log": _imp_unary(E.log),
    "Sqrt": _imp_unary(E.sqrt),
    "Sin": _imp_unary(E.sin),
    "Cos": _imp_unary(E.cos),
    "Tan": _imp_tan,
    "Tanh": _imp_unary(E.tanh),
    "Sigmoid": _imp_unary(E.sigmoid),
    "Erf": _imp_unary(E.erf),
    "Reciprocal": _imp_unary(E.reciprocal),
    "Not": _imp_not,
    "Identity": _imp_identity,
    "Dropout": _imp_dropout,
    "Add": _imp_binary(E.add),
    "Sub": _imp_binary(E.sub),
    "Mul": _imp_binary(E.mul),
    "Div": _imp_div,
    "Pow": _imp_pow,
    "Mod": _imp_mod,
    "Max": _imp_variadic(E.maximum),
    "Min": _imp_variadic(E.minimum),
    "Sum": _imp_variadic(E.add),
    "Mean": _imp_mean,
    "Equal": _imp_binary(E.eq),
    "Less": _imp_binary(E.lt),
    "LessOrEqual": _imp_binary(E.le),
    "Greater": _imp_binary(E.gt),
    "GreaterOrEqual": _imp_binary(E.ge),
    "And": _imp_binary(E.logical_and),
    "Or": _imp_binary(E.logical_or),
    "Xor": _imp_binary(E.logical_xor),
    "BitwiseAnd": _imp_binary(E.bitwise_and),
    "BitwiseOr": _imp_binary(E.bitwise_or),
    "BitwiseXor": _imp_binary(E.bitwise_xor),
    "BitwiseNot": _imp_unary(E.bitwise_not),
    "Where": _imp_where,
    "Cast": _imp_cast,
    "CastLike": _imp_cast_like,
    "Clip": _imp_clip,
    "IsNaN": _imp_isnan,
    "IsInf": _imp_isinf,
    "LeakyRelu": _imp_leaky_relu,
    "PRelu": _imp_prelu,
    "Elu": _imp_elu,
    "Selu": _imp_selu,
    "Celu": _imp_celu,
    "Softplus": _imp_softplus,
    "Softsign": _imp_softsign,
    "Mish": _imp_mish,
    "HardSigmoid": _imp_hard_sigmoid,
    "HardSwish": _imp_hard_swish,
    "Gelu": _imp_gelu,
    "ThresholdedRelu": _imp_thresholded_relu,
    "Swish": _imp_swish,
    "Shrink": _imp_shrink,
    "Sinh": _imp_unary(E.sinh),
    "Cosh": _imp_unary(E.cosh),
    "Asinh": _imp_unary(E.asinh),
    "Acosh": _imp_unary(E.acosh),
    "Atanh": _imp_unary(E.atanh),
    "Asin": _imp_unary(E.asin),
    "Acos": _imp_unary(E.acos),
    "Atan": _imp_unary(E.atan),
}
