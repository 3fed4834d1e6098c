"""Tensor state has one owner: the few ways a tensor's value, version, node and metadata change.

Everything above ``tracer/core`` changes tensors only through these functions, so the rules
live in one place: an in-place change bumps the version counter (a backward that saved the
old value then refuses to run, as torch's does), a recorded node carries the metadata autograd
needs (``NodeMeta``), and a change of type or ``requires_grad`` tells the compiled functions
that guard on the tensor.

Storage is shared as in torch. A view (``detach()``, ``.data``, reshape, permute, slicing)
holds a NumPy view of its base's array and the base's version counter; ``from_numpy``,
``as_tensor``, ``numpy()`` and ``.data =`` share arrays with the caller. An in-place change of
a tensor whose array is shared is written into that array, so every sharer sees it, and a
view's base gets a new recorded value too (in a trace the graph stays pure). A tensor whose
array nobody else holds simply takes the new array, which is cheaper and looks the same.
"""
from __future__ import annotations

import weakref

import numpy as np

from ir import dtypes
from ir.node import make_node
from ir.ops import elementwise as E
from ir.types import TensorType
from tracer.core import tracing, watch
from tracer.core.errors import err
from tracer.core.grad_mode import is_grad_enabled
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
    piece = x.__dict__.get("_multi_output")
    if piece is not None and is_grad_enabled() and (piece[1] or new._requires_grad):
        raise err(RuntimeError, _piece_message(piece, "is being modified inplace"))
    old = x._node
    node = new._node
    # the node the op read x from: x's own, or (x needs no grad, eager) the constant standing for it
    read = old if old is not None or tracing.current() is not None else x._const_node
    cloned = node is not None and read is not None and read in node.inputs
    _check_layouts(x)
    if cloned and read.value is x._value and is_shared(x):
        read.value = read.value.copy()  # the op's backward reads the original, which is written over next
    _store(x, new._value)
    x._vc[0] += 1
    if node is not None:
        node.meta.vc, node.meta.version = x._vc, x._vc[0]
        if cloned:
            node.meta.cloned = read
    x._node = node if node is not None or tracing.current() is not None else _restamped(old, x)
    x._requires_grad = x._requires_grad or new._requires_grad
    if "_view" in x.__dict__:
        _update_base(x)
    _replay_views(x)


def _store(t, value) -> None:
    """``t``'s array becomes ``value``: written into the shared array, or simply replaced."""
    if not is_shared(t):
        # a broadcast result (fill_, expand) is a read-only view of one element; the tensor
        # needs its own storage, or a later write through ``.data`` or a view would fail
        t._value = value.copy() if isinstance(value, np.ndarray) and not value.flags.writeable else value
        return
    if t._value.flags.writeable:
        np.copyto(t._value, value)
    elif "_view" in t.__dict__:
        raise err(RuntimeError, "unsupported operation: more than one element of the written-to tensor "
                  "refers to a single memory location. Please clone() the tensor before performing the operation.")
    else:
        t._value = np.array(value)  # a broadcast value from an earlier fill: nothing else can see into it


def _check_layouts(view) -> None:
    """Before an in-place change of ``view`` is recorded: no base up its chain has changed shape
    in place (``t_``, ``squeeze_``) since, or its ``undo`` would rebuild the wrong layout."""
    while "_view" in view.__dict__:
        base, _, differentiable, layout, _ = view.__dict__["_view"]
        recorded = tracing.current() is not None or (base._node is not None and differentiable and is_grad_enabled())
        if recorded and layout != base.__dict__.get("_layout", 0):
            raise err(RuntimeError, "an in-place change of a view whose base has since changed its shape in place "
                      "(t_, transpose_, squeeze_, unsqueeze_) cannot be recorded: take the view again after "
                      "that change, or clone() it")
        view = base


def _update_base(view) -> None:
    """After an in-place change of ``view``, its base records its new value (the array is
    already written): rebuilt from the view's new value by the view's ``undo``, and so on up a
    chain of views. Only the graph needs it: inside a trace, or while autograd records."""
    base, undo, differentiable, layout, _ = view.__dict__["_view"]
    recorded = base._node is not None or view._requires_grad  # the base has a graph, or the write gives it one
    if tracing.current() is None and not (recorded and differentiable and is_grad_enabled()):
        _restamp_chain(base)
        return
    rebuilt = undo(view)
    node = rebuilt._node
    if node is not None:
        node.meta.vc, node.meta.version = base._vc, base._vc[0]
    if base.is_leaf and base._requires_grad:
        if node is not None and tracing.current() is not None:
            node = tracing.current().graph.add(E.detach, (node,), source_=node.source)
            node.value = rebuilt._value
        keep_leaf(base, node if tracing.current() is not None else None)
    else:
        base._node = node
        base._requires_grad = base._requires_grad or rebuilt._requires_grad
    if "_view" in base.__dict__:
        _update_base(base)


def _restamp_chain(t) -> None:
    """Up a chain of views written without recording: a leaf's recorded input node holds the
    old version, so the next use of the leaf makes a new one; a non-leaf keeps its gradient
    path under a node of the new version (``_restamped``)."""
    while t is not None:
        t._node = None if t.is_leaf else _restamped(t._node, t)
        found = t.__dict__.get("_view")
        t = None if found is None else found[0]


def _restamped(node, t):
    """``t``'s node after a write that autograd did not record (no_grad, a detach() view): torch
    keeps its grad_fn and bumps its version. An identity of the old node, stamped with the new
    version, does both: ops that saved the old node still trip the version check, later ones
    do not, and gradients still reach what the old node came from. A leaf's input node (or a
    node that needs no gradient) is dropped: the next use makes a fresh one."""
    if node is None or node.meta is None or node.meta.leaf is not None or not node.meta.requires_grad:
        return None
    same = make_node(E.cast, (node,), E.CastAttrs(t.dtype), node.source)
    same.value = t._value
    same.meta = NodeMeta(t._vc, True)
    return same


def make_view(out, base, undo, redo, differentiable: bool = True):
    """Mark ``out`` as a view of ``base`` when its array is a NumPy view of base's: they share
    the version counter (so a saved view trips the check when the base is written), ``undo(new
    view) -> new base`` rebuilds the base's value from an in-place change of the view, and
    ``redo(base) -> view`` takes the view again from a new value of the base (torch's view
    replay, see ``_replay_views``). ``differentiable`` is False for ``detach()``/``.data``.
    Returns ``out``."""
    if out is base or (out._value.size and not np.may_share_memory(out._value, base._value)):
        return out  # a copy (reshape of a non-contiguous array); an empty result is a view as in torch
    out._vc = base._vc
    node = out._node
    if node is not None and node.meta is not None:
        node.meta.vc, node.meta.version = base._vc, base._vc[0]
    out.__dict__["_view"] = (base, undo, differentiable, base.__dict__.get("_layout", 0), redo)
    views = base.__dict__.setdefault("_views", [])
    if len(views) >= 32:  # views die with the step that took them (w.t() in every linear)
        views[:] = [r for r in views if r() is not None]
    views.append(weakref.ref(out))
    if "_multi_output" in base.__dict__:  # a view of a split piece is as read-only as the piece
        out.__dict__["_multi_output"] = base.__dict__["_multi_output"]
    base.__dict__["_shared"] = True
    out.__dict__["_shared"] = True
    return out


def multi_output_views(pieces, base, name: str):
    """``pieces`` (views of ``base`` from one split/chunk/unbind) are torch's multi-output views:
    one backward node covers them all, so an in-place write to one cannot be recorded. Made from
    a tensor that requires grad in grad mode, they refuse any write while grad is on; made
    otherwise, a write that records (its value requires grad). Returns ``pieces``."""
    made_with_grad = base._requires_grad and is_grad_enabled()
    for i, piece in enumerate(pieces):
        if piece is not base and "_view" in piece.__dict__:
            piece.__dict__["_multi_output"] = (f"Output {i} of {name}", made_with_grad)
    return pieces


def _piece_message(piece, what: str) -> str:
    label, made_with_grad = piece
    head = f"{label} is a view and {what}" if made_with_grad else \
        f"A view was created in no_grad mode and {what} with grad mode enabled"
    return (f"{head}. This view is the output of a function that returns multiple views. Such functions do not "
            "allow the output views to be modified inplace. You should replace the inplace operation by an "
            "out-of-place one.")


def _mark_stale(piece_holder, graded: bool) -> None:
    """A piece whose base (or a sibling) was written: it cannot be replayed, so it refuses to
    join a graph from now on (``check_piece``): always when made with grad, else when the write
    recorded."""
    piece = piece_holder.__dict__["_multi_output"]
    if piece[1] or graded:
        piece_holder.__dict__["_stale_piece"] = _piece_message(
            piece, "its base or another view of its base has been modified inplace")
        piece_holder._requires_grad = piece_holder._requires_grad or graded


def _replay_views(written) -> None:
    """After an in-place write to ``written`` (and to its bases, rebuilt by ``_update_base``):
    every other view of that chain, taken before the write, takes its node again from its
    base's new node, as torch replays a view whose base's version moved. Its value is already
    right (shared storage); without this its gradient and a trace would use the old value.
    Under no_grad nothing is replayed: the old node leads to the same leaves, as torch's.
    A split/chunk/unbind piece cannot be replayed (one node made all the pieces): as torch's,
    it refuses to be used with grad from now on (``check_piece``); a trace replays it too, so its
    graph computes what eager values hold."""
    path = [written]
    while "_view" in path[-1].__dict__:
        path.append(path[-1].__dict__["_view"][0])
    replay = tracing.current() is not None or is_grad_enabled()
    graded = is_grad_enabled() and written._requires_grad
    skip = {id(t) for t in path}
    for t in path:
        if "_multi_output" in t.__dict__ and tracing.current() is None:
            _mark_stale(t, graded)
        _replay_children(t, skip, replay, graded)


def _replay_children(base, skip, replay: bool, graded: bool) -> None:
    here = tracing.current()
    here = None if here is None else here.id
    for ref in list(base.__dict__.get("_views", ())):
        v = ref()
        if v is None or id(v) in skip or v._born not in (None, here):
            continue  # a view made in another thread's trace holds that trace's node
        entry = v.__dict__.get("_view")
        if entry is None or entry[0] is not base or entry[3] != base.__dict__.get("_layout", 0):
            continue  # taken again from another base, or base reshaped in place since (t_): cannot replay
        if "_multi_output" in v.__dict__ and here is None:  # a trace replays it: its graph stays right
            _mark_stale(v, graded)
        elif replay and (tracing.current() is not None or base._node is not None or v._node is not None):
            fresh = entry[4](base)
            node = fresh._node
            if node is not None and node.meta is not None:
                node.meta.vc, node.meta.version = v._vc, v._vc[0]
            v._node = node
            v._requires_grad = fresh._requires_grad
        elif tracing.current() is None:
            v._node = _restamped(v._node, v)
        _replay_children(v, skip, replay, graded)


def check_piece(t) -> None:
    """A split/chunk/unbind piece whose base (or a sibling, or itself) changed in place since
    cannot join a graph: torch's error."""
    message = t.__dict__.get("_stale_piece")
    if message is not None:
        raise err(RuntimeError, message)


def view_base(t):
    """``(base, differentiable)`` when ``t`` is a view, else None."""
    found = t.__dict__.get("_view")
    return None if found is None else (found[0], found[2])


def share(t):
    """``t``'s array is held outside it too (a NumPy array the user has, another tensor): later
    in-place changes are written into the array. Returns ``t``."""
    t.__dict__["_shared"] = True
    return t


#: The ``__dict__`` entries that tie a tensor to other holders of its array.
STORAGE_KEYS = frozenset({"_view", "_shared", "_views", "_multi_output", "_stale_piece"})


def is_shared(t) -> bool:
    return "_shared" in t.__dict__


def keep_leaf(x, node) -> None:
    """After an in-place update that autograd does not see (an optimizer step), ``x`` stays a
    leaf: ``node`` (or nothing, outside a trace) stands for its new value."""
    x._node = node
    if node is not None:
        node.meta = NodeMeta(x._vc, True, leaf=x)


def write(t, value) -> None:
    """A new value from outside autograd (loading a state dict, a compiled step's write-back):
    a version bump, no recorded node."""
    _store(t, value)
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
    share(t)  # ``p.data = v``: p and v now hold one array
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


def strided_view(out, base, array, undo, redo):
    """``out``, computed from ``base``, holds ``array`` instead: a NumPy strided view of base's
    array with the same values (``unfold``'s windows), so it is a view as ``make_view`` makes
    one. A read-only ``array`` (overlapping windows) refuses in-place writes. Returns ``out``."""
    out._value = array
    return make_view(out, base, undo, redo)


def restride(x, new, back) -> None:
    """An in-place view op (``t_``, ``squeeze_``): ``x`` becomes ``new``, a view of its old value
    with another shape; the version bumps. ``back(value)`` maps a value of the new shape to the
    old one, so that a view chain through ``x`` still rebuilds its base."""
    x._value = new._value
    x._type = new._type
    x._vc[0] += 1
    node = new._node
    if node is not None and node.meta is not None:
        node.meta.vc, node.meta.version = x._vc, x._vc[0]
    x._node = node
    x._requires_grad = x._requires_grad or new._requires_grad
    x.__dict__["_layout"] = x.__dict__.get("_layout", 0) + 1  # views taken before cannot rebuild x
    found = x.__dict__.get("_view")
    if found is not None:
        base, undo, differentiable, layout, redo = found
        x.__dict__["_view"] = (base, lambda v: undo(back(v)), differentiable, layout, redo)
    moved(x)
