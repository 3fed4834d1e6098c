"""Reverse-mode autodiff as a graph pass: it appends backward nodes to the graph.

``append_gradients`` is the one driver (used by eager ``backward()``, ``autograd.grad`` and
``ir.grad``). It walks only the nodes between the target and the sources, in reverse
topological order, calls one rule per node, sums gradients at fan-out and reduces broadcast
gradients back to each input's shape.
"""
from __future__ import annotations

from ir.builder import Builder
from ir.errors import IRError
from ir.gradients import RULES
from ir.node import BACKWARD, Node
from ir.ops import all_ops
from ir.ops import elementwise as E


def _reaching(nodes, sources) -> set[Node]:
    """Floating-point nodes that depend on any source (forward sweep)."""
    reach = set(sources)
    for n in nodes:
        if n not in reach and n.dtype.is_floating_point and any(i in reach for i in n.inputs):
            reach.add(n)
    return reach


#: (op, input position) pairs that read only their input's shape, never its value: derived
#: from the ops' ``shape_only_inputs`` trait, for readers outside ir that ask by pair.
SHAPE_ONLY = frozenset((op, pos) for op in all_ops() for pos in op.shape_only_inputs)


def _value_reads(graph, start: int, emitted) -> set:
    """Forward nodes (index < start) whose values the ``emitted`` backward nodes read."""
    reads = set()
    for node in emitted:
        for pos, inp in enumerate(node.inputs):
            if graph.index(inp) < start and pos not in node.op.shape_only_inputs:
                reads.add(inp)
    return reads


def append_gradients(graph, of: Node, wrt, seed: Node | None = None, reads: dict | None = None
                     ) -> dict[Node, Node | None]:
    """Append to ``graph`` the nodes computing d(of)/d(w) for each ``w`` in ``wrt``.

    Args:
        graph: holds ``of`` and every ``wrt`` node; backward nodes are appended to it.
        of: the node to differentiate.
        wrt: the nodes to differentiate with respect to (inputs or intermediates).
        seed: the incoming gradient of ``of`` (same type); None means ones.
        reads: if given, filled with ``{forward node: forward nodes its rule read values of}``
            (what PyTorch calls saved tensors; the eager tracer checks them for in-place changes).

    Returns:
        ``{w: gradient node}``, None where ``of`` does not depend on ``w``.

    Raises:
        IRError: an op on the path has no gradient rule, or the seed's type is wrong.
    """
    wrt = list(wrt)
    start = len(graph.nodes)
    b = Builder(graph, BACKWARD)
    if seed is None:
        b.source = of.source
        seed = b.full_like(of, 1.0)
    elif seed.type != of.type:
        raise IRError(f"grad: the seed gradient must be {of.type}, got {seed.type}")
    end = graph.index(of) + 1
    reach = _reaching(graph.nodes[:end], wrt)
    grads: dict[Node, Node] = {of: seed} if of in reach else {}
    emitted: dict[Node, list[Node]] = {}
    for node in reversed(graph.nodes[:end]):
        g = grads.get(node)
        if g is None or not node.op.differentiable:
            continue
        rule = RULES.get(node.op)
        if rule is None:
            raise IRError(f"{node.op.name}: no gradient rule (add one to ir/gradients.py, or define the "
                          f"op with differentiable=False)" + (f"\n  at {node.source}" if node.source else ""))
        b.source = node.source
        first_new = len(graph.nodes)
        in_grads = rule(b, node, g)
        if reads is not None:
            emitted[node] = graph.nodes[first_new:]
        for inp, gi in zip(node.inputs, in_grads):
            if gi is None or inp not in reach:
                continue
            gi = b.sum_to(gi, inp.shape)
            if gi.dtype != inp.dtype:
                gi = b(E.cast, gi, dtype=inp.dtype)
            grads[inp] = b(E.add, grads[inp], gi) if inp in grads else gi
    result = {w: grads.get(w) for w in wrt}
    graph.prune_tail(start, result.values())
    if reads is not None:  # what the surviving backward nodes read: a rule's unused branch saves nothing
        for node, nodes in emitted.items():
            reads[node] = _value_reads(graph, start, [n for n in nodes if n in graph])
    return result
