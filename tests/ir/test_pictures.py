"""Graph pictures: DOT text, the built-in SVG drawing, and rendering without Graphviz."""
import re
import time
import xml.etree.ElementTree as ET

import pytest

import ir
import tracer
from ir import dot, style, view
from ir.ops import elementwise
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
    assert len([r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "node"]) == len(g.nodes)


def test_without_graphviz_svg_still_renders_and_png_says_what_to_install(monkeypatch):
    monkeypatch.setattr(dot, "graphviz_available", lambda: False)
    g = combined()
    assert b"<svg" in dot.render(g, "svg")
    with pytest.raises(RuntimeError, match="needs Graphviz"):
        dot.render(g, "png")
    assert g._repr_svg_().lstrip().startswith("<svg")


# -- the built-in SVG: layout, arrowheads, outputs, legend, clusters --------------------------

SVG = "{http://www.w3.org/2000/svg}"


class Net(tracer.nn.Module):
    def __init__(self):
        super().__init__()
        tracer.manual_seed(0)
        self.fc1 = tracer.nn.Linear(3, 4)
        self.body = tracer.nn.Sequential(tracer.nn.Linear(4, 4), tracer.nn.ReLU(), tracer.nn.Linear(4, 2))

    def forward(self, x):
        return self.body(tracer.relu(self.fc1(x)))


def training_graph(depth=1):
    """A compiled training step (forward, backward, Adam update) of a small net."""
    tracer.manual_seed(0)
    model = Net()
    if depth > 1:
        model.body = tracer.nn.Sequential(*[m for _ in range(depth) for m in (tracer.nn.Linear(4, 4), tracer.nn.ReLU())],
                                          tracer.nn.Linear(4, 2))
    opt = tracer.optim.Adam(model.parameters(), lr=0.01)

    def step(x, y):
        opt.zero_grad()
        loss = tracer.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled = tracer.compile(step)
    x, y = tracer.randn(5, 3), tracer.randn(5, 2)
    compiled(x, y)
    compiled(x, y)
    return compiled.graph


def _boxes(root, cls):
    """Node boxes (``<rect>``) or output boxes (``<path d="Mx,y hW vH ...">``) by id."""
    out = {}
    for e in root.iter():
        if e.get("class") == cls and e.tag in (SVG + "rect", SVG + "path"):
            if e.tag == SVG + "rect":
                out[e.get("data-id")] = tuple(float(e.get(k)) for k in ("x", "y", "width", "height"))
            else:
                m = re.fullmatch(r"M([-\d.]+),([-\d.]+) h([-\d.]+) v([-\d.]+) .*", e.get("d"))
                out[e.get("data-id")] = tuple(float(v) for v in m.groups())
    return out


def _points(d):
    return [tuple(float(v) for v in p.split(",")) for p in d.replace("M", "").split(" L")]


def _crosses(p, q, box, inset=0.5):
    """Whether segment p-q enters the interior of ``box`` (Liang-Barsky clipping)."""
    x, y, w, h = box
    x0, y0, x1, y1 = x + inset, y + inset, x + w - inset, y + h - inset
    dx, dy = q[0] - p[0], q[1] - p[1]
    lo, hi = 0.0, 1.0
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
        else:
            t = qk / pk
            if pk < 0:
                lo = max(lo, t)
            else:
                hi = min(hi, t)
    return lo < hi


def check_svg(graph, svg_text):
    root = ET.fromstring(svg_text)
    markers = {m.get("id") for m in root.iter(SVG + "marker")}
    edges = [p for p in root.iter(SVG + "path") if p.get("class") == "edge"]
    assert edges
    boxes = {**_boxes(root, "node"), **_boxes(root, "output")}
    rows = {}  # boxes by their top and bottom, so a segment is checked against the rows it spans
    for key, box in boxes.items():
        rows.setdefault((box[1], box[1] + box[3]), []).append((key, box))
    for e in edges:
        assert e.get("marker-end", "")[5:-1] in markers, "every edge ends in an arrowhead"
        pts = _points(e.get("d"))
        for p, q in zip(pts, pts[1:]):
            lo, hi = min(p[1], q[1]), max(p[1], q[1])
            for (top, bottom), row in rows.items():
                if top < hi and lo < bottom:
                    for key, box in row:
                        assert not _crosses(p, q, box), \
                            f"edge {e.get('data-from')}->{e.get('data-to')} crosses box {key}"
    return root


def test_svg_edges_have_arrowheads_and_never_cross_a_box():
    g = combined()
    root = check_svg(g, draw(g))
    shown_edges = {(g.index(i), g.index(n)) for n in g.nodes for i in n.inputs}
    drawn = {(int(e.get("data-from")), int(e.get("data-to"))) for e in root.iter(SVG + "path")
             if e.get("class") == "edge" and int(e.get("data-to")) < len(g.nodes)}
    assert drawn == shown_edges


def test_svg_names_inputs_and_outputs_and_has_a_legend():
    g = combined()
    root = ET.fromstring(draw(g))
    names = [t.text for t in root.iter(SVG + "text") if t.get("class") == "output-name"]
    assert sorted(names) == sorted(g.output_names)
    texts = {t.text for t in root.iter(SVG + "text")}
    assert set(g.input_names) <= texts
    legend = [e for e in root.iter(SVG + "g") if e.get("class") == "legend"]
    assert len(legend) == 1
    assert {"forward op", "backward op", "input", "parameter / state", "constant", "output"} <= \
        {t.text for t in legend[0].iter(SVG + "text")}
    fills = {r.get("fill") for r in root.iter(SVG + "rect") if r.get("class") == "node"}
    assert style.FORWARD_FILL in fills and style.BACKWARD_FILL in fills


def test_svg_layers_put_every_node_below_its_inputs():
    g = training_graph()
    root = ET.fromstring(draw(g))
    boxes = _boxes(root, "node")
    for n in g.nodes:
        for i in n.inputs:
            assert boxes[str(g.index(i))][1] < boxes[str(g.index(n))][1]


def test_svg_is_deterministic():
    assert draw(training_graph(), clusters=True) == draw(training_graph(), clusters=True)
    assert dot.to_dot(training_graph(), clusters=True) == dot.to_dot(training_graph(), clusters=True)


def test_a_500_node_training_graph_draws_quickly_and_cleanly():
    g = training_graph(depth=4)
    assert len(g.nodes) >= 500
    start = time.perf_counter()
    text = draw(g)
    elapsed = time.perf_counter() - start
    assert elapsed < 5, f"{len(g.nodes)} nodes took {elapsed:.2f} s"
    check_svg(g, text)


def test_phase_selection_keeps_the_phase_and_what_feeds_it():
    g = training_graph()
    for phase in ("forward", "backward"):
        kept = view.select(g, phase)
        ops = [n for n in kept if n.op.name not in ("input", "constant")]
        assert ops and all(n.phase == phase for n in ops)
        assert len(ops) == sum(n.phase == phase and n.op.name not in ("input", "constant") for n in g.nodes)
        feeding = {i for n in ops for i in n.inputs if i.op.name in ("input", "constant")}
        assert set(kept) - set(ops) == feeding
        root = check_svg(g, draw(g, kept))
        assert len(_boxes(root, "node")) == len(kept)
        assert dot.to_dot(g, kept).count("fillcolor=") == len(kept)
    assert view.select(g, "all") == g.nodes
    with pytest.raises(ValueError, match="phase"):
        view.select(g, "sideways")


def test_module_clusters_follow_parameter_names():
    g = training_graph()
    clusters = view.module_clusters(g)
    by_name = {n.attrs.name: clusters.get(n) for n in g.inputs}
    assert by_name["fc1.weight"] == "fc1" and by_name["body.0.bias"] == "body.0"
    assert by_name["x"] is None
    state = [n for n in g.inputs if n.attrs.kind == "state" and "fc1.weight" in n.attrs.name]
    assert state and all(clusters[n] == "fc1 \u00b7 update" for n in state)  # read by the update only
    matmuls = {clusters.get(n) for n in g.nodes if n.op.name == "matmul" and n.phase == "forward"}
    assert {"fc1", "body.0", "body.2"} <= matmuls
    relus = [clusters.get(n) for n in g.nodes if n.op.name == "relu"]
    assert relus == [None, "body"]  # fc1 -> relu -> body.0: in neither; body.0 -> relu -> body.2: in body
    assert any(name.endswith("\u00b7 update") for name in clusters.values())


def test_clusters_appear_in_svg_and_nested_in_dot():
    g = training_graph()
    root = check_svg(g, draw(g, clusters=True))
    labels = {t.text for t in root.iter(SVG + "text") if t.get("class") == "cluster-name"}
    assert {"fc1", "body.0", "body.2"} <= labels
    assert [r for r in root.iter(SVG + "path") if r.get("class") == "cluster"]
    text = dot.to_dot(g, clusters=True)
    assert 'label="fc1";' in text and 'label="body.0";' in text
    body = text.index('label="body";')
    assert body < text.index('label="body.0";')  # body.0 nested inside body
    assert "subgraph cluster_" not in dot.to_dot(g)


def test_dot_has_the_legend_and_the_svg_colours():
    g = combined()
    text = g.to_dot()
    legend = [line for line in text.splitlines() if "label=<<TABLE" in line]
    assert len(legend) == 1 and "labelloc=t" in legend[0]  # the graph's own label: no extra node
    for label, fill, _, _ in style.LEGEND:
        assert f"<TD>{label}</TD>" in legend[0] and fill in legend[0]
    assert style.BACKWARD_EDGE in text
    for name in g.output_names:
        assert f'label="{name}"' in text


def test_hostile_names_stay_escaped_in_pictures():
    g = ir.Graph("g")
    x = g.add_input('a"</text><script>.weight', (2,), ir.float32, kind="param")
    g.set_outputs([g.add(elementwise.neg, (x,))], ['<b>&"out'])
    root = ET.fromstring(draw(g, clusters=True))
    assert len(list(root.iter(SVG + "rect"))) == len(g.nodes)  # one <rect> per node, nothing else
    assert not list(root.iter(SVG + "script"))
    assert '<b>&"out' in {t.text for t in root.iter(SVG + "text")}
