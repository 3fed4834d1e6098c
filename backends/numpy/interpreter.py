"""The NumPy interpreter: a short loop over the graph in topological order.

Values are freed after their last use; every result is checked against its node's declared
type; any kernel error is re-raised naming the node's op, input types and the user's line.
"""
from __future__ import annotations

import numpy as np

from ir.feeds import FeedError, resolve
from backends.numpy.kernels import KERNELS, RANDOM_KERNELS
from ir.errors import IRError
from ir.ops import source


class KernelError(IRError):
    """A kernel failed or returned a value that disagrees with its node's type."""


def _where(node) -> str:
    return f"\n  at {node.source}" if node.source else ""


def run_node(node, args, rng=None) -> np.ndarray:
    """Evaluate one node on its input arrays and check the result's shape and dtype."""
    kernel = KERNELS.get(node.op)
    random_kernel = RANDOM_KERNELS.get(node.op)
    if kernel is None and random_kernel is None:
        raise KernelError(f"{node.op.name}: no NumPy kernel (add one to backends/numpy)")
    try:
        if random_kernel is not None:
            out = random_kernel(node.attrs, rng if rng is not None else np.random.default_rng())
        else:
            out = kernel(node.attrs, *args)
    except (ArithmeticError, ValueError, IndexError, TypeError, MemoryError) as err:
        types = ", ".join(str(i.type) for i in node.inputs)
        raise KernelError(f"{node.op.name}: {err} (inputs: {types}){_where(node)}") from err
    return check_result(node, out)


def check_result(node, out) -> np.ndarray:
    out = np.asarray(out)
    if out.shape != node.type.shape or out.dtype != node.type.dtype.np:
        raise KernelError(f"{node.op.name}: kernel returned {out.dtype}{list(out.shape)} but the node "
                          f"declares {node.type}{_where(node)}")
    return out


def _feed(node, value) -> np.ndarray:
    """An input array of exactly the declared type; Python numbers/lists are converted."""
    want = node.type
    if isinstance(value, np.ndarray) and value.dtype != want.dtype.np:
        raise KernelError(f"input {node.attrs.name!r}: expected {want}, got {value.dtype}{list(value.shape)}")
    arr = np.asarray(value, dtype=want.dtype.np)
    if arr.shape != want.shape:
        raise KernelError(f"input {node.attrs.name!r}: expected shape {list(want.shape)}, got {list(arr.shape)}")
    return arr


def _bind(graph, inputs, named) -> dict:
    """Inputs by position, then by name; those not given default to their traced values."""
    try:
        pairs = resolve(graph, inputs, named)
    except FeedError as e:
        raise KernelError(str(e)) from None
    return {node: _feed(node, value) for node, value in pairs}


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
                raise KernelError(f"input {node.attrs.name!r} was not fed")
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
    """
    env = _bind(graph, inputs, named)
    env = evaluate(graph.nodes, env, keep=graph.outputs, rng=rng)
    return [env[o] for o in graph.outputs]
