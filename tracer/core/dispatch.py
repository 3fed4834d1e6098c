"""Running one ir op on tensors: eagerly on NumPy, recording a node when autograd or a trace
needs it. This is the only place tensors meet kernels, so eager and interpreted runs share
one implementation of every op.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from backends.numpy import KERNELS, run_node
from backends.numpy.policy import WRAPPED, check_result, kernel_error, no_kernel
from ir.errors import IRError, with_source
from ir.node import Node, infer_cached, make_node
from ir.ops import elementwise as E
from ir.ops import source
from ir.ops.base import NO_ATTRS
from ir.ops.source import ConstAttrs, InputAttrs
from tracer.core import tensor_state, tracing
from tracer.core.source import user_source
from tracer.core.grad_mode import _ENABLED
from tracer.core.tensor import Tensor

# Planned ops call a kernel's plain NumPy function from here: its floating-point warnings (log(0),
# 0/0, overflow) stay silent as the kernels' own are (backends/numpy/__init__.py), as torch's.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"tracer\.core\.dispatch$")


def apply(op, inputs, attrs=NO_ATTRS) -> Tensor:
    """``op`` applied to tensors ``inputs``; records a node if a trace is active or grad is needed.

    The result requires grad as in torch: grad mode is on, an input requires grad, the op is
    differentiable and the result has a floating-point dtype (``x > 0``, ``x.argmax()`` and
    ``x.long()`` never do, nor does anything computed only from them)."""
    state = tracing._TRACE.get()
    requires = False
    for t in inputs:
        if t._requires_grad:
            requires = op.differentiable and _ENABLED.get()
            break
    if state is None and not requires:
        return _eager(op, inputs, attrs)
    return _record(op, inputs, attrs, state, requires)


#: Eager plans of attribute-free unary and binary ops: (op, id of the first input's type, id of
#: the last's) -> (those two types, the kernel, result type, result NumPy dtype); a unary op's
#: one input is both. A result's type is the shape rule's cached object, so the next op of a
#: chain meets the same type object and skips hashing types; a plan holds its types, so their
#: ids stay theirs while it lives.
_EAGER_PLANS: dict = {}
_EAGER_PLANS_LIMIT = 1 << 12


def _eager(op, inputs, attrs) -> Tensor:
    """The fast path: shape rule, kernel, result check; no node, no source lookup until an
    error needs them (then the run policy's error, as the interpreter raises it). The plan
    lookup is inline: a helper would cost a call on every eager op."""
    n = len(inputs)
    if attrs is NO_ATTRS and 0 < n <= 2:
        a, b = inputs[0], inputs[-1]
        ta, tb = a._type, b._type
        plan = _EAGER_PLANS.get((op, id(ta), id(tb)))
        if plan is None or plan[0] is not ta or plan[1] is not tb:
            return _plan(op, inputs)
        try:
            value = plan[2](a._value, b._value) if n == 2 else plan[2](a._value)
        except WRAPPED:
            return _eager_planless(op, inputs, attrs)  # raises the policy's error
        type_ = plan[3]
        if value.__class__ is np.ndarray and value.dtype is plan[4] and value.shape == type_.shape:
            return Tensor._make_eager(value, type_)
    return _eager_planless(op, inputs, attrs)


def _plan(op, inputs) -> Tensor:
    """The op run the general way, and its plan kept."""
    out = _eager_planless(op, inputs, NO_ATTRS)
    _keep_plan(op, inputs, KERNELS[op], out._type)
    return out


def _keep_plan(op, inputs, kernel, type_) -> None:
    """Remember ``op``'s plan for these inputs' types: the kernel's plain NumPy function where it
    has one (one Python frame less per op), else the kernel with its empty attrs bound."""
    if len(_EAGER_PLANS) >= _EAGER_PLANS_LIMIT:
        _EAGER_PLANS.clear()
    ta, tb = inputs[0]._type, inputs[-1]._type
    run = getattr(kernel, "plain", None) or functools.partial(kernel, NO_ATTRS)
    _EAGER_PLANS[(op, id(ta), id(tb))] = (ta, tb, run, type_, type_.dtype.np)


def _planned_type(op, inputs):
    """The result type an eager plan holds for ``op`` on these inputs' types, if it has one."""
    ta, tb = inputs[0]._type, inputs[-1]._type
    plan = _EAGER_PLANS.get((op, id(ta), id(tb)))
    return plan[3] if plan is not None and plan[0] is ta and plan[1] is tb else None


def _eager_planless(op, inputs, attrs) -> Tensor:
    """The eager op without a plan: the cached shape rule, the kernel, the policy's checks."""
    try:
        type_ = infer_cached(op, tuple(t._type for t in inputs), attrs)
    except IRError as err:
        raise with_source(err, user_source()) from None
    try:
        value = KERNELS[op](attrs, *[t._value for t in inputs])
    except WRAPPED as err:
        raise kernel_error(_node(op, inputs, attrs), err) from err
    except KeyError:
        if op in KERNELS:
            raise
        raise no_kernel(op) from None
    if value.__class__ is not np.ndarray or value.dtype != type_.dtype.np or value.shape != type_.shape:
        value = check_result(_node(op, inputs, attrs), value)
    return Tensor._make(value, type_)


def _node(op, inputs, attrs):
    """A free node standing for an eager op, for the policy's check and message."""
    return make_node(op, [_const(t) for t in inputs], attrs, user_source())


def _const(t):
    return make_node(source.constant, (), ConstAttrs(t._value))


def eager_node(t):
    """The node standing for ``t`` in the eager autograd DAG (a leaf input, or a constant);
    only called with no trace active, so ``t``'s own node is the one that counts."""
    node = t._own_node
    if node is not None:
        return node
    if t._requires_grad:
        node = make_node(source.input_, (), InputAttrs("leaf", t.shape, t.dtype, "param"))
        node.value = t._value
        node.meta = tracing.NodeMeta(t._vc, True, leaf=t)
        t._own_node = node
        return node
    node = t._const_node  # one constant node per tensor and array: y in a chain of x + y records once
    if node is not None and node.value is t._value and node.meta.version == t._vc[0]:
        return node
    node = t._const_node = _const(t)
    node.value = t._value
    node.meta = tracing.NodeMeta(t._vc, False)  # a backward that saved it checks its version, as torch's
    return node


def _record(op, inputs, attrs, state, requires) -> Tensor:
    """The recording path: the node is built from the tensors' types (the shape rule's answer
    is cached) and run on its kernel as the interpreter would."""
    src = user_source()
    if state is None:
        nodes = []
        for t in inputs:
            if requires and t.__dict__:
                tensor_state.check_piece(t)
            node = t._own_node
            nodes.append(node if node is not None else eager_node(t))
    else:
        nodes = [state.node_of(t) for t in inputs]
    plannable = attrs is NO_ATTRS and 0 < len(inputs) <= 2
    type_ = _planned_type(op, inputs) if plannable else None
    kernel = KERNELS.get(op)
    if type_ is None:
        try:
            type_ = infer_cached(op, tuple([t._type for t in inputs]), attrs)
        except IRError as error:
            raise with_source(error, src) from None
        if plannable and kernel is not None:
            _keep_plan(op, inputs, kernel, type_)
    node = Node(op, nodes, attrs, type_, src)
    values = [t._value for t in inputs]
    if kernel is None:
        value = run_node(node, values)  # a draw, or no kernel: the interpreter says so
    else:
        try:
            value = kernel(attrs, *values)
        except WRAPPED as error:
            raise kernel_error(node, error) from error
        if value.__class__ is not np.ndarray or value.dtype != type_.dtype.np or value.shape != type_.shape:
            value = check_result(node, value)
    if requires and not type_.dtype.is_floating_point:
        requires = False  # an integer or bool result (a cast to int64): no gradient flows through it
        if state is None:
            return Tensor._make(value, type_)
    if state is None:  # attach's eager half, inline: this is every eager op of a training step
        node.value = value
        out = Tensor._make_eager(value, type_)
        node.meta = tracing.NodeMeta(out._vc, requires)
        out._own_node = node
        out._requires_grad = requires
        return out
    # A non-differentiable op stops gradients itself; a differentiable one whose result must not
    # require grad (no_grad, an integer result) is cut by a ``detach`` node in a trace.
    cut = False
    if op.differentiable:
        for t in inputs:
            if t._requires_grad:
                cut = True
                break
    return attach(node, value, requires, state, cut)


def attach(node, value, requires, state, inputs_require=False) -> Tensor:
    """Wrap a recorded node's value in a tensor; in a trace, append the node to the graph and
    cut gradient flow (a ``detach`` node) where the result does not require grad but an input did."""
    node.value = value
    out = Tensor._make(value, node.type)
    if state is not None:
        state.graph.append(node)
        if inputs_require and not requires:
            node = state.graph.add(E.detach, (node,), NO_ATTRS, node.source)
            node.value = value
        state.created(out)
    node.meta = tracing.NodeMeta(out._vc, requires)
    out._own_node = node  # a fresh result, made by this thread's eager graph or trace
    out._requires_grad = requires
    return out


def record_value(op, attrs, value) -> Tensor:
    """A tensor for a value computed outside the kernels (a random draw from the tracer's
    generator), recorded as ``op`` in an active trace so the graph draws afresh on each run."""
    state = tracing._TRACE.get()
    type_ = op.infer((), attrs)
    if state is None:
        return Tensor._make(value, type_)
    node = make_node(op, (), attrs, user_source())
    return attach(node, value, False, state)




def record_computed(op, inputs, attrs, value, requires: bool) -> Tensor:
    """A tensor for ``value``, already computed outside the kernels from ``inputs`` (an
    ``autograd.Function``'s forward), recorded as ``op`` over them when autograd or a trace
    needs the node; the kernel then recomputes it only when a graph is run again."""
    state = tracing._TRACE.get()
    if state is None and not requires:
        return Tensor._make(value, op.infer(tuple(t._type for t in inputs), attrs))
    nodes = [state.node_of(t) if state is not None else eager_node(t) for t in inputs]
    node = make_node(op, nodes, attrs, user_source())
    return attach(node, value, requires, state, any(t._requires_grad for t in inputs))
