"""Which dims of each value are symbolic at run time, given the graph inputs' dynamic axes.

Export uses this to write shapes that follow the runtime size (Reshape's 0 and -1, Expand's
1, Shape-derived counts) and to explain, naming the op and the user's line, where a graph
bakes a dynamic size in and so cannot serve other sizes. Each op's rule is on its definition
(``Op.dynamic``); this is only the walk.
"""
from __future__ import annotations


def propagate(graph, dynamic_inputs: dict) -> dict:
    """``{node: set of dynamic dim indices}`` for every node of ``graph``.

    Args:
        graph: the graph to export.
        dynamic_inputs: ``{input name: dim indices}`` the caller marks symbolic.

    Raises:
        DynamicShapeError: an op cannot follow a dynamic dim (the message names it and the line).
    """
    dyn = {n: set(dynamic_inputs.get(n.attrs.name, ())) for n in graph.inputs}
    for node in graph.nodes:
        dyn[node] = node.op.dynamic(node, dyn)  # every Op has one: its definition refuses to exist without
    return dyn
