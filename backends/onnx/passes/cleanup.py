"""Dead-code elimination on the ONNX side: what a fusion bypasses (a Transpose folded into a
Gemm, the long form of a loss) or a lowering built and nothing read."""
from __future__ import annotations

from backends.onnx.passes.usedef import rewrite


def drop_unused(graph) -> None:
    """Remove nodes no graph output depends on, then initializers no node or output reads.
    Graph inputs stay: callers feed them by name."""
    needed = {o.name for o in graph.output}
    dead = {}
    for i in reversed(range(len(graph.node))):
        node = graph.node[i]
        if any(o in needed for o in node.output):
            needed.update(node.input)
        else:
            dead[i] = []
    rewrite(graph, dead)
    for i in reversed(range(len(graph.initializer))):
        if graph.initializer[i].name not in needed:
            del graph.initializer[i]  # in place: a large weight is not copied
