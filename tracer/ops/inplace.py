"""In-place ops (trailing ``_``): eager mutation for the user, a new value in the graph.

A mutated tensor keeps its identity but gets the new array and node; its version counter
is bumped so a backward that saved the old value refuses to run, as in torch.
"""
from __future__ import annotations

from ir.errors import IRError
from ir.ops import elementwise as E
from ir.ops import shape as S
from ir.ops.rules import broadcast_shapes
from tracer.core import tensor_state, tracing
from tracer.core.dispatch import apply
from tracer.core.errors import err, scalar_type_name
from tracer.core.grad_mode import is_grad_enabled
from tracer.ops import elementwise as ew
from tracer.core.promotion import category
from tracer.ops._util import cast, scalar
from tracer.ops.conversion import clone
from tracer.ops.random import normal_tensor, uniform_tensor
from tracer.core.tensor import Tensor


def check_inplace(x: Tensor, op: str = "in-place op") -> None:
    if not is_grad_enabled():
        return
    if x._requires_grad and x.is_leaf:
        raise err(RuntimeError, f"{op}: a leaf Variable that requires grad is being used in an in-place "
                  f"operation (input: {x._type}).")
    view = tensor_state.view_base(x)
    while view is not None and view[1]:
        base = view[0]
        if base._requires_grad and base.is_leaf:
            raise err(RuntimeError, f"{op}: a view of a leaf Variable that requires grad is being used in an "
                      f"in-place operation (input: {x._type}, a view of {base._type}).")
        view = tensor_state.view_base(base)


def assign(x: Tensor, new: Tensor, cast_any: bool = False, op: str = "in-place op") -> Tensor:
    """Make ``x`` hold ``new``'s value (cast to ``x``'s dtype, broadcast to its shape).

    An in-place op's result may only be cast within its category or down to a lower-ranked
    dtype of it, as torch's: a float result into an integer tensor is an error. ``cast_any``
    is for the ops that copy a value in (``copy_``, ``fill_``, ``masked_fill_``), which cast
    freely as torch's do."""
    check_inplace(x, op)
    if not cast_any and category(new.dtype) > category(x.dtype):
        raise err(RuntimeError, f"{op}: result type {scalar_type_name(new.dtype)} can't be cast to "
                  f"the desired output type {scalar_type_name(x.dtype)}")
    if tuple(new.shape) != tuple(x.shape):
        try:
            shape = broadcast_shapes(op, [x._type, new._type])
        except IRError as e:
            raise err(RuntimeError, str(e)) from None
        if shape != tuple(x.shape):
            raise err(RuntimeError, f"{op}: output with shape {list(x.shape)} doesn't match the broadcast shape "
                      f"{list(shape)} (inputs: {x._type}, {new._type})")
        new = new.expand(x.shape)
    new = cast(new, x.dtype)
    if x.is_leaf and x._requires_grad:
        _stay_leaf(x, new, tracing.current())
    else:
        tensor_state.overwrite(x, new)
    return x


def assign_shape_check(x: Tensor, src: Tensor, op: str) -> None:
    """``src`` must broadcast to ``x``'s shape (the check ``assign`` makes, before ``expand``)."""
    if tuple(src.shape) != tuple(x.shape):
        try:
            broadcast_shapes(op, [x._type, src._type])
        except IRError as e:
            raise err(RuntimeError, str(e)) from None


def _stay_leaf(x, new, trace):
    """A leaf updated under no_grad (an optimizer step) stays a leaf. In a trace its new value
    is a node that stops gradients and is marked as this leaf, so later uses differentiate to it."""
    tensor_state.overwrite(x, new)
    if trace is None or new._node is None:
        tensor_state.keep_leaf(x, None)
        return
    node = trace.graph.add(E.detach, (new._node,), source_=new._node.source)
    node.value = new._value
    tensor_state.keep_leaf(x, node)


def _binary_(fn):
    def method(self, other, **kwargs):
        return assign(self, fn(self, other, **kwargs), op=method.__name__)
    method.__name__ = fn.__name__ + "_"
    return method


add_ = _binary_(ew.add)
sub_ = _binary_(ew.public_sub)
mul_ = _binary_(ew.mul)
div_ = _binary_(ew.div)
pow_ = _binary_(ew.pow)
clamp_min_ = _binary_(ew.clamp_min)
clamp_max_ = _binary_(ew.clamp_max)


def addcmul_(self, tensor1, tensor2, *, value=1):
    return assign(self, ew.addcmul(self, tensor1, tensor2, value=value))


def addcdiv_(self, tensor1, tensor2, *, value=1):
    return assign(self, ew.addcdiv(self, tensor1, tensor2, value=value))


def lerp_(self, end, weight):
    return assign(self, ew.lerp(self, end, weight))


def clamp_(self, min=None, max=None):
    return assign(self, ew.clamp(self, min, max))


def zero_(self):
    return fill_(self, 0)


def fill_(self, value):
    """``self`` holds ``value`` everywhere. Recorded by autograd, it overwrites the old value as
    ``copy_`` does (zero gradient to it, so ``self`` stays a non-leaf), as torch's FillBackward."""
    v = value if isinstance(value, Tensor) else scalar(value, self.dtype)
    if self._requires_grad and not self.is_leaf and is_grad_enabled():
        if isinstance(value, Tensor) and value.dim() != 0:
            raise err(RuntimeError, f"fill_ only supports 0-dimension value tensor but got tensor with "
                      f"{value.dim()} dimensions. (fill_ of {self._type} with {value._type})")
        return _overwrite(self, cast(v, self.dtype).expand(self.shape))
    return assign(self, cast(v, self.dtype).expand(self.shape), cast_any=True, op="fill_")


def _overwrite(self, full):
    """``self`` (a non-leaf autograd records) becomes ``full``, a full-region ``slice_update``
    of its old value: the old value's gradient is zeros, ``full``'s is the incoming one."""
    region = S.SliceAttrs((0,) * self.dim(), tuple(self.shape), (1,) * self.dim())
    return assign(self, apply(S.slice_update, [self, full], region))


def copy_(self, src, non_blocking=False):
    """``self`` takes ``src``'s values (cast, broadcast). When autograd records it, the new value
    is a full-region ``slice_update`` of the old: the gradient reaching the old value is zeros,
    as torch's CopyBackwards gives (its leaves get zero gradients, not none)."""
    src = src if isinstance(src, Tensor) else scalar(src, self.dtype)
    if self._requires_grad and not self.is_leaf and is_grad_enabled():
        assign_shape_check(self, src, "copy_")
        return _overwrite(self, cast(src, self.dtype).expand(self.shape))
    # a copy, so that ``self`` never holds ``src``'s array: a later in-place write through a view
    # of either (``p.data.add_``, a ``from_numpy`` source) must not reach the other, as in torch
    return assign(self, clone(src), cast_any=True, op="copy_")


def neg_(self):
    return assign(self, ew.neg(self))


def exp_(self):
    return assign(self, ew.exp(self))


def sqrt_(self):
    return assign(self, ew.sqrt(self))


def relu_(self):
    return assign(self, ew.relu(self))


def sigmoid_(self):
    return assign(self, ew.sigmoid(self))


def tanh_(self):
    return assign(self, ew.tanh(self))


def abs_(self):
    return assign(self, ew.abs(self))


def masked_fill_(self, mask, value):
    return assign(self, ew.masked_fill(self, mask, value), cast_any=True, op="masked_fill_")


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    return assign(self, uniform_tensor(self.shape, self.dtype, a, b, generator))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    return assign(self, normal_tensor(self.shape, self.dtype, mean, std, generator))


def bernoulli_(self, p=0.5, *, generator=None):
    return assign(self, ew.lt(uniform_tensor(self.shape, self.dtype, 0.0, 1.0, generator), p))


def detach_(self):
    node = apply(E.detach, [self])._node if self._node is not None and tracing.current() is not None else None
    tensor_state.forget_node(self, node)
    tensor_state.set_requires_grad(self, False)
    return self

