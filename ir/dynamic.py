"""Which dims of each value are symbolic at run time, given the graph inputs' dynamic axes.

Export uses this to write shapes that follow the runtime size (Reshape's 0 and -1, Expand's
1, Shape-derived counts) and to explain, naming the op and the user's line, where a graph
bakes a dynamic size in and so cannot serve other sizes. Each op's rule is on its definition
(``Op.dynamic``); this is only the walk.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ir.errors import DynamicShapeError


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


@dataclass(frozen=True)
class PythonRead:
    """Traced code read dims of a value into Python ints (``x.shape[0]``, ``len(x)``,
    ``x.size()``): the graph may hold those ints as constants, right only for the traced size.

    Attributes:
        node: the node whose shape was read.
        axes: the dims read.
        what: how it was read, for the message (``"shape[0]"``, ``"len()"``).
        source: the user's ``file:line``.
    """

    node: object
    axes: tuple
    what: str
    source: str | None = None

    def moved(self, node) -> "PythonRead":
        return replace(self, node=node)


def baked_reads(graph, dyn: dict) -> list:
    """The reads of ``graph`` that took a dim ``dyn`` (from ``propagate``) marks dynamic."""
    return [r for r in graph.python_reads if set(r.axes) & dyn.get(r.node, set())]


def check_python_reads(graph, dyn: dict) -> None:
    """Raise DynamicShapeError if the traced code read a dynamic dim into Python, naming the
    read and the user's line: the int it got is baked into the graph."""
    for r in baked_reads(graph, dyn):
        dims = sorted(set(r.axes) & dyn[r.node])
        where = f" at {r.source}" if r.source else ""
        raise DynamicShapeError(
            f"{r.what}{where} read dim {', '.join(map(str, dims))} of {r.node.type} into Python, and that dim "
            f"is dynamic: the exported graph would use {[r.node.shape[d] for d in dims]} for every size. "
            "Compute it with tensor ops (x.mean(0) rather than x.sum(0) / x.shape[0]), or export without "
            "that dynamic axis.")
