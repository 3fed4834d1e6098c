"""Graph passes that keep the graph's meaning: dead-code elimination, constant folding, and
turning random draws into inputs a caller feeds.

Each returns a new ``Graph``; the input graph is left as it was.
"""
from __future__ import annotations

import numpy as np

from ir.graph import Graph
from ir.node import Node
from ir.ops import source
from ir.ops.source import InputAttrs

#: Folding stops where a constant would grow past this many elements (an expanded zero
#: stays an expand of a scalar rather than becoming a large array in the file).
FOLD_LIMIT = 4096


def live_nodes(graph: Graph) -> set:
    """Nodes the outputs depend on, and the nodes whose shapes the traced code read into
    Python (the ints it read may be baked into the graph, so export still checks them)."""
    live, stack = set(), list(graph.outputs) + [r.node for r in graph.python_reads]
    while stack:
        n = stack.pop()
        if n in live:
            continue
        live.add(n)
        stack.extend(n.inputs)
    return live


def dce(graph: Graph) -> Graph:
    """Drop nodes no output depends on (graph inputs are kept: callers feed them by position)."""
    return graph.copy(keep=live_nodes(graph))


def fold_constants(graph: Graph, evaluate) -> Graph:
    """Replace parameter-free subgraphs by constants (a random draw stays a draw: folding it
    would freeze one sample into the graph).

    Args:
        graph: the graph.
        evaluate: ``evaluate(node, input_arrays) -> array``, e.g. the NumPy backend's ``run_node``
            (the ir does not import backends, so the caller supplies it).
    """
    values: dict[Node, np.ndarray] = {}
    folded: dict[Node, np.ndarray] = {}
    for n in graph.nodes:
        if n.op is source.constant:
            values[n] = n.attrs.value
        elif n.inputs and not n.op.nondeterministic and all(i in values for i in n.inputs):
            biggest = max(values[i].size for i in n.inputs)
            if n.type.numel > max(FOLD_LIMIT, biggest):
                continue
            values[n] = folded[n] = np.array(evaluate(n, [values[i] for i in n.inputs]))
    return dce(graph.copy(constants=folded)) if folded else graph


def optimize(graph: Graph, evaluate) -> Graph:
    """Constant folding then dead-code elimination: what export runs first."""
    return dce(fold_constants(graph, evaluate))


def draws_as_inputs(graph: Graph, prefix: str = "random") -> tuple[Graph, list[Node]]:
    """A copy of ``graph`` whose random draws are inputs named ``{prefix}.0``, ``{prefix}.1``, ...
    (after the other inputs), and the original draw nodes in graph order.

    A caller that feeds them with the NumPy backend's random kernels, in that order and from
    one generator, gets exactly the numbers the NumPy interpreter draws: this is how a compiled
    step on onnxruntime honours ``manual_seed`` (ONNX's RandomUniform cannot take a seed per run).
    """
    draws = [n for n in graph.nodes if n.op.nondeterministic]
    if not draws:
        return graph, []
    taken = set(graph.input_names)
    names = []
    for k in range(len(draws)):
        name = f"{prefix}.{k}"
        while name in taken:
            name = "_" + name
        names.append(name)
    fed = dict(zip(draws, names))
    new = Graph(graph.name)
    mapping: dict[Node, Node] = {}
    for n in graph.nodes:
        if n in fed:
            clone = Node(source.input_, (), InputAttrs(fed[n], n.type.shape, n.type.dtype, "input"), n.type,
                         n.source, n.phase)
        else:
            clone = Node(n.op, [mapping[i] for i in n.inputs], n.attrs, n.type, n.source, n.phase)
            if n.op is source.input_:
                clone.value = n.value
        mapping[n] = new.append(clone)
    new.inputs = [mapping[i] for i in graph.inputs] + [mapping[d] for d in draws]  # the draws last
    new.set_outputs([mapping[o] for o in graph.outputs], graph.output_names)
    new.python_reads = [r.moved(mapping[r.node]) for r in graph.python_reads if r.node in mapping]
    return new, draws

