"""A small ONNX graph builder: unique names, constants as initializers, node metadata."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from ir import dtypes

ONNX_TYPE = {
    dtypes.float32: TensorProto.FLOAT,
    dtypes.float64: TensorProto.DOUBLE,
    dtypes.int64: TensorProto.INT64,
    dtypes.int32: TensorProto.INT32,
    dtypes.uint8: TensorProto.UINT8,
    dtypes.bool_: TensorProto.BOOL,
    dtypes.float16: TensorProto.FLOAT16,
    dtypes.int16: TensorProto.INT16,
    dtypes.int8: TensorProto.INT8,
}

#: ONNX op types that draw anew on every evaluation, whichever ir node (or none) emits them.
#: Nodes lowering a nondeterministic ir op are never merged either (``Op.nondeterministic``).
NONDETERMINISTIC = frozenset({"RandomUniform", "RandomNormal", "RandomUniformLike", "RandomNormalLike",
                              "Bernoulli", "Multinomial", "Dropout"})

#: Constants up to this many elements are stored once however often they are used (class
#: indices, shapes, scalars); larger ones are stored per use rather than hashed.
SHARED_CONST_SIZE = 4096


def bools_via_int32(lower):
    """A lowering for an ONNX op without a bool type (Add, Mul, Max, Less, ReduceMax, MatMul):
    bool inputs are cast to int32 and a bool result cast back (torch's bool + bool is `or`,
    bool * bool `and`, max of bools `any`, False < True)."""
    def lowered(b, node, xs):
        if not any(x.dtype.kind == "b" for x in node.inputs):
            return lower(b, node, xs)
        wide = [b.op("Cast", [v], to=TensorProto.INT32) if x.dtype.kind == "b" else v
                for x, v in zip(node.inputs, xs)]
        out = lower(b, node, wide)
        return b.op("Cast", [out], to=TensorProto.BOOL) if node.dtype.kind == "b" else out
    lowered.__doc__ = lower.__doc__
    return lowered


class OnnxBuilder:
    """Collects ONNX nodes and initializers while lowering one ir graph.

    ``current`` is the ir node being lowered: every ONNX node emitted meanwhile carries its
    source line and phase in ``doc_string``. ``dynamic[node]`` lists the node's dims that are
    symbolic at run time (see ``backends/onnx/dynamic.py``).
    """

    def __init__(self, opset: int, dynamic=None):
        self.opset = opset
        self.dynamic = dynamic or {}
        self.nodes = []
        self.initializers = []
        self.current = None
        self._used: set[str] = set()
        self._next: dict[str, int] = {}  # per base name, the next suffix to try (keeps fresh O(1))
        self._consts: dict = {}
        self._emitted: dict = {}  # (op, inputs, attrs) -> output: identical nodes are emitted once
        self.pooled: dict = {}  # max_pool_indices ir node -> its input's ONNX name (backends/onnx/pool.py)

    def fresh(self, base: str) -> str:
        k = self._next.get(base, 0)
        name = base if k == 0 else f"{base}_{k}"
        while name in self._used:
            k += 1
            name = f"{base}_{k}"
        self._next[base] = k + 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> str:
        if name in self._used:
            raise ValueError(f"ONNX name {name!r} used twice")
        self._used.add(name)
        return name

    def op(self, op_type: str, inputs, out: str | None = None, **attrs) -> str:
        """Emit one ONNX node; returns its (single) output name. A deterministic node identical
        to one already emitted (same op, inputs and attributes) is not emitted again: its output
        is reused, so lowerings that rebuild the same value (a one-hot in a loss and in its
        gradient) share it. Random nodes are never merged: each evaluation differs."""
        key = None
        drawing = op_type in NONDETERMINISTIC or (self.current is not None and self.current.op.nondeterministic)
        if out is None and not drawing and not any(
                isinstance(v, (np.ndarray, TensorProto)) for v in attrs.values()):  # reprs of arrays elide
            key = (op_type, tuple(inputs), repr(sorted(attrs.items())))
            if key in self._emitted:
                return self._emitted[key]
        out = out or self.fresh(f"{op_type.lower()}")
        if key is not None:
            self._emitted[key] = out
        doc = None
        if self.current is not None:
            doc = f"{self.current.phase} {self.current.op.name}" + (f" at {self.current.source}" if self.current.source else "")
        name = self.fresh(f"n_{op_type}")
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=name, doc_string=doc,
                                           **{k: v for k, v in attrs.items() if v is not None}))
        return out

    def op_outputs(self, op_type: str, inputs, count: int, **attrs) -> list[str]:
        """Emit one ONNX node with ``count`` outputs (MaxPool's values and indices); returns
        their names. Never merged with another node."""
        outs = [self.fresh(f"{op_type.lower()}") for _ in range(count)]
        doc = None
        if self.current is not None:
            doc = f"{self.current.phase} {self.current.op.name}" + (f" at {self.current.source}" if self.current.source else "")
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=self.fresh(f"n_{op_type}"), doc_string=doc,
                                           **{k: v for k, v in attrs.items() if v is not None}))
        return outs

    def const(self, value, dtype=None, name: str | None = None) -> str:
        """An initializer holding ``value`` (constants up to ``SHARED_CONST_SIZE`` elements are shared)."""
        arr = np.asarray(value, dtype=dtype)
        key = None
        if arr.size <= SHARED_CONST_SIZE and name is None:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.reserve(name) if name else self.fresh("const")
        self.initializers.append(numpy_helper.from_array(arr, name))
        if key is not None:
            self._consts[key] = name
        return name

    def int64s(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64))

    def scalar_like(self, value, dtype) -> str:
        return self.const(np.asarray(value, dtype=dtype.np))
