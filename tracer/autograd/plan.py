"""Cached backward programs for eager ``backward()``.

An eager training loop records the same DAG structure every step, so the autodiff pass would
rebuild the same backward nodes each time. The first backward for a structure runs the full
pass (``ir.append_gradients`` and the interpreter) and keeps its appended nodes as a plan:
one ``(kernel, attrs, argument slots)`` per node. Later backwards with the same structure run
the plan's kernels directly. Plans depend on structure only (ops, attributes, types, wiring,
which nodes receive gradients): gradient rules never look at values.

A plan does not check results (its first run, through the interpreter, did), but a kernel that
fails raises the run policy's error (``backends.numpy.policy``), as the interpreter would.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from backends.numpy import KERNELS
from backends.numpy.policy import WRAPPED, error, error_type
from ir.ops import source
from ir.ops.base import NO_ATTRS

LIMIT = 256  # plans kept (least recently used dropped); each is a few kB


class Plan:
    """The backward nodes of one DAG structure, in slots after the forward nodes'."""

    def __init__(self, forward, graph, start, grads, reads):
        slot = {n: i for i, n in enumerate(forward)}
        new = graph.nodes[start:]
        for j, n in enumerate(new):
            slot[n] = len(forward) + j
        self.steps = [(KERNELS[n.op], n.attrs, tuple(slot[i] for i in n.inputs)) for n in new]
        self.grads = [slot[g] if g is not None else None for g in grads.values()]  # in wrt order
        self.reads = [(slot[f], tuple(slot[r] for r in rs)) for f, rs in reads.items() if f in slot]
        self.needed = sorted({i for _, _, args in self.steps for i in args if i < len(forward)})
        # For error messages only: each step's op, input types and a forward node sharing its
        # source line. The line is read from the forward nodes of the failing run, since one plan
        # serves every DAG of its structure, wherever in the user's code it was recorded.
        lines = {}
        for i, n in enumerate(forward):
            lines.setdefault(n.source, i)
        self.sites = [(n.op.name, tuple(i.type for i in n.inputs), lines.get(n.source)) for n in new]

    def run(self, forward) -> list:
        values = [n.value for n in forward]
        try:
            for kernel, attrs, args in self.steps:
                values.append(kernel(attrs, *[values[i] for i in args]))
        except WRAPPED as err:
            raise self._error(len(values) - len(forward), forward, err) from err
        return values

    def _error(self, step: int, forward, err):
        op, types, line = self.sites[step]
        return error(op, types, forward[line].source if line is not None else None, err, error_type(err))


class PlanCache:
    """Plans by structure, least recently used dropped first. Shared by every thread's eager
    backward (plans are immutable), so a lock keeps a lookup from racing another thread's
    eviction."""

    def __init__(self, limit: int = LIMIT):
        self._plans: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def get(self, key):
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
            return plan

    def put(self, key, plan) -> None:
        with self._lock:
            self._plans[key] = plan
            if len(self._plans) > self.limit:
                self._plans.popitem(last=False)


def structure_key(nodes, wrt, seeds) -> tuple:
    """A hashable description of the DAG's structure (constants by type only: their values
    are read from the nodes, never baked into a plan)."""
    index = {n: i for i, n in enumerate(nodes)}
    parts = []
    for n in nodes:  # types as (shape, dtype) and no attrs as None: hashed in C, not by dataclass methods
        attrs = None if n.op is source.constant or n.attrs is NO_ATTRS else n.attrs
        t = n.type
        parts.append((n.op, attrs, t.shape, t.dtype, tuple([index[i] for i in n.inputs])))
    return (tuple(parts), tuple(index.get(w, -1) for w in wrt), tuple(index.get(s, -1) if s is not None else None
                                                                       for s in seeds))


def kernels_available(graph, start) -> bool:
    return all(n.op in KERNELS for n in graph.nodes[start:])
