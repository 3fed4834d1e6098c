"""Graph pictures: DOT text, the built-in SVG drawing, and rendering without Graphviz."""
import xml.etree.ElementTree as ET

import pytest

import ir
import tracer
from ir import dot, style
from ir.svg import draw


def combined():
    w = tracer.tensor([1.0, -1.0], requires_grad=True)
    return ir.grad(tracer.trace(lambda x: (tracer.tanh(x * w)).sum(), tracer.ones(2)))


def test_dot_has_a_box_per_node_two_phase_colours_and_tooltips():
    g = combined()
    text = g.to_dot()
    assert text.startswith('digraph "<lambda>"')
    assert text.count("label=") >= len(g.nodes)
    assert style.FORWARD_FILL in text and style.BACKWARD_FILL in text
    assert 'tooltip="tests/ir/test_pictures.py:' in text
    assert "grad.w" in text


def test_builtin_svg_is_valid_and_labels_every_node():
    g = combined()
    svg = draw(g)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "tanh" in texts and any(t and t.startswith("x") for t in texts)
    assert len(list(root.iter("{http://www.w3.org/2000/svg}rect"))) == len(g.nodes)


def test_without_graphviz_svg_still_renders_and_png_says_what_to_install(monkeypatch):
    monkeypatch.setattr(dot, "graphviz_available", lambda: False)
    g = combined()
    assert b"<svg" in dot.render(g, "svg")
    with pytest.raises(RuntimeError, match="needs Graphviz"):
        dot.render(g, "png")
    assert g._repr_svg_().lstrip().startswith("<svg")
