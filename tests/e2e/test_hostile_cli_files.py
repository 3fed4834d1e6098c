"""``tracegrad info`` and ``tracegrad show`` on hostile files: a malformed file is one line on
stderr naming the file and the problem, exit code 1, never a traceback; names and doc_strings
from a file cannot add statements to the DOT text or break Graphviz; external data is never
read and huge dims are never allocated.

``show GRAPH.json`` runs over every row of the ir.load hostile-file table as well.
"""
import re
import shutil
import xml.etree.ElementTree as ET

import onnx
import pytest
from onnx import TensorProto, helper

from tests.ir.test_hostile_graph_files import CASES as GRAPH_CASES
from tests.ir.test_hostile_graph_files import INJECTIONS, base_graph
from tracer.cli import main

SVG = "{http://www.w3.org/2000/svg}"
needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def model(doc="", x_name="x", op_type="Relu", init_dims=(3, 2), init_location=None, elem_type=TensorProto.FLOAT):
    """MatMul(x, W) -> op_type, with ``doc`` as every node's doc_string."""
    w = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], [0.5] * 6)
    if init_location is not None or tuple(init_dims) != (3, 2):
        w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=list(init_dims))
    if init_location is not None:
        w.data_location = TensorProto.EXTERNAL
        w.external_data.add(key="location", value=init_location)
        w.external_data.add(key="length", value=str(10**12))
    nodes = [helper.make_node("MatMul", [x_name, "W"], ["h"], doc_string=doc),
             helper.make_node(op_type, ["h"], ["y"], doc_string=doc)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(x_name, elem_type, ["N", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], [w])
    return helper.make_model(graph).SerializeToString()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def deeply_nested_model(depth: int) -> bytes:
    """A ModelProto whose graph holds a node whose attribute holds a graph ... ``depth`` times
    (written by hand: protobuf refuses to build it)."""
    graph = b""
    for _ in range(depth):
        graph = _field(1, _field(5, _field(6, graph)))  # GraphProto.node / NodeProto.attribute / AttributeProto.g
    return _field(7, graph)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# -- info and show of a malformed .onnx file --------------------------------------------------------
ONNX_CASES = [
    ("empty", lambda: b"", r"is not an ONNX model \(it holds no graph\)"),
    ("random_bytes", lambda: bytes(range(256)) * 20, r"is not (a readable|an) ONNX model"),
    ("truncated", lambda: model()[:40], r"is not a readable ONNX model \(DecodeError: Error parsing message"),
    ("json_text", lambda: b'{"format": "tracegrad.graph"}', r"is not (a readable|an) ONNX model"),
    ("deep_nesting", lambda: deeply_nested_model(300), r"is not a readable ONNX model \(DecodeError: .*MaxDepth"),
    ("zip_file", lambda: b"PK\x03\x04" + bytes(200), r"is not (a readable|an) ONNX model"),
]


@pytest.mark.parametrize("command", ["info", "show"])
@pytest.mark.parametrize("make, message", [c[1:] for c in ONNX_CASES], ids=[c[0] for c in ONNX_CASES])
def test_malformed_onnx_file_is_one_line_naming_the_file(tmp_path, capsys, command, make, message):
    path = tmp_path / "hostile.onnx"
    path.write_bytes(make())
    argv = [command, str(path)] + (["-o", str(tmp_path / "g.dot")] if command == "show" else [])
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err.startswith(f"tracegrad {command}: failed: {path} ") and err.count("\n") == 1, err
    assert re.search(message, err), err


def test_a_missing_model_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "info", str(tmp_path / "missing.onnx"))
    assert code == 2 and "no such file" in err


# -- info of hostile but well-formed .onnx files ----------------------------------------------------
def test_info_counts_huge_initializers_from_dims_without_allocating(tmp_path, capsys):
    path = tmp_path / "huge.onnx"
    path.write_bytes(model(init_dims=(2**40, 2**40)))
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0 and f"initializers: 1 tensors, {2**80} values" in out


@pytest.mark.parametrize("location", ["../../../../../../etc/shadow", "/dev/zero", "missing.bin"])
def test_info_and_show_never_read_external_data(tmp_path, capsys, location):
    path = tmp_path / "external.onnx"
    path.write_bytes(model(init_location=location))
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0 and "initializers: 1 tensors, 6 values" in out
    code, _, _ = run(capsys, "show", str(path), "-o", str(tmp_path / "g.dot"))
    assert code == 0


def test_info_prints_names_without_terminal_escapes_or_extra_lines(tmp_path, capsys):
    path = tmp_path / "names.onnx"
    path.write_bytes(model(x_name="x\x1b[2J\x1b[31mred\nfake: line\r", op_type="Evil\nOp"))
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0 and "\x1b" not in out and "\r" not in out
    assert not any(line.startswith("fake") for line in out.splitlines())
    assert re.search(r"^  x \[2J \[31mred fake: line +float\[N, 3\]$", out, re.M), out


def test_info_names_an_unknown_element_type(tmp_path, capsys):
    path = tmp_path / "odd.onnx"
    path.write_bytes(model(elem_type=999))
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0 and "elem_type 999[N, 3]" in out


# -- show of crafted doc_strings and names ----------------------------------------------------------
ONNX_INJECTIONS = INJECTIONS[:9] + ['"']


def _dot_statements(text: str) -> list[str]:
    """The DOT text's node statements, checking every line is one statement we wrote."""
    string = r'"(?:[^"\\\n]|\\.)*"'
    statement = re.compile(rf"  [in]\d+ \[label={string}(, [a-z]+=(?:{string}|[a-z]+))*\];|  [in]\d+ -> n\d+;")
    lines = text.splitlines()
    assert lines[0] == "digraph onnx {" and lines[-1] == "}"
    assert all(line.startswith("  node [") or statement.fullmatch(line) for line in lines[1:-1]), text
    return [line for line in lines if re.match(r"  [in]\d+ \[", line)]


@pytest.mark.parametrize("text", ONNX_INJECTIONS, ids=range(len(ONNX_INJECTIONS)))
def test_show_onnx_quotes_doc_strings_and_names(tmp_path, capsys, text):
    path = tmp_path / "crafted.onnx"
    path.write_bytes(model(doc=text, x_name="x" + text, op_type="Op" + text))
    code, _, err = run(capsys, "show", str(path), "-o", str(tmp_path / "g.dot"))
    assert code == 0, err
    assert len(_dot_statements((tmp_path / "g.dot").read_text())) == 3  # x, MatMul, the op


@needs_graphviz
@pytest.mark.parametrize("text", ONNX_INJECTIONS, ids=range(len(ONNX_INJECTIONS)))
def test_show_onnx_with_crafted_doc_strings_renders_valid_svg(tmp_path, capsys, text):
    path = tmp_path / "crafted.onnx"
    path.write_bytes(model(doc=text, x_name="x" + text, op_type="Op" + text))
    code, _, err = run(capsys, "show", str(path), "-o", str(tmp_path / "g.svg"))
    assert code == 0, err
    root = ET.fromstring((tmp_path / "g.svg").read_bytes())
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]) == 3
    assert not list(root.iter(f"{SVG}script"))


# -- show of graph files: the whole ir.load table, and crafted names ------------------------------------
@pytest.mark.parametrize("make, message, kwargs", [c[1:] for c in GRAPH_CASES if not c[3]],
                         ids=[c[0] for c in GRAPH_CASES if not c[3]])
def test_show_of_a_hostile_graph_file_is_one_line_naming_the_file(tmp_path, capsys, make, message, kwargs):
    path = tmp_path / "hostile.json"
    path.write_bytes(make())
    code, _, err = run(capsys, "show", str(path), "-o", str(tmp_path / "g.svg"))
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(f"tracegrad show: failed: {path}: "), err
    assert re.search(message, err), err
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.parametrize("fmt", ["dot", "svg"])
@pytest.mark.parametrize("text", INJECTIONS, ids=range(len(INJECTIONS)))
def test_show_of_a_graph_file_with_crafted_names_writes_a_well_formed_picture(tmp_path, capsys, fmt, text):
    g = base_graph(x_name=text, source_line=text, doc=text)
    g.name = text
    g.save(tmp_path / "crafted.json")
    out = tmp_path / f"g.{fmt}"
    code, _, err = run(capsys, "show", str(tmp_path / "crafted.json"), "-o", str(out))
    assert code == 0, err
    if fmt == "svg":
        root = ET.fromstring(out.read_bytes())
        assert not list(root.iter(f"{SVG}script"))
    else:
        node_lines = [line for line in out.read_text().splitlines() if re.match(r"  (n|out)\d+ \[", line)]
        assert len(node_lines) == len(g.nodes) + len(g.outputs)


def test_the_cli_tables_hold_enough_files():
    assert len(ONNX_CASES) * 2 + len(GRAPH_CASES) + 3 + 1 + 1 + len(ONNX_INJECTIONS) >= 50
    onnx.checker.check_model(onnx.load_from_string(model()))
