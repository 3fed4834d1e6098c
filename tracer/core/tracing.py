"""The active trace: which graph eager ops are also recorded into, and how outside tensors
(parameters, optimizer state, constants) enter it.

The state lives in a ContextVar, so concurrent traces in threads never share a graph.
"""
from __future__ import annotations

import contextvars
import itertools
import warnings
import weakref

from ir.graph import Graph
from ir.ops import source
from ir.ops.source import ConstAttrs, InputAttrs
from tracer.core.source import user_source

_TRACE = contextvars.ContextVar("tracegrad_trace", default=None)
_IDS = itertools.count(1)  # distinguishes traces; tensors remember the one that made them


class TracerWarning(UserWarning):
    """A trace was specialised to a Python value read from a tensor (as torch.jit's)."""


class TraceValueError(RuntimeError):
    """A compiled function read a traced value into Python."""


def _at() -> str:
    where = user_source()
    return f" at {where}" if where else ""


def current() -> "TraceState | None":
    return _TRACE.get()


def in_trace(node) -> bool:
    """Whether ``node`` belongs to the graph being traced now."""
    state = _TRACE.get()
    return state is not None and node in state.graph


class NodeMeta:
    """What the tracer knows of a recorded node: the version stamp of the tensor holding its
    value (to detect in-place changes before backward), whether gradients flow through it,
    and for leaves and ``retain_grad`` tensors, the tensor that receives ``.grad``
    (held weakly, so tensor and node do not keep each other alive)."""

    __slots__ = ("vc", "version", "requires_grad", "_leaf", "_retain", "cloned", "hooks")

    def __init__(self, vc, requires_grad, leaf=None):
        self.vc = vc
        self.version = vc[0]
        self.requires_grad = requires_grad
        self._leaf = weakref.ref(leaf) if leaf is not None else None
        self._retain = None
        self.cloned = None  # for an in-place op's node: the overwritten input, saved as if cloned
        self.hooks = None  # a non-leaf's Tensor.register_hook functions, {handle id: fn}

    @property
    def leaf(self):
        return self._leaf() if self._leaf is not None else None

    @leaf.setter
    def leaf(self, t):
        self._leaf = weakref.ref(t) if t is not None else None

    @property
    def retain(self):
        return self._retain() if self._retain is not None else None

    @retain.setter
    def retain(self, t):
        self._retain = weakref.ref(t) if t is not None else None


class TraceState:
    """One trace in progress.

    Args:
        graph: the graph being recorded.
        names: ``{id(tensor): name}`` for tensors that have a meaningful name (module
            parameters as ``0.weight``, optimizer state).
        lift_all: lift every outside tensor as a graph input (``compile`` does, so parameters,
            buffers and optimizer state are fed on each call); otherwise only tensors that
            require grad or have a name are inputs and the rest are baked in as constants.
    """

    def __init__(self, graph: Graph, names=None, lift_all: bool = False):
        self.id = next(_IDS)
        self.graph = graph
        self.names = dict(names or {})
        self.lift_all = lift_all
        self.lifted: list = []          # (tensor, input node), in order of first use
        self._saved: list = []          # (tensor, node before the trace, version before)
        self._created: list = []        # weakrefs to tensors made inside the trace
        self._used_names: set[str] = set()
        self._outside: dict = {}        # id(tensor) -> (tensor, its node here), for tensors made outside
        self._written: set = set()      # ids of tensors made outside that this trace changed in place
        self.strict = False

    def node_for(self, t):
        """``t._node`` inside this trace for a tensor made outside it: the node this trace bound
        it to, else its own (eager) node, which ``node_of`` finds is not in the graph."""
        found = self._outside.get(id(t))
        return t._own_node if found is None else found[1]

    def bind(self, t, node, written: bool = True) -> None:
        """``t`` (made outside this trace) holds ``node``'s value in this trace; the tensor itself
        is left alone, so the eager graph of another thread using it is not disturbed.
        ``written``: this trace changed ``t`` (every binding but the first read's lift)."""
        if id(t) not in self._outside:
            self._saved.append((t, t._own_node, t._vc[0]))
        if written:
            self._written.add(id(t))
        self._outside[id(t)] = (t, node)  # keeps t alive, so its id is not reused during the trace

    def node_of(self, t):
        """The node holding ``t``'s current value in this trace, lifting ``t`` on first use."""
        node = t._node
        if node is not None and node in self.graph:
            return node
        return self.lift(t)

    def lift(self, t, name: str | None = None, kind: str | None = None):
        name = name or self.names.get(id(t))
        made_here = t._born == self.id and kind is None
        value = t._value
        if made_here or not (kind or t._requires_grad or self.lift_all):
            # The graph keeps the value it saw: the array may be shared later (a view taken in the
            # trace) and written in place through it.
            value = t._value.copy()
            node = self.graph.add(source.constant, (), ConstAttrs(value))
        else:
            kind = kind or ("param" if t._requires_grad else "state")
            name = self._unique(name or kind)
            node = self.graph.add(source.input_, (), InputAttrs(name, t.shape, t.dtype, kind))
            self.lifted.append((t, node))
        node.value = value
        node.meta = NodeMeta(t._vc, t._requires_grad, leaf=t if t._requires_grad else None)
        if t._born == self.id:
            self._saved.append((t, t._own_node, t._vc[0]))
            t._own_node = node
        else:
            self.bind(t, node, written=False)
        return node

    def _unique(self, name: str) -> str:
        base, k = name, 0
        while name in self._used_names:
            k += 1
            name = f"{base}_{k}"
        self._used_names.add(name)
        return name  # few inputs per trace: a linear probe is fine here

    def on_python_value(self, what: str) -> None:
        """A traced value was read into Python: warn that the trace is specialised to it, or,
        for ``compile`` (``strict``), refuse, since the cached graph would silently ignore it."""
        if self.strict:
            raise TraceValueError(
                f"{what} reads a traced value into Python inside a compiled function{_at()}. The "
                "compiled graph would replay the value seen while tracing on every call. Return the "
                "tensor from the function and read it outside, or compute the branch with tracer.where.")
        warnings.warn(f"{what} converts a traced tensor to a Python value{_at()}; the trace is "
                      "specialised to this value and will not generalise to other inputs.",
                      TracerWarning, stacklevel=3)

    def created(self, t) -> None:
        self._created.append(weakref.ref(t))

    def mutated(self) -> list:
        """Graph-input tensors whose value this trace changed (in-place ops, optimizer steps); a
        tensor made outside counts only when this trace wrote it, not when another thread did
        (its optimizer step meanwhile would otherwise become this graph's update)."""
        inputs = {id(t) for t, _ in self.lifted}
        return [t for t, _, version in self._saved if id(t) in inputs and (
            id(t) in self._written if t._born != self.id else t._vc[0] != version)]

    def finish(self) -> None:
        """Detach every tensor from the trace graph so eager use afterwards is unaffected.

        Tensors made outside the trace were never bound on themselves; only an eager node that
        this trace made stale (it changed the tensor in place) is dropped, unless another thread
        has replaced it meanwhile: another thread's own changes (its optimizer step) are its
        business, and its backward still needs its leaves."""
        for ref in self._created:
            t = ref()
            if t is not None and t._own_node is not None and t._own_node in self.graph:
                t._own_node = None
        for t, before, version in reversed(self._saved):
            if t._born == self.id:
                t._own_node = before if t._vc[0] == version else None
            elif id(t) in self._written and t._own_node is before and before is not None \
                    and _stale(before, t, version):
                t._own_node = None
        self._outside.clear()
        self._written.clear()


def _stale(node, t, version) -> bool:
    """Whether ``node`` no longer holds ``t``'s value: ``t`` changed in place since the trace
    first saw it, or since ``node`` was recorded."""
    meta = node.meta
    return t._vc[0] != version or (meta is not None and meta.vc is t._vc and meta.version != t._vc[0])


class active:
    """``with active(state):`` records every op into ``state.graph``."""

    def __init__(self, state: TraceState):
        self.state = state

    def __enter__(self):
        self._token = _TRACE.set(self.state)
        return self.state

    def __exit__(self, *exc):
        _TRACE.reset(self._token)
        self.state.finish()
        return False
