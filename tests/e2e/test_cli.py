"""The tracegrad command end to end: the demo and every subcommand on a user's file."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import onnx
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

USER_FILE = '''
import tracer as torch
from tracer import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))

    def forward(self, x):
        return self.body(x)

def make_net():
    return Net()

def energy(x):
    return (x ** 2).sum() * 0.5 + torch.sin(x).sum()

def broken(x):
    raise ValueError("deliberately broken")
'''


def tracegrad(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tracer", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(USER_FILE)
    return path


def test_demo_writes_everything_it_promises(tmp_path):
    done = tracegrad("demo", "-o", str(tmp_path / "out"), "--steps", "120", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "interpreter vs onnxruntime" in done.stdout and "faster than eager" in done.stdout
    written = [line.split("wrote ", 1)[1] for line in done.stdout.splitlines() if "wrote " in line]
    assert any(w.endswith("forward.onnx") for w in written) and any(w.endswith("train_step.onnx") for w in written)
    for path in written:
        assert os.path.getsize(path) > 0
        if path.endswith(".onnx"):
            onnx.checker.check_model(onnx.load(path), full_check=True)
        elif path.endswith(".svg"):
            assert ET.parse(path).getroot().tag.endswith("svg")
        elif path.endswith(".png"):
            with open(path, "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_export_a_module_factory_with_dynamic_batch(user_file, tmp_path):
    out = tmp_path / "net.onnx"
    done = tracegrad("export", f"{user_file}:make_net", "--input", "x=16x4", "--dynamic", "x:0", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "parameters: 4 tensors, 58 values" in done.stdout and "ops:" in done.stdout
    model = onnx.load(out)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "x_dim0"


def test_export_with_gradients_then_info(user_file, tmp_path):
    out = tmp_path / "energy.onnx"
    done = tracegrad("export", f"{user_file}:energy", "-i", "x=3:float64", "--grad", "-o", str(out))
    assert done.returncode == 0, done.stderr
    info = tracegrad("info", str(out))
    assert info.returncode == 0, info.stderr
    assert "grad.x" in info.stdout and "double[3]" in info.stdout and "opset ai.onnx 18" in info.stdout


def test_compare_prints_the_report(user_file):
    done = tracegrad("compare", f"{user_file}:Net", "--input", "x=5x4", "--grad")
    assert done.returncode == 0, done.stderr
    assert "grad.body.0.weight" in done.stdout and "yes" in done.stdout


@pytest.mark.parametrize("ext", ["svg", "dot", "png"])
def test_show_draws_a_picture(user_file, tmp_path, ext):
    out = tmp_path / f"g.{ext}"
    done = tracegrad("show", f"{user_file}:energy", "-i", "x=3", "--grad", "-o", str(out))
    if ext == "png" and done.returncode == 1:
        assert "Graphviz" in done.stderr  # no dot on this machine: a clear message
        return
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert {"svg": b"<svg", "dot": b"digraph", "png": b"\x89PNG"}[ext] in data[:400]


def test_show_a_saved_graph_and_an_onnx_file(user_file, tmp_path):
    import tracer
    graph = tracer.trace(lambda x: tracer.relu(x) * 2, tracer.ones(3))
    graph.save(tmp_path / "g.json")
    assert tracegrad("show", str(tmp_path / "g.json"), "-o", str(tmp_path / "g.svg")).returncode == 0
    from backends.onnx import export
    export(graph, tmp_path / "g.onnx")
    done = tracegrad("show", str(tmp_path / "g.onnx"), "-o", str(tmp_path / "o.dot"))
    assert done.returncode == 0 and b"Relu" in (tmp_path / "o.dot").read_bytes()


@pytest.mark.parametrize("args, code, message", [
    (["export", "missing.py:f", "-i", "x=3", "-o", "o.onnx"], 2, "no such file"),
    (["export", "{user}:nope", "-i", "x=3", "-o", "o.onnx"], 2, "has no function 'nope'"),
    (["export", "{user}:energy", "-i", "x=3y4", "-o", "o.onnx"], 2, "malformed shape"),
    (["export", "{user}:energy", "-i", "x=3:complex", "-o", "o.onnx"], 2, "unknown dtype"),
    (["export", "{user}:energy", "-i", "z=3", "-o", "o.onnx"], 2, "not a parameter"),
    (["compare", "{user}:broken", "-i", "x=3"], 1, "raised ValueError: deliberately broken"),
    (["export", "{user}:energy", "-i", "x=3", "--opset", "12", "-o", "o.onnx"], 1, "opset 12 is not supported"),
    (["show", "{user}:energy", "-i", "x=3", "-o", "g.jpg"], 2, "must end in .svg"),
    (["info", "nothing.onnx"], 2, "no such file"),
    (["bogus"], 2, "invalid choice"),
])
def test_bad_arguments_give_one_clear_line(user_file, tmp_path, args, code, message):
    done = tracegrad(*[a.replace("{user}", str(user_file)) for a in args], cwd=tmp_path)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_help_on_every_subcommand():
    for cmd in ("demo", "export", "compare", "show", "info"):
        done = tracegrad(cmd, "--help")
        assert done.returncode == 0 and "usage: tracegrad" in done.stdout
