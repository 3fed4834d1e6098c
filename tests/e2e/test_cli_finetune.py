"""``tracegrad finetune`` end to end, in a subprocess: an MLP exported by tracer's (and torch's)
torch.onnx.export, fine-tuned on a small .npz dataset; the trained model has a lower loss and
the original's input/output names, ``--train-graph`` trains on plain onnxruntime, and bad
inputs end with exit code 1 or 2 and a one-line error."""
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

import tracer
import tracer.onnx
from tracer import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tracegrad(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tracer", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


def _dataset(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tracer MLP exported with a symbolic batch dim and named input/output, and its data."""
    d = tmp_path_factory.mktemp("finetune")
    tracer.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
    tracer.onnx.export(model, (tracer.randn(8, 4),), str(d / "mlp.onnx"), input_names=["features"],
                       output_names=["scores"], dynamic_axes={"features": {0: "batch"}})
    x, y = _dataset()
    np.savez(d / "data.npz", x=x, y=y)
    return d


def _ce(path, x, y):
    session = ort.InferenceSession(str(path))
    (logits,) = session.run(None, {session.get_inputs()[0].name: x})
    z = logits - logits.max(-1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(-1)) - z[np.arange(len(y)), y]))


def test_finetune_lowers_the_loss_and_keeps_the_models_names(files):
    done = tracegrad("finetune", files / "mlp.onnx", "--data", files / "data.npz", "--loss", "ce",
                     "--optim", "adam", "--lr", "0.02", "--steps", "60", "--batch", "16",
                     "-o", files / "trained.onnx")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.startswith("step ") for line in lines) >= 5 and lines[-2].startswith("final loss ")
    x, y = _dataset()
    assert _ce(files / "trained.onnx", x, y) < 0.8 * _ce(files / "mlp.onnx", x, y)
    original, trained = onnx.load(files / "mlp.onnx"), onnx.load(files / "trained.onnx")
    onnx.checker.check_model(trained, full_check=True)
    session = ort.InferenceSession(str(files / "trained.onnx"))
    assert [i.name for i in session.get_inputs()] == ["features"]
    assert [o.name for o in session.get_outputs()] == ["scores"]
    assert session.get_inputs()[0].shape == ["batch", 4]  # the symbolic dim is kept
    assert [n.op_type for n in trained.graph.node] == [n.op_type for n in original.graph.node]
    assert [i.name for i in trained.graph.initializer] == [i.name for i in original.graph.initializer]


def test_train_graph_continues_training_on_plain_onnxruntime(files):
    done = tracegrad("finetune", files / "mlp.onnx", "--data", files / "data.npz", "--loss", "ce",
                     "--lr", "0.02", "--steps", "20", "--batch", "64", "-o", files / "t2.onnx",
                     "--train-graph", files / "step.onnx")
    assert done.returncode == 0, done.stderr
    feeds = dict(np.load(files / "step.npz", allow_pickle=False))
    session = ort.InferenceSession(str(files / "step.onnx"))
    assert {i.name for i in session.get_inputs()} == set(feeds) | {"x", "y"}
    outputs = [o.name for o in session.get_outputs()]
    x, y = _dataset()
    losses = []
    for _ in range(5):
        result = dict(zip(outputs, session.run(None, {"x": x, "y": y, **feeds})))
        for k in feeds:
            if f"updated.{k}" in result:
                feeds[k] = result[f"updated.{k}"]
        losses.append(float(result[outputs[0]]))
    # the step starts from the trained weights (its first loss is the trained model's loss) and trains on
    np.testing.assert_allclose(losses[0], _ce(files / "t2.onnx", x, y), rtol=1e-5)
    assert losses[-1] < losses[0]


def test_finetune_a_torch_exported_model_with_mse_and_sgd(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    torch.onnx.export(model, (torch.randn(8, 3),), str(tmp_path / "reg.onnx"), dynamo=False,
                      input_names=["inp"], output_names=["pred"])  # a fixed batch of 8
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = np.stack([x[:, 0] - x[:, 1], x[:, 2] * 0.5], 1).astype(np.float64)  # float64 targets are cast
    np.savez(tmp_path / "d.npz", x=x, y=y)
    done = tracegrad("finetune", tmp_path / "reg.onnx", "--data", tmp_path / "d.npz", "--loss", "mse",
                     "--optim", "sgd", "--lr", "0.1", "--steps", "100", "-o", tmp_path / "out.onnx")
    assert done.returncode == 0, done.stderr
    assert "batch 8" in done.stdout

    def mse(path):
        s = ort.InferenceSession(str(path))
        assert [i.name for i in s.get_inputs()] == ["inp"] and [o.name for o in s.get_outputs()] == ["pred"]
        return np.mean([np.mean((s.run(None, {"inp": x[i:i + 8]})[0] - y[i:i + 8]) ** 2) for i in range(0, 40, 8)])
    assert mse(tmp_path / "out.onnx") < 0.5 * mse(tmp_path / "reg.onnx")


def _bad_files(d):
    x, y = _dataset()
    np.savez(d / "float64.npz", x=x.astype(np.float64), y=y)
    np.savez(d / "wide.npz", x=np.zeros((64, 5), np.float32), y=y)
    np.savez(d / "no_y.npz", x=x)
    np.savez(d / "short_y.npz", x=x, y=y[:10])
    np.savez(d / "float_y.npz", x=x, y=y.astype(np.float32))
    np.savez(d / "big_class.npz", x=x, y=y + 5)
    np.save(d / "single.npy", x)
    np.savez(d / "objects.npz", x=np.array([{"a": 1}] * 64, dtype=object), y=y)
    (d / "garbage.onnx").write_bytes(b"\x08\x07not a protobuf at all\xff\xff")
    node = helper.make_node("NoSuchOp", ["features"], ["scores"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("features", onnx.TensorProto.FLOAT, [8, 4])],
                              [helper.make_tensor_value_info("scores", onnx.TensorProto.FLOAT, [8, 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), d / "unsupported.onnx")


BAD = [  # (model, data, extra args, exit code, words in the error)
    ("missing.onnx", "data.npz", [], 2, "no such model file"),
    ("mlp.onnx", "missing.npz", [], 2, "no such data file"),
    ("mlp.onnx", "float64.npz", [], 2, "'x' is float64 but the model's input 'features' is float32"),
    ("mlp.onnx", "wide.npz", [], 2, "axis 1 differs"),
    ("mlp.onnx", "no_y.npz", [], 2, "has no array 'y'"),
    ("mlp.onnx", "short_y.npz", [], 2, "'x' has 64 examples but 'y' has 10"),
    ("mlp.onnx", "float_y.npz", [], 2, "needs integer class indices"),
    ("mlp.onnx", "big_class.npz", [], 2, "the model has 3 classes"),
    ("mlp.onnx", "single.npy", [], 2, "single array"),
    ("mlp.onnx", "objects.npz", [], 2, "cannot read"),
    ("mlp.onnx", "data.npz", ["--steps", "0"], 2, "--steps must be at least 1"),
    ("mlp.onnx", "data.npz", ["--lr", "-1"], 2, "--lr must be a positive number"),
    ("mlp.onnx", "data.npz", ["--batch", "100"], 2, "only 64 examples"),
    ("garbage.onnx", "data.npz", [], 1, "is not a readable ONNX model"),
    ("unsupported.onnx", "data.npz", [], 1, "NoSuchOp"),
]


@pytest.mark.parametrize("model,data,extra,code,words", BAD, ids=[b[4] for b in BAD])
def test_bad_inputs_give_exit_codes_and_one_line_errors(files, model, data, extra, code, words):
    if not (files / "garbage.onnx").exists():
        _bad_files(files)
    done = tracegrad("finetune", files / model, "--data", files / data, "--loss", "ce", *extra,
                     "-o", files / "never.onnx")
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracegrad finetune: ") and words in lines[0], done.stderr
    assert not (files / "never.onnx").exists()


def test_bad_choices_are_usage_errors(files):
    done = tracegrad("finetune", files / "mlp.onnx", "--data", files / "data.npz", "--loss", "hinge", "-o", "x.onnx")
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_batchnorm_statistics_stay_fixed_and_show_info_read_a_torch_export(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                torch.nn.Linear(8, 3)).eval()
    with torch.no_grad():
        model[1].running_mean.copy_(torch.randn(8) * 0.1)
        model[1].running_var.copy_(torch.rand(8) + 0.5)
    torch.onnx.export(model, (torch.randn(16, 4),), str(tmp_path / "bn.onnx"), dynamo=False,
                      do_constant_folding=False, input_names=["x"], output_names=["y"])
    x, y = _dataset(32)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    done = tracegrad("finetune", tmp_path / "bn.onnx", "--data", tmp_path / "d.npz", "--loss", "ce",
                     "--lr", "0.01", "--steps", "10", "-o", tmp_path / "out.onnx")
    assert done.returncode == 0, done.stderr
    before = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(tmp_path / "bn.onnx").graph.initializer}
    after = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(tmp_path / "out.onnx").graph.initializer}
    assert np.array_equal(before["1.running_mean"], after["1.running_mean"])
    assert np.array_equal(before["1.running_var"], after["1.running_var"])
    assert not np.array_equal(before["1.weight"], after["1.weight"])
    assert not np.array_equal(before["0.weight"], after["0.weight"])
    info = tracegrad("info", tmp_path / "out.onnx")
    assert info.returncode == 0 and "BatchNormalization 1" in info.stdout and "producer: pytorch" in info.stdout
    drawn = tmp_path / ("g.svg" if shutil.which("dot") else "g.dot")  # SVG of an .onnx file needs Graphviz
    show = tracegrad("show", tmp_path / "out.onnx", "-o", drawn)
    assert show.returncode == 0, show.stderr
    text = drawn.read_text().lstrip()
    assert text.startswith(("<?xml", "<svg")) if drawn.suffix == ".svg" else text.startswith(("digraph", "strict digraph"))
