"""`tracegrad show --phase ... --group-by-module`, and the demo's source lines (in process)."""
import os
import xml.etree.ElementTree as ET

import pytest

import tracer
from ir import dot, style
from tracer import nn
from tracer.cli import demo, main

SVG = "{http://www.w3.org/2000/svg}"

USER_FILE = '''
import tracer as torch
from tracer import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc1 = nn.Linear(4, 8)
        self.head = nn.Sequential(nn.Tanh(), nn.Linear(8, 2))

    def forward(self, x):
        return self.head(self.fc1(x))

def make_net():
    return Net()
'''


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(USER_FILE)
    return path


@pytest.fixture(autouse=True)
def no_graphviz(monkeypatch):
    monkeypatch.setattr(dot, "graphviz_available", lambda: False)  # our SVG, whatever is installed


def show(user_file, tmp_path, *extra, ext="svg"):
    out = tmp_path / f"g.{ext}"
    assert main(["show", f"{user_file}:make_net", "-i", "x=3x4", "--grad", "-o", str(out), *extra]) == 0
    return out.read_text()


def fills(svg_text):
    return [r.get("fill") for r in ET.fromstring(svg_text).iter(SVG + "rect") if r.get("class") == "node"]


def test_phase_filters_the_nodes(user_file, tmp_path):
    every = fills(show(user_file, tmp_path))
    forward = fills(show(user_file, tmp_path, "--phase", "forward"))
    backward = fills(show(user_file, tmp_path, "--phase", "backward"))
    assert style.FORWARD_FILL in every and style.BACKWARD_FILL in every
    assert style.BACKWARD_FILL not in forward and forward.count(style.FORWARD_FILL) == every.count(style.FORWARD_FILL)
    assert style.FORWARD_FILL not in backward and backward.count(style.BACKWARD_FILL) == every.count(style.BACKWARD_FILL)
    assert len(forward) < len(every) and len(backward) < len(every)
    text = show(user_file, tmp_path, "--phase", "backward", ext="dot")
    assert text.count(f'fillcolor="{style.BACKWARD_FILL}"') == every.count(style.BACKWARD_FILL)
    assert f'fillcolor="{style.FORWARD_FILL}"' not in text.replace("BGCOLOR", "")


def test_group_by_module_draws_clusters(user_file, tmp_path):
    svg_text = show(user_file, tmp_path, "--group-by-module")
    labels = {t.text for t in ET.fromstring(svg_text).iter(SVG + "text") if t.get("class") == "cluster-name"}
    assert {"fc1", "head.1"} <= labels
    text = show(user_file, tmp_path, "--clusters", "--phase", "forward", ext="dot")
    assert 'label="fc1";' in text and 'label="head.1";' in text
    assert "subgraph cluster_1" in text
    assert "cluster-name" not in show(user_file, tmp_path)


def test_phase_on_a_graph_without_that_phase_is_a_usage_error(user_file, tmp_path, capsys):
    out = tmp_path / "g.svg"
    assert main(["show", f"{user_file}:make_net", "-i", "x=3x4", "--phase", "backward", "-o", str(out)]) == 2
    assert "no backward nodes" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse rejects an unknown phase
        main(["show", f"{user_file}:make_net", "--phase", "sideways", "-o", str(out)])


def test_demo_nodes_carry_the_demo_source_lines():
    x, y = demo.xor_data(20)
    model = demo.make_model()
    opt = tracer.optim.Adam(model.parameters(), lr=0.05)
    compiled = tracer.compile(demo.make_train_step(model, nn.BCEWithLogitsLoss(), opt))
    compiled(x, y)
    sources = {n.source for n in compiled.graph.nodes if n.source}
    files = {os.path.abspath(s.rsplit(":", 1)[0]) for s in sources}
    assert files == {os.path.abspath(demo.__file__)}, sources
    lines = open(demo.__file__).read().splitlines()
    texts = {lines[int(s.rsplit(":", 1)[1]) - 1].strip() for s in sources}
    assert "loss = loss_fn(model(x), y)" in texts and "opt.step()" in texts
    assert any(n.phase == "backward" and n.source for n in compiled.graph.nodes)
