"""The work behind each ``tracegrad`` subcommand (argument parsing lives in ``parser.py``)."""
from __future__ import annotations

import importlib.util
import inspect
import math
import os
import re
import sys
from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto

import ir
import tracer
from backends import compare
from backends.onnx import ExportError, export
from ir.dot import graphviz_available, quote, render, run_graphviz
from ir.style import MAX_TOOLTIP, one_line
from ir.view import select
from tracer.cli.demo import run_demo
from tracer.cli.errors import UsageError, WorkError
from tracer.jit.record import _arg_names
from tracer.nn import Module

_DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool")


def load_target(spec: str):
    """``FILE.py:NAME`` -> a callable to trace (an nn.Module class or zero-argument factory is
    instantiated). Importing the file runs it, as ``python FILE.py`` would."""
    if ":" not in spec:
        raise UsageError(f"expected FILE.py:FUNC, got {spec!r}")
    path, name = spec.rsplit(":", 1)
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    module_name = f"tracegrad_user_{abs(hash(os.path.abspath(path)))}"
    loader = importlib.util.spec_from_file_location(module_name, path)
    if loader is None:
        raise UsageError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(loader)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        loader.loader.exec_module(module)
    except Exception as e:
        raise WorkError(f"importing {path} raised {type(e).__name__}: {e}") from None
    finally:
        sys.path.pop(0)
    if not hasattr(module, name):
        found = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        raise UsageError(f"{path} has no function {name!r} (found: {', '.join(sorted(found)) or 'none'})")
    return _instantiate(getattr(module, name), spec)


def _instantiate(obj, spec):
    if isinstance(obj, type) and issubclass(obj, Module):
        return _call(obj, spec)
    if callable(obj) and not isinstance(obj, Module):
        params = [p for p in inspect.signature(obj).parameters.values()
                  if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if not params:
            made = _call(obj, spec)
            if isinstance(made, Module):
                return made
            raise UsageError(f"{spec} takes no inputs and does not return an nn.Module")
    return obj


def _call(fn, spec):
    try:
        return fn()
    except Exception as e:
        raise WorkError(f"{spec} raised {type(e).__name__}: {e}") from None


def parse_input(text: str, rng) -> tuple[str, np.ndarray]:
    """``NAME=SHAPE[:DTYPE]`` (SHAPE like 64x784, 64,784 or 'scalar') or ``NAME=file.npy``."""
    m = re.fullmatch(r"([A-Za-z_]\w*)=(.+)", text)
    if not m:
        raise UsageError(f"malformed --input {text!r}; expected NAME=SHAPE[:DTYPE], e.g. x=64x784:float32")
    name, rest = m.groups()
    if rest.endswith(".npy"):
        try:
            return name, np.load(rest, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot read {rest}: {e}") from None
    shape_text, _, dtype = rest.partition(":")
    dtype = dtype or "float32"
    if dtype not in _DTYPES:
        raise UsageError(f"unknown dtype {dtype!r} in --input {text!r} (one of {', '.join(_DTYPES)})")
    if shape_text in ("", "scalar"):
        shape = ()
    elif re.fullmatch(r"\d+([x,]\d+)*", shape_text):
        shape = tuple(int(d) for d in re.split(r"[x,]", shape_text))
    else:
        raise UsageError(f"malformed shape {shape_text!r} in --input {text!r}; expected e.g. 64x784")
    if dtype.startswith("float"):
        return name, rng.standard_normal(shape).astype(dtype)
    if dtype == "bool":
        return name, rng.random(shape) < 0.5
    return name, rng.integers(0, 10, size=shape).astype(dtype)


def _param_names(fn) -> list[str]:
    return _arg_names(fn, 64)


def build_inputs(fn, specs, seed):
    rng = np.random.default_rng(seed)
    given = dict(parse_input(s, rng) for s in specs)
    names = [n for n in _param_names(fn) if not n.startswith("input_")]
    unknown = [n for n in given if names and n not in names]
    if unknown:
        raise UsageError(f"--input {unknown[0]!r} is not a parameter of the function (parameters: {names})")
    ordered = [n for n in names if n in given] if names else list(given)
    missing = [n for n in names[:len(ordered)] if n not in given]
    if missing:
        raise UsageError(f"missing --input for parameter {missing[0]!r}")
    if not ordered:
        raise UsageError("give at least one --input NAME=SHAPE")
    return [given[n] for n in ordered]


def traced_graph(args):
    """Load, trace (with --grad, differentiate) and return ``(graph, feeds by input name)``."""
    fn = load_target(args.target)
    arrays = build_inputs(fn, args.input, args.seed)
    try:
        graph = tracer.trace(fn, *[tracer.tensor(a) for a in arrays])
    except (UsageError, WorkError):
        raise
    except Exception as e:
        raise WorkError(f"tracing {args.target} raised {type(e).__name__}: {e}") from None
    feeds = dict(zip(graph.input_names, arrays))
    if args.grad:
        seeded = graph.outputs[0].shape != ()
        try:
            graph = ir.grad(graph, of=0, grad_output=seeded)
        except ir.IRError as e:
            raise WorkError(f"differentiating {args.target}: {e}") from None
        if seeded:
            node = graph.input_named("grad_output")
            feeds["grad_output"] = np.ones(node.shape, dtype=node.dtype.np)
    return graph, feeds


def summary(graph) -> str:
    lines = [f"graph {graph.name}: {len(graph.nodes)} nodes "
             f"({sum(n.phase == 'backward' for n in graph.nodes)} backward)"]
    lines.append("inputs:")
    for n in graph.inputs:
        lines.append(f"  {n.attrs.name:<28} {str(n.type):<20} {n.attrs.kind}")
    lines.append("outputs:")
    for name, n in zip(graph.output_names, graph.outputs):
        lines.append(f"  {name:<28} {n.type}")
    params = [n for n in graph.inputs if n.attrs.kind == "param"]
    lines.append(f"parameters: {len(params)} tensors, {sum(n.type.numel for n in params)} values")
    counts = Counter(n.op.name for n in graph.nodes)
    lines.append("ops: " + ", ".join(f"{op} {c}" for op, c in counts.most_common()))
    return "\n".join(lines)


def cmd_export(args) -> int:
    graph, _ = traced_graph(args)
    dynamic = {}
    for item in args.dynamic:
        name, _, axis = item.partition(":")
        if not axis.lstrip("-").isdigit():
            raise UsageError(f"malformed --dynamic {item!r}; expected NAME:AXIS, e.g. x:0")
        dynamic.setdefault(name, {})[int(axis)] = f"{name}_dim{axis}"
    try:
        export(graph, args.output, opset=args.opset, dynamic_axes=dynamic or None)
    except (ExportError, ValueError) as e:
        raise WorkError(str(e)) from None
    print(summary(graph))
    print(f"wrote {args.output} (opset {args.opset}, checked with onnx.checker full_check)")
    return 0


def cmd_compare(args) -> int:
    graph, feeds = traced_graph(args)
    report = compare(graph, feeds)
    print(report)
    return 0 if report.ok else 1


def cmd_show(args) -> int:
    ext = os.path.splitext(args.output)[1].lower().lstrip(".")
    if ext not in ("svg", "png", "dot"):
        raise UsageError(f"output must end in .svg, .png or .dot, got {args.output!r}")
    phase, clusters = getattr(args, "phase", "all"), getattr(args, "clusters", False)
    if args.target.endswith(".onnx"):
        if phase != "all" or clusters:
            raise UsageError("--phase and --group-by-module draw a traced function or a saved graph, not an .onnx file")
        data = _onnx_picture(args.target, ext)
    else:
        graph = _graph_from(args)
        nodes = select(graph, phase)
        if phase != "all" and not any(n.phase == phase for n in nodes):
            raise UsageError(f"the graph has no {phase} nodes" + (" (add --grad)" if phase == "backward" else ""))
        try:
            data = render(graph, ext, nodes, clusters)
        except RuntimeError as e:
            raise WorkError(str(e)) from None
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"wrote {args.output}")
    return 0


def _graph_from(args):
    if args.target.endswith(".json"):
        if not os.path.isfile(args.target):
            raise UsageError(f"no such file: {args.target}")
        try:
            return ir.load(args.target)
        except ir.GraphFormatError as e:
            raise WorkError(str(e)) from None
    return traced_graph(args)[0]


def _onnx_model(path):
    """The model in ``path``, its tensors' external data left unread (a hostile file may point it
    anywhere, e.g. ``../../etc/passwd`` or a 1 TB device): ``info`` and ``show`` need only the
    graph, and ``onnx.load``'s own errors become one line."""
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as e:  # protobuf's DecodeError, RecursionError on deep nesting, ...
        raise WorkError(f"{path} is not a readable ONNX model ({type(e).__name__}: {one_line(e, 200)})") from None
    if not model.HasField("graph"):
        raise WorkError(f"{path} is not an ONNX model (it holds no graph)")
    return model


def _onnx_picture(path, ext) -> bytes:
    """DOT of an ONNX model's nodes and graph inputs; every name and doc_string is quoted."""
    model = _onnx_model(path)
    lines = ['digraph onnx {', '  node [fontname="Helvetica", fontsize=10, shape=box, style="rounded,filled", fillcolor="#dbe9f6"];']
    producers = {}
    for k, inp in enumerate(model.graph.input):
        lines.append(f'  i{k} [label={quote(one_line(inp.name))}, shape=ellipse, fillcolor="#d9f2d9"];')
        producers[inp.name] = f"i{k}"
    for i, n in enumerate(model.graph.node):
        lines.append(f"  n{i} [label={quote(one_line(n.op_type))}, tooltip={quote(n.doc_string, MAX_TOOLTIP)}];")
        producers.update((out, f"n{i}") for out in n.output)
    for i, n in enumerate(model.graph.node):
        lines.extend(f"  {producers[name]} -> n{i};" for name in n.input if name in producers)
    lines.append("}")
    dot = "\n".join(lines)
    if ext == "dot":
        return dot.encode()
    if not graphviz_available():
        raise WorkError("drawing an .onnx file needs Graphviz's 'dot' (apt-get install graphviz); "
                        "use -o graph.dot, or draw the traced function instead")
    try:
        return run_graphviz(dot, ext)
    except RuntimeError as e:
        raise WorkError(str(e)) from None


def cmd_info(args) -> int:
    model = _onnx_model(args.model)
    opsets = ", ".join(f"{one_line(o.domain) or 'ai.onnx'} {o.version}" for o in model.opset_import)
    print(f"model: {args.model}")
    print(f"producer: {one_line(model.producer_name)} {one_line(model.producer_version)}; "
          f"ir_version {model.ir_version}; opset {opsets}")
    inits = {i.name for i in model.graph.initializer}
    print("inputs:")
    for v in model.graph.input:
        if v.name not in inits:
            print(f"  {one_line(v.name):<28} {_type_text(v)}")
    print("outputs:")
    for v in model.graph.output:
        print(f"  {one_line(v.name):<28} {_type_text(v)}")
    count = sum(math.prod(i.dims) for i in model.graph.initializer)  # from dims: nothing is decoded
    print(f"initializers: {len(inits)} tensors, {count} values")
    hist = Counter(one_line(n.op_type) for n in model.graph.node)
    print(f"nodes: {len(model.graph.node)}")
    print("ops: " + ", ".join(f"{op} {c}" for op, c in hist.most_common()))
    return 0


def _type_text(value_info) -> str:
    t = value_info.type.tensor_type
    dims = [one_line(d.dim_param, 40) or str(d.dim_value) for d in t.shape.dim]
    if t.elem_type in TensorProto.DataType.values():
        name = TensorProto.DataType.Name(t.elem_type).lower()
    else:
        name = f"elem_type {t.elem_type}"
    return f"{name}[{', '.join(dims)}]"


def cmd_demo(args) -> int:
    return run_demo(args.out, args.steps)
