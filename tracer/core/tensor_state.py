"""Tensor state has one owner: the few ways a tensor's value, version, node and metadata change.

Everything above ``tracer/core`` changes tensors only through these functions, so the rules
live in one place: an in-place change bumps the version counter (a backward that saved the
old value then refuses to run, as torch's does), a recorded node carries the metadata autograd
needs (``NodeMeta``), and a change of type or ``requires_grad`` moves the tensor's generation,
which compiled functions read for their guards.
"""
from __future__ import annotations

from ir import dtypes
from ir.types import TensorType
from tracer.core import tracing, watch
from tracer.core.tracing import NodeMeta


def bind(t, node, requires_grad: bool, leaf: bool = False) -> None:
    """Make ``node`` the recorded value of ``t``; ``leaf`` marks ``t`` as the tensor that
    receives the node's gradient in ``.grad``."""
    node.meta = NodeMeta(t._vc, requires_grad, leaf=t if leaf else None)
    t._node = node
    t._requires_grad = requires_grad


def annotate(node, requires_grad: bool) -> None:
    """Metadata for a node that no tensor holds (an appended backward node)."""
    node.meta = NodeMeta([0], requires_grad)


def stop_gradient(t) -> None:
    """``t`` (a fresh result) no longer requires grad, nor does its recorded node."""
    t._requires_grad = False
    if t._node is not None and t._node.meta is not None:
        t._node.meta.requires_grad = False


def overwrite(x, new) -> None:
    """``x`` takes the value and node of ``new`` (same shape and dtype): an in-place op.

    The version bump is what torch's saved-tensor check reads; the new node's metadata follows
    ``x``'s counter. When the in-place op read ``x``'s own old value, that old node is kept as
    the op's saved original (torch clones it), so its version change is not an error.
    """
    old = x._node
    x._vc[0] += 1
    x._value = new._value
    node = new._node
    if node is not None:
        node.meta.vc, node.meta.version = x._vc, x._vc[0]
        if old is not None and old in node.inputs:
            node.meta.cloned = old
    x._node = node
    x._requires_grad = x._requires_grad or new._requires_grad


def keep_leaf(x, node) -> None:
    """After an in-place update that autograd does not see (an optimizer step), ``x`` stays a
    leaf: ``node`` (or nothing, outside a trace) stands for its new value."""
    x._node = node
    if node is not None:
        node.meta = NodeMeta(x._vc, True, leaf=x)


def write(t, value) -> None:
    """A new value from outside autograd (loading a state dict, a compiled step's write-back):
    a version bump, no recorded node."""
    t._value = value
    t._vc[0] += 1
    t._node = None


def refill(t, value) -> None:
    """A graph input's holder gets a new value that no recorded node has seen (a learning rate
    fed to a compiled step): no version bump, nothing recorded."""
    t._value = value


def set_data(t, value) -> None:
    """``t.data = v`` and ``module.to(dtype)``: value and type swapped without autograd and
    without a version bump (as torch's ``set_data``); the generation moves."""
    t._value = value
    t._type = TensorType(value.shape, dtypes.from_numpy(value.dtype))
    t._node = None
    moved(t)


def forget_node(t, node=None) -> None:
    """``t`` no longer has a recorded node (or gets back ``node``, the one it had before a trace)."""
    t._node = node


def set_requires_grad(t, flag: bool) -> None:
    """``requires_grad_``/``detach_``: the flag, and in a trace the node's metadata with it."""
    t._requires_grad = flag
    node = t._node
    if node is not None and node.meta is not None and tracing.in_trace(node):
        node.meta.requires_grad = flag
        node.meta.leaf = t if flag else None
    else:
        t._node = None
    moved(t)


def moved(t) -> None:
    """Record that ``t``'s type or ``requires_grad`` changed (compiled functions guard on it)."""
    watch.tensor_changed(t)
