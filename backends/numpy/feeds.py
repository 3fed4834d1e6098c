"""Matching a caller's inputs to a graph's inputs, shared by every backend.

It lives in the NumPy backend, the lowest room that runs graphs, so the interpreter and the
onnxruntime runner above it check feeds with one rule and raise one error.
"""
from __future__ import annotations

import numpy as np

from backends.numpy.policy import KernelError


class FeedError(KernelError, ValueError):
    """Inputs that do not fit the graph (a ``KernelError`` like every run failure, and a
    ``ValueError``, Python's type for a bad argument)."""


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


def feed(node, value) -> np.ndarray:
    """``value`` as an array of exactly ``node``'s declared type; Python numbers and lists are
    converted, an array of another dtype or any value of another shape is an error."""
    want = node.type
    if isinstance(value, np.ndarray) and value.dtype != want.dtype.np:
        raise FeedError(f"input {node.attrs.name!r}: expected {want}, got {value.dtype}{list(value.shape)}")
    arr = np.asarray(value, dtype=want.dtype.np)
    if arr.shape != want.shape:
        raise FeedError(f"input {node.attrs.name!r}: expected shape {list(want.shape)}, got {list(arr.shape)}")
    return arr


def bind(graph, inputs, named) -> dict:
    """``{input node: checked array}``: inputs by position, then by name; those not given
    default to their traced values."""
    return {node: feed(node, value) for node, value in resolve(graph, inputs, named)}
