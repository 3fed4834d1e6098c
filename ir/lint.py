"""``ir.lint``: check a graph's invariants; each error says what broke and how to fix it."""
from __future__ import annotations

import networkx as nx

from ir.errors import IRError
from ir.node import BACKWARD, FORWARD, infer_type
from ir.ops import source


def lint(graph) -> None:
    """Raise ``IRError`` unless ``graph`` is well formed.

    Checks: every input is produced earlier (topological order, no cycle), arity, the
    networkx edges mirror the ordered inputs, re-running each shape rule reproduces the
    stored type, graph inputs are ``input`` nodes with distinct names, outputs are in the graph.
    """
    seen = set()
    for i, node in enumerate(graph.nodes):
        where = f"node %{i} ({node.op.name}" + (f", {node.source})" if node.source else ")")
        for inp in node.inputs:
            if inp not in seen:
                raise IRError(f"{where} uses a value not defined before it; append producers "
                              "before their users (a cycle or a node from another graph)")
        if node.phase not in (FORWARD, BACKWARD):
            raise IRError(f"{where} has unknown phase {node.phase!r}")
        again = infer_type(node.op, node.inputs, node.attrs, node.source)
        if again != node.type:
            raise IRError(f"{where} is typed {node.type} but its shape rule gives {again}; "
                          "rebuild the node instead of editing its inputs or attrs")
        seen.add(node)
    _lint_nx(graph)
    names = [n.attrs.name for n in graph.inputs]
    if len(set(names)) != len(names) or any(n.op is not source.input_ for n in graph.inputs):
        raise IRError(f"graph inputs must be distinct named input nodes, got {names}")
    if any(o not in seen for o in graph.outputs):
        raise IRError("a graph output is not a node of the graph; set_outputs with graph nodes")


def _lint_nx(graph) -> None:
    g = graph.nx
    if not nx.is_directed_acyclic_graph(g):
        raise IRError(f"graph {graph.name!r} has a cycle: {nx.find_cycle(g)}")
    for i, node in enumerate(graph.nodes):
        edges = sorted((key, src) for src, _, key in g.in_edges(i, keys=True))
        want = [(pos, graph.index(inp)) for pos, inp in enumerate(node.inputs)]
        if edges != want:
            raise IRError(f"node %{i} ({node.op.name}): networkx edges {edges} do not mirror its "
                          f"inputs {want}; the graph was edited behind Graph.append")
