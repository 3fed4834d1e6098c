"""``tracer.trace``: run a function once on example inputs and return the recorded graph."""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from ir.graph import Graph
from tracer.core import tracing
from tracer.core.errors import err
from tracer.jit.naming import discover
from tracer.ops.creation import tensor
from tracer.ops.diagonal import trace_method
from tracer.core.tensor import Tensor


def _arg_names(fn, count: int) -> list[str]:
    target = fn.forward if hasattr(fn, "forward") and not inspect.isfunction(fn) else fn
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            names += [f"{p.name}_{i}" for i in range(count - len(names))]
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
    names = names[:count]
    return names + [f"input_{i}" for i in range(len(names), count)]


def flatten_outputs(result, prefix="output"):
    """(tensors, names) for nested tuples/lists/dicts of tensors."""
    if isinstance(result, Tensor):
        return [result], [prefix]
    if isinstance(result, dict):
        pairs = [flatten_outputs(v, f"{k}" if prefix == "output" else f"{prefix}.{k}") for k, v in result.items()]
    elif isinstance(result, (tuple, list)):
        pairs = [flatten_outputs(v, f"{prefix}_{i}") for i, v in enumerate(result)]
    else:
        raise err(TypeError, f"trace: a traced function must return tensors (or nested tuples/lists/dicts of "
                  f"them), got {type(result).__name__}")
    tensors, names = [], []
    for t, n in pairs:
        tensors += t
        names += n
    return tensors, names


def unflatten_like(like, flat):
    """Rebuild ``like``'s nesting (tuples/lists/dicts of tensors) from a flat list."""
    flat = list(flat)

    def build(x):
        if isinstance(x, Tensor):
            return flat.pop(0)
        if isinstance(x, dict):
            return type(x)((k, build(v)) for k, v in x.items())
        return type(x)(build(v) for v in x)
    return build(like)


def _as_input(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._wrap(x)
    return tensor(x)


@dataclass
class Recording:
    """What one trace of a function produced (``trace`` and ``compile`` share it).

    Attributes:
        graph: outputs are ``fn``'s results, then ``updated.<input>`` for every graph input
            ``fn`` changed in place (the caller writes those back).
        lifted: ``(tensor, input node)`` for every tensor that became a graph input, in order
            (the arguments first).
        mutations: ``(tensor, node of its final value)`` for the inputs changed in place.
        grads: ``(tensor, node of its .grad)`` for the inputs whose gradient ``fn`` produced.
        outputs: ``fn``'s result tensors, flattened; ``result`` is the result as returned.
    """

    graph: Graph
    lifted: list
    mutations: list
    grads: list
    outputs: list
    result: object

    def input_name(self, t) -> str:
        """The graph input name of a lifted tensor."""
        return next(node.attrs.name for lifted, node in self.lifted if lifted is t)


def is_tensor_like(x) -> bool:
    """Arguments that become graph inputs (the rest, Python values, are constants of a trace)."""
    return isinstance(x, (Tensor, np.ndarray))


def record(fn, example_inputs, *, name=None, lift_all=False, strict=False, python_constants=False) -> Recording:
    """Trace ``fn`` on ``example_inputs`` (see ``Recording``).

    With ``python_constants``, arguments that are not tensors or arrays (numbers, bools,
    strings, None) are passed to ``fn`` as they are, so Python control flow may read them; the
    caller keys its cache on them (``compile`` does, as torch.compile guards on them).
    Otherwise every argument becomes a graph input (numbers as 0-d tensors)."""
    graph = Graph(name or getattr(fn, "__name__", type(fn).__name__))
    state = tracing.TraceState(graph, discover(fn), lift_all=lift_all)
    state.strict = strict
    names = _arg_names(fn, len(example_inputs))
    keep = [python_constants and not is_tensor_like(x) for x in example_inputs]
    inputs = [x if kept else _as_input(x) for x, kept in zip(example_inputs, keep)]
    with tracing.active(state):
        for arg_name, t, kept in zip(names, inputs, keep):
            if not kept:
                state.lift(t, name=arg_name, kind="input")
        result = fn(*inputs)
        outs, names = flatten_outputs(result)
        nodes = [state.node_of(t) for t in outs]
        mutations = [(t, state.node_of(t)) for t in state.mutated()]
        grads = [(t, t._grad._node) for t, _ in state.lifted
                 if t._grad is not None and t._grad._node is not None and t._grad._node in graph]
    rec = Recording(graph, list(state.lifted), mutations, grads, outs, result)
    names += [f"updated.{rec.input_name(t)}" for t, _ in mutations]
    graph.set_outputs(nodes + [n for _, n in mutations], names)
    return rec


def trace(fn, *example_inputs, name: str | None = None, lift_all: bool = False) -> Graph:
    """Run ``fn(*example_inputs)`` once, recording every op, and return the graph.

    Given one tensor instead of a function, it is torch's ``torch.trace(matrix)``: the sum of
    the main diagonal (a script run under the ``torch`` alias means that).

    Args:
        fn: a function or ``nn.Module`` taking tensors.
        example_inputs: tensors (or arrays) fixing the input shapes and dtypes; they become graph
            inputs named after ``fn``'s parameters.
        name: the graph's name (default: the function's).
        lift_all: make every outside tensor ``fn`` reads a graph input (parameters, buffers,
            optimizer state), not only those that require grad.

    Returns:
        An ``ir.Graph`` whose outputs are ``fn``'s results, flattened. Python control flow is
        unrolled; a ``loss.backward()`` or ``optimizer.step()`` inside ``fn`` is recorded too.
        Like ``torch.jit.trace``, ``fn`` really runs: its side effects happen once.
    """
    if isinstance(fn, Tensor):
        if example_inputs or name is not None or lift_all:
            raise err(TypeError, "trace(input) takes one tensor (the sum of its main diagonal); to trace a "
                      "function, pass the function first: trace(fn, *example_inputs)")
        return trace_method(fn)
    return record(fn, example_inputs, name=name, lift_all=lift_all).graph
