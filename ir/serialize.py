"""Save and load graphs as JSON: plain data only, validated on load; nothing read is ever executed or unpickled.

This module works on nodes: ``decode`` turns the JSON data into checked nodes, and
``ir.graph`` (which imports this module) assembles them into a ``Graph``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields

import numpy as np

from ir import dtypes
from ir.dtypes import DType
from ir.errors import GraphFormatError, IRError
from ir.node import FORWARD, BACKWARD, Node, infer_type
from ir.ops.base import REGISTRY

FORMAT = "tracegrad.graph"
VERSION = 1


def _encode(value):
    if isinstance(value, DType):
        return {"dtype": value.name}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": dtypes.from_numpy(value.dtype).name, "shape": list(value.shape)}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict) and set(value) == {"dtype"}:
        return dtypes.by_name(value["dtype"])
    if isinstance(value, dict) and set(value) == {"array", "dtype", "shape"}:
        arr = np.asarray(value["array"], dtype=dtypes.by_name(value["dtype"]).np)
        return arr.reshape(tuple(value["shape"]))
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    raise GraphFormatError(f"unexpected attribute value {value!r}")


def to_json(graph) -> dict:
    """The graph as plain JSON data (what ``save`` writes)."""
    ids = {n: i for i, n in enumerate(graph.nodes)}
    nodes = [{"op": n.op.name, "inputs": [ids[i] for i in n.inputs], "phase": n.phase, "source": n.source,
              "attrs": {f.name: _encode(getattr(n.attrs, f.name)) for f in fields(n.attrs)},
              "type": {"shape": list(n.shape), "dtype": n.dtype.name}} for n in graph.nodes]
    return {"format": FORMAT, "version": VERSION, "name": graph.name, "nodes": nodes,
            "outputs": [ids[o] for o in graph.outputs], "output_names": list(graph.output_names)}


def save(graph, path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_json(graph), f)


def _node_from(entry, i, built) -> Node:
    op = REGISTRY.get(entry.get("op"))
    if op is None:
        raise GraphFormatError(f"node {i}: unknown op {entry.get('op')!r}")
    refs = entry.get("inputs", [])
    if not all(isinstance(r, int) and 0 <= r < i for r in refs):
        raise GraphFormatError(f"node {i} ({op.name}): inputs {refs} must refer to earlier nodes "
                               "(the graph has a cycle or a dangling reference)")
    raw = entry.get("attrs", {})
    names = {f.name for f in fields(op.attrs)}
    if set(raw) != names:
        raise GraphFormatError(f"node {i} ({op.name}): attributes {sorted(raw)} != expected {sorted(names)}")
    attrs = op.attrs(**{k: _decode(v) for k, v in raw.items()})
    inputs = [built[r] for r in refs]
    phase = entry.get("phase", FORWARD)
    if phase not in (FORWARD, BACKWARD):
        raise GraphFormatError(f"node {i}: unknown phase {phase!r}")
    type_ = infer_type(op, inputs, attrs, entry.get("source"))
    stored = entry.get("type")
    if stored and (list(type_.shape) != stored.get("shape") or type_.dtype.name != stored.get("dtype")):
        raise GraphFormatError(f"node {i} ({op.name}): stored type {stored} disagrees with its shape rule ({type_})")
    return Node(op, inputs, attrs, type_, entry.get("source"), phase)


@dataclass(frozen=True)
class Decoded:
    """A graph file's content, checked: nodes in order (each input an earlier node), outputs."""

    name: str
    nodes: list
    outputs: list
    output_names: list | None


def _check_header(data) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GraphFormatError("not a tracegrad graph file (missing 'format': 'tracegrad.graph')")
    if data.get("version") != VERSION:
        raise GraphFormatError(f"unsupported graph file version {data.get('version')!r} (expected {VERSION})")


def decode(data) -> Decoded:
    """The nodes and outputs of ``to_json`` data; raises ``GraphFormatError`` on anything malformed."""
    _check_header(data)
    built: list[Node] = []
    try:
        for i, entry in enumerate(data["nodes"]):
            built.append(_node_from(entry, i, built))
        outputs = [built[o] for o in data["outputs"]]
    except GraphFormatError:
        raise
    except (IRError, KeyError, TypeError, ValueError, IndexError) as err:
        raise corrupted(err) from None
    return Decoded(str(data.get("name", "graph")), built, outputs, data.get("output_names"))


def corrupted(err: Exception) -> GraphFormatError:
    """The error for a file whose content breaks a graph invariant."""
    return GraphFormatError(f"corrupted graph file: {type(err).__name__}: {err}")


def read(path):
    """The JSON data of a graph file; raises ``GraphFormatError`` if it is not valid JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise GraphFormatError(f"{path}: not valid JSON ({err})") from None
