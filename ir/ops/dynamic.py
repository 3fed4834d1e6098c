"""Shared pieces of dynamic-shape rules.

A dynamic-shape rule is ``rule(node, dyn) -> set[int]``: given ``dyn``, the symbolic dims of
each input node (a batch dim exported as ``N``, say), it returns the dims of ``node``'s output
that are symbolic too. Where the op would bake a dynamic size into the graph (a reshape that
merges two dynamic dims, a slice along one) the rule raises ``DynamicShapeError`` naming the
op and the user's line. Each op's definition carries its rule (``Op.dynamic``); the family
files build theirs from these helpers, and ``ir.dynamic.propagate`` runs them over a graph.
"""
from __future__ import annotations

from typing import NoReturn

from ir.errors import DynamicShapeError


def dims(dyn, node) -> set[int]:
    """The symbolic dims of ``node`` (none if ``dyn`` does not know it)."""
    return set(dyn.get(node, ()))


def fail(node, detail: str) -> NoReturn:
    """Raise the standard error for an op that cannot follow a dynamic dim."""
    where = f" at {node.source}" if node.source else ""
    raise DynamicShapeError(f"{node.op.name}{where}: {detail}. Trace with the size you need, or keep "
                            "this axis static (drop it from dynamic_axes).")


def static(node, dyn) -> set[int]:
    """No output dim is symbolic: the shape comes from the attributes (constants, random draws)."""
    return set()


def marked(node, dyn) -> set[int]:
    """A graph input's symbolic dims are the ones the caller marked (``propagate`` seeds them)."""
    return dims(dyn, node)


def like_input(position: int):
    """The rule of an op whose output has input ``position``'s shape, dim for dim."""
    def rule(node, dyn) -> set[int]:
        return dims(dyn, node.inputs[position])
    rule.__name__ = f"like_input_{position}"
    return rule


def broadcast(node, dyn) -> set[int]:
    """Broadcasting: an output dim is symbolic when any input has it symbolic (right-aligned);
    another input holding that dim at a fixed size other than 1 would pin it, so that fails."""
    rank = len(node.shape)
    out = set()
    for x in node.inputs:
        offset = rank - len(x.shape)
        out.update(d + offset for d in dims(dyn, x))
    for x in node.inputs:
        offset = rank - len(x.shape)
        for i, size in enumerate(x.shape):
            if i + offset in out and i not in dims(dyn, x) and size != 1:
                fail(node, f"dim {i + offset} is dynamic in one input but fixed at {size} in another")
    return out
