"""Gradient rules: one short rule per differentiable op, written as its formula.

A formula is ``fn(g, out, *inputs)``: ``g`` is the incoming gradient, ``out`` the forward
node and ``inputs`` its inputs, all ``ir.formula.Value``s whose operators emit ir ops
(``g * (out * (1 - out))`` is the sigmoid rule; numbers become constants of the other
operand's dtype). It returns one entry per input: that input's gradient, or None for "no
gradient flows to this input" (an index, a condition, a shape reference). Attributes are
read from ``out.attrs``.

The kinds of rule, each turning a formula into the driver's ``rule(b, node, g) -> tuple``
of nodes (``b`` is the ``ir.builder.Builder`` of the backward phase):

- ``rule(fn)``: any op; ``fn`` returns the tuple.
- ``unary(fn)``: an op of one input; ``fn`` returns that input's gradient.
- ``linear(fn)``: an op of one input that is linear in it; ``fn`` applies the op's transpose
  to ``g`` and reads only shapes of forward values (it saves nothing for backward).
- ``piecewise_constant``: an op like sign, floor, round: zeros, as PyTorch defines them.
- ``not_implemented``: an op whose backward torch refuses: reaching it raises torch's error.

Nodes are emitted in the order Python evaluates a formula; where a rule's graph lists a
constant before the other operand, the rule makes it first with ``x.const(v)`` (see
``ir/formula.py``).

Reducing a broadcast gradient back to its input's shape is the driver's job
(``ir/autodiff.py``), not the rules'. Ops defined with ``differentiable=False`` (sources,
integer/bool outputs, detach, random draws) have no rule and pass no gradient.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ir.errors import IRError
from ir.formula import Value, where, zeros_like
from ir.ops import conv as C
from ir.ops import custom as CU
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
from ir.ops import reduce as R
from ir.ops import shape as S

# -- the kinds of rule


@dataclass(frozen=True)
class Rule:
    """A formula as the driver calls it: ``rule(b, node, g)`` -> one node or None per input.

    Attributes:
        formula: ``formula(g, out, *inputs)`` on values, returning one entry per input.
        kind: "general", "unary", "linear" or "piecewise_constant" (the helper that made it).
    """

    formula: Callable
    kind: str = "general"

    def __call__(self, b, node, g):
        inputs = (Value(b, x) for x in node.inputs)
        grads = self.formula(Value(b, g), Value(b, node), *inputs)
        return tuple(None if v is None else v.node for v in grads)


def rule(fn) -> Rule:
    """Any op: ``fn(g, out, *inputs)`` returns one gradient (or None) per input."""
    return Rule(fn)


def unary(fn) -> Rule:
    """A one-input op: ``fn(g, out, x)`` returns the input's gradient."""
    return Rule(lambda g, out, x: (fn(g, out, x),), "unary")


def linear(fn) -> Rule:
    """A one-input op linear in its input: ``fn(g, out, x)`` applies the op's transpose to ``g``,
    reading only shapes and attributes, never a forward value (nothing saved for backward)."""
    return Rule(lambda g, out, x: (fn(g, out, x),), "linear")


def _zeros(g, out, *inputs):
    """Piecewise-constant ops: PyTorch defines their gradient as zeros (not "no gradient")."""
    return tuple(zeros_like(x) if x.is_float else None for x in inputs)


piecewise_constant = Rule(_zeros, "piecewise_constant")


def _refuse(g, out, x):
    where = f"\n  at {out.node.source} (the {out.attrs.name} whose gradient was asked for)" if out.node.source else ""
    raise IRError(f"derivative for aten::{out.attrs.name} is not implemented{where}")


#: An op whose backward torch does not implement: reaching it in a backward is torch's error.
not_implemented = Rule(_refuse, "not_implemented")

# -- formulas with more than one line


def _kept_shape(out, x):
    return R.reduced_shape(x.shape, out.attrs.axes, True)


def _unreduce(v, out, x):
    """``v``, of the reduction ``out``'s shape (its gradient, or ``out`` itself), reshaped with
    the reduced axes kept, then expanded to the input's shape."""
    return v.reshape(_kept_shape(out, x)).expand_like(x)


def _extremum(g, out, x):
    """amax/amin: PyTorch splits the gradient evenly between tied extrema."""
    ge = _unreduce(g, out, x)
    mask = x.eq(_unreduce(out, out, x)).cast(x.dtype)
    count = mask.sum(out.attrs.axes, keepdim=True)
    return ge * mask / count


def _prod(g, out, x):
    """g prod / x where x is not 0; at a zero, g times the product of the others: of the
    nonzeros where it is its slice's only zero, else 0 (torch's prod_backward; prod / x is
    0 / 0 there)."""
    axes = out.attrs.axes
    is_zero = x.eq(0)
    nonzeros = where(is_zero, 1, x)
    others = nonzeros._emit(R.prod, nonzeros, axes=axes, keepdim=True)
    zeros = is_zero.cast(x.dtype).sum(axes, keepdim=True)
    at_zero = where(zeros.eq(1), others, 0).expand_like(x)
    # dividing by the nonzeros keeps the unused branch finite, so grad-of-grad is too (exact but
    # where a slice holds two or more zeros)
    return _unreduce(g, out, x) * where(is_zero, at_zero, _unreduce(out, out, x) / nonzeros)


def _cumsum(g, out, x):
    """The adjoint of a running sum is the running sum the other way (same ``exclusive``)."""
    a = out.attrs
    return _emit(R.cumsum, g, axis=a.axis, reverse=not a.reverse, exclusive=a.exclusive)


def _tie_split(loses):
    """maximum/minimum as torch's derivatives.yaml: ``where(x == y, g / 2, g)`` masked to 0 on
    the side that loses, so a tie gives each side half and a NaN on either side (neither wins
    nor ties) passes g to both."""
    def formula(g, out, x, y):
        share = where(x.eq(y), g * 0.5, g)
        return where(loses(x, y), 0, share), where(loses(y, x), 0, share)
    return rule(formula)


def _pow(g, out, x, y):
    """d/dx = g y x^(y-1), 0 where y = 0; d/dy = g out log(x), 0 at x = 0 with y >= 0 (torch's
    choice, where log(0) would make it nan)."""
    zero = g.const(0.0)
    dx = g * (y * x ** (y - 1))
    dx = where(y.eq(zero), zero, dx)
    dy = g * (out * x.log())
    dy = where(x.eq(zero) & (y >= zero), zero, dy)
    return dx, dy


def _bce(g, out, x, t):
    """torch's binary_cross_entropy_backward: g (x - t) / max(x (1 - x), 1e-12); the target's
    gradient is g (log(1 - x) - log(x)) with the same -100 clamps as the forward."""
    denom = (x * (1 - x)).maximum(1e-12)
    floor = x.const(-100.0)
    log_x = x.log().maximum(floor)
    log_1mx = (1 - x).log().maximum(floor)
    return g * (x - t) / denom, g * (log_1mx - log_x)


def _softmax(g, out, x):
    """out (g - sum(g out))."""
    dot = (g * out).sum((out.attrs.axis,), keepdim=True)
    return out * (g - dot)


def _log_softmax(g, out, x):
    """g - exp(out) sum(g)."""
    total = g.sum((out.attrs.axis,), keepdim=True)
    return g - out.exp() * total


def _nll(g, out, logp, target):
    """-g at each target class (a one-hot made by comparing with the class indices), 0 where
    ignored; a mean divides g by the one-hot's count (the number of targets not ignored)."""
    classes = logp.shape[1]
    trailing = (1,) * (logp.rank - 2)
    index = target.const_array(np.arange(classes, dtype=target.dtype.np).reshape((1, classes) + trailing))
    t = target.reshape(target.shape[:1] + (1,) + target.shape[1:])
    hit = t.eq(index)
    if out.attrs.ignore_index in range(classes):
        hit = hit & t.ne(out.attrs.ignore_index)
    zero = logp.const(0.0)
    if out.attrs.reduction == "mean":
        count = hit.cast(logp.dtype).sum(range(logp.rank))
        return where(hit, -(g / count), zero), None
    if out.attrs.reduction == "sum":
        return where(hit, -g, zero), None
    g1 = g.reshape(g.shape[:1] + (1,) + g.shape[1:])
    return where(hit, -g1, zero), None


def _clamp(g, out, x):
    """g inside the bounds (either may be absent), 0 outside."""
    inside = None
    for bound, is_in in ((out.attrs.min, operator.ge), (out.attrs.max, operator.le)):
        if bound is not None:
            ok = is_in(x, bound)
            inside = ok if inside is None else inside & ok
    return where(inside, g, 0)


def _cast(g, out, x):
    """Back to the input's dtype; an integer or bool input has no gradient."""
    return g.cast(x.dtype) if x.is_float else None


def _concat(g, out, *inputs):
    """Each input's slice of g along the axis."""
    axis, offset, grads = out.attrs.axis, 0, []
    for x in inputs:
        size = x.shape[axis]
        starts = tuple(offset if i == axis else 0 for i in range(g.rank))
        ends = tuple(offset + size if i == axis else d for i, d in enumerate(g.shape))
        grads.append(g.slice(starts, ends, (1,) * g.rank))
        offset += size
    return tuple(grads)


def _slice_attrs(out):
    return dict(starts=out.attrs.starts, ends=out.attrs.ends, steps=out.attrs.steps)


def _slice(g, out, x):
    """g put back where the slice took it from, zeros elsewhere: for unit steps one zero pad
    (a scatter into zeros lowers to ScatterND, which onnxruntime runs an index at a time)."""
    a = out.attrs
    if all(st == 1 for st in a.steps) and all(e >= s for s, e in zip(a.starts, a.ends)):
        pads = tuple(a.starts) + tuple(d - e for d, e in zip(x.shape, a.ends))
        return _emit(S.pad, g, pads=pads, value=0.0)
    return zeros_like(x, g.dtype).slice_update(g, **_slice_attrs(out))


def _slice_update(g, out, x, src):
    return g.slice_update(zeros_like(src, g.dtype), **_slice_attrs(out)), g.slice(**_slice_attrs(out))


def _pad(g, out, x):
    return _emit(S.pad, g, pads=tuple(-p for p in out.attrs.pads), value=0.0)


def _take(g, out, x, index):
    return zeros_like(x, g.dtype).index_add(index, g, out.attrs.axis), None


def _gather_elements(g, out, x, index):
    return zeros_like(x, g.dtype).scatter_add(index, g, out.attrs.axis), None


def _permute(g, out, x):
    perm = out.attrs.perm
    return g.permute(sorted(range(len(perm)), key=lambda i: perm[i]))


def _matmul(g, out, x, y):
    """torch.matmul's rank cases: 1-D operands are lifted to matrices, then dropped again."""
    x2 = x.reshape((1,) + x.shape) if x.rank == 1 else x
    y2 = y.reshape(y.shape + (1,)) if y.rank == 1 else y
    g2 = g.reshape(L.matmul_shape((x2.type, y2.type)))
    gx = (g2 @ y2.mT).sum_to(x2.shape).reshape(x.shape)
    if y2.rank == 2 and x2.rank > 2:  # a Linear over a sequence: one matmul over all rows, not a batch then a sum
        rows, (k, n) = math.prod(x2.shape[:-1]), y2.shape
        return gx, (x2.reshape((rows, k)).mT @ g2.reshape((rows, n))).reshape(y.shape)
    gy = (x2.mT @ g2).sum_to(y2.shape).reshape(y.shape)
    return gx, gy


def _trunc(q):
    """q rounded toward zero, as torch's ``div(rounding_mode="trunc")`` (ir has no trunc op)."""
    return where(q < 0, _emit(E.ceil, q), _emit(E.floor, q))


def _emit(op, *values, **attrs):
    """``op`` applied to graph values (for ops without an operator of their own)."""
    return values[0]._emit(op, *values, **attrs)


def _crop(v, shape):
    """``v`` sliced down to ``shape`` from the start of each dim (nothing emitted if it fits)."""
    if tuple(v.shape) == tuple(shape):
        return v
    return v.slice((0,) * v.rank, tuple(shape), (1,) * v.rank)


def _conv_bias_grad(g):
    return g.sum((0,) + tuple(range(2, g.rank)))


def _conv_weight_grad(x, g, w_shape, a):
    """dW of ``conv(x, w)`` given its output gradient ``g``: per group, a convolution of x (its
    channels as the batch, the batch as channels) with g as the weights, stride and dilation
    swapped, cropped to the kernel (the padded input may hold a little more than it reaches)."""
    groups, n = a.groups, len(a.stride)
    batch, cin, cout = x.shape[0], x.shape[1], g.shape[1]
    spatial = tuple(range(3, 3 + n))
    if groups == 1:
        xs = x.permute((1, 0) + tuple(range(2, 2 + n)))
        gs = g.permute((1, 0) + tuple(range(2, 2 + n)))
    else:
        xs = x.reshape((batch, groups, cin // groups) + x.shape[2:]).permute((2, 1, 0) + spatial)
        xs = xs.reshape((cin // groups, groups * batch) + x.shape[2:])
        gs = g.reshape((batch, groups, cout // groups) + g.shape[2:]).permute((1, 2, 0) + spatial)
        gs = gs.reshape((cout, batch) + g.shape[2:])
    r = _emit(C.conv, xs, gs, stride=a.dilation, pads=a.pads, dilation=a.stride, groups=groups)
    return _crop(r.permute((1, 0) + tuple(range(2, 2 + n))), w_shape)


def _conv(g, out, x, w, *bias):
    """dX is the transposed convolution of g (output_padding restores what the stride's
    rounding dropped), dW a convolution over swapped axes, db the sum of g over all but channels."""
    a, n = out.attrs, len(out.attrs.stride)
    extra = tuple(x.shape[2 + i] - C.conv_transpose_size(g.shape[2 + i], w.shape[2 + i], a.stride[i], a.pads[i],
                                                       a.pads[n + i], a.dilation[i], 0) for i in range(n))
    dx = _emit(C.conv_transpose, g, w, stride=a.stride, pads=a.pads, dilation=a.dilation, groups=a.groups,
               output_padding=extra)
    dw = _conv_weight_grad(x, g, w.shape, a)
    return (dx, dw) + tuple(_conv_bias_grad(g) for _ in bias)


def _conv_transpose(g, out, x, w, *bias):
    """The adjoint's adjoint: dX is the convolution of g (cropped where output_padding reached
    past a stride), dW the weight gradient of that convolution with x as its output gradient."""
    a = out.attrs
    plain = C.ConvAttrs(a.stride, a.pads, a.dilation, a.groups)
    dx = _emit(C.conv, g, w, stride=a.stride, pads=a.pads, dilation=a.dilation, groups=a.groups)
    dw = _conv_weight_grad(g, x, w.shape, plain)
    return (_crop(dx, x.shape), dw) + tuple(_conv_bias_grad(g) for _ in bias)



def _function_output_grads(g, out, *xs):
    """A ``torch.autograd.Function``'s rule: its Python backward, once per tensor input that
    can carry a gradient (the call caches one backward run per incoming gradient)."""
    a = out.attrs
    return tuple(g._emit(CU.function_grad, g, out, call=a.call, output=a.index, input=j,
                         shape=x.shape, dtype=x.dtype)
                 if x.dtype.is_floating_point else None for j, x in enumerate(xs))


def _function_grad_twice(g, out, g_in, y):
    """A Function's backward runs Python, so it has no gradient of its own: torch's error for
    differentiating a ``once_differentiable`` backward, rather than a silently missing term."""
    where = f"\n  at {out.node.source}" if out.node.source else ""
    raise IRError(f"trying to differentiate twice a function that was marked with @once_differentiable "
                  f"({out.attrs.call.name}Backward: a tracer autograd.Function's backward is not differentiable)"
                  f"{where}")


RULES = {
    CU.function_output: rule(_function_output_grads),
    CU.function_grad: rule(_function_grad_twice),
    E.neg: linear(lambda g, out, x: -g),
    E.abs_: unary(lambda g, out, x: g * x.sign()),
    # From the output, as torch's threshold_backward: 0 where relu(x) <= 0, so g passes at NaN;
    # the matmul before a ReLU then has the ReLU as its only reader (onnxruntime fuses the pair).
    E.relu: unary(lambda g, out, x: where(out <= 0, 0, g)),
    E.exp: unary(lambda g, out, x: g * out),
    E.log: unary(lambda g, out, x: g / x),
    E.sqrt: unary(lambda g, out, x: g / (out * 2)),
    # torch's -0.5 g out ** 3 (out / x has the wrong sign at x = -0: -inf / -0 is +inf).
    E.rsqrt: unary(lambda g, out, x: (g * -0.5) * (out * out * out)),
    E.sin: unary(lambda g, out, x: g * x.cos()),
    E.cos: unary(lambda g, out, x: -(g * x.sin())),
    E.tanh: unary(lambda g, out, x: g * (out.const(1.0) - out * out)),
    E.sigmoid: unary(lambda g, out, x: g * (out * (1 - out))),
    E.erf: unary(lambda g, out, x: g * (out.const(2.0 / math.sqrt(math.pi)) * (-(x * x)).exp())),
    E.log1p: unary(lambda g, out, x: g / (x + 1)),
    E.sinh: unary(lambda g, out, x: g * x._emit(E.cosh, x)),
    E.cosh: unary(lambda g, out, x: g * x._emit(E.sinh, x)),
    E.asinh: unary(lambda g, out, x: g / (x * x + 1).sqrt()),
    E.acosh: unary(lambda g, out, x: g / ((x - 1) * (x + 1)).sqrt()),  # torch's form: no x*x - 1 cancellation
    E.atanh: unary(lambda g, out, x: g / (x.const(1.0) - x * x)),
    E.asin: unary(lambda g, out, x: g / (x.const(1.0) - x * x).sqrt()),
    E.acos: unary(lambda g, out, x: -(g / (x.const(1.0) - x * x).sqrt())),
    E.atan: unary(lambda g, out, x: g / (x * x + 1)),
    E.atan2: rule(lambda g, out, y, x: (g * x / (x * x + y * y), -(g * y) / (x * x + y * y))),
    E.expm1: unary(lambda g, out, x: g * (out + 1)),
    E.reciprocal: unary(lambda g, out, x: -(g * (out * out))),
    E.add: rule(lambda g, out, x, y: (g, g)),
    E.sub: rule(lambda g, out, x, y: (g, -g)),
    E.mul: rule(lambda g, out, x, y: (g * y, g * x)),
    # torch's div_tensor_other_backward, -g ((x / y) / y): it reads x and y, not the quotient, so an
    # in-place change of x / y leaves backward valid (negating after the product is the same bits).
    E.div: rule(lambda g, out, x, y: (g / y, -(g * (x / y / y)))),
    E.pow_: rule(_pow),
    E.maximum: _tie_split(operator.lt),
    E.minimum: _tie_split(operator.gt),
    # torch's logaddexp_backward: g / (1 + exp(y - x)) and g / (1 + exp(x - y)) (nan at equal infinities, as torch).
    E.logaddexp: rule(lambda g, out, x, y: (g / ((y - x).exp() + 1), g / ((x - y).exp() + 1))),
    E.binary_cross_entropy: rule(_bce),
    # torch's binary_cross_entropy_with_logits: d/dx = (sigmoid(x) - t) g, d/dt = -x g.
    E.binary_cross_entropy_with_logits: rule(lambda g, out, x, t: (g * (x.sigmoid() - t), -(g * x))),
    E.remainder: rule(lambda g, out, x, y: (g, -(g * (x // y)))),
    # torch's fmod backward: g and -g trunc(x / y), from x and y (not the result, which an in-place
    # write may change; (x - fmod(x, y)) / y is not the quotient at an infinite x or y).
    E.fmod: rule(lambda g, out, x, y: (g, -(g * _trunc(x / y)))),
    E.where: rule(lambda g, out, cond, x, y: (None, where(cond, g, 0), where(cond, 0, g))),
    # torch's lerp backward: (1 - weight) g, weight g, (end - start) g.
    E.lerp: rule(lambda g, out, x, y, w: (g * (1 - w), g * w, g * (y - x))),
    E.cast: linear(_cast),
    E.sign: piecewise_constant,
    E.floor: piecewise_constant,
    E.ceil: piecewise_constant,
    E.round_: piecewise_constant,
    E.floor_divide: piecewise_constant,
    E.no_derivative: not_implemented,
    E.clamp: unary(_clamp),
    R.sum_: linear(lambda g, out, x: _unreduce(g, out, x)),
    R.amax: unary(_extremum),
    R.amin: unary(_extremum),
    R.prod: unary(_prod),
    R.cumsum: linear(_cumsum),
    R.softmax: unary(_softmax),
    R.log_softmax: unary(_log_softmax),
    S.reshape: linear(lambda g, out, x: g.reshape(x.shape)),
    S.permute: linear(_permute),
    S.expand: linear(lambda g, out, x: g.sum_to(x.shape)),
    S.expand_like: rule(lambda g, out, x, ref: (g.sum_to(x.shape), None)),
    S.concat: rule(_concat),
    S.slice_: linear(_slice),
    S.slice_update: rule(_slice_update),
    S.pad: linear(_pad),
    S.trilu: linear(lambda g, out, x: _emit(S.trilu, g, k=out.attrs.k, upper=out.attrs.upper)),
    I.take: rule(_take),
    I.index_add: rule(lambda g, out, x, index, src: (g, None, g.take(index, out.attrs.axis))),
    I.gather_elements: rule(_gather_elements),
    I.scatter_add: rule(lambda g, out, x, index, src: (g, None, g.gather_elements(index, out.attrs.axis))),
    I.nll_loss: rule(_nll),
    L.matmul: rule(_matmul),
    C.conv: rule(_conv),
    C.conv_transpose: rule(_conv_transpose),
}

