"""Gradient rules: one short rule per differentiable op, written with ir ops.

A rule is ``rule(b, node, g) -> tuple`` with one entry per input of ``node``: the gradient
node for that input, or None for "no gradient flows to this input" (an index, a condition).
``b`` is an ``ir.builder.Builder``; ``b(op, *inputs, **attrs)`` emits an op. Reducing a
broadcast gradient back to its input's shape is the driver's job (``ir/autodiff.py``), not
the rules'. Ops listed in ``NOT_DIFFERENTIABLE`` pass no gradient (sources, integer/bool
outputs, detach); piecewise-constant ops (sign, floor, round...) pass zeros, as in PyTorch.
"""
from __future__ import annotations

import math

import numpy as np

from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
from ir.ops import random as RND
from ir.ops import reduce as R
from ir.ops import shape as S
from ir.ops import source as SRC


def _c(b, value, like):
    return b.const(value, like.dtype)


def _where0(b, cond, g):
    """g where cond holds, else 0."""
    return b(E.where, cond, g, _c(b, 0.0, g))


def _keep(b, g, node):
    """A reduced gradient reshaped with the reduced axes kept, then expanded to the input."""
    x = node.inputs[0]
    kept = R.reduced_shape(x.shape, node.attrs.axes, True)
    return b(S.expand_like, b.reshape(g, kept), x), kept


def _sum(b, n, g):
    return (_keep(b, g, n)[0],)


def _extremum(b, n, g):
    """amax/amin: PyTorch splits the gradient evenly between tied extrema."""
    x = n.inputs[0]
    ge, kept = _keep(b, g, n)
    hit = b(E.eq, x, b(S.expand_like, b.reshape(n, kept), x))
    mask = b(E.cast, hit, dtype=x.dtype)
    count = b(R.sum_, mask, axes=n.attrs.axes, keepdim=True)
    return (b(E.div, b(E.mul, ge, mask), count),)


def _prod(b, n, g):
    """g * prod / x; exact for inputs without zeros (documented limitation)."""
    x = n.inputs[0]
    ge, kept = _keep(b, g, n)
    out = b(S.expand_like, b.reshape(n, kept), x)
    return (b(E.div, b(E.mul, ge, out), x),)


def _max_min(first_wins):
    def rule(b, n, g):
        x, y = n.inputs
        half = b(E.mul, g, _c(b, 0.5, g))
        tie = b(E.where, b(E.eq, x, y), half, _c(b, 0.0, g))
        x_wins = b(first_wins, x, y)
        gx = b(E.where, x_wins, g, tie)
        gy = b(E.where, b(first_wins, y, x), g, tie)
        return gx, gy
    return rule


def _pow(b, n, g):
    x, y = n.inputs
    zero = _c(b, 0.0, g)
    dx = b(E.mul, g, b(E.mul, y, b(E.pow_, x, b(E.sub, y, _c(b, 1.0, y)))))
    dx = b(E.where, b(E.eq, y, zero), zero, dx)
    dy = b(E.mul, g, b(E.mul, n, b(E.log, x)))
    dy = b(E.where, b(E.logical_and, b(E.eq, x, zero), b(E.ge, y, zero)), zero, dy)
    return dx, dy


def _div(b, n, g):
    x, y = n.inputs
    return b(E.div, g, y), b(E.neg, b(E.div, b(E.mul, g, n), y))


def _bce(b, n, g):
    """torch's binary_cross_entropy_backward: g (x - t) / max(x (1 - x), 1e-12); the target's
    gradient is g (log(1 - x) - log(x)) with the same -100 clamps as the forward."""
    x, t = n.inputs
    one = _c(b, 1.0, x)
    denom = b(E.maximum, b(E.mul, x, b(E.sub, one, x)), _c(b, 1e-12, x))
    floor = _c(b, -100.0, x)
    log_x = b(E.maximum, b(E.log, x), floor)
    log_1mx = b(E.maximum, b(E.log, b(E.sub, one, x)), floor)
    return b(E.div, b(E.mul, g, b(E.sub, x, t)), denom), b(E.mul, g, b(E.sub, log_1mx, log_x))


def _bce_logits(b, n, g):
    """d/dx = (sigmoid(x) - t) g, d/dt = -x g (torch's binary_cross_entropy_with_logits)."""
    x, t = n.inputs
    return b(E.mul, g, b(E.sub, b(E.sigmoid, x), t)), b(E.neg, b(E.mul, g, x))


def _softmax(b, n, g):
    """out (g - sum(g out))."""
    dot = b(R.sum_, b(E.mul, g, n), axes=(n.attrs.axis,), keepdim=True)
    return (b(E.mul, n, b(E.sub, g, dot)),)


def _log_softmax(b, n, g):
    """g - exp(out) sum(g)."""
    total = b(R.sum_, g, axes=(n.attrs.axis,), keepdim=True)
    return (b(E.sub, g, b(E.mul, b(E.exp, n), total)),)


def _nll(b, n, g):
    """-g at each target class (a one-hot made by comparing with the class indices), 0 where
    ignored; a mean divides g by the one-hot's count (the number of targets not ignored)."""
    logp, target = n.inputs
    classes = logp.shape[1]
    trailing = (1,) * (len(logp.shape) - 2)
    index = b.const_array(np.arange(classes, dtype=target.dtype.np).reshape((1, classes) + trailing))
    t = b.reshape(target, target.shape[:1] + (1,) + target.shape[1:])
    hit = b(E.eq, t, index)
    if n.attrs.ignore_index in range(classes):
        hit = b(E.logical_and, hit, b(E.ne, t, b.const(n.attrs.ignore_index, target.dtype)))
    zero = b.const(0.0, logp.dtype)
    if n.attrs.reduction == "mean":
        count = b(R.sum_, b(E.cast, hit, dtype=logp.dtype), axes=tuple(range(len(logp.shape))), keepdim=False)
        return b(E.where, hit, b(E.neg, b(E.div, g, count)), zero), None
    if n.attrs.reduction == "sum":
        return b(E.where, hit, b(E.neg, g), zero), None
    g1 = b.reshape(g, g.shape[:1] + (1,) + g.shape[1:])
    return b(E.where, hit, b(E.neg, g1), zero), None


def _clamp(b, n, g):
    x = n.inputs[0]
    inside = None
    for bound, cmp in ((n.attrs.min, E.ge), (n.attrs.max, E.le)):
        if bound is not None:
            ok = b(cmp, x, _c(b, bound, x))
            inside = ok if inside is None else b(E.logical_and, inside, ok)
    return (_where0(b, inside, g),)


def _zero(b, n, g):
    """Piecewise-constant ops: PyTorch defines their gradient as zeros (not "no gradient")."""
    return tuple(b.zeros_like(x) if x.dtype.is_floating_point else None for x in n.inputs)


def _cast(b, n, g):
    x = n.inputs[0]
    return (b(E.cast, g, dtype=x.dtype) if x.dtype.is_floating_point else None,)


def _concat(b, n, g):
    axis, offset, grads = n.attrs.axis, 0, []
    for x in n.inputs:
        size = x.shape[axis]
        starts = tuple(offset if i == axis else 0 for i in range(g.type.rank))
        ends = tuple(offset + size if i == axis else d for i, d in enumerate(g.shape))
        grads.append(b(S.slice_, g, starts=starts, ends=ends, steps=(1,) * g.type.rank))
        offset += size
    return tuple(grads)


def _slice_attrs(n):
    return dict(starts=n.attrs.starts, ends=n.attrs.ends, steps=n.attrs.steps)


def _slice(b, n, g):
    x = n.inputs[0]
    return (b(S.slice_update, b.zeros_like(x, g.dtype), g, **_slice_attrs(n)),)


def _slice_update(b, n, g):
    src = n.inputs[1]
    return (b(S.slice_update, g, b.zeros_like(src, g.dtype), **_slice_attrs(n)),
            b(S.slice_, g, **_slice_attrs(n)))


def _permute(b, n, g):
    inverse = tuple(sorted(range(len(n.attrs.perm)), key=lambda i: n.attrs.perm[i]))
    return (b(S.permute, g, perm=inverse),)


def _swap_last(b, x):
    perm = tuple(range(x.type.rank - 2)) + (x.type.rank - 1, x.type.rank - 2)
    return b(S.permute, x, perm=perm)


def _matmul(b, n, g):
    """torch.matmul's rank cases: 1-D operands are lifted to matrices, then dropped again."""
    x, y = n.inputs
    x2 = b.reshape(x, (1,) + x.shape) if x.type.rank == 1 else x
    y2 = b.reshape(y, y.shape + (1,)) if y.type.rank == 1 else y
    g2 = b.reshape(g, L.matmul_shape((x2.type, y2.type)))
    gx = b.reshape(b.sum_to(b(L.matmul, g2, _swap_last(b, y2)), x2.shape), x.shape)
    gy = b.reshape(b.sum_to(b(L.matmul, _swap_last(b, x2), g2), y2.shape), y.shape)
    return gx, gy


RULES = {
    E.neg: lambda b, n, g: (b(E.neg, g),),
    E.abs_: lambda b, n, g: (b(E.mul, g, b(E.sign, n.inputs[0])),),
    # From the output, as torch's threshold_backward: relu(x) > 0 exactly where x > 0, and the
    # matmul before a ReLU then has the ReLU as its only reader (onnxruntime fuses the pair).
    E.relu: lambda b, n, g: (_where0(b, b(E.gt, n, _c(b, 0, n)), g),),
    E.exp: lambda b, n, g: (b(E.mul, g, n),),
    E.log: lambda b, n, g: (b(E.div, g, n.inputs[0]),),
    E.sqrt: lambda b, n, g: (b(E.div, g, b(E.mul, n, _c(b, 2.0, n))),),
    E.rsqrt: lambda b, n, g: (b(E.mul, g, b(E.mul, _c(b, -0.5, n), b(E.div, n, n.inputs[0]))),),
    E.sin: lambda b, n, g: (b(E.mul, g, b(E.cos, n.inputs[0])),),
    E.cos: lambda b, n, g: (b(E.neg, b(E.mul, g, b(E.sin, n.inputs[0]))),),
    E.tanh: lambda b, n, g: (b(E.mul, g, b(E.sub, _c(b, 1.0, n), b(E.mul, n, n))),),
    E.sigmoid: lambda b, n, g: (b(E.mul, g, b(E.mul, n, b(E.sub, _c(b, 1.0, n), n))),),
    E.erf: lambda b, n, g: (b(E.mul, g, b(E.mul, _c(b, 2.0 / math.sqrt(math.pi), n), b(
        E.exp, b(E.neg, b(E.mul, n.inputs[0], n.inputs[0]))))),),
    E.log1p: lambda b, n, g: (b(E.div, g, b(E.add, n.inputs[0], _c(b, 1.0, n))),),
    E.expm1: lambda b, n, g: (b(E.mul, g, b(E.add, n, _c(b, 1.0, n))),),
    E.reciprocal: lambda b, n, g: (b(E.neg, b(E.mul, g, b(E.mul, n, n))),),
    E.add: lambda b, n, g: (g, g),
    E.sub: lambda b, n, g: (g, b(E.neg, g)),
    E.mul: lambda b, n, g: (b(E.mul, g, n.inputs[1]), b(E.mul, g, n.inputs[0])),
    E.div: _div,
    E.pow_: _pow,
    E.maximum: _max_min(E.gt),
    E.minimum: _max_min(E.lt),
    E.binary_cross_entropy: _bce,
    E.binary_cross_entropy_with_logits: _bce_logits,
    E.remainder: lambda b, n, g: (g, b(E.neg, b(E.mul, g, b(E.floor_divide, *n.inputs)))),
    E.where: lambda b, n, g: (None, _where0(b, n.inputs[0], g),
                              b(E.where, n.inputs[0], _c(b, 0.0, g), g)),
    E.cast: _cast,
    E.sign: _zero,
    E.floor: _zero,
    E.ceil: _zero,
    E.round_: _zero,
    E.floor_divide: _zero,
    E.clamp: _clamp,
    R.sum_: _sum,
    R.amax: _extremum,
    R.amin: _extremum,
    R.prod: _prod,
    R.softmax: _softmax,
    R.log_softmax: _log_softmax,
    S.reshape: lambda b, n, g: (b.reshape(g, n.inputs[0].shape),),
    S.permute: _permute,
    S.expand: lambda b, n, g: (b.sum_to(g, n.inputs[0].shape),),
    S.expand_like: lambda b, n, g: (b.sum_to(g, n.inputs[0].shape), None),
    S.concat: _concat,
    S.slice_: _slice,
    S.slice_update: _slice_update,
    I.take: lambda b, n, g: (b(I.index_add, b.zeros_like(n.inputs[0], g.dtype), n.inputs[1], g,
                               axis=n.attrs.axis), None),
    I.index_add: lambda b, n, g: (g, None, b(I.take, g, n.inputs[1], axis=n.attrs.axis)),
    I.gather_elements: lambda b, n, g: (b(I.scatter_add, b.zeros_like(n.inputs[0], g.dtype),
                                          n.inputs[1], g, axis=n.attrs.axis), None),
    I.nll_loss: _nll,
    I.scatter_add: lambda b, n, g: (g, None, b(I.gather_elements, g, n.inputs[1], axis=n.attrs.axis)),
    L.matmul: _matmul,
}

#: Ops through which no gradient flows: sources, integer/bool results, and detach.
NOT_DIFFERENTIABLE = frozenset({
    SRC.input_, SRC.constant, RND.random_uniform, RND.random_normal, E.logical_not, E.detach,
    E.eq, E.ne, E.lt, E.le, E.gt, E.ge, E.logical_and, E.logical_or, E.logical_xor,
    R.argmax, R.argmin, R.numel,
})
