"""What an ONNX import rule sees: ``NodeImport``, one ONNX node being turned into ir nodes.

An import rule is ``rule(g) -> node | [node per ONNX output]``: it reads the ONNX node's
inputs (``g.x(i)``, ir nodes), its static inputs (``g.const(i)``, arrays: shapes, axes, pads
that the ir needs as attributes) and attributes (``g.attr(name, default)``), and emits ir nodes
with ``g.add(op, inputs, attrs)``. Every rule lives in its family's module (``IMPORTS``), beside
that family's lowerings; ``backends/onnx/load.py`` is the driver.
"""
from __future__ import annotations

import numpy as np
from onnx import AttributeProto, TensorProto, numpy_helper

from backends.onnx.errors import OnnxImportError
from ir import dtypes
from ir.errors import IRError
from ir.node import FORWARD, make_node
from ir.ops import elementwise as E
from ir.ops import source as SRC
from ir.ops.base import NO_ATTRS

#: ONNX element types the ir carries.
IR_DTYPE = {
    TensorProto.FLOAT: dtypes.float32,
    TensorProto.DOUBLE: dtypes.float64,
    TensorProto.FLOAT16: dtypes.float16,
    TensorProto.INT64: dtypes.int64,
    TensorProto.INT32: dtypes.int32,
    TensorProto.INT16: dtypes.int16,
    TensorProto.INT8: dtypes.int8,
    TensorProto.UINT8: dtypes.uint8,
    TensorProto.BOOL: dtypes.bool_,
}

#: Static inputs (shapes, axes, pads) up to this many elements are evaluated at import.
STATIC_LIMIT = 1 << 16


def dtype_name(elem_type: int) -> str:
    try:
        return TensorProto.DataType.Name(elem_type)
    except ValueError:
        return f"type {elem_type}"


def ir_dtype(elem_type: int, where: str):
    """The ir dtype of an ONNX element type, or the import error naming ``where``."""
    found = IR_DTYPE.get(elem_type)
    if found is None:
        names = ", ".join(dtype_name(t) for t in IR_DTYPE)
        raise OnnxImportError(f"{where}: dtype {dtype_name(elem_type)} is not supported (supported: {names})")
    return found


class NodeImport:
    """One ONNX node under import.

    Attributes:
        proto: the ``NodeProto``.
        max_bytes: the load's memory budget (attribute tensors and values built at import).
        opset: the model's ai.onnx opset.
        source: the ir source of the nodes emitted (the ONNX node's name and doc_string).
        phase: ``"backward"`` for nodes tracegrad exported as backward, else ``"forward"``.
    """

    def __init__(self, proto, opset: int, values, static, source: str, phase: str = FORWARD,
                 max_bytes: int | None = None, inline=None):
        self.proto = proto
        self.max_bytes = max_bytes
        self.opset = opset
        self.source = source
        self.phase = phase
        self.created: list = []
        self._values = values  # values(ONNX name) -> its ir node (the driver's lookup)
        self._static = static  # static(ir node) -> its array if known at import, else None
        self._read: set[str] = set()
        self._inline = inline  # inline(GraphProto) -> its output ir nodes (the driver imports its nodes)

    # -- describing ------------------------------------------------------------------------
    @property
    def op_type(self) -> str:
        return self.proto.op_type

    @property
    def where(self) -> str:
        return f"ONNX node {self.proto.name or '<unnamed>'!r} ({self.op_type}, opset {self.opset})"

    def fail(self, detail: str):
        raise OnnxImportError(f"{self.where}: {detail}")

    # -- inputs ----------------------------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        return len(self.proto.input)

    def has(self, i: int) -> bool:
        return i < len(self.proto.input) and self.proto.input[i] != ""

    def x(self, i: int):
        """Input ``i`` as an ir node (an error if it is absent)."""
        if not self.has(i):
            self.fail(f"input {i} is required")
        return self._values(self.proto.input[i])

    def xs(self) -> list:
        return [self.x(i) for i in range(self.n_inputs) if self.has(i)]

    def const(self, i: int, default=None) -> np.ndarray | None:
        """Input ``i``'s value, which must be known at import (an initializer, a Constant, or
        computed from those and from static shapes); ``default`` when the input is absent."""
        if not self.has(i):
            return default
        node = self.x(i)
        value = self._static(node)
        if value is None:
            self.fail(f"input {i} ({self.proto.input[i]!r}) must be a constant or initializer: the ir "
                      "takes it as a static attribute")
        return value

    def ints(self, i: int, default=None) -> list[int] | None:
        value = self.const(i)
        return default if value is None else [int(v) for v in np.asarray(value).reshape(-1)]

    # -- attributes ------------------------------------------------------------------------
    def attr(self, name: str, default=None):
        """The attribute's Python value (ints, floats, strings, lists; tensors as arrays)."""
        self._read.add(name)
        for a in self.proto.attribute:
            if a.name == name:
                return _attr_value(self, a)
        return default

    def graph_attr(self, name: str):
        """A GRAPH attribute (an If's branch) as its ``GraphProto``; an error if it is absent."""
        self._read.add(name)
        for a in self.proto.attribute:
            if a.name == name and a.type == AttributeProto.GRAPH:
                return a.g
        self.fail(f"graph attribute {name!r} is required")

    def inline(self, graph):
        """Import a subgraph's nodes in place (their values join the enclosing scope); returns
        its outputs as ir nodes."""
        if self._inline is None:
            self.fail("subgraphs are not supported here")
        return self._inline(graph)

    def unread_attrs(self) -> list[str]:
        return [a.name for a in self.proto.attribute if a.name not in self._read]

    # -- emitting --------------------------------------------------------------------------
    def add(self, op, inputs, attrs=NO_ATTRS):
        """Emit one ir node; the ir's shape/dtype rule checks it (its error names this node)."""
        try:
            node = make_node(op, list(inputs), attrs, self.source, self.phase)
        except (IRError, TypeError, ValueError) as err:
            raise OnnxImportError(f"{self.where}: {err}") from None
        self.created.append(node)
        return node

    def constant(self, value, dtype=None):
        array = np.asarray(value, dtype=None if dtype is None else dtype.np)
        return self.add(SRC.constant, [], SRC.ConstAttrs(array))

    def scalar(self, value, dtype):
        """A 0-d constant of ``dtype`` (an ir dtype)."""
        return self.constant(np.asarray(value).astype(dtype.np), None)

    def cast(self, node, dtype):
        return node if node.dtype is dtype else self.add(E.cast, [node], E.CastAttrs(dtype))

    def static(self, node):
        """``node``'s value if known at import, else None."""
        return self._static(node)


def _attr_value(g: NodeImport, a):
    kind = a.type
    if kind == AttributeProto.INT:
        return int(a.i)
    if kind == AttributeProto.FLOAT:
        return float(a.f)
    if kind == AttributeProto.STRING:
        return a.s.decode("utf-8", "replace")
    if kind == AttributeProto.INTS:
        return [int(v) for v in a.ints]
    if kind == AttributeProto.FLOATS:
        return [float(v) for v in a.floats]
    if kind == AttributeProto.STRINGS:
        return [s.decode("utf-8", "replace") for s in a.strings]
    if kind == AttributeProto.TENSOR:
        return tensor_array(a.t, f"{g.where}: attribute {a.name!r}", g.max_bytes)
    g.fail(f"attribute {a.name!r} of type {AttributeProto.AttributeType.Name(kind)} is not supported")


def tensor_array(t, where: str, max_bytes: int | None = None) -> np.ndarray:
    """A TensorProto's array, its dtype and declared size checked before it is read."""
    dtype = ir_dtype(t.data_type, where)
    if t.data_location == TensorProto.EXTERNAL:
        raise OnnxImportError(f"{where}: tensor {t.name!r} keeps its data in an external file; load the "
                              "model with onnx.load(path) (which reads it) and pass the ModelProto")
    numel = 1
    for d in t.dims:
        if d < 0:
            raise OnnxImportError(f"{where}: tensor {t.name!r} has a negative dim {list(t.dims)}")
        numel *= int(d)
    if max_bytes is not None and numel * dtype.itemsize > max_bytes:
        raise OnnxImportError(f"{where}: tensor {t.name!r} of shape {list(t.dims)} needs "
                              f"{numel * dtype.itemsize} bytes, over max_bytes={max_bytes}")
    if t.HasField("raw_data"):
        if len(t.raw_data) != numel * dtype.itemsize:
            raise OnnxImportError(f"{where}: tensor {t.name!r} holds {len(t.raw_data)} bytes, but shape "
                                  f"{list(t.dims)} of {dtype.name} needs {numel * dtype.itemsize}")
    else:
        stored = sum(len(f) for f in (t.float_data, t.double_data, t.int32_data, t.int64_data, t.uint64_data))
        if stored != numel:
            raise OnnxImportError(f"{where}: tensor {t.name!r} holds {stored} values, but shape "
                                  f"{list(t.dims)} needs {numel}")
    try:
        array = numpy_helper.to_array(t)
    except Exception as err:  # a malformed proto: the message from onnx names the field
        raise OnnxImportError(f"{where}: tensor {t.name!r} is malformed: {err}") from None
    # np.array, not np.ascontiguousarray: that one makes a 0-d array 1-d
    return np.array(array.reshape(tuple(int(d) for d in t.dims)), dtype=dtype.np, order="C")


def normalize_axes(g: NodeImport, axes, rank: int) -> list[int]:
    """Axes in [-rank, rank) made non-negative, or the import error."""
    out = []
    for a in axes:
        if not -max(rank, 1) <= a < max(rank, 1):
            g.fail(f"axis {a} is out of range for rank {rank}")
        out.append(int(a) % max(rank, 1))
    return out


def unsupported(g: NodeImport, name: str, value, allowed) -> None:
    """Fail naming an attribute value the import does not cover."""
    g.fail(f"attribute {name}={value!r} is not supported (supported: {allowed})")
