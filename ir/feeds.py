"""Matching a caller's inputs to a graph's inputs: one rule for every backend that runs an ir.Graph."""
from __future__ import annotations


class FeedError(ValueError):
    """Inputs that do not fit the graph."""


def resolve(graph, inputs, named) -> list:
    """``[(input node, value)]`` from positional inputs (or one dict by name), then named ones;
    inputs not given fall back to the value recorded while tracing (parameters)."""
    if len(inputs) == 1 and isinstance(inputs[0], dict) and not named:
        named, inputs = inputs[0], ()
    if len(inputs) > len(graph.inputs):
        raise FeedError(f"graph {graph.name!r} takes {len(graph.inputs)} inputs ({graph.input_names}), "
                        f"got {len(inputs)}")
    pairs = []
    for i, node in enumerate(graph.inputs):
        name = node.attrs.name
        if i < len(inputs):
            value = inputs[i]
        elif name in named:
            value = named[name]
        elif node.value is not None:
            value = node.value
        else:
            raise FeedError(f"graph {graph.name!r}: input {name!r} was not given and has no traced value")
        pairs.append((node, getattr(value, "_value", value)))
    return pairs
