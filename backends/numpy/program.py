"""A graph flattened into a list of kernel calls, for running the same graph many times.

``interpreter.run`` checks every result against its node's type and wraps errors; a
``Program`` is built once from a graph, checks its first run that way, and afterwards just
calls the kernels in order over a list of value slots, dropping each value after its last use.
Later runs still check their inputs, and a kernel that fails raises the same error as in the
interpreter (``backends.numpy.policy``): one try around the whole loop, not one per step.

A Program runs its graph at the traced shapes only (``tracer.compile`` retraces the numpy
backend per shape), so at build time it also settles what needs no per-call work: constants,
values that depend only on shapes (``numel``, a constant expanded to a fixed shape) and their
constant-only consumers are computed once; ``detach`` reads its input's slot; a kernel call is
left only for the nodes that compute from inputs.
"""
from __future__ import annotations

import numpy as np

from backends.numpy.feeds import bind, feed
from backends.numpy.interpreter import run_node
from backends.numpy.kernels import KERNELS, RANDOM_KERNELS
from backends.numpy.policy import WRAPPED, kernel_error
from ir.ops import elementwise as E
from ir.ops import reduce as R
from ir.ops import shape as S
from ir.ops import source

#: Precomputed values larger than this many elements are left to run time (memory, not speed).
PRECOMPUTE_LIMIT = 1 << 16

#: Values of at least this many elements are dropped after their last use; smaller ones live
#: until the run ends (dropping them costs more time than the memory is worth).
FREE_ABOVE = 1 << 14


def _settle(graph):
    """Per node: a precomputed value, or an alias (the node whose slot it reads), or neither."""
    known: dict = {}
    alias: dict = {}
    for n in graph.nodes:
        if n.op is source.constant:
            known[n] = n.attrs.value
            continue
        if n.op is E.detach:
            alias[n] = alias.get(n.inputs[0], n.inputs[0])
            continue
        if n.op is source.input_ or n.op in RANDOM_KERNELS or n.type.numel > PRECOMPUTE_LIMIT:
            continue
        if n.op is R.numel:
            known[n] = run_node(n, [np.empty(n.inputs[0].shape, n.inputs[0].dtype.np)])
        elif n.op is S.expand_like and n.inputs[0] in known:
            known[n] = run_node(n, [known[n.inputs[0]], np.empty(n.inputs[1].shape, n.inputs[1].dtype.np)])
        elif n.inputs and all(i in known for i in n.inputs):
            known[n] = run_node(n, [known[i] for i in n.inputs])
    return known, alias


class Program:
    def __init__(self, graph):
        self.graph = graph
        slot = {n: i for i, n in enumerate(graph.nodes)}
        self.inputs = [slot[n] for n in graph.inputs]
        # What a later run checks its inputs against (dtype by identity first: NumPy's dtypes
        # are singletons, so ``is`` is the cheap test and ``feed`` the exact one).
        self.feeds = [(slot[n], n, n.type.shape, np.dtype(n.dtype.np)) for n in graph.inputs]
        self.outputs = [slot[o] for o in graph.outputs]
        self.checked = False
        # The first (checked) run goes node by node, as the interpreter does.
        last_use = {}
        for i, n in enumerate(graph.nodes):
            for inp in n.inputs:
                last_use[slot[inp]] = i
        outs = set(self.outputs)
        self._all = [(i, n, tuple(s for s in {slot[x] for x in n.inputs} if last_use[s] == i and s not in outs))
                     for i, n in enumerate(graph.nodes) if n.op is not source.input_]
        known, alias = _settle(graph)
        for n, target in alias.items():
            slot[n] = slot[target]
        self.outputs_fast = [slot[o] for o in graph.outputs]
        self.template = [None] * len(graph.nodes)
        for n, value in known.items():
            self.template[slot[n]] = value
        computed = [n for n in graph.nodes
                    if n.op is not source.input_ and n not in known and n not in alias]
        last = {}
        for n in computed:
            for inp in n.inputs:
                last[slot[inp]] = n
        keep = {slot[o] for o in graph.outputs} | {slot[n] for n in known}
        big = {slot[n] for n in graph.nodes if n.type.numel >= FREE_ABOVE}
        self.rng_slot = len(graph.nodes)  # random kernels read the call's generator from here
        self.template.append(None)
        self.steps = []
        self.draws = any(n.op in RANDOM_KERNELS for n in computed)
        for n in computed:
            free = tuple(s for s in {slot[x] for x in n.inputs} if last[s] is n and s not in keep and s in big)
            args = (self.rng_slot,) if n.op in RANDOM_KERNELS else tuple(slot[x] for x in n.inputs)
            kernel = RANDOM_KERNELS.get(n.op) or KERNELS[n.op]
            first, second = (args + (None, None))[:2]
            arity = len(args) if len(args) <= 2 else 0
            plain = getattr(kernel, "plain", None)
            if plain is not None and arity:
                kernel, arity = plain, -arity  # called without the attributes
            self.steps.append((slot[n], kernel, n.attrs, arity, first, second, args, free))

    def run(self, *inputs, rng=None, **named) -> list[np.ndarray]:
        """Like ``interpreter.run``; the first call checks every node, later ones only their
        inputs. A call feeding by name or leaving inputs to their traced values is checked."""
        if not self.checked or named or len(inputs) != len(self.inputs):
            return self._checked_run(inputs, named, rng)
        values = self.template.copy()
        values[self.rng_slot] = rng if rng is not None or not self.draws else np.random.default_rng()
        for (s, node, shape, dtype), v in zip(self.feeds, inputs):
            if v.__class__ is not np.ndarray or v.dtype is not dtype or v.shape != shape:
                v = feed(node, v)
            values[s] = v
        # Unrolled for one and two inputs (most nodes), and without attributes for kernels that
        # are plain NumPy functions: this loop is the backend's overhead.
        try:
            for i, kernel, attrs, arity, a, b, args, free in self.steps:
                if arity == -2:
                    values[i] = kernel(values[a], values[b])
                elif arity == -1:
                    values[i] = kernel(values[a])
                elif arity == 2:
                    values[i] = kernel(attrs, values[a], values[b])
                elif arity == 1:
                    values[i] = kernel(attrs, values[a])
                else:
                    values[i] = kernel(attrs, *[values[k] for k in args])
                if free:
                    for f in free:
                        values[f] = None
        except WRAPPED as err:
            raise kernel_error(self.graph.nodes[i], err) from err  # i: the failing step's slot
        return [values[o] for o in self.outputs_fast]

    def _checked_run(self, inputs, named, rng):
        env = bind(self.graph, inputs, named)
        nodes = self.graph.nodes
        index = {n: i for i, n in enumerate(nodes)}
        values = [None] * len(nodes)
        for s, n in zip(self.inputs, self.graph.inputs):
            values[s] = env[n]
        rng = rng if rng is not None else np.random.default_rng()
        for i, n, free in self._all:
            values[i] = run_node(n, [values[index[x]] for x in n.inputs], rng)
            for f in free:
                values[f] = None
        self.checked = True
        return [values[o] for o in self.outputs]
