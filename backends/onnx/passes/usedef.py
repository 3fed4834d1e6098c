"""Use-def bookkeeping for the ONNX passes: who produces and who reads each value, the
values' types (from ONNX shape inference), fresh names, and rewriting the node list."""
from __future__ import annotations

from dataclasses import dataclass

import onnx
from onnx import helper, numpy_helper

#: Initializers above this many elements are typed from their header alone when shapes are
#: inferred (a weight's values never decide a type; copying them would cost the most).
TYPED_BY_HEADER = 64


@dataclass(frozen=True)
class ValueType:
    """A tensor value's element type (``onnx.TensorProto`` enum) and dims: ints, ``str`` for a
    symbolic dim, ``None`` for an unknown one; ``shape`` is None when even the rank is unknown."""

    elem_type: int
    shape: tuple | None

    @property
    def rank(self):
        return None if self.shape is None else len(self.shape)


def _value_type(info) -> ValueType | None:
    tensor = info.type.tensor_type
    if not info.type.HasField("tensor_type"):
        return None
    if not tensor.HasField("shape"):
        return ValueType(tensor.elem_type, None)
    dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor.shape.dim)
    return ValueType(tensor.elem_type, dims)


def value_types(model) -> dict[str, ValueType]:
    """Every value's type that ONNX shape inference finds. Large initializers are declared
    by type instead of copied in, so this stays cheap for models with big weights."""
    try:
        inferred = onnx.shape_inference.infer_shapes(_skeleton(model)).graph
    except onnx.shape_inference.InferenceError:
        inferred = model.graph  # the declared types only: passes then leave unknown values alone
    types = {}
    for info in (*inferred.input, *inferred.value_info, *inferred.output):
        found = _value_type(info)
        if found is not None:
            types[info.name] = found
    for init in model.graph.initializer:
        types[init.name] = ValueType(init.data_type, tuple(init.dims))
    return types


def _skeleton(model):
    """``model`` with its large initializers declared as typed inputs (what inference needs)."""
    g = model.graph
    if all(_numel(i) <= TYPED_BY_HEADER for i in g.initializer):
        return model
    declared = {i.name for i in g.input}
    skeleton = onnx.ModelProto(ir_version=model.ir_version, opset_import=model.opset_import)
    skeleton.graph.node.extend(g.node)
    skeleton.graph.input.extend(g.input)
    skeleton.graph.output.extend(g.output)
    for init in g.initializer:
        if _numel(init) <= TYPED_BY_HEADER:
            skeleton.graph.initializer.append(init)
        elif init.name not in declared:
            skeleton.graph.input.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    return skeleton


def _numel(init) -> int:
    n = 1
    for d in init.dims:
        n *= d
    return n


def attribute(node, name, default=None):
    """The value of ``node``'s attribute ``name`` (ints as a list), or ``default``."""
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


class Uses:
    """Producers and readers of every value of an ONNX graph, by node index, as of construction
    (a pass collects its rewrites and applies them once with ``rewrite``)."""

    def __init__(self, graph):
        self.graph = graph
        self.producer: dict[str, int] = {}
        self.readers: dict[str, list[int]] = {}
        for i, node in enumerate(graph.node):
            for name in node.output:
                self.producer[name] = i
            for name in node.input:
                if name:
                    self.readers.setdefault(name, []).append(i)
        self.outputs = {o.name for o in graph.output}
        self.initializers = {init.name: init for init in graph.initializer}
        self._names = set(self.producer) | set(self.readers) | set(self.outputs) | {n.name for n in graph.node}
        self._next: dict[str, int] = {}  # per base name, the next suffix to try

    def made_by(self, name: str, op_type: str):
        """The node of type ``op_type`` that produces ``name``, or None."""
        i = self.producer.get(name)
        node = None if i is None else self.graph.node[i]
        return node if node is not None and node.op_type == op_type else None

    def sole_reader(self, name: str):
        """The index of the one node reading ``name`` when nothing else (no other node, no graph
        output) sees it, else None."""
        readers = self.readers.get(name, [])
        return readers[0] if len(readers) == 1 and name not in self.outputs else None

    def unread(self, names, replacements: dict) -> list[str]:
        """Those of ``names`` that no graph output and no node reads once ``replacements``
        (node index -> new nodes, as for ``rewrite``) are made."""
        new_reads = {name for nodes in replacements.values() for node in nodes for name in node.input}
        return [name for name in names if name not in self.outputs and name not in new_reads
                and all(i in replacements for i in self.readers.get(name, []))]

    def constant(self, name: str):
        """The value of the initializer ``name`` as an array, or None."""
        init = self.initializers.get(name)
        return None if init is None else numpy_helper.to_array(init)

    def fresh(self, base: str) -> str:
        """A value or node name not used in the graph yet (``base``, ``base_1``, ...)."""
        k = self._next.get(base, 0)
        name = base if k == 0 else f"{base}_{k}"
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._next[base] = k + 1
        self._names.add(name)
        return name

    def node(self, op_type: str, inputs, output: str, like, **attrs):
        """A new node named afresh that carries ``like``'s doc_string (its ir op and source line)."""
        return helper.make_node(op_type, list(inputs), [output], name=self.fresh(f"n_{op_type}"),
                                doc_string=like.doc_string or None, **attrs)


def rewrite(graph, replacements: dict) -> None:
    """Replace the nodes at the given indices by lists of nodes (``[]`` removes one), in place.
    A replacement stands where its node stood, so the list stays topologically sorted as long
    as the new nodes read only values defined before that place."""
    for i in sorted(replacements, reverse=True):  # later indices first: earlier ones stay put
        new = replacements[i]
        if not new:
            del graph.node[i]
            continue
        graph.node[i].CopyFrom(new[-1])
        for node in reversed(new[:-1]):
            graph.node.insert(i, node)
