"""NumPy kernels for ir/ops/elementwise.py. Each returns an array of the node's declared dtype."""
from __future__ import annotations

import math

import numpy as np

from ir.ops import elementwise as E

_erf = np.frompyfunc(math.erf, 1, 1)


def _keep_ints(fn):
    """floor/ceil/round are the identity on integers (NumPy would return floats)."""
    return lambda a, x: x if x.dtype.kind in "iub" else fn(x)


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


def _sign(a, x):
    return x if x.dtype.kind == "b" else np.sign(x)


KERNELS = {
    E.neg: lambda a, x: np.negative(x),
    E.abs_: lambda a, x: np.abs(x),
    E.relu: _relu,
    E.sign: _sign,
    E.floor: _keep_ints(np.floor),
    E.ceil: _keep_ints(np.ceil),
    E.round_: _keep_ints(np.round),
    E.exp: lambda a, x: np.exp(x),
    E.log: lambda a, x: np.log(x),
    E.sqrt: lambda a, x: np.sqrt(x),
    E.rsqrt: lambda a, x: np.reciprocal(np.sqrt(x)),
    E.sin: lambda a, x: np.sin(x),
    E.cos: lambda a, x: np.cos(x),
    E.tanh: lambda a, x: np.tanh(x),
    E.sigmoid: _sigmoid,
    E.erf: lambda a, x: _erf(x).astype(x.dtype),
    E.reciprocal: lambda a, x: np.reciprocal(x),
    E.log1p: lambda a, x: np.log1p(x),
    E.expm1: lambda a, x: np.expm1(x),
    E.logical_not: lambda a, x: np.logical_not(x),
    E.detach: lambda a, x: x,
    E.add: lambda a, x, y: np.add(x, y),
    E.sub: lambda a, x, y: np.subtract(x, y),
    E.mul: lambda a, x, y: np.multiply(x, y),
    E.div: lambda a, x, y: np.divide(x, y),
    E.pow_: lambda a, x, y: np.power(x, y),
    E.maximum: lambda a, x, y: np.maximum(x, y),
    E.minimum: lambda a, x, y: np.minimum(x, y),
    E.remainder: lambda a, x, y: np.remainder(x, y),
    E.floor_divide: lambda a, x, y: np.floor_divide(x, y),
    E.binary_cross_entropy: _bce,
    E.binary_cross_entropy_with_logits: _bce_logits,
    E.eq: lambda a, x, y: np.equal(x, y),
    E.ne: lambda a, x, y: np.not_equal(x, y),
    E.lt: lambda a, x, y: np.less(x, y),
    E.le: lambda a, x, y: np.less_equal(x, y),
    E.gt: lambda a, x, y: np.greater(x, y),
    E.ge: lambda a, x, y: np.greater_equal(x, y),
    E.logical_and: lambda a, x, y: np.logical_and(x, y),
    E.logical_or: lambda a, x, y: np.logical_or(x, y),
    E.logical_xor: lambda a, x, y: np.logical_xor(x, y),
    E.where: lambda a, c, x, y: np.where(c, x, y),
    E.cast: lambda a, x: x.astype(a.dtype.np),
    E.clamp: _clamp,
}
