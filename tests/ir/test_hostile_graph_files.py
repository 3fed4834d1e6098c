"""ir.load on hostile graph files: every malformed file raises GraphFormatError naming the file
and the field at fault, sizes are refused before they are allocated, and pictures of a graph
with crafted names stay well-formed DOT and SVG.

Each row of CASES is one file: an id, how to make its bytes, and what the message must say.
"""
import json
import os
import random
import re
import shutil
import subprocess
import typing
import xml.etree.ElementTree as ET
from dataclasses import fields

import numpy as np
import pytest

import ir
from ir import dot, serialize
from ir.ops import elementwise as E
from ir.ops import reduce as R
from ir.ops import shape as S
from ir.ops import source
from ir.ops.base import REGISTRY
from ir.svg import draw

SVG = "{http://www.w3.org/2000/svg}"


def base_graph(x_name="x", source_line="model.py:3", doc="loss") -> ir.Graph:
    """input, parameter, constant, mul, add, reshape, cast, sum; two named outputs."""
    g = ir.Graph("net")
    x = g.add_input(x_name, (2, 3), ir.float32)
    w = g.add_input("w", (3,), ir.float32, "param")
    c = g.add(source.constant, (), source.ConstAttrs(np.array([1.0, 2.0, 3.0], np.float32)))
    m = g.add(E.mul, (x, w), source_=source_line)
    a = g.add(E.add, (m, c), source_=source_line)
    y = g.add(S.reshape, (a,), S.ShapeAttrs((3, 2)))
    d = g.add(E.cast, (y,), E.CastAttrs(ir.float64))
    s = g.add(R.sum_, (d,), R.ReduceAttrs((0, 1)))
    g.set_outputs([s, y], [doc, "y"])
    return g


def base_json() -> dict:
    return json.loads(json.dumps(serialize.to_json(base_graph())))


def encoded(data) -> bytes:
    return json.dumps(data).encode()


def put(*path_and_value):
    """A file: the base graph with the field at ``path`` set to ``value``."""
    *path, value = path_and_value

    def make():
        data = base_json()
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return encoded(data)
    return make


def drop(*path):
    """A file: the base graph without the field at ``path``."""
    def make():
        data = base_json()
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return encoded(data)
    return make


def edit(fn):
    """A file: the base graph's data changed by ``fn``."""
    def make():
        data = base_json()
        fn(data)
        return encoded(data)
    return make


def raw(data: bytes):
    return lambda: data


def text_of(fn):
    """A file: the base graph's JSON text changed by ``fn`` (for what json.dumps cannot write)."""
    return lambda: fn(json.dumps(base_json())).encode("utf-8", "surrogatepass")


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def add_node(entry):
    return edit(lambda d: d["nodes"].append(entry))


def input_node(name, shape, dtype="float32"):
    return {"op": "input", "inputs": [], "attrs": {"name": name, "shape": shape, "dtype": {"dtype": dtype},
                                                   "kind": "input"}}


def constant_node(array, dtype, shape):
    return {"op": "constant", "inputs": [], "attrs": {"value": {"array": array, "dtype": dtype, "shape": shape}}}


# id, the file's bytes, what the message must say (after the file's name), ir.load keywords
CASES = [
    # not JSON at all
    ("empty", raw(b""), r"not valid JSON", {}),
    ("truncated", lambda: encoded(base_json())[:300], r"not valid JSON", {}),
    ("truncated_inside_string", lambda: encoded(base_json())[:58], r"not valid JSON", {}),
    ("random_bytes", lambda: random_bytes(4096, 1), r"not UTF-8 text \(byte \d+ is 0x", {}),
    ("random_ascii", lambda: bytes(b % 95 + 32 for b in random_bytes(4096, 2)), r"not valid JSON|nested", {}),
    ("latin1_name", lambda: json.dumps(base_json()).replace('"net"', '"n\xe9t"').encode("latin-1"),
     r"not UTF-8 text \(byte \d+ is 0xe9\)", {}),
    ("utf16", lambda: json.dumps(base_json()).encode("utf-16"), r"not UTF-8 text", {}),
    ("utf8_bom", lambda: b"\xef\xbb\xbf" + encoded(base_json()), r"not valid JSON", {}),
    ("zip_file_renamed", raw(b"PK\x03\x04" + bytes(100)), r"not valid JSON", {}),
    ("huge_int_literal", raw(b'{"format": "tracegrad.graph", "version": ' + b"9" * 5000 + b"}"),
     r"not valid JSON \(.*digits", {}),
    ("nul_bytes", raw(b"\x00" * 1000), r"not valid JSON", {}),
    # deep nesting (json recurses once per level)
    ("deep_list", raw(nested(100_000)), r"nested 100000 levels deep; at most 100", {}),
    ("deep_object", raw(b'{"a":' * 50_000 + b"1" + b"}" * 50_000), r"nested 50000 levels deep", {}),
    ("deep_in_attribute", put("nodes", 7, "attrs", "axes", json.loads(nested(150))), r"nested 15\d levels deep", {}),
    ("deep_unclosed", raw(b"[" * 10_000), r"nested 10000 levels deep", {}),
    # the wrong kind of JSON
    ("top_level_list", raw(b"[]"), r"not a tracegrad graph file", {}),
    ("top_level_null", raw(b"null"), r"not a tracegrad graph file", {}),
    ("foreign_format", put("format", "onnx"), r"not a tracegrad graph file", {}),
    ("version_as_string", put("version", "1"), r"unsupported graph file version str '1'", {}),
    ("future_version", put("version", 2), r"unsupported graph file version int 2 \(expected 1\)", {}),
    ("unknown_top_field", put("__class__", "os.system"), r"unknown fields \['__class__'\]", {}),
    ("nodes_not_a_list", put("nodes", {"0": {}}), r"'nodes' must be a list, got a dict", {}),
    ("outputs_missing", drop("outputs"), r"'outputs' must be a list, got NoneType", {}),
    ("node_not_an_object", put("nodes", 0, ["input"]), r"node 0 must be an object, got a list", {}),
    ("unknown_node_field", put("nodes", 3, "eval", "1+1"), r"node 3: unknown fields \['eval'\]", {}),
    # unknown or wrongly typed ops and fields
    ("unknown_op", put("nodes", 3, "op", "no_such_op"), r"node 3: unknown op str 'no_such_op'", {}),
    ("op_missing", drop("nodes", 3, "op"), r"node 3: unknown op NoneType", {}),
    ("op_is_a_number", put("nodes", 3, "op", 5), r"node 3: unknown op int 5", {}),
    ("op_dunder", put("nodes", 3, "op", "__init__"), r"node 3: unknown op str '__init__'", {}),
    ("unknown_phase", put("nodes", 3, "phase", "sideways"), r"node 3: unknown phase str 'sideways'", {}),
    ("source_not_a_string", put("nodes", 3, "source", ["model.py", 3]), r"node 3 \(mul\): 'source' must be a string", {}),
    ("type_not_an_object", put("nodes", 3, "type", "float32[2, 3]"), r"node 3 \(mul\): 'type' must be \{'shape': \[\.\.\.\], 'dtype': \.\.\.\}, got str 'float32\[2, 3\]'", {}),
    ("stored_type_disagrees", put("nodes", 3, "type", {"shape": [9], "dtype": "float32"}),
     r"node 3 \(mul\): the stored type \(shape list \[9\], dtype str 'float32'\) disagrees with its shape rule \(float32\[2, 3\]\)", {}),
    # graph structure: cycles, dangling and odd references
    ("self_cycle", put("nodes", 3, "inputs", [3, 1]), r"node 3 \(mul\): inputs .* must refer to earlier nodes .*cycle", {}),
    ("cycle_through_later_node", put("nodes", 3, "inputs", [4, 1]), r"node 3 \(mul\): inputs .*earlier nodes", {}),
    ("negative_input", put("nodes", 3, "inputs", [-1, 1]), r"node 3 \(mul\): inputs .*earlier nodes", {}),
    ("bool_input", put("nodes", 3, "inputs", [True, 1]), r"node 3 \(mul\): inputs .*earlier nodes", {}),
    ("float_input", put("nodes", 3, "inputs", [0.0, 1]), r"node 3 \(mul\): inputs .*earlier nodes", {}),
    ("huge_input_index", put("nodes", 3, "inputs", [2**70, 1]), r"node 3 \(mul\): inputs .*earlier nodes", {}),
    ("inputs_not_a_list", put("nodes", 3, "inputs", "0,1"), r"node 3 \(mul\): inputs str '0,1'", {}),
    ("wrong_arity", put("nodes", 3, "inputs", [0]), r"node 3 \(mul\): .*mul: expects 2 inputs, got 1", {}),
    ("output_out_of_range", put("outputs", [7, 99]), r"outputs list \[7, 99\] must be indices of its 8 nodes", {}),
    ("output_names_wrong_count", put("output_names", ["only_one"]), r"output names must be distinct, one per output", {}),
    ("output_name_not_a_string", put("output_names", ["loss", 7]), r"output name 1 must be a string, got int 7", {}),
    ("duplicate_input_names", put("nodes", 1, "attrs", "name", "x"), r"two inputs are named 'x'", {}),
    # attributes
    ("attribute_missing", drop("nodes", 7, "attrs", "keepdim"), r"node 7 \(sum\): attributes \['axes'\] != expected \['axes', 'keepdim'\]", {}),
    ("attribute_extra", put("nodes", 3, "attrs", {"alpha": 2}), r"node 3 \(mul\): attributes \['alpha'\] != expected \[\]", {}),
    ("attrs_not_an_object", put("nodes", 7, "attrs", [[0, 1], False]), r"node 7 \(sum\): 'attrs' must be an object", {}),
    ("attribute_wrong_type", put("nodes", 7, "attrs", "keepdim", "no"), r"node 7 \(sum\): attribute 'keepdim' must be true or false, got str 'no'", {}),
    ("axes_of_floats", put("nodes", 7, "attrs", "axes", [0.0, 1.0]), r"node 7 \(sum\): attribute 'axes' must be a list of at most 64 items, each an int64 integer, got list \[0\.0, 1\.0\]", {}),
    ("axes_out_of_range", put("nodes", 7, "attrs", "axes", [0, 7]), r"node 7 \(sum\): .*axes \(0, 7\) must be sorted", {}),
    ("too_many_axes", put("nodes", 7, "attrs", "axes", list(range(65))), r"node 7 \(sum\): attribute 'axes' must be a list of at most 64 items, each an int64 integer, got a list of 65 items", {}),
    ("input_name_a_number", put("nodes", 0, "attrs", "name", 5), r"node 0 \(input\): attribute 'name' must be a string, got int 5", {}),
    ("input_kind_unknown", put("nodes", 0, "attrs", "kind", "weird"), r"node 0 \(input\): .*kind must be one of", {}),
    ("lone_surrogate_name", text_of(lambda t: t.replace('"name": "x"', '"name": "\\ud800"')),
     r"node 0 \(input\): attribute 'name' is not valid Unicode \(it holds a lone surrogate\)", {}),
    ("lone_surrogate_graph_name", text_of(lambda t: t.replace('"name": "net"', '"name": "\\udfff"')),
     r"the graph's 'name' is not valid Unicode", {}),
    ("graph_name_a_list", put("name", ["net"]), r"the graph's 'name' must be a string, got a list", {}),
    ("unknown_dtype", put("nodes", 0, "attrs", "dtype", {"dtype": "float128"}), r"node 0 \(input\): attribute 'dtype': unknown dtype str 'float128'", {}),
    ("dtype_a_number", put("nodes", 6, "attrs", "dtype", {"dtype": 11}), r"node 6 \(cast\): attribute 'dtype': unknown dtype int 11", {}),
    ("unexpected_attribute_value", put("nodes", 7, "attrs", "keepdim", {"__reduce__": "os.system"}),
     r"node 7 \(sum\): attribute 'keepdim': unexpected attribute value a dict", {}),
    # huge and impossible shapes
    ("huge_dims", put("nodes", 0, "attrs", "shape", [2**40, 2**40]),
     r"node 0 \(input\): its value float32\[1099511627776, 1099511627776\] would need 4194304\.0 EiB, more than the load's max_bytes limit of 1\.0 GiB", {}),
    ("dim_over_int64", put("nodes", 0, "attrs", "shape", [2**64]), r"node 0 \(input\): attribute 'shape' must be a list of at most 64 items, each an int64 integer, got list \[18446744073709551616\]", {}),
    ("negative_dim", put("nodes", 0, "attrs", "shape", [-1, 3]),
     r"node 0 \(input\): the value's shape list \[-1, 3\] must hold non-negative int64 dims", {}),
    ("rank_65", put("nodes", 0, "attrs", "shape", [1] * 65), r"node 0 \(input\): attribute 'shape' must be a list of at most 64 items, each an int64 integer, got a list of 65 items", {}),
    ("nan_dim", text_of(lambda t: t.replace('"shape": [2, 3], "dtype": {', '"shape": [NaN, 3], "dtype": {', 1)),
     r"node 0 \(input\): attribute 'shape' must be a list of at most 64 items, each an int64 integer, got list \[nan, 3\]", {}),
    ("reshape_to_huge", put("nodes", 5, "attrs", "shape", [2**31, 2**31]), r"node 5 \(reshape\): ", {}),
    ("constant_declares_4gb", add_node(constant_node([], "float32", [2**30])),
     r"node 8 \(constant\): attribute 'value': a constant of shape \[1073741824\] needs 4\.0 GiB, more than the load's max_bytes limit of 1\.0 GiB", {}),
    ("constant_size_mismatch", put("nodes", 2, "attrs", "value", {"array": [1.0, 2.0], "dtype": "float32", "shape": [3]}),
     r"node 2 \(constant\): attribute 'value': the array holds 2 values but its shape \[3\] needs 3", {}),
    ("constant_of_strings", put("nodes", 2, "attrs", "value", {"array": ["a", "b", "c"], "dtype": "float32", "shape": [3]}),
     r"node 2 \(constant\): attribute 'value': a constant array must hold only booleans or numbers within 64 bits", {}),
    ("constant_ragged", put("nodes", 2, "attrs", "value", {"array": [[1.0], [2.0, 3.0]], "dtype": "float32", "shape": [3]}),
     r"node 2 \(constant\): attribute 'value': malformed constant array \(setting an array element", {}),
    ("constant_overflows_dtype", add_node(constant_node([300], "uint8", [1])),
     r"node 8 \(constant\): attribute 'value': malformed constant array \(Python integer 300 out of bounds for uint8\)", {}),
    ("constant_floats_as_ints", add_node(constant_node([1.5], "int64", [1])),
     r"node 8 \(constant\): attribute 'value': a constant of dtype int64 holds float64 values", {}),
    ("constant_huge_ints", add_node(constant_node([2**64], "int64", [1])),
     r"node 8 \(constant\): attribute 'value': a constant array must hold only booleans or numbers within 64 bits", {}),
    # over the caller's limit
    ("file_over_max_bytes", lambda: encoded(base_json()), r"the file is larger than the load's max_bytes limit of 1000 bytes; pass a larger max_bytes=", {"max_bytes": 1000}),
    ("many_tiny_values", put("nodes", 7, "attrs", "axes", [[]] * 200_000),
     r"parsing its 782\.7 KiB of JSON needs 27\.5 MiB, more than the load's max_bytes limit of 8\.0 MiB allows", {"max_bytes": 8 * 2**20}),
    ("huge_string", put("nodes", 3, "source", "A" * 3_000_000), r"parsing its 2\.\d MiB of JSON needs", {"max_bytes": 10 * 2**20}),
    ("constant_within_file_but_over_limit", add_node(constant_node([0.5] * 5000, "float64", [5000])),
     r"node 8 \(constant\): attribute 'value': a constant of shape \[5000\] needs 39\.1 KiB, more than", {"max_bytes": 460_000}),
]


@pytest.mark.parametrize("make, message, kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_graph_file_raises_graph_format_error_naming_file_and_field(tmp_path, make, message, kwargs):
    path = tmp_path / "hostile.json"
    path.write_bytes(make())
    with pytest.raises(ir.GraphFormatError) as info:
        ir.load(path, **kwargs)
    text = str(info.value)
    assert text.startswith(f"{path}: "), text
    assert re.search(message, text), text
    assert len(text) < 800, "a message never quotes the whole hostile value"
    assert isinstance(info.value, ValueError) and info.value.__cause__ is None


def test_the_table_holds_at_least_50_files():
    assert len(CASES) >= 50 and len({c[0] for c in CASES}) == len(CASES)


def test_the_base_graph_loads(tmp_path):
    path = tmp_path / "good.json"
    path.write_bytes(encoded(base_json()))
    g = ir.load(path)
    ir.lint(g)
    assert [n.op.name for n in g.nodes] == [n.op.name for n in base_graph().nodes]
    assert g.output_names == ["loss", "y"]


def test_a_missing_file_or_a_directory_is_an_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        ir.load(tmp_path / "missing.json")
    with pytest.raises(IsADirectoryError):
        ir.load(tmp_path)


def test_raising_max_bytes_loads_what_the_default_refuses(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(add_node(constant_node([0.5] * 5000, "float64", [5000]))())
    with pytest.raises(ir.GraphFormatError, match="pass a larger max_bytes="):
        ir.load(path, max_bytes=200_000)
    assert ir.load(path, max_bytes=2**20).nodes[-1].attrs.value.shape == (5000,)


def test_from_json_checks_parsed_data_too():
    with pytest.raises(ir.GraphFormatError, match="unknown op"):
        ir.Graph.from_json({**base_json(), "nodes": [{"op": "exec"}]})
    with pytest.raises(ir.GraphFormatError, match="would need 4.0 TiB"):
        ir.Graph.from_json(json.loads(put("nodes", 0, "attrs", "shape", [2**20, 2**20])()))


def test_json_shape_counts_depth_outside_strings_only():
    assert serialize.json_shape('{"a": "[[[[", "b": ["\\"[[", [1]]}')[0] == 3
    assert serialize.json_shape('["\\\\", [[]]]')[0] == 3
    assert serialize.json_shape("")[0] == 0


# -- every op's attributes, hostile values for each ------------------------------------------------
def test_every_op_attribute_annotation_is_understood_by_the_loader():
    for op in REGISTRY.values():
        hints = typing.get_type_hints(op.attrs)
        for f in fields(op.attrs):
            assert _understood(hints[f.name]), f"{op.name}.{f.name}: {hints[f.name]} (teach serialize.fits)"


def _understood(hint) -> bool:
    if hint in (object, int, float, bool, str, type(None), ir.DType, np.ndarray):
        return True
    args = typing.get_args(hint)
    return bool(args) and all(a is Ellipsis or _understood(a) for a in args)


_HOSTILE = {int: [0, 3, -1, 2**62, -2**63, 2**63 - 1], float: [0.5, float("nan"), float("inf"), -1e308],
            bool: [True, False], str: ["", "input", "x" * 50, "\x00"]}


def _hostile_values(hint):
    if hint in _HOSTILE:
        return _HOSTILE[hint]
    if hint is ir.DType:
        return [{"dtype": d} for d in ("float32", "int64", "bool", "uint8")]
    if hint is np.ndarray:
        return [{"array": [1, 2], "dtype": "float32", "shape": [2]}, {"array": [], "dtype": "int64", "shape": [0, 5]}]
    if hint in (object, type(None)):
        return [None, 1, "a"]
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        items = _hostile_values(args[0])
        return [[], [items[0]], [items[-1]] * 3, items[1:3], [items[0]] * 64]
    return [v for a in args for v in _hostile_values(a)]


def test_every_op_with_hostile_attributes_and_inputs_raises_only_graph_format_error():
    """Each op's shape rule meets hostile attribute values and input shapes through the loader:
    it loads, or fails with GraphFormatError, never another exception."""
    rng = random.Random(0)
    shapes = [[], [2, 3], [0], [2**31, 2**31], [1, 1, 1, 1]]
    for name, op in REGISTRY.items():
        hints = typing.get_type_hints(op.attrs)
        for _ in range(60):
            n_in = op.arity if op.arity is not None else rng.randint(0, 4)
            nodes = [input_node(f"i{k}", rng.choice(shapes), rng.choice(["float32", "int64", "bool"]))
                     for k in range(n_in)]
            attrs = {f.name: rng.choice(_hostile_values(hints[f.name])) for f in fields(op.attrs)}
            nodes.append({"op": name, "inputs": list(range(n_in)), "attrs": attrs})
            data = {"format": serialize.FORMAT, "version": serialize.VERSION, "nodes": nodes, "outputs": [n_in]}
            try:
                ir.Graph.from_json(json.loads(json.dumps(data)))
            except ir.GraphFormatError:
                pass


# -- pictures of crafted names --------------------------------------------------------------------
INJECTIONS = [
    'x" ]; evil [label="pwned"]; n0 -> evil; x [label="',
    'trailing backslash \\',
    'quote " alone',
    "<script>alert(1)</script>&#0;&amp;&lt;",
    "]]></title><script>alert(2)</script>",
    "line\nbreak\r\nand\ttab\x00nul\x1b[31mred",
    "\\N \\G \\L substitutions",
    "}\ndigraph evil {\n",
    "\ufffe\uffff noncharacters",
    "A" * 100_000,
]


def crafted_graph(text: str) -> ir.Graph:
    """The base graph with ``text`` as an input name, a source line and an output name, saved
    and loaded back: the names come from the file."""
    g = base_graph(x_name=text, source_line=text, doc=text)
    g.name = text
    return g


def _loaded(tmp_path, g) -> ir.Graph:
    path = tmp_path / "crafted.json"
    g.save(path)
    return ir.load(path)


@pytest.mark.parametrize("text", INJECTIONS, ids=range(len(INJECTIONS)))
def test_dot_of_crafted_names_has_exactly_the_graphs_statements(tmp_path, text):
    g = _loaded(tmp_path, crafted_graph(text))
    lines = g.to_dot().splitlines()
    string = r'"(?:[^"\\\n]|\\.)*"'
    statement = re.compile(rf"  (n\d+|out\d+) \[label={string}, [^\n]*\];|  n\d+ -> (n|out)\d+( \[[^\n]*\])?;"
                           rf"|  (rankdir|node|edge)[^\n]*;")
    assert re.fullmatch(rf"digraph {string} {{", lines[0]) and lines[-1] == "}"
    assert all(statement.fullmatch(line) for line in lines[1:-1])
    node_lines = [line for line in lines if re.match(r"  (n|out)\d+ \[", line)]
    assert len(node_lines) == len(g.nodes) + len(g.outputs)
    assert all(len(line) < 700 for line in lines), "long names are shortened"
    assert not re.search(r"[\x00-\x08\x0b-\x1f]", "\n".join(lines))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("text", INJECTIONS, ids=range(len(INJECTIONS)))
def test_graphviz_renders_crafted_names_into_valid_svg_with_one_shape_per_node(tmp_path, text):
    g = _loaded(tmp_path, crafted_graph(text))
    svg = dot.run_graphviz(g.to_dot(), "svg")
    root = ET.fromstring(svg)
    groups = [e for e in root.iter(f"{SVG}g") if e.get("class") == "node"]
    assert len(groups) == len(g.nodes) + len(g.outputs)
    assert not list(root.iter(f"{SVG}script")) and b"<script" not in svg
    titles = {e.findtext(f"{SVG}title") for e in groups}
    assert "evil" not in titles


@pytest.mark.parametrize("text", INJECTIONS, ids=range(len(INJECTIONS)))
def test_builtin_svg_of_crafted_names_is_valid_xml(tmp_path, text):
    g = _loaded(tmp_path, crafted_graph(text))
    svg = draw(g)
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG}rect"))) == len(g.nodes)
    assert not list(root.iter(f"{SVG}script"))
    assert all(len(t.text or "") <= 28 for t in root.iter(f"{SVG}text"))


def test_quote_escapes_dot_strings():
    assert dot.quote('a"b') == '"a\\"b"'
    assert dot.quote("a\\") == '"a\\\\"'
    assert dot.quote("a\nb") == '"a\\nb"'
    assert dot.quote("&#0;") == '"&amp;#0;"'
    assert dot.quote("x" * 100, 10) == '"' + "x" * 9 + '\u2026"'


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_failure_is_a_runtime_error_not_a_crash():
    with pytest.raises(RuntimeError, match="Graphviz failed: .*syntax error"):
        dot.run_graphviz("digraph { a -> }", "svg")


def test_a_graphviz_timeout_is_a_runtime_error(monkeypatch):
    def slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs["timeout"])
    monkeypatch.setattr(subprocess, "run", slow)
    with pytest.raises(RuntimeError, match=r"Graphviz took more than 120 s .*write a \.dot file instead"):
        dot.run_graphviz("digraph {}", "svg")


@pytest.mark.parametrize("text", INJECTIONS, ids=range(len(INJECTIONS)))
def test_printed_listing_of_crafted_names_has_one_line_per_node(tmp_path, text):
    g = _loaded(tmp_path, crafted_graph(text))
    lines = str(g).splitlines()
    assert len(lines) == len(g.nodes) - len(g.inputs) + 3  # header, one per computed node, return, }
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", str(g))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_an_endless_file_is_read_only_up_to_max_bytes():
    with pytest.raises(ir.GraphFormatError, match=r"^/dev/zero: the file is larger than the load's max_bytes limit of 1\.0 MiB"):
        ir.load("/dev/zero", max_bytes=2**20)
