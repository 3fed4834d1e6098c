"""NumPy kernels for ir/ops/elementwise.py. Each returns an array of the node's declared dtype."""
from __future__ import annotations

import numpy as np

from backends.numpy.erf import erf
from ir.ops import elementwise as E


def _plain(fn):
    """A kernel that is just ``fn`` of the inputs (no attributes). ``kernel.plain`` is ``fn``,
    which a ``Program`` calls directly (one Python frame less per node)."""
    def kernel(a, *xs):
        return fn(*xs)
    kernel.plain = fn
    return kernel


def _keep_ints(fn):
    """floor/ceil/round are the identity on integers (NumPy would return floats); a copy, since
    a result must never be its input's array (an in-place write to one would change both)."""
    return lambda a, x: x.copy() if x.dtype.kind in "iub" else fn(x)


def _sigmoid(a, x):
    """1 / (1 + exp(-x)) as torch computes it: exp overflows to inf only where the result
    is below the smallest normal number, and 1 / inf gives the 0 torch gives there."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _clamp(a, x):
    if a.min is not None:
        x = np.maximum(x, np.asarray(a.min, dtype=x.dtype))
    if a.max is not None:
        x = np.minimum(x, np.asarray(a.max, dtype=x.dtype))
    return x


def _bce(a, x, t):
    log_x = np.maximum(np.log(x), np.asarray(-100, x.dtype))
    log_1mx = np.maximum(np.log(np.asarray(1, x.dtype) - x), np.asarray(-100, x.dtype))
    return -(t * log_x + (np.asarray(1, x.dtype) - t) * log_1mx)


def _bce_logits(a, x, t):
    return np.maximum(x, np.zeros((), x.dtype)) - x * t + np.log1p(np.exp(-np.abs(x)))


def _relu(a, x):
    return np.maximum(x, np.zeros((), dtype=x.dtype))


def _integer_division(fn):
    """Integer ``//`` and ``%`` by zero raise, as torch's do (NumPy returns 0 with a warning)."""
    def kernel(x, y):
        if y.dtype.kind in "iu" and not np.all(y) and np.broadcast(x, y).size:
            raise ZeroDivisionError("ZeroDivisionError")
        return fn(x, y)
    return kernel


def _power(x, y):
    """C's pow, as onnxruntime's Pow and torch's pow of tensors: NumPy's scalar-0.5 fast path
    (a square root) would give NaN for -inf ** 0.5, where pow gives inf."""
    if x.dtype.kind in "iu" and y.dtype.kind in "iu" and np.any(y < 0):
        # torch: a negative integer power of an integer is 1 / x ** k truncated: 1 for x = 1,
        # +-1 for x = -1, else 0 (NumPy refuses it)
        odd = (y % 2) != 0
        small = np.where(x == 1, 1, np.where(x == -1, np.where(odd, -1, 1), 0)).astype(x.dtype)
        return np.where(y < 0, small, np.power(x, np.maximum(y, 0)))
    out = np.power(x, y)
    if x.dtype.kind == "f" and np.any(y == 0.5):
        out = np.where((x == -np.inf) & (y == 0.5), np.asarray(np.inf, out.dtype), out)
    return out


def _lerp(x, y, w):
    """torch's lerp: the form that is exact at its nearer end (weight 0 or 1); one form for a
    0-d weight (an optimizer's ``1 - beta``), chosen once rather than computing both."""
    diff = y - x
    if np.ndim(w) == 0:
        out = x + w * diff if abs(w) < 0.5 else y - diff * (1 - w)
        return np.asarray(out).astype(np.result_type(x, y, w), copy=False)
    with np.errstate(invalid="ignore"):
        near_start = np.abs(w) < 0.5
        return np.where(near_start, x + w * diff, y - diff * (1 - w)).astype(np.result_type(x, y, w), copy=False)


def _sign(a, x):
    """torch's sign: 0 at NaN (NumPy's is NaN there)."""
    if x.dtype.kind == "b":
        return x
    s = np.sign(x)
    return np.where(s == s, s, np.zeros((), s.dtype)) if x.dtype.kind == "f" else s


KERNELS = {
    E.neg: _plain(np.negative),
    E.abs_: _plain(np.abs),
    E.relu: _relu,
    E.sign: _sign,
    E.floor: _keep_ints(np.floor),
    E.ceil: _keep_ints(np.ceil),
    E.round_: _keep_ints(np.round),
    E.exp: _plain(np.exp),
    E.log: _plain(np.log),
    E.sqrt: _plain(np.sqrt),
    E.rsqrt: lambda a, x: np.reciprocal(np.sqrt(x)),
    E.sin: _plain(np.sin),
    E.sinh: _plain(np.sinh),
    E.cosh: _plain(np.cosh),
    E.asinh: _plain(np.arcsinh),
    E.acosh: _plain(np.arccosh),
    E.atanh: _plain(np.arctanh),
    E.asin: _plain(np.arcsin),
    E.acos: _plain(np.arccos),
    E.atan: _plain(np.arctan),
    E.atan2: _plain(np.arctan2),
    E.cos: _plain(np.cos),
    E.tanh: _plain(np.tanh),
    E.sigmoid: _sigmoid,
    E.erf: lambda a, x: erf(x),
    E.reciprocal: _plain(np.reciprocal),
    E.log1p: _plain(np.log1p),
    E.expm1: _plain(np.expm1),
    E.logical_not: _plain(np.logical_not),
    E.detach: lambda a, x: x,
    E.no_derivative: lambda a, x: x,
    E.add: _plain(np.add),
    E.sub: _plain(np.subtract),
    E.mul: _plain(np.multiply),
    E.div: _plain(np.divide),
    E.pow_: _plain(_power),
    E.maximum: _plain(np.maximum),
    E.minimum: _plain(np.minimum),
    E.logaddexp: _plain(np.logaddexp),
    E.remainder: _plain(_integer_division(np.remainder)),
    E.fmod: _plain(_integer_division(np.fmod)),
    E.floor_divide: _plain(_integer_division(np.floor_divide)),
    E.binary_cross_entropy: _bce,
    E.binary_cross_entropy_with_logits: _bce_logits,
    E.eq: _plain(np.equal),
    E.ne: _plain(np.not_equal),
    E.lt: _plain(np.less),
    E.le: _plain(np.less_equal),
    E.gt: _plain(np.greater),
    E.ge: _plain(np.greater_equal),
    E.logical_and: _plain(np.logical_and),
    E.logical_or: _plain(np.logical_or),
    E.logical_xor: _plain(np.logical_xor),
    E.bitwise_and: _plain(np.bitwise_and),
    E.bitwise_or: _plain(np.bitwise_or),
    E.bitwise_xor: _plain(np.bitwise_xor),
    E.bitwise_not: _plain(np.invert),
    E.where: _plain(np.where),
    E.lerp: _plain(_lerp),
    E.cast: lambda a, x: x.astype(a.dtype.np),
    E.clamp: _clamp,
}
