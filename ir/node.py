"""A graph node: one op applied to ordered inputs, producing exactly one value."""
from __future__ import annotations

from ir.errors import IRError, with_source
from ir.ops.base import NO_ATTRS, Op
from ir.types import TensorType

FORWARD = "forward"
BACKWARD = "backward"


class Node:
    """One op application. The node *is* its value: consumers list it among their inputs.

    Nodes reference their inputs directly, so the eager tracer can keep a DAG alive exactly
    as long as the tensors that need it; a ``Graph`` is an ordered collection of nodes.

    Attributes:
        op: the ``Op``.
        inputs: ordered input nodes (``x * x`` lists the same node twice).
        attrs: an instance of ``op.attrs``.
        type: the static ``TensorType`` of the value.
        source: the user's ``file:line`` that created it (or None).
        phase: ``"forward"`` or ``"backward"`` (appended by autodiff).
        value: the eagerly computed array, kept while a backward may need it.
        meta: free slots for the frontend (leaf tensor reference, version stamps).
    """

    __slots__ = ("op", "inputs", "attrs", "type", "source", "phase", "value", "meta", "__weakref__")

    def __init__(self, op: Op, inputs, attrs, type_: TensorType, source=None, phase=FORWARD):
        self.op = op
        self.inputs = tuple(inputs)
        self.attrs = attrs
        self.type = type_
        self.source = source
        self.phase = phase
        self.value = None
        self.meta = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.type.shape

    @property
    def dtype(self):
        return self.type.dtype

    def __repr__(self) -> str:
        return f"<Node {self.op.name} {self.type}>"


#: Shape rules are pure functions of (op, input types, attrs): results are kept for reuse, since
#: eager ops, recording and autodiff ask the same question for every op of a loop's every step.
_INFERRED: dict = {}
_INFERRED_LIMIT = 1 << 14


def infer_cached(op: Op, types: tuple, attrs) -> TensorType:
    """``op.infer(types, attrs)``, remembered (attrs holding an array are not hashable: then
    the rule runs each time). Raises what the rule raises."""
    try:
        key = (op, types, attrs)
        return _INFERRED[key]
    except KeyError:
        pass
    except TypeError:
        return op.infer(types, attrs)
    result = op.infer(types, attrs)
    if len(_INFERRED) >= _INFERRED_LIMIT:
        _INFERRED.clear()
    _INFERRED[key] = result
    return result


def infer_type(op: Op, inputs, attrs, source=None) -> TensorType:
    """Run the op's shape/dtype rule, adding the user's source line to any error."""
    if op.arity is not None and len(inputs) != op.arity:
        raise with_source(IRError(f"{op.name}: expects {op.arity} inputs, got {len(inputs)}"), source)
    if not isinstance(attrs, op.attrs):
        raise with_source(IRError(f"{op.name}: attrs must be {op.attrs.__name__}, got {type(attrs).__name__}"), source)
    try:
        return infer_cached(op, tuple(n.type for n in inputs), attrs)
    except IRError as err:
        raise with_source(err, source) from None


def make_node(op: Op, inputs, attrs=NO_ATTRS, source=None, phase=FORWARD) -> Node:
    """A new free node, its type given by the op's rule."""
    return Node(op, inputs, attrs, infer_type(op, inputs, attrs, source), source, phase)
