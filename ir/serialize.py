"""Save and load graphs as JSON: plain data only, validated on load; nothing read is ever
executed, unpickled or eval'ed.

This module works on nodes: ``decode`` turns the JSON data into checked nodes, and
``ir.graph`` (which imports this module) assembles them into a ``Graph``.

A graph file is untrusted input, so reading checks explicit limits before it builds or
allocates anything, and a hostile file fails with ``GraphFormatError`` instead of exhausting
memory or the stack:

- ``MAX_BYTES`` (1 GiB; callers pass ``max_bytes=`` to raise it) bounds the memory a load may
  use: the file's size, its parsed JSON (estimated by ``json_shape`` before parsing), the size
  any one value of the graph declares, and its constant arrays (a ``Budget``);
- ``MAX_DEPTH`` bounds JSON nesting (a graph needs about 5 levels plus its constants' rank);
- ``MAX_RANK`` bounds the dims of a shape and the length of tuple attributes (NumPy's limit);
- dims and integer attributes must fit in int64.

``parse_json`` and ``Budget`` are shared with ``tracer.serialization``, which reads the same
kind of untrusted JSON inside its zip files.
"""
from __future__ import annotations

import json
import os
import re
import types
import typing
from dataclasses import dataclass, fields
from functools import cache

import numpy as np

from ir import dtypes
from ir.dtypes import DType
from ir.errors import GraphFormatError, IRError
from ir.node import FORWARD, BACKWARD, Node, infer_type
from ir.ops.base import REGISTRY
from ir.types import TensorType

FORMAT = "tracegrad.graph"
VERSION = 1

MAX_BYTES = 2**30
RAISE_LIMIT = "pass a larger max_bytes= to load a file you trust"
MAX_DEPTH = 100
MAX_RANK = 64
INT64 = 2**63

_GRAPH_KEYS = {"format", "version", "name", "nodes", "outputs", "output_names"}
_NODE_KEYS = {"op", "inputs", "phase", "source", "attrs", "type"}


# -- limits shared by every loader --------------------------------------------------------------
def size_text(nbytes: int) -> str:
    """``nbytes`` for a message: '1.5 GiB', '12 bytes'."""
    for unit, scale in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"


@dataclass
class Budget:
    """The memory a load may still use: ``take`` refuses *before* the allocation, so a file
    claiming a huge array fails fast instead of exhausting memory."""

    limit: int
    error: type = GraphFormatError
    used: int = 0

    def take(self, nbytes: int, what: str) -> None:
        if self.used + nbytes > self.limit:
            used = f" ({size_text(self.used)} already used)" if self.used else ""
            raise self.error(f"{what} needs {size_text(nbytes)}, more than the load's max_bytes limit of "
                             f"{size_text(self.limit)} allows{used}; {RAISE_LIMIT}")
        self.used += nbytes


def read_bounded(path, max_bytes: int, error: type) -> bytes:
    """The bytes of ``path``, refusing a file over ``max_bytes`` before reading it (and while
    reading, for files whose size the OS does not know, such as pipes)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        raw = b"" if size > max_bytes else f.read(max_bytes + 1)
    if size > max_bytes or len(raw) > max_bytes:
        raise error(f"{path}: the file is larger than the load's max_bytes limit of {size_text(max_bytes)}; "
                    f"{RAISE_LIMIT}")
    return raw


_STRING = re.compile(r'"[^"]*"')
_NOT_STRUCTURAL = re.compile(r"[^\[\]{},:]+")
_CHUNK = 1 << 20
#: Bytes the parsed form of one JSON value may take, at most (a ``[1]`` or ``{"a": 1}`` takes 48
#: per ``[``, ``{``, ``,``, ``:`` or string, measured on CPython 3.11), plus 4 per character of text.
_BYTES_PER_VALUE = 64


def json_shape(text: str) -> tuple[int, int]:
    """How deep ``[`` and ``{`` nest in JSON text, and the memory its parsed form would need, both
    measured without recursion or parsing: ``json`` recurses once per level, and a few bytes of
    ``[[],[],...]`` become 20 times as many in Python objects, so a hostile file must be measured
    before it is parsed.

    Escaped backslashes and quotes are dropped first, so every remaining quote delimits a string
    and strings can be skipped by a regex that never backtracks."""
    text = text.replace("\\\\", "").replace('\\"', "")
    bare, strings = _STRING.subn("", text)
    marks = np.frombuffer(_NOT_STRUCTURAL.sub("", bare).encode("ascii"), np.uint8)
    opening = (marks == ord("[")) | (marks == ord("{"))
    closing = (marks == ord("]")) | (marks == ord("}"))
    values = strings + 1 + int(np.count_nonzero(~closing))  # every [ { , : starts another value
    deepest = level = 0
    for start in range(0, len(marks), _CHUNK):
        steps = opening[start:start + _CHUNK].astype(np.int64) - closing[start:start + _CHUNK]
        run = level + np.cumsum(steps)
        deepest, level = max(deepest, int(run.max())), int(run[-1])
    return deepest, values * _BYTES_PER_VALUE + 4 * len(text)


def parse_json(raw: bytes, where, max_depth: int, budget: "Budget"):
    """JSON data from untrusted bytes: UTF-8, at most ``max_depth`` levels deep, its parsed form
    within ``budget``, valid JSON; anything else raises ``budget.error`` naming ``where`` and
    the problem."""
    error = budget.error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{where}: not UTF-8 text (byte {err.start} is {raw[err.start]:#04x})") from None
    depth, nbytes = json_shape(text)
    if depth > max_depth:
        raise error(f"{where}: JSON nested {depth} levels deep; at most {max_depth} are allowed")
    budget.take(nbytes, f"{where}: parsing its {size_text(len(raw))} of JSON")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:  # ValueError covers JSONDecodeError and huge ints
        raise error(f"{where}: not valid JSON ({err})") from None


# -- writing ----------------------------------------------------------------------------------
def _encode(value):
    if isinstance(value, DType):
        return {"dtype": value.name}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": dtypes.from_numpy(value.dtype).name, "shape": list(value.shape)}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise TypeError(type(value).__name__)
    return value


def _encoded_attrs(node) -> dict:
    """A node's attributes as JSON values; one holding a Python object (an ``autograd.Function``'s
    call) raises an IRError naming the op: a saved graph cannot carry code."""
    try:
        return {f.name: _encode(getattr(node.attrs, f.name)) for f in fields(node.attrs)}
    except TypeError as err:
        where = f"\n  at {node.source}" if node.source else ""
        raise IRError(f"{node.op.name}: an attribute holds a Python object ({err}), which a graph file "
                      f"cannot store (an autograd.Function runs Python; save the model's state_dict instead){where}"
                      ) from None


def to_json(graph) -> dict:
    """The graph as plain JSON data (what ``save`` writes)."""
    ids = {n: i for i, n in enumerate(graph.nodes)}
    nodes = [{"op": n.op.name, "inputs": [ids[i] for i in n.inputs], "phase": n.phase, "source": n.source,
              "attrs": _encoded_attrs(n),
              "type": {"shape": list(n.shape), "dtype": n.dtype.name}} for n in graph.nodes]
    return {"format": FORMAT, "version": VERSION, "name": graph.name, "nodes": nodes,
            "outputs": [ids[o] for o in graph.outputs], "output_names": list(graph.output_names)}


def save(graph, path) -> None:
    data = to_json(graph)  # before opening: a graph that cannot be saved leaves no file behind
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


# -- checking plain values ----------------------------------------------------------------------
def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -INT64 <= value < INT64


def string_of(value, what: str, optional: bool = False) -> str | None:
    """``value`` if it is a string that can be written out again (no lone surrogates)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise GraphFormatError(f"{what} must be a string, got {_kind(value)}")
    if not _encodable(value):
        raise GraphFormatError(f"{what} is not valid Unicode (it holds a lone surrogate)")
    return value


def _kind(value) -> str:
    """A short description of a JSON value for messages (never the whole value: it may be huge):
    ``str 'abc'``, ``list [-1, 3]``, ``a dict of 2 items``."""
    if isinstance(value, str):
        shown = repr(value[:40]) + ("..." if len(value) > 40 else "")
    elif isinstance(value, (list, dict)):
        numbers = isinstance(value, list) and all(isinstance(v, (int, float)) or v is None for v in value[:9])
        if len(value) > 8 or not numbers:
            return f"a {type(value).__name__} of {len(value)} item{'' if len(value) == 1 else 's'}"
        shown = repr(value)  # at most 8 numbers
    elif isinstance(value, int) and value.bit_length() > 128:  # repr refuses ints over 4300 digits
        shown = f"of {value.bit_length()} bits"
    else:
        shown = repr(value)
    return f"{type(value).__name__} {shown[:60]}{'...' if len(shown) > 60 else ''}"


def shape_of(value, what: str) -> tuple[int, ...]:
    """A shape: at most ``MAX_RANK`` non-negative int64 dims."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_RANK:
        raise GraphFormatError(f"{what} must be a list of at most {MAX_RANK} dims, got {_kind(value)}")
    if not all(_is_int(d) and d >= 0 for d in value):
        raise GraphFormatError(f"{what} {_kind(list(value))} must hold non-negative int64 dims")
    return tuple(value)


def numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _dtype(value, what: str) -> DType:
    if not isinstance(value, str) or value not in dtypes.BY_NAME:
        raise GraphFormatError(f"{what}: unknown dtype {_kind(value)}; expected one of {sorted(dtypes.BY_NAME)}")
    return dtypes.BY_NAME[value]


# -- attribute values -----------------------------------------------------------------------------
# The JSON number kinds a constant of each dtype kind may hold without a lossy cast.
_HOLDS = {"f": "biuf", "i": "biu", "u": "biu", "b": "b"}


def _decode_array(value: dict, budget: Budget, what: str) -> np.ndarray:
    """A constant array, its declared size charged to the budget before NumPy sees the data."""
    dtype = _dtype(value["dtype"], what)
    shape = shape_of(value["shape"], f"{what}: the array's shape")
    budget.take(numel(shape) * dtype.itemsize, f"{what}: a constant of shape {list(shape)}")
    raw = _as_array(value["array"], None, what)
    if raw.dtype.kind not in "biuf":
        raise GraphFormatError(f"{what}: a constant array must hold only booleans or numbers within 64 bits")
    if raw.size and raw.dtype.kind not in _HOLDS[dtype.kind]:
        raise GraphFormatError(f"{what}: a constant of dtype {dtype.name} holds {raw.dtype.name} values "
                               "(a cast would change them)")
    if raw.size != numel(shape):
        raise GraphFormatError(f"{what}: the array holds {raw.size} values but its shape "
                               f"{list(shape)} needs {numel(shape)}")
    return _as_array(value["array"], dtype.np, what).reshape(shape)


def _as_array(values, np_dtype, what: str) -> np.ndarray:
    try:
        return np.asarray(values, np_dtype)
    except (ValueError, TypeError, OverflowError) as err:  # ragged lists, out-of-range numbers
        raise GraphFormatError(f"{what}: malformed constant array ({err})") from None


def _decode(value, budget: Budget, what: str):
    if isinstance(value, dict) and set(value) == {"dtype"}:
        return _dtype(value["dtype"], what)
    if isinstance(value, dict) and set(value) == {"array", "dtype", "shape"}:
        return _decode_array(value, budget, what)
    if isinstance(value, list):
        return tuple(_decode(v, budget, what) for v in value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    raise GraphFormatError(f"{what}: unexpected attribute value {_kind(value)}")


@cache
def _hints(attrs_type) -> dict:
    return typing.get_type_hints(attrs_type)


def fits(value, hint) -> bool:
    """Whether a decoded attribute value has the type its dataclass field declares.

    An annotation this loader does not know is refused rather than guessed at;
    ``tests/ir/test_graph.py`` checks that every op's attributes are understood."""
    if hint is object:
        return True
    if hint is int:
        return _is_int(value)
    if hint is float:
        return isinstance(value, float) or _is_int(value)
    if hint is type(None):
        return value is None
    if hint in (bool, str, DType, np.ndarray):
        return isinstance(value, hint) and (hint is not str or _encodable(value))
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return isinstance(value, tuple) and len(value) <= MAX_RANK and all(fits(v, args[0]) for v in value)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    return False


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _attrs_from(op, raw, budget: Budget, where: str):
    if not isinstance(raw, dict):
        raise GraphFormatError(f"{where}: 'attrs' must be an object, got {_kind(raw)}")
    hints = {f.name: _hints(op.attrs)[f.name] for f in fields(op.attrs)}
    if set(raw) != set(hints):
        raise GraphFormatError(f"{where}: attributes {sorted(raw)} != expected {sorted(hints)}")
    values = {}
    for name, hint in hints.items():
        values[name] = _decode(raw[name], budget, f"{where}: attribute {name!r}")
        if isinstance(values[name], str):
            string_of(values[name], f"{where}: attribute {name!r}")
        if not fits(values[name], hint):
            raise GraphFormatError(f"{where}: attribute {name!r} must be {_hint_text(hint)}, "
                                   f"got {_kind(raw[name])}")
    return op.attrs(**values)


def _hint_text(hint) -> str:
    """An attribute's annotation in words, for messages."""
    names = {int: "an int64 integer", float: "a number", bool: "true or false", str: "a string",
             DType: "a dtype", np.ndarray: "an array", type(None): "null", object: "any value"}
    if hint in names:
        return names[hint]
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        return f"a list of at most {MAX_RANK} items, each {_hint_text(args[0])}"
    return " or ".join(_hint_text(a) for a in args) or str(hint)


# -- nodes ----------------------------------------------------------------------------------------
def _refs(entry, i: int, op) -> list[int]:
    refs = entry.get("inputs", [])
    if not isinstance(refs, list) or not all(_is_int(r) and 0 <= r < i for r in refs):
        raise GraphFormatError(f"node {i} ({op.name}): inputs {_kind(refs)} must refer to earlier nodes "
                               "(the graph has a cycle or a dangling reference)")
    return refs


def _op_of(entry, i: int):
    if not isinstance(entry, dict):
        raise GraphFormatError(f"node {i} must be an object, got {_kind(entry)}")
    unknown = set(entry) - _NODE_KEYS
    if unknown:
        raise GraphFormatError(f"node {i}: unknown fields {sorted(unknown)} (expected some of {sorted(_NODE_KEYS)})")
    name = entry.get("op")
    op = REGISTRY.get(name) if isinstance(name, str) else None
    if op is None:
        raise GraphFormatError(f"node {i}: unknown op {_kind(name)}")
    return op


def _checked_type(type_, i: int, op, budget: Budget) -> TensorType:
    """The inferred type, checked like stored data: an op rule fed hostile attributes may give
    a shape no array can have, or one too large to ever hold."""
    where = f"node {i} ({op.name})"
    if not isinstance(type_, TensorType) or not isinstance(type_.dtype, DType):
        raise GraphFormatError(f"{where}: its attributes give no valid type ({type_!r})")
    shape = shape_of(type_.shape, f"{where}: the value's shape")
    nbytes = numel(shape) * type_.dtype.itemsize
    if nbytes > budget.limit:
        raise GraphFormatError(f"{where}: its value {type_} would need {size_text(nbytes)}, more than the "
                               f"load's max_bytes limit of {size_text(budget.limit)}; {RAISE_LIMIT}")
    return type_


def _check_stored(stored, type_: TensorType, i: int, op) -> None:
    if stored is None:
        return
    if not isinstance(stored, dict) or set(stored) != {"shape", "dtype"}:
        raise GraphFormatError(f"node {i} ({op.name}): 'type' must be {{'shape': [...], 'dtype': ...}}, "
                               f"got {_kind(stored)}")
    if list(type_.shape) != stored["shape"] or type_.dtype.name != stored["dtype"]:
        raise GraphFormatError(f"node {i} ({op.name}): the stored type (shape {_kind(stored['shape'])}, "
                               f"dtype {_kind(stored['dtype'])}) disagrees with its shape rule ({type_})")


def _node_from(entry, i, built, budget: Budget) -> Node:
    op = _op_of(entry, i)
    inputs = [built[r] for r in _refs(entry, i, op)]
    attrs = _attrs_from(op, entry.get("attrs", {}), budget, f"node {i} ({op.name})")
    phase = entry.get("phase", FORWARD)
    if phase not in (FORWARD, BACKWARD):
        raise GraphFormatError(f"node {i}: unknown phase {_kind(phase)} (expected {FORWARD!r} or {BACKWARD!r})")
    source = string_of(entry.get("source"), f"node {i} ({op.name}): 'source'", optional=True)
    type_ = _checked_type(_infer(op, inputs, attrs, source, i), i, op, budget)
    _check_stored(entry.get("type"), type_, i, op)
    return Node(op, inputs, attrs, type_, source, phase)


def _infer(op, inputs, attrs, source, i: int) -> TensorType:
    """The op's shape rule; any error it raises on hostile attributes is a format error."""
    try:
        return infer_type(op, inputs, attrs, source)
    except (IRError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as err:
        raise corrupted(err, f"node {i} ({op.name}): ") from None


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
        raise GraphFormatError(f"unsupported graph file version {_kind(data.get('version'))} (expected {VERSION})")
    unknown = set(data) - _GRAPH_KEYS
    if unknown:
        raise GraphFormatError(f"unknown fields {sorted(unknown)} (expected some of {sorted(_GRAPH_KEYS)})")
    for key in ("nodes", "outputs"):
        if not isinstance(data.get(key), list):
            raise GraphFormatError(f"'{key}' must be a list, got {_kind(data.get(key))}")


def _outputs(data, built) -> tuple[list, list | None]:
    refs = data["outputs"]
    if not all(_is_int(r) and 0 <= r < len(built) for r in refs):
        raise GraphFormatError(f"corrupted graph file: outputs {_kind(refs)} must be indices of its "
                               f"{len(built)} nodes")
    names = data.get("output_names")
    if names is not None:
        if not isinstance(names, list):
            raise GraphFormatError(f"'output_names' must be a list of strings, got {_kind(names)}")
        names = [string_of(n, f"output name {k}") for k, n in enumerate(names)]
    return [built[r] for r in refs], names


def decode(data, budget: Budget) -> Decoded:
    """The nodes and outputs of ``to_json`` data; raises ``GraphFormatError`` on anything malformed.

    Args:
        data: parsed JSON (``read`` gives it, within the nesting limit).
        budget: what the load may still allocate: no one value may declare more than its limit,
            and all constants together must fit in it.
    """
    _check_header(data)
    built: list[Node] = []
    for i, entry in enumerate(data["nodes"]):
        built.append(_node_from(entry, i, built, budget))
    outputs, names = _outputs(data, built)
    name = string_of(data.get("name", "graph"), "the graph's 'name'")
    return Decoded(name, built, outputs, names)


def corrupted(err: Exception, where: str = "") -> GraphFormatError:
    """The error for a file whose content breaks a graph invariant."""
    return GraphFormatError(f"corrupted graph file: {where}{type(err).__name__}: {err}")


def read(path, budget: Budget):
    """The JSON data of a graph file; raises ``GraphFormatError`` naming the file if it is larger
    than the budget, not UTF-8, nested deeper than ``MAX_DEPTH``, would take more than the
    budget once parsed, or is not valid JSON."""
    return parse_json(read_bounded(path, budget.limit, GraphFormatError), path, MAX_DEPTH, budget)
