"""Run ir graphs on onnxruntime: export once, cache the session per graph, feed by name."""
from __future__ import annotations

import weakref

import numpy as np

from ir.feeds import resolve
from backends.onnx.export import export
from ir.ops import linalg

_SESSIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _key(graph, opset, providers):
    return (len(graph.nodes), tuple(id(o) for o in graph.outputs), opset, tuple(providers or ()))


#: Below this many multiply-adds per run a graph runs on one thread: for small graphs
#: onnxruntime's thread-pool hand-offs cost more than they save (measured in bench/train_step.py).
SINGLE_THREAD_WORK = 1e6


def estimated_work(graph) -> float:
    """Multiply-adds of the graph's matmuls plus one per element of every other node."""
    total = 0.0
    for n in graph.nodes:
        if n.op is linalg.matmul:
            a = n.inputs[0]
            total += n.type.numel * (a.shape[-1] if a.shape else 1)
        else:
            total += n.type.numel
    return total


def session_options(graph):
    import onnxruntime as ort  # optional heavy dependency: loaded on the first onnxruntime run
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if estimated_work(graph) < SINGLE_THREAD_WORK:
        options.intra_op_num_threads = 1
    return options


def session_for(graph, opset: int = 18, providers=None, model=None):
    """The onnxruntime session for ``graph`` (exported with every input kept as an input),
    built once and reused while the graph is unchanged."""
    import onnxruntime as ort  # optional heavy dependency: loaded on the first onnxruntime run
    key = _key(graph, opset, providers)
    cached = _SESSIONS.get(graph)
    if cached is not None and cached[0] == key:
        return cached[1]
    model = model or export(graph, opset=opset, params_as="inputs", check=False, optimize=False)
    session = ort.InferenceSession(model.SerializeToString(), session_options(graph),
                                   providers=providers or ["CPUExecutionProvider"])
    _SESSIONS[graph] = (key, session)
    return session


def feeds(graph, inputs, named) -> dict:
    """Inputs by graph input name, as arrays of the declared dtypes."""
    return {node.attrs.name: np.asarray(value, dtype=node.dtype.np) for node, value in resolve(graph, inputs, named)}


def run(graph, *inputs, providers=None, opset: int = 18, **named) -> list[np.ndarray]:
    """Run ``graph`` on onnxruntime; one array per graph output.

    Args:
        graph: an ``ir.Graph``.
        inputs: arrays (or tensors) for the graph inputs in order, or one dict by name;
            trailing inputs not given (parameters) default to their traced values.
        providers: onnxruntime execution providers (default CPU).
        opset: the opset to export with.
        named: inputs by name.
    """
    session = session_for(graph, opset, providers)
    return session.run(list(graph.output_names), feeds(graph, inputs, named))
