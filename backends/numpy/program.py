"""A graph flattened into a list of kernel calls, for running the same graph many times.

``interpreter.run`` checks every result against its node's type and wraps errors; a
``Program`` is built once from a graph, checks its first run that way, and afterwards just
calls the kernels in order over a list of value slots, dropping each value after its last use.
"""
from __future__ import annotations

import numpy as np

from backends.numpy.interpreter import _bind, run_node
from backends.numpy.kernels import KERNELS, RANDOM_KERNELS
from ir.ops import source


class Program:
    def __init__(self, graph):
        self.graph = graph
        slot = {n: i for i, n in enumerate(graph.nodes)}
        last = {}
        for i, n in enumerate(graph.nodes):
            for inp in n.inputs:
                last[slot[inp]] = i
        keep = {slot[o] for o in graph.outputs}
        self.inputs = [slot[n] for n in graph.inputs]
        self.steps = []
        for i, n in enumerate(graph.nodes):
            if n.op is source.input_:
                continue
            free = tuple(s for s in {slot[x] for x in n.inputs} if last[s] == i and s not in keep)
            kernel = RANDOM_KERNELS.get(n.op) or KERNELS[n.op]
            self.steps.append((i, kernel, n.attrs, tuple(slot[x] for x in n.inputs), free, n.op in RANDOM_KERNELS))
        self.outputs = [slot[o] for o in graph.outputs]
        self.checked = False

    def run(self, *inputs, rng=None, **named) -> list[np.ndarray]:
        """Like ``interpreter.run``; the first call checks every node, later ones do not."""
        if not self.checked:
            return self._checked_run(inputs, named, rng)
        values = [None] * len(self.graph.nodes)
        for s, v in zip(self.inputs, inputs):
            values[s] = v
        for i, kernel, attrs, args, free, random in self.steps:
            values[i] = kernel(attrs, rng) if random else kernel(attrs, *[values[a] for a in args])
            for f in free:
                values[f] = None
        return [values[o] for o in self.outputs]

    def _checked_run(self, inputs, named, rng):
        env = _bind(self.graph, inputs, named)
        values = [None] * len(self.graph.nodes)
        for s, n in zip(self.inputs, self.graph.inputs):
            values[s] = env[n]
        nodes = self.graph.nodes
        rng = rng if rng is not None else np.random.default_rng()
        for i, kernel, attrs, args, free, random in self.steps:
            values[i] = run_node(nodes[i], [values[a] for a in args], rng)
            for f in free:
                values[f] = None
        self.checked = True
        return [values[o] for o in self.outputs]
