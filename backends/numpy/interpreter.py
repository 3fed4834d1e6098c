"""The NumPy interpreter: a short loop over the graph in topological order.

Values are freed after their last use; every result is checked against its node's declared
type and any kernel error is re-raised through the run policy (``backends.numpy.policy``),
naming the node's op, input types and the user's line.
"""
from __future__ import annotations

import numpy as np

from backends.numpy.feeds import FeedError, bind
from backends.numpy.kernels import KERNELS, RANDOM_KERNELS
from backends.numpy.policy import WRAPPED, check_result, kernel_error, no_kernel
from ir.ops import source


def run_node(node, args, rng=None) -> np.ndarray:
    """Evaluate one node on its input arrays and check the result's shape and dtype."""
    kernel = KERNELS.get(node.op)
    random_kernel = RANDOM_KERNELS.get(node.op)
    if kernel is None and random_kernel is None:
        raise no_kernel(node.op)
    try:
        if random_kernel is not None:
            out = random_kernel(node.attrs, rng if rng is not None else np.random.default_rng())
        else:
            out = kernel(node.attrs, *args)
    except WRAPPED as err:
        raise kernel_error(node, err) from err
    return check_result(node, out)


def evaluate(nodes, env: dict, keep=(), rng=None) -> dict:
    """Evaluate ``nodes`` (topologically ordered) given ``env`` holding every value they read
    from outside the list; frees a value after its last use unless it is in ``keep``."""
    keep = set(keep)
    last = {}
    for i, node in enumerate(nodes):
        for inp in node.inputs:
            last[inp] = i
    for i, node in enumerate(nodes):
        if node.op is source.input_:
            if node not in env:
                raise FeedError(f"input {node.attrs.name!r} was not fed")
            continue
        env[node] = run_node(node, [env[x] for x in node.inputs], rng)
        for inp in set(node.inputs):
            if last.get(inp) == i and inp not in keep:
                env.pop(inp, None)
    return env


def run(graph, *inputs, rng=None, **named) -> list[np.ndarray]:
    """Run ``graph`` on NumPy.

    Args:
        graph: an ``ir.Graph``.
        inputs: one array per graph input, in order (or a single dict by input name).
        rng: a ``numpy.random.Generator`` for random ops (default: a fresh one).
        named: inputs by name, instead of positionally.

    Returns:
        One array per graph output.

    Raises:
        FeedError: an input of the wrong dtype or shape, or missing.
        KernelError: a kernel failed (``KernelIndexError``, also an ``IndexError``, for an
            index out of range); the message names the op, input types and source line.
    """
    env = bind(graph, inputs, named)
    env = evaluate(graph.nodes, env, keep=graph.outputs, rng=rng)
    return [env[o] for o in graph.outputs]
