"""``export``: an ir graph (forward, or forward+backward) as a standard ONNX model."""
from __future__ import annotations

import functools
import os

import numpy as np
import onnx
from onnx import helper

from backends.onnx import evaluate
from backends.onnx import passes as onnx_passes
from backends.onnx.builder import ONNX_TYPE, OnnxBuilder
from backends.onnx.dynamic import propagate
from ir.dynamic import check_python_reads
from backends.onnx.errors import ExportError
from backends.onnx.lowerings import lowering_for
from backends.onnx.opsets import check_opset, ir_version_for
from ir import passes
from ir.ops import source

PRODUCER = "tracegrad"
VERSION = "0.1.0"
EXTERNAL_DATA_THRESHOLD = 2 * 1024 ** 3 - 64 * 1024 ** 2


def _dynamic_inputs(graph, dynamic_axes) -> dict:
    """torch.onnx's ``dynamic_axes`` ({name: {axis: label}} or {name: [axis]}) as {name: {axis: label}}."""
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in graph.input_names:
            raise ExportError(f"export: dynamic_axes names {name!r}, which is not a graph input "
                              f"(inputs: {graph.input_names})")
        node = graph.input_named(name)
        pairs = axes.items() if isinstance(axes, dict) else [(a, f"{name}_dim{a}") for a in axes]
        fixed = {}
        for axis, label in pairs:
            if not -len(node.shape) <= axis < len(node.shape):
                raise ExportError(f"export: dynamic axis {axis} out of range for input {name!r} of shape {list(node.shape)}")
            fixed[axis % len(node.shape)] = str(label)
        out[name] = fixed
    return out


def _value_info(name, node, labels=None):
    dims = [labels.get(i, d) if labels else d for i, d in enumerate(node.shape)]
    return helper.make_tensor_value_info(name, ONNX_TYPE[node.dtype], dims)


def _lower_nodes(b, graph, params_as, param_values):
    inputs, names = [], {}
    labels = {n.attrs.name: lab for n, lab in ((graph.input_named(k), v) for k, v in b.labels.items())}
    for node in graph.nodes:
        b.current = node
        if node.op is source.input_:
            name = b.reserve(node.attrs.name)
            value = param_values.get(node.attrs.name, node.value)
            if params_as == "initializers" and node.attrs.kind in ("param", "state") and value is not None:
                array = np.asarray(value, dtype=node.dtype.np)
                b.initializers.append(onnx.numpy_helper.from_array(array, name))
            else:
                inputs.append(_value_info(name, node, labels.get(node.attrs.name)))
            names[node] = name
            continue
        if node.type.numel == 0 and not b.dynamic.get(node):
            # Empty results are constants; onnxruntime's Expand also mis-sizes 0-length dims.
            names[node] = b.const(np.zeros(node.shape, dtype=node.dtype.np))
            continue
        names[node] = lowering_for(node)(b, node, [names[i] for i in node.inputs])
    b.current = None
    return inputs, names


def _name_outputs(b, graph, names) -> None:
    """Give each output its name: the producing node writes it directly when it can (no copy,
    so a bound output buffer is filled in place); an Identity otherwise (a graph input, an
    initializer, or a value that is already another output)."""
    produced = {out: node for node in b.nodes for out in node.output}
    renamed = {}
    for out_name, node in zip(graph.output_names, graph.outputs):
        value = names[node]
        if value in produced and value not in renamed:
            renamed[value] = out_name
        else:
            b.op("Identity", [renamed.get(value, value)], out=out_name)
    if not renamed:
        return
    for node in b.nodes:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
        for i, name in enumerate(node.output):
            if name in renamed:
                node.output[i] = renamed[name]


def to_model(graph, opset: int = 18, dynamic_axes=None, params_as: str = "initializers", params=None,
             fuse: bool = True):
    """Lower ``graph`` into an ``onnx.ModelProto`` (see ``export``): each ir node by its own
    lowering, then the ONNX passes (``backends/onnx/passes``) fuse across nodes."""
    check_opset(opset)
    if params_as not in ("initializers", "inputs"):
        raise ExportError(f"export: params_as must be 'initializers' or 'inputs', got {params_as!r}")
    labels = _dynamic_inputs(graph, dynamic_axes)
    dyn = propagate(graph, {k: set(v) for k, v in labels.items()})
    check_python_reads(graph, dyn)
    b = OnnxBuilder(opset, dyn)
    b.labels = labels
    for out_name in graph.output_names:
        if out_name in graph.input_names:
            raise ExportError(f"export: output name {out_name!r} is also an input name; rename the output")
        b.reserve(out_name)
    inputs, names = _lower_nodes(b, graph, params_as, params or {})
    _name_outputs(b, graph, names)
    outputs = []
    for out_name, node in zip(graph.output_names, graph.outputs):
        out_labels = {d: f"{out_name}_dim{d}" for d in dyn.get(node, ())}
        outputs.append(_value_info(out_name, node, out_labels))
    onnx_graph = helper.make_graph(b.nodes, graph.name, inputs, outputs, initializer=b.initializers)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name=PRODUCER, producer_version=VERSION)
    model.ir_version = ir_version_for(opset)
    if fuse:
        onnx_passes.fuse(model)
    else:
        onnx_passes.drop_unused(model.graph)
    helper.set_model_props(model, {"tracegrad.graph": graph.name,
                                   "tracegrad.backward_nodes": str(sum(n.phase == "backward" for n in graph.nodes))})
    return model


def export(graph, path=None, opset: int = 18, dynamic_axes=None, params_as: str = "initializers",
           params=None, check: bool = True, optimize: bool = True, fuse: bool = True):
    """Export an ir graph to ONNX.

    Args:
        graph: an ``ir.Graph`` (forward, or combined forward+backward from ``ir.grad``).
        path: where to write the ``.onnx`` file (None: return the model only). Models over
            2 GB are written with external data next to the file.
        opset: the ai.onnx opset, from 17 to ``backends.onnx.newest_opset()``.
        dynamic_axes: ``{input_name: {axis: "label"}}`` (or a list of axes), as torch.onnx.
        params_as: ``"initializers"`` bakes parameter/state inputs that have values into the
            file; ``"inputs"`` keeps every graph input an ONNX input (for training graphs).
        params: ``{input name: array}`` overriding the values recorded while tracing.
        check: run ``onnx.checker.check_model(full_check=True)``.
        optimize: fold parameter-free subgraphs into constants and drop unused nodes first
            (values computed by the nodes' own lowerings on onnx's reference evaluator).
        fuse: run the ONNX passes after lowering: ``x @ w.t() + b`` as one Gemm, a summed
            BCE-with-logits in its short form (``backends.onnx.passes.FUSIONS``).

    Returns:
        The ``onnx.ModelProto``.

    Raises:
        ExportError: an op has no lowering, the opset is out of range, or a dynamic axis
            cannot be honoured (the message names the op and the user's source line).
    """
    try:
        if optimize:
            check_opset(opset)  # before the folding evaluates nodes at that opset
            graph = passes.optimize(graph, functools.partial(evaluate.run_node, opset=opset))
        model = to_model(graph, opset, dynamic_axes, params_as, params, fuse)
    except ValueError as e:
        raise ExportError(str(e)) from None
    if check:
        _check(model)
    if path is not None:
        save_model(model, path)
    return model


def _check(model) -> None:
    """The full checker; a type error (a dtype ONNX does not define the op for) is re-raised
    naming the ir op and the user's source line from the failing node's doc_string."""
    if model.ByteSize() >= EXTERNAL_DATA_THRESHOLD:
        return
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        text = str(e)
        docs = {n.name: n.doc_string for n in model.graph.node}
        culprit = next((doc for name, doc in docs.items() if f"node name: {name})" in text or f"'{name}'" in text), None)
        where = f"{culprit}: " if culprit else ""
        raise ExportError(f"{where}ONNX cannot express this graph: {text.strip().splitlines()[-1]}") from None


def save_model(model, path) -> None:
    """Write ``model`` to ``path``, with its tensors in ``path + ".data"`` past 2 GB."""
    path = os.fspath(path)
    if model.ByteSize() >= EXTERNAL_DATA_THRESHOLD:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data")
    else:
        onnx.save_model(model, path)
