"""ir.Graph: structure, networkx view, lint, JSON save/load, printing."""
import json

import networkx as nx
import numpy as np
import pytest

import ir
import tracer as torch
from ir.ops import elementwise as E
from ir.ops import source


def textbook_graph():
    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.5, requires_grad=True)

    def loss(x, y):
        z = torch.add(torch.mul(w, x), b)
        return (y - z).pow(2).sum()
    return torch.trace(loss, torch.tensor([1.4]), torch.tensor([2.1]))


def test_textbook_graph_has_the_ops_in_topological_order():
    g = textbook_graph()
    ops = [n.op.name for n in g.nodes if n.op.name not in ("input", "constant")]
    assert ops == ["mul", "add", "sub", "pow", "sum"]
    order = list(nx.topological_sort(g.nx))
    assert [g.nodes[i].op.name for i in order if g.nodes[i].op.name in ops] == ops
    assert nx.is_directed_acyclic_graph(g.nx)
    assert g.input_names == ["x", "y", "w", "b"]
    ir.lint(g)


def test_ordered_inputs_keep_both_uses_of_x_times_x():
    g = torch.trace(lambda x: x * x, torch.ones(3))
    mul = g.outputs[0]
    assert mul.inputs[0] is mul.inputs[1]
    assert g.nx.number_of_edges(g.index(mul.inputs[0]), g.index(mul)) == 2


def test_every_node_carries_the_users_source_line():
    g = textbook_graph()
    computed = [n for n in g.nodes if n.op.name not in ("input", "constant")]
    assert all(n.source and n.source.startswith("tests/ir/test_graph.py:") for n in computed)


def test_json_round_trip(tmp_path):
    g = textbook_graph()
    path = tmp_path / "g.json"
    g.save(path)
    back = ir.load(path)
    ir.lint(back)
    assert [n.op.name for n in back.nodes] == [n.op.name for n in g.nodes]
    assert [n.type for n in back.nodes] == [n.type for n in g.nodes]
    assert back.output_names == g.output_names
    import backends.numpy as bnp
    feeds = [np.array([1.4], np.float32), np.array([2.1], np.float32), np.float32(1.0), np.float32(0.5)]
    assert bnp.run(back, *feeds)[0] == pytest.approx(bnp.run(g, *feeds)[0])


def test_load_rejects_a_cyclic_graph(tmp_path):
    g = textbook_graph()
    data = json.loads(json.dumps(ir.serialize.to_json(g)))
    add = next(i for i, n in enumerate(data["nodes"]) if n["op"] == "add")
    data["nodes"][add]["inputs"][0] = add + 2  # a later node: a cycle
    path = tmp_path / "cyclic.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ir.GraphFormatError, match="earlier nodes"):
        ir.load(path)


@pytest.mark.parametrize("corrupt, message", [
    (lambda d: d.update(format="something else"), "not a tracegrad graph"),
    (lambda d: d["nodes"][0].update(op="no_such_op"), "unknown op"),
    (lambda d: d["nodes"][-1]["attrs"].update(axes=[7]), "axes"),
    (lambda d: d["nodes"][-1].update(type={"shape": [3], "dtype": "float32"}), "disagrees"),
    (lambda d: d.update(outputs=[999]), "corrupted"),
    (lambda d: d["nodes"][0]["attrs"].update(kind="weird"), "kind must be one of"),
])
def test_load_rejects_corrupted_files(tmp_path, corrupt, message):
    data = ir.serialize.to_json(textbook_graph())
    corrupt(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ir.GraphFormatError, match=message):
        ir.load(path)


def test_load_rejects_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "tracegrad.graph", "nodes": [')
    with pytest.raises(ir.GraphFormatError, match="not valid JSON"):
        ir.load(path)


def test_lint_catches_an_edited_node():
    g = textbook_graph()
    node = next(n for n in g.nodes if n.op is E.add)
    node.attrs = E.CastAttrs(ir.float64)
    with pytest.raises(ir.IRError, match="attrs must be"):
        ir.lint(g)


def test_lint_catches_a_node_from_elsewhere():
    g = textbook_graph()
    stranger = ir.make_node(source.constant, (), source.ConstAttrs(np.float32(1.0)))
    g.nodes.append(ir.make_node(E.neg, (stranger,)))
    with pytest.raises(ir.IRError, match="not defined before"):
        ir.lint(g)


def test_print_lists_nodes_with_types_and_sources():
    text = str(textbook_graph())
    assert text.startswith("graph loss(")
    assert "= mul(" in text and "float32[1]" in text and "# tests/ir/test_graph.py:" in text
    assert "return output=" in text


def test_append_refuses_inputs_outside_the_graph():
    g = ir.Graph("g")
    outside = ir.make_node(source.constant, (), source.ConstAttrs(np.float32(1.0)))
    with pytest.raises(ir.IRError, match="not in graph"):
        g.add(E.neg, (outside,))
