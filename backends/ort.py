"""Run ir graphs on onnxruntime: export once, cache the session per graph, feed by name.

Feeds are checked as the interpreter checks them (``backends.numpy.feeds``), and onnxruntime's
own failures (an index out of range in a Gather, say) are raised as the run policy's error
(``backends.numpy.policy``): the failing ONNX node's name in onnxruntime's message leads to its
``doc_string`` ("phase op at file:line") and so to the ir node, its op, input types and line.

onnxruntime runs at its default optimisation level (``ORT_ENABLE_ALL``), as users run it;
``optimization="disable"`` (or ``TRACEGRAD_ORT_OPT=disable`` in the environment) turns its graph
optimisations off, so a suspected onnxruntime rewrite can be ruled in or out.
"""
from __future__ import annotations

import os
import re
import weakref

import numpy as np
import onnxruntime as ort

from backends.numpy.feeds import FeedError, bind
from backends.numpy.policy import KernelError, KernelIndexError, error
from backends.onnx.export import export
from ir.ops import linalg

_SESSIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_DOCS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # session -> {ONNX node name: doc_string}

#: The environment variable that picks the optimisation level when no argument does.
OPT_ENV = "TRACEGRAD_ORT_OPT"

LEVELS = {
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
}


def optimization_level(choice: str | None = None):
    """onnxruntime's graph optimisation level: ``choice``, else ``$TRACEGRAD_ORT_OPT``, else
    ``"all"`` (onnxruntime's default). The one place the environment variable is read."""
    name = choice if choice is not None else os.environ.get(OPT_ENV, "all")
    if name not in LEVELS:
        raise ValueError(f"onnxruntime optimisation level must be one of {sorted(LEVELS)}, got {name!r}"
                         + ("" if choice is not None else f" (from ${OPT_ENV})"))
    return LEVELS[name]


def _key(graph, opset, providers, level):
    return (len(graph.nodes), tuple(id(o) for o in graph.outputs), opset, tuple(providers or ()), level)


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


def session_options(graph, optimization: str | None = None):
    options = ort.SessionOptions()
    options.log_severity_level = 4  # fatal only: a failing run is raised as an error naming the op
    options.graph_optimization_level = optimization_level(optimization)
    if estimated_work(graph) < SINGLE_THREAD_WORK:
        options.intra_op_num_threads = 1
    return options


def session_for(graph, opset: int = 18, providers=None, model=None, optimization: str | None = None):
    """The onnxruntime session for ``graph`` (exported with every input kept as an input),
    built once and reused while the graph is unchanged.

    Args:
        optimization: onnxruntime's graph optimisation level, a key of ``LEVELS`` (default:
            ``$TRACEGRAD_ORT_OPT``, else ``"all"``).
    """
    key = _key(graph, opset, providers, optimization_level(optimization))
    cached = _SESSIONS.get(graph)
    if cached is not None and cached[0] == key:
        return cached[1]
    model = model or export(graph, opset=opset, params_as="inputs", check=False, optimize=False)
    session = ort.InferenceSession(model.SerializeToString(), session_options(graph, optimization),
                                   providers=providers or ["CPUExecutionProvider"])
    _SESSIONS[graph] = (key, session)
    _DOCS[session] = {n.name: n.doc_string for n in model.graph.node}
    return session


def feeds(graph, inputs, named) -> dict:
    """Inputs by graph input name, checked as the interpreter checks them."""
    return {node.attrs.name: value for node, value in bind(graph, inputs, named).items()}


def run(graph, *inputs, providers=None, opset: int = 18, optimization: str | None = None,
        **named) -> list[np.ndarray]:
    """Run ``graph`` on onnxruntime; one array per graph output.

    Args:
        graph: an ``ir.Graph``.
        inputs: arrays (or tensors) for the graph inputs in order, or one dict by name;
            trailing inputs not given (parameters) default to their traced values.
        providers: onnxruntime execution providers (default CPU).
        opset: the opset to export with.
        optimization: onnxruntime's graph optimisation level (see ``session_for``).
        named: inputs by name.

    Raises:
        FeedError, KernelError: as ``backends.numpy.run`` raises them.
    """
    session = session_for(graph, opset, providers, optimization=optimization)
    fed = feeds(graph, inputs, named)
    try:
        return session.run(list(graph.output_names), fed)
    except Exception as err:  # only onnxruntime runs in this try
        raise run_error(session, graph, err) from err


_NODE = re.compile(r"node\. Name:'([^']*)'")
_STATUS = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ")
_INPUT = re.compile(r"for input: (\S+)")
_OUT_OF_RANGE = re.compile(r"out of (data )?(bounds|range)", re.IGNORECASE)


def run_error(session, graph, err: Exception) -> KernelError:
    """onnxruntime's exception ``err``, raised while ``session`` ran ``graph``, as the run
    policy's error: a failing node's names its ir op, input types and source line. onnxruntime
    raises its own types (``InvalidArgument``, ``Fail``, ...) from ``run`` and a RuntimeError from
    ``run_with_iobinding``, the same text in both; an index out of range is told by that text."""
    text = str(err)
    found = _NODE.search(text)
    detail = text.split("Status Message: ", 1)[1] if found and "Status Message: " in text else _STATUS.sub("", text)
    node = _ir_node(graph, _DOCS.get(session, {}).get(found.group(1))) if found else None
    cls = KernelIndexError if _OUT_OF_RANGE.search(detail) else KernelError
    if node is not None:
        return error(node.op.name, [i.type for i in node.inputs], node.source, detail.strip(), cls)
    fed = _INPUT.search(detail)
    if fed:
        return FeedError(f"input {fed.group(1)!r}: {detail.strip()}")
    return cls(f"onnxruntime: {detail.strip()} (graph {graph.name!r})")


def _ir_node(graph, doc: str | None):
    """The ir node an exported ONNX node's ``doc_string`` ("phase op at file:line") stands for."""
    if not doc:
        return None
    phase, _, rest = doc.partition(" ")
    op, _, source = rest.partition(" at ")
    for n in graph.nodes:
        if n.op.name == op and n.phase == phase and (n.source or "") == source:
            return n
    return None
