"""Eager optimizer updates on the parameters' arrays: the step's arithmetic as NumPy expressions,
then one in-place write per tensor, instead of a tensor op (and its dispatch) per term.

This is torch's ``foreach`` idea for eager steps, where per-op overhead dominates a small
model's update. The expressions are the tensor path's own, term for term and in its order (a
Python float becomes a 0-d array of the parameter's dtype, as ``scalar`` makes it; lerp is
its kernel), so both paths give the same bits (tests/tracer/test_optim_array_updates.py). A
trace, a hyperparameter held in a tensor, or mixed dtypes take the tensor path, which records.
"""
from __future__ import annotations

import numpy as np

from backends.numpy import KERNELS
from ir.ops import elementwise as E
from tracer.core import tracing
from tracer.core.tensor import Tensor
from tracer.ops.inplace import assign

_NUMBERS = (int, float)
_LERP = KERNELS[E.lerp].plain  # the lerp kernel's own formula (one form for a 0-d weight)


def usable(p, *hyper) -> bool:
    """Whether ``p``'s update may run on arrays: no trace records it, ``p`` and its gradient are
    one floating dtype and shape, and the hyperparameters are plain numbers."""
    grad = p._grad
    return (tracing.current() is None and p._type.dtype.is_floating_point and grad._type == p._type
            and all(h.__class__ in _NUMBERS for h in hyper))


def matches(p, *states) -> bool:
    """The state tensors have ``p``'s dtype and shape (a loaded state dict may not)."""
    return all(s._type == p._type for s in states)


def commit(t, value: np.ndarray) -> None:
    """``t`` takes ``value`` as an in-place op would (version bump, views, a leaf stays a leaf)."""
    assign(t, Tensor._make_eager(value, t._type))


def gradient(p, maximize: bool, weight_decay: float) -> np.ndarray:
    """``Optimizer._gradient`` on arrays: negated for ``maximize``, plus ``weight_decay * p``."""
    grad = p._grad._value
    if maximize:
        grad = np.negative(grad)
    if weight_decay:
        grad = grad + p._value * _scalar(weight_decay, p)
    return grad


def _scalar(value, p) -> np.ndarray:
    return np.asarray(value, dtype=p._value.dtype)


def adam(p, state, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
         amsgrad: bool, maximize: bool, decoupled: bool) -> None:
    """One Adam/AdamW step of ``p`` (state already initialised), as ``Adam._update`` computes it."""
    step = state["step"]
    count = step._value + np.asarray(1, step._value.dtype)
    with np.errstate(all="ignore"):
        value = p._value
        if weight_decay and decoupled:
            value = value * _scalar(1 - lr * weight_decay, p)
            grad = gradient(p, maximize, 0.0)
        else:
            grad = gradient(p, maximize, weight_decay)
        exp_avg = _LERP(state["exp_avg"]._value, grad, _scalar(1 - beta1, p))
        exp_avg_sq = state["exp_avg_sq"]._value * _scalar(beta2, p) + grad * _scalar(1 - beta2, p) * grad
        n = float(count)
        step_size = lr / (1 - beta1 ** n)
        bias_correction2_sqrt = (1 - beta2 ** n) ** 0.5
        second = exp_avg_sq
        if amsgrad:
            second = np.maximum(state["max_exp_avg_sq"]._value, exp_avg_sq)
        denom = np.sqrt(second) / _scalar(bias_correction2_sqrt, p) + _scalar(eps, p)
        value = value - exp_avg * _scalar(step_size, p) / denom
    commit(step, count)
    commit(state["exp_avg"], exp_avg)
    commit(state["exp_avg_sq"], exp_avg_sq)
    if amsgrad:
        commit(state["max_exp_avg_sq"], second)
    commit(p, value)


def sgd(p, state, lr: float, momentum: float, dampening: float, weight_decay: float, nesterov: bool,
        maximize: bool) -> None:
    """One SGD step of ``p``, as ``SGD._update`` computes it (a first step's buffer is the gradient)."""
    with np.errstate(all="ignore"):
        d_p = gradient(p, maximize, weight_decay)
        buf = None
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                new_buf = d_p.copy()
            else:
                new_buf = buf._value * _scalar(momentum, p)
                new_buf = new_buf + (d_p if 1 - dampening == 1 else d_p * _scalar(1 - dampening, p))
            d_p = d_p + new_buf * _scalar(momentum, p) if nesterov else new_buf
        value = p._value - d_p * _scalar(lr, p)
    if momentum:
        if buf is None:
            state["momentum_buffer"] = Tensor._make_eager(new_buf, p._type)
        else:
            commit(buf, new_buf)
    commit(p, value)
