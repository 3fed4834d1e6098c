"""``Graph``: an ordered DAG of nodes with named inputs and outputs, mirrored in networkx."""
from __future__ import annotations

import networkx as nx

from ir import dot, printing, serialize
from ir.errors import GraphFormatError, IRError
from ir.node import FORWARD, Node, make_node
from ir.ops import source
from ir.ops.base import NO_ATTRS, Op
from ir.ops.source import ConstAttrs, InputAttrs


class Graph:
    """A DAG of single-output nodes, kept in a topological order (inputs before users).

    Attributes:
        name: the graph's name (the traced function's, usually).
        nodes: every node, in topological order.
        inputs: the ``input`` nodes the caller feeds, in order.
        outputs: the result nodes, in order; ``output_names`` names them.
    """

    def __init__(self, name: str = "graph"):
        self.name = name
        self.nodes: list[Node] = []
        self.inputs: list[Node] = []
        self.outputs: list[Node] = []
        self.output_names: list[str] = []
        self._index: dict[Node, int] = {}
        self._nx = None
        #: Shape reads the traced code turned into Python ints: ``PythonRead`` records. Export
        #: with dynamic axes refuses a graph whose code read a dynamic dim (the int is baked in).
        self.python_reads: list = []

    # -- building -------------------------------------------------------------------------
    def append(self, node: Node) -> Node:
        """Add a node whose inputs are already in the graph."""
        for inp in node.inputs:
            if inp not in self._index:
                raise IRError(f"{node.op.name}: input {inp!r} is not in graph {self.name!r}; "
                              "add producers before their users")
        self._index[node] = len(self.nodes)
        self.nodes.append(node)
        if node.op is source.input_:
            self.inputs.append(node)
        self._nx = None
        return node

    def add(self, op: Op, inputs=(), attrs=NO_ATTRS, source_=None, phase=FORWARD) -> Node:
        """Create and append a node, its type inferred by the op's rule."""
        return self.append(make_node(op, inputs, attrs, source_, phase))

    def add_input(self, name: str, shape, dtype, kind: str = "input") -> Node:
        if any(n.attrs.name == name for n in self.inputs):
            raise IRError(f"graph {self.name!r} already has an input named {name!r}")
        return self.add(source.input_, (), InputAttrs(name, tuple(shape), dtype, kind))

    def set_outputs(self, nodes, names=None) -> None:
        nodes = list(nodes)
        names = list(names) if names is not None else [f"output_{i}" for i in range(len(nodes))]
        if len(names) != len(nodes) or len(set(names)) != len(names):
            raise IRError(f"graph {self.name!r}: output names must be distinct, one per output")
        for n in nodes:
            if n not in self._index:
                raise IRError(f"graph {self.name!r}: output {n!r} is not a node of the graph")
        self.outputs, self.output_names = nodes, names

    def prune_tail(self, start: int, roots) -> None:
        """Drop the nodes appended since index ``start`` that none of ``roots`` depends on
        (gradient rules may build terms for inputs that need no gradient)."""
        live, stack = set(), [r for r in roots if r is not None]
        while stack:
            n = stack.pop()
            if n in live or self._index.get(n, -1) < start:
                continue
            live.add(n)
            stack.extend(n.inputs)
        tail = self.nodes[start:]
        for n in tail:
            del self._index[n]
        del self.nodes[start:]
        self.inputs = [n for n in self.inputs if n in self._index]
        for n in tail:
            if n in live:
                self.append(n)

    # -- reading --------------------------------------------------------------------------
    def __contains__(self, node) -> bool:
        return node in self._index

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def index(self, node: Node) -> int:
        return self._index[node]

    @property
    def input_names(self) -> list[str]:
        return [n.attrs.name for n in self.inputs]

    def input_named(self, name: str) -> Node:
        for n in self.inputs:
            if n.attrs.name == name:
                return n
        raise KeyError(f"graph {self.name!r} has no input named {name!r} (inputs: {self.input_names})")

    @property
    def nx(self) -> nx.MultiDiGraph:
        """The networkx view: node i is ``nodes[i]``; one edge per input use, keyed by position."""
        if self._nx is None:
            g = nx.MultiDiGraph(name=self.name)
            for i, n in enumerate(self.nodes):
                g.add_node(i, op=n.op.name, type=str(n.type), phase=n.phase, source=n.source)
            for i, n in enumerate(self.nodes):
                for pos, inp in enumerate(n.inputs):
                    g.add_edge(self._index[inp], i, key=pos)
            self._nx = g
        return self._nx

    def users(self) -> dict[Node, list[Node]]:
        """Each node's consumers (a node using an input twice appears twice)."""
        out: dict[Node, list[Node]] = {n: [] for n in self.nodes}
        for n in self.nodes:
            for inp in n.inputs:
                out[inp].append(n)
        return out

    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.op.name] = counts.get(n.op.name, 0) + 1
        return counts

    # -- copying, saving, showing ---------------------------------------------------------
    def copy(self, keep=None, constants=None) -> "Graph":
        """A copy of the structure (new node objects; attrs are shared, being frozen).

        Args:
            keep: if given, only these nodes (and every graph input) are copied.
            constants: ``{node: array}``: those nodes become constants holding the array.
        """
        constants = constants or {}
        new = Graph(self.name)
        mapping: dict[Node, Node] = {}
        for n in self.nodes:
            if keep is not None and n not in keep and n.op is not source.input_:
                continue
            if n in constants:
                clone = Node(source.constant, (), ConstAttrs(constants[n]), n.type, n.source, n.phase)
            else:
                clone = Node(n.op, [mapping[i] for i in n.inputs], n.attrs, n.type, n.source, n.phase)
            if n.op is source.input_:
                clone.value = n.value  # an input's traced value (parameters) travels with it
            mapping[n] = new.append(clone)
        new.set_outputs([mapping[o] for o in self.outputs], self.output_names)
        new.python_reads = [r.moved(mapping[r.node]) for r in self.python_reads if r.node in mapping]
        return new

    def save(self, path) -> None:
        """Write the graph as JSON (``ir.load`` reads it back)."""
        serialize.save(self, path)

    @classmethod
    def from_json(cls, data, max_bytes: int = serialize.MAX_BYTES) -> "Graph":
        """The graph ``serialize.to_json`` describes; raises ``GraphFormatError`` if malformed
        (``max_bytes`` as in ``ir.load``, here for the constants and declared value sizes)."""
        return cls._assemble(serialize.decode(data, serialize.Budget(max_bytes)))

    @classmethod
    def _assemble(cls, decoded: serialize.Decoded) -> "Graph":
        graph = cls(decoded.name)
        names = set()
        try:
            for node in decoded.nodes:
                if node.op is source.input_:
                    if node.attrs.name in names:
                        raise IRError(f"two inputs are named {node.attrs.name!r}")
                    names.add(node.attrs.name)
                graph.append(node)
            graph.set_outputs(decoded.outputs, decoded.output_names)
        except IRError as err:
            raise serialize.corrupted(err) from None
        return graph

    def to_dot(self) -> str:
        return dot.to_dot(self)

    def _repr_svg_(self):
        return dot.render_svg(self)

    def __str__(self) -> str:
        return printing.format_graph(self)

    def __repr__(self) -> str:
        return f"<Graph {self.name}: {len(self.nodes)} nodes, {len(self.inputs)} inputs, {len(self.outputs)} outputs>"


def load(path, max_bytes: int = serialize.MAX_BYTES) -> Graph:
    """Load a graph saved by ``Graph.save``. The file is untrusted input: it is only parsed as
    JSON and checked, never executed, unpickled or eval'ed.

    Args:
        path: the ``.json`` file.
        max_bytes: the memory the load may use (default ``ir.serialize.MAX_BYTES``, 1 GiB): the
            file's size, the parsed JSON (estimated before parsing), the size any one value of
            the graph declares and its constant arrays are checked against it before they are
            read or allocated. Raise it for a bigger graph you trust.

    Returns:
        The ``Graph``, with every node's type re-derived by its op's shape rule.

    Raises:
        GraphFormatError: (a ``ValueError``) the file is over ``max_bytes``, not UTF-8, nested
            deeper than ``ir.serialize.MAX_DEPTH`` levels, not valid JSON, or not a well-formed
            graph: unknown op, dtype or phase, wrong attributes or field types, an input that is
            not an earlier node (cycles, dangling references), types that disagree with the
            shape rules. The message names the file, and the node and field at fault.
        OSError: the file cannot be opened.
    """
    budget = serialize.Budget(max_bytes)
    try:
        return Graph._assemble(serialize.decode(serialize.read(path, budget), budget))
    except GraphFormatError as err:
        raise err if str(err).startswith(str(path)) else GraphFormatError(f"{path}: {err}") from None
