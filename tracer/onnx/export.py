"""``tracer.onnx.export``: torch.onnx.export's signature and meaning on tracegrad's tracer, so an
existing export script (``torch.onnx.export(model, x, "m.onnx", input_names=..., dynamic_axes=...)``)
runs unchanged under the ``torch`` alias.

torch has two exporters behind ``dynamo=``; here both mean the one tracer (run the model once
on ``args``, record, lower to ONNX), so either value is accepted. Options that only make sense
for torch's own machinery (custom translation tables, reports, exported programs, functions
per module) are refused with a clear error when set, never ignored.
"""
from __future__ import annotations

import enum
import inspect
from dataclasses import replace

from backends.onnx import export as export_graph
from backends.onnx.export import EXTERNAL_DATA_THRESHOLD, save_model
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.jit.record import trace
from tracer.nn.module import Module


class TrainingMode(enum.IntEnum):
    """torch.onnx.TrainingMode: the mode the model is exported in."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """torch.onnx.OperatorExportTypes: only ``ONNX`` (standard ops) is supported."""

    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


#: torch.onnx.export arguments that select torch-internal machinery: accepted at their defaults.
_TORCH_ONLY = {"dynamic_shapes": None, "custom_translation_table": None, "report": False, "verify": False,
               "profile": False, "dump_exported_program": False, "custom_opsets": None,
               "export_modules_as_functions": False, "keep_initializers_as_inputs": False}


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None, output_names=None,
           opset_version=None, dynamo=True, external_data=True, dynamic_shapes=None,
           custom_translation_table=None, report=False, optimize=True, verify=False, profile=False,
           dump_exported_program=False, artifacts_dir=".", export_params=True,
           keep_initializers_as_inputs=False, dynamic_axes=None, training=TrainingMode.EVAL,
           operator_export_type=OperatorExportTypes.ONNX, do_constant_folding=True, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True):
    """Trace ``model(*args, **kwargs)`` and write it to ``f`` as ONNX, as torch.onnx.export.

    Args:
        model: an ``nn.Module`` or a function of tensors.
        args: the example inputs: a tensor or a tuple (a trailing dict in it is keyword
            arguments, as torch's legacy form).
        f: the path to write (None: only return the model).
        kwargs: keyword arguments for ``model``: Python values, baked into the graph as in
            torch's trace (a tensor keyword argument is refused: pass it positionally).
        verbose: print the traced graph.
        input_names / output_names: names for the graph's inputs (the model's tensor arguments,
            in order) and outputs; the rest keep tracegrad's names (parameters by module path).
        opset_version: the ai.onnx opset (default 18).
        dynamo: either value; both are tracegrad's tracer.
        external_data: a model over 2 GB is written with its tensors in ``f + ".data"``; False
            refuses such a model.
        optimize / do_constant_folding: fold parameter-free subgraphs into constants (either
            False turns it off).
        export_params: True bakes parameters and buffers in as initializers; False keeps them
            graph inputs (named by module path), to be fed.
        dynamic_axes: ``{name: {axis: label}}`` or ``{name: [axes]}`` for inputs.
        training: ``TrainingMode.EVAL`` (the default) exports the module in eval mode and puts
            its mode back; ``TRAINING`` in training mode; ``PRESERVE`` as it is.

    Returns:
        The ``onnx.ModelProto`` (torch returns an ``ONNXProgram`` for ``dynamo=True``; scripts
        use the file).

    Raises:
        NotImplementedError: an argument asks for torch-only machinery (``dynamic_shapes``,
            ``custom_translation_table``, ``report``, ``verify``, ``profile``,
            ``dump_exported_program``, ``custom_opsets``, ``export_modules_as_functions``,
            ``keep_initializers_as_inputs=True``, a non-ONNX ``operator_export_type``).
        ExportError: an op cannot be expressed in ONNX at that opset.
    """
    given = {"dynamic_shapes": dynamic_shapes, "custom_translation_table": custom_translation_table,
             "report": report, "verify": verify, "profile": profile, "dump_exported_program": dump_exported_program,
             "custom_opsets": custom_opsets, "export_modules_as_functions": export_modules_as_functions,
             "keep_initializers_as_inputs": keep_initializers_as_inputs}
    for name, value in given.items():
        if value not in (_TORCH_ONLY[name], {}, ()):
            raise err(NotImplementedError, f"torch.onnx.export: {name}={value!r} is not supported by tracegrad "
                      "(its exporter traces the model and writes standard ONNX ops)")
    if operator_export_type != OperatorExportTypes.ONNX:
        raise err(NotImplementedError, f"torch.onnx.export: operator_export_type={operator_export_type!r}: only "
                  "OperatorExportTypes.ONNX (standard ops) is supported")
    positional, keywords = _split_args(args, kwargs)
    fn = model if not keywords else (lambda *xs: model(*xs, **keywords))
    modes = _set_mode(model, training)
    try:
        graph = trace(fn, *positional)
    finally:
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
    _rename(graph, list(input_names or []) or (_forward_names(model, len(positional)) if keywords else []),
            output_names)
    if verbose:
        print(graph)
    inputs_axes, outputs_axes = _split_axes(graph, dynamic_axes)
    options = dict(opset=18 if opset_version is None else opset_version, dynamic_axes=inputs_axes,
                   params_as="initializers" if export_params else "inputs",
                   optimize=bool(optimize and do_constant_folding))
    if f is not None and not external_data:
        if export_graph(graph, None, **options).ByteSize() >= EXTERNAL_DATA_THRESHOLD:
            raise err(ValueError, "torch.onnx.export: the model is over 2 GB, which needs external_data=True")
    model_proto = export_graph(graph, None, **options)
    _label_outputs(model_proto, outputs_axes)
    if f is not None:
        save_model(model_proto, f)
    return model_proto


def _split_args(args, kwargs):
    """torch's forms: one tensor, a tuple, or a tuple ending in a dict of keyword arguments."""
    positional = (args,) if isinstance(args, Tensor) else tuple(args)
    keywords = dict(kwargs or {})
    if positional and isinstance(positional[-1], dict):
        keywords.update(positional[-1])
        positional = positional[:-1]
    for name, value in keywords.items():
        if isinstance(value, Tensor):
            raise err(NotImplementedError, f"torch.onnx.export: the tensor keyword argument {name!r} cannot be a "
                      "graph input here; pass it positionally in args")
    return positional, keywords


def _set_mode(model, training) -> list:
    """Put every submodule in the mode ``training`` asks for; the modes to restore."""
    if not isinstance(model, Module) or training == TrainingMode.PRESERVE:
        return []
    if training not in (TrainingMode.EVAL, TrainingMode.TRAINING):
        raise err(ValueError, f"torch.onnx.export: training must be a TrainingMode, got {training!r}")
    modes = [(m, m.training) for m in model.modules()]
    model.train(training == TrainingMode.TRAINING)
    return modes


def _rename(graph, input_names, output_names) -> None:
    """Give the first data inputs and the first outputs the caller's names, as torch does."""
    data = [n for n in graph.inputs if n.attrs.kind == "input"]
    names = list(input_names or [])
    if len(names) > len(data):
        raise err(ValueError, f"torch.onnx.export: {len(names)} input_names for {len(data)} tensor inputs")
    taken = {n.attrs.name for n in graph.inputs} - {n.attrs.name for n in data[:len(names)]}
    for node, name in zip(data, names):
        if name in taken:
            raise err(ValueError, f"torch.onnx.export: input name {name!r} is already a parameter's name")
        node.attrs = replace(node.attrs, name=name)
    outs = list(output_names or [])
    if len(outs) > len(graph.outputs):
        raise err(ValueError, f"torch.onnx.export: {len(outs)} output_names for {len(graph.outputs)} outputs")
    if outs:
        graph.set_outputs(graph.outputs, outs + graph.output_names[len(outs):])


def _axes(spec) -> dict:
    return dict(spec) if isinstance(spec, dict) else {int(a): f"dim_{a}" for a in spec}


def _split_axes(graph, dynamic_axes):
    """torch's ``dynamic_axes`` names inputs and outputs; the exporter takes the inputs' (the
    outputs' dims follow from them) and the outputs' are checked and labelled afterwards."""
    inputs, outputs = {}, {}
    for name, spec in (dynamic_axes or {}).items():
        if name in graph.input_names:
            inputs[name] = spec
        elif name in graph.output_names:
            outputs[name] = _axes(spec)
        else:
            raise err(ValueError, f"torch.onnx.export: dynamic_axes names {name!r}, which is neither an input "
                      f"({graph.input_names}) nor an output ({graph.output_names})")
    return inputs, outputs


def _label_outputs(model, outputs_axes) -> None:
    """Give the outputs' dynamic dims the caller's labels; an axis that came out static (it does
    not follow a dynamic input) is an error rather than a silently fixed size."""
    for value in model.graph.output:
        for axis, label in outputs_axes.get(value.name, {}).items():
            dims = value.type.tensor_type.shape.dim
            if not -len(dims) <= axis < len(dims) or not dims[axis].dim_param:
                raise err(ValueError, f"torch.onnx.export: output {value.name!r} axis {axis} is not dynamic in the "
                          "traced graph (no dynamic input axis reaches it); name that input's axis in dynamic_axes")
            dims[axis].dim_param = str(label)


def _forward_names(model, n: int) -> list[str]:
    """The first ``n`` positional parameter names of ``model``'s forward (the names a trace of
    ``model`` itself gives its inputs), for a trace that had to go through a wrapper."""
    try:
        params = inspect.signature(model.forward if isinstance(model, Module) else model).parameters.values()
    except (TypeError, ValueError):
        return []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names[:n] if len(names) >= n else []

