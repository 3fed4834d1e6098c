"""``load``: an ONNX model as an ``ir.Graph``, one import rule per ONNX op type.

The rules live beside their family's lowerings (``IMPORTS`` in ``backends/onnx/<family>.py``);
this driver reads the model, checks it, and walks its nodes. The file is untrusted input: it is
only parsed as protobuf, sizes are checked before arrays are allocated, nothing is executed,
unpickled or eval'ed.
"""
from __future__ import annotations

import numbers
import os

import onnx
from google.protobuf.message import DecodeError

from backends.onnx import conv, elementwise, evaluate, indexing, linalg, pool, recurrent, reduce, shape, source
from backends.onnx.errors import OnnxImportError
from backends.onnx.importing import STATIC_LIMIT, NodeImport, ir_dtype, tensor_array
from ir import passes
from ir.graph import Graph
from ir.node import BACKWARD, FORWARD, Node, make_node
from ir.ops import source as SRC

#: The oldest ai.onnx opset ``load`` reads (the newest is the installed onnx's).
MIN_IMPORT_OPSET = 13
#: Default memory budget of one load: the file, and each initializer or static value.
MAX_BYTES = 1 << 30
_DOMAINS = ("", "ai.onnx")


def _collect_imports() -> dict:
    """{op type: [(first opset, rule)]}, from every family's ``IMPORTS`` (keys are an op type or
    ``(op type, first opset)`` where the op's semantics changed)."""
    table: dict = {}
    for family in (elementwise, reduce, shape, indexing, linalg, source, conv, pool, recurrent):
        for key, rule in family.IMPORTS.items():
            op_type, since = key if isinstance(key, tuple) else (key, MIN_IMPORT_OPSET)
            table.setdefault(op_type, []).append((since, rule))
    for versions in table.values():
        versions.sort(key=lambda v: v[0])
    return table


IMPORTS = _collect_imports()


def supported_op_types() -> list[str]:
    """Every ONNX op type ``load`` imports, sorted."""
    return sorted(IMPORTS)


def rule_for(op_type: str, opset: int):
    """The import rule for ``op_type`` at ``opset``, or None."""
    found = None
    for since, rule in IMPORTS.get(op_type, ()):
        if since <= opset:
            found = rule
    return found


def load(model_or_path, params_as: str = "constants", dims=None, max_bytes: int = MAX_BYTES) -> Graph:
    """Import an ONNX model as an ``ir.Graph``.

    Args:
        model_or_path: an ``onnx.ModelProto``, the bytes of one, or the path of a ``.onnx`` file.
        params_as: ``"constants"`` bakes initializers into the graph as constants;
            ``"inputs"`` makes each floating-point initializer a named graph input of kind
            ``"param"`` holding its value (for training or differentiating the graph);
            initializers the ir needs as static attributes (a Reshape's shape) stay constants.
        dims: ``{symbol: size}`` for symbolic input dims (``"N"``): the ir's shapes are static,
            so each symbolic dim gets a size; the symbols are kept in ``graph.dynamic_axes``
            (``{input: {axis: symbol}}``, the form ``export(dynamic_axes=...)`` takes).
        max_bytes: the memory budget: the file's size and each initializer's or static value's
            declared size are checked against it before anything is read or allocated.

    Returns:
        The ``ir.Graph``: inputs and outputs keep their ONNX names; each node's source is the
        ONNX node's name and doc_string.

    Raises:
        OnnxImportError: (a ``ValueError``) the file is not an ONNX model or too big, the opset
            is outside 13..newest, or a node's op type, dtype, attribute or non-constant static
            input is unsupported; the message names the node, op type, opset and what is missing.
        OSError: the file cannot be read.
    """
    if params_as not in ("constants", "inputs"):
        raise OnnxImportError(f"load: params_as must be 'constants' or 'inputs', got {params_as!r}")
    model = _read(model_or_path, max_bytes)
    opset = _check_opset(model)
    return _Loader(model.graph, opset, params_as, dict(dims or {}), max_bytes).run()


def _read(model_or_path, max_bytes: int):
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path
    if isinstance(model_or_path, (bytes, bytearray)):
        data, where = bytes(model_or_path), "load"
    else:
        where = os.fspath(model_or_path)
        size = os.path.getsize(where)
        if size > max_bytes:
            raise OnnxImportError(f"{where}: the file has {size} bytes, over max_bytes={max_bytes}")
        with open(where, "rb") as f:
            data = f.read(max_bytes + 1)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as err:
        raise OnnxImportError(f"{where}: not an ONNX model ({err})") from None
    if not model.HasField("graph"):
        raise OnnxImportError(f"{where}: not an ONNX model (no graph)")
    return model


def _check_opset(model) -> int:
    newest = onnx.defs.onnx_opset_version()
    versions = [o.version for o in model.opset_import if o.domain in _DOMAINS]
    if not versions:
        raise OnnxImportError("load: the model imports no ai.onnx opset")
    opset = versions[0]
    if not MIN_IMPORT_OPSET <= opset <= newest:
        raise OnnxImportError(f"load: opset {opset} is not supported; tracegrad imports ai.onnx opsets "
                              f"{MIN_IMPORT_OPSET} to {newest} (convert older models with "
                              "onnx.version_converter.convert_version)")
    return opset


def _source(proto) -> str:
    name = proto.name or f"<unnamed {proto.op_type}>"
    return f"{name}: {proto.doc_string}" if proto.doc_string else name


class _Loader:
    def __init__(self, graph_proto, opset, params_as, dims, max_bytes):
        self.proto = graph_proto
        self.opset = opset
        self.params_as = params_as
        self.dims = dims
        self.max_bytes = max_bytes
        self.values: dict = {}  # ONNX name -> ir node, or an initializer's TensorProto not yet used
        self.nodes: list = []  # every ir node created, in creation (topological) order
        self.inputs: list = []  # graph inputs: ONNX inputs first, then params in initializer order
        self.params: dict = {}
        self.known: dict = {}  # ir node -> static array (or None)
        self.dynamic_axes: dict = {}

    def run(self) -> Graph:
        for t in self.proto.sparse_initializer:
            raise OnnxImportError(f"load: sparse initializer {t.values.name!r} is not supported")
        inits = {t.name: t for t in self.proto.initializer}
        self.values.update(inits)
        for vi in self.proto.input:
            if vi.name in self.values and vi.name not in inits:
                raise OnnxImportError(f"load: graph input {vi.name!r} is declared twice")
            if vi.name not in inits:
                self.values[vi.name] = self._input(vi)
        for proto in self.proto.node:
            self._node(proto)
        outputs = [self._output(vi) for vi in self.proto.output]
        graph = Graph(self.proto.name or "graph")
        params = [self.params[t.name] for t in self.proto.initializer if t.name in self.params]
        for n in self.inputs + params + [n for n in self.nodes if n.op is not SRC.input_]:
            graph.append(n)
        graph.set_outputs(outputs, [vi.name for vi in self.proto.output])
        graph = passes.dce(graph)
        graph.dynamic_axes = self.dynamic_axes
        return graph

    # -- values ----------------------------------------------------------------------------
    def _input(self, vi) -> Node:
        where = f"load: graph input {vi.name!r}"
        if not vi.type.HasField("tensor_type"):
            raise OnnxImportError(f"{where}: only tensor inputs are supported")
        tt = vi.type.tensor_type
        dtype = ir_dtype(tt.elem_type, where)
        if not tt.HasField("shape"):
            raise OnnxImportError(f"{where}: has no shape; the ir needs every input's rank and sizes")
        shape = []
        for axis, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value >= 0:
                shape.append(int(d.dim_value))
            elif d.HasField("dim_param") and d.dim_param in self.dims:
                size = self.dims[d.dim_param]
                if not isinstance(size, numbers.Integral) or size < 0:
                    raise OnnxImportError(f"{where}: dims[{d.dim_param!r}] must be a non-negative int, got {size!r}")
                shape.append(size)
                self.dynamic_axes.setdefault(vi.name, {})[axis] = d.dim_param
            elif d.HasField("dim_param"):
                raise OnnxImportError(f"{where}: dim {axis} is symbolic ({d.dim_param!r}); the ir's shapes are "
                                      f"static, so give its size: load(..., dims={{{d.dim_param!r}: size}})")
            else:
                raise OnnxImportError(f"{where}: dim {axis} has no size; the ir's shapes are static (give the "
                                      "input a shape, or a named dim and load(..., dims=...))")
        node = self._new(SRC.input_, SRC.InputAttrs(vi.name, tuple(shape), dtype, "input"))
        self.inputs.append(node)
        return node

    def _new(self, op, attrs, value=None) -> Node:
        node = make_node(op, (), attrs)
        node.value = value
        self.nodes.append(node)
        return node

    def value(self, name: str) -> Node:
        """The ir node of ONNX value ``name``; an initializer becomes a constant or a param input
        on first use."""
        found = self.values.get(name)
        if found is None:
            raise OnnxImportError(f"load: value {name!r} is used before any node produces it (or never is)")
        if isinstance(found, Node):
            return found
        array = tensor_array(found, f"load: initializer {name!r}", self.max_bytes)
        if self.params_as == "inputs" and array.dtype.kind == "f":
            node = self._new(SRC.input_, SRC.InputAttrs(name, array.shape, ir_dtype(found.data_type, name), "param"),
                             array)
            self.params[name] = node
            self.known[node] = array  # static if a rule needs it so (the Resize scales)
        else:
            node = self._new(SRC.constant, SRC.ConstAttrs(array))
        self.values[name] = node
        return node

    def static(self, node: Node):
        """``node``'s value when it is known at import (constants, and nodes computed from them
        only), evaluated through the nodes' own lowerings on onnx's reference evaluator."""
        stack = [node]
        while stack:  # a walk, not recursion: a long chain of constant arithmetic stays shallow
            top = stack[-1]
            if top in self.known:
                stack.pop()
                continue
            if top.op is SRC.constant:
                self.known[top] = top.attrs.value
            elif top.op is SRC.input_ or top.op.nondeterministic or top.type.numel > STATIC_LIMIT:
                self.known[top] = None
            else:
                pending = [i for i in top.inputs if i not in self.known]
                if pending:
                    stack.extend(pending)
                    continue
                args = [self.known[i] for i in top.inputs]
                self.known[top] = (None if any(a is None for a in args) else
                                   evaluate.run_node(top, args, opset=max(18, min(self.opset, 21))))
            stack.pop()
        return self.known[node]

    # -- nodes -----------------------------------------------------------------------------
    def _node(self, proto) -> None:
        g = NodeImport(proto, self.opset, self.value, self.static, _source(proto),
                       BACKWARD if proto.doc_string.startswith("backward ") else FORWARD, self.max_bytes,
                       self._inline)
        if proto.domain not in _DOMAINS:
            g.fail(f"op domain {proto.domain!r} is not supported (only the default ai.onnx domain)")
        rule = rule_for(proto.op_type, self.opset)
        if rule is None:
            g.fail("this op type is not supported by tracegrad's ONNX import (supported: see "
                   "backends.onnx.load.supported_op_types() or docs/onnx.md)")
        for name in proto.input:
            if name:
                self.value(name)  # an undefined input fails here, naming it
        result = rule(g)
        unread = g.unread_attrs()
        if unread:
            g.fail(f"attribute(s) {', '.join(map(repr, unread))} not supported")
        results = list(result) if isinstance(result, (list, tuple)) else [result]
        self.nodes.extend(g.created)
        for i, name in enumerate(proto.output):
            if not name:
                continue
            if i >= len(results) or results[i] is None:
                g.fail(f"output {i} ({name!r}) is not supported")
            if name in self.values:
                g.fail(f"output {name!r} is already defined (ONNX values are assigned once)")
            self.values[name] = results[i]

    def _inline(self, graph) -> list:
        """A subgraph (the branch an If takes) imported into this scope: its initializers and
        nodes join the model's (ONNX names are unique across a model and its subgraphs)."""
        for t in graph.sparse_initializer:
            raise OnnxImportError(f"load: sparse initializer {t.values.name!r} is not supported")
        for t in graph.initializer:
            if t.name in self.values:
                raise OnnxImportError(f"load: subgraph initializer {t.name!r} is already defined")
            self.values[t.name] = t
        if len(graph.input):
            raise OnnxImportError(f"load: subgraph {graph.name!r} has inputs; only If's input-free branches are supported")
        for proto in graph.node:
            self._node(proto)
        return [self.value(vi.name) for vi in graph.output]

    def _output(self, vi) -> Node:
        node = self.value(vi.name)
        where = f"load: graph output {vi.name!r}"
        tt = vi.type.tensor_type
        if tt.elem_type and ir_dtype(tt.elem_type, where) is not node.dtype:
            raise OnnxImportError(f"{where}: declared {ir_dtype(tt.elem_type, where).name}, but the graph "
                                  f"computes {node.dtype.name}")
        if tt.HasField("shape"):
            dims = tt.shape.dim
            declared = [d.dim_value if d.HasField("dim_value") else None for d in dims]
            if len(declared) != len(node.shape) or any(d is not None and d != s for d, s in zip(declared, node.shape)):
                raise OnnxImportError(f"{where}: declared shape {declared}, but the graph computes "
                                      f"{list(node.shape)}")
        return node
