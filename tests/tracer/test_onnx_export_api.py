"""tracer.onnx.export: torch.onnx.export's signature and meaning, against torch's exporter."""
from __future__ import annotations

import inspect

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import tracer
from tracer import nn

torch = pytest.importorskip("torch")


def _model():
    tracer.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Dropout(0.5), nn.Linear(5, 2))


def _run(path, **feeds):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def test_the_signature_is_torchs():
    ours = inspect.signature(tracer.onnx.export)
    theirs = inspect.signature(torch.onnx.export)
    assert list(ours.parameters) == list(theirs.parameters)
    for name, p in theirs.parameters.items():
        if p.default is not inspect.Parameter.empty and name not in ("training", "operator_export_type"):
            assert ours.parameters[name].default == p.default, name
    assert int(ours.parameters["training"].default) == int(theirs.parameters["training"].default)


def test_export_names_dynamic_axes_and_matches_torchs_file(tmp_path):
    ours = _model()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(5, 2))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    kwargs = dict(input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=17)
    tracer.onnx.export(ours, (tracer.ones(2, 3),), tmp_path / "ours.onnx", **kwargs)
    torch.onnx.export(theirs, (torch.ones(2, 3),), str(tmp_path / "theirs.onnx"), dynamo=False, **kwargs)
    x = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    np.testing.assert_allclose(_run(tmp_path / "ours.onnx", x=x)[0], _run(tmp_path / "theirs.onnx", x=x)[0],
                               rtol=1e-5, atol=1e-6)
    for path in ("ours.onnx", "theirs.onnx"):
        model = onnx.load(str(tmp_path / path))
        assert model.opset_import[0].version == 17
        assert [d.dim_param for d in model.graph.output[0].type.tensor_type.shape.dim] == ["n", ""]
    assert ours.training  # exported in eval mode (dropout off), then put back


def test_export_params_false_keeps_parameters_as_inputs_and_kwargs_are_baked(tmp_path):
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x, scale=1.0):
            return self.fc(x) * scale

    model = Scaled()
    proto = tracer.onnx.export(model, (tracer.ones(1, 3), {"scale": 3.0}), tmp_path / "m.onnx", export_params=False)
    assert [i.name for i in proto.graph.input] == ["x", "fc.weight", "fc.bias"]
    feeds = {"x": np.ones((1, 3), np.float32), "fc.weight": model.fc.weight.detach().numpy(),
             "fc.bias": model.fc.bias.detach().numpy()}
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", **feeds)[0],
                               (model(tracer.ones(1, 3)) * 3).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("option", [{"dynamic_shapes": {"x": {0: "n"}}}, {"report": True}, {"verify": True},
                                    {"keep_initializers_as_inputs": True},
                                    {"custom_translation_table": {abs: abs}},
                                    {"operator_export_type": tracer.onnx.OperatorExportTypes.ONNX_ATEN}])
def test_torch_only_options_are_refused_not_ignored(tmp_path, option):
    with pytest.raises(NotImplementedError, match="torch.onnx.export"):
        tracer.onnx.export(_model(), (tracer.ones(2, 3),), tmp_path / "m.onnx", **option)
    assert not (tmp_path / "m.onnx").exists()


def test_bad_names_and_static_output_axes_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="neither an input"):
        tracer.onnx.export(_model(), tracer.ones(2, 3), tmp_path / "m.onnx", dynamic_axes={"z": [0]})
    with pytest.raises(ValueError, match="2 input_names for 1 tensor inputs"):
        tracer.onnx.export(_model(), tracer.ones(2, 3), tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(ValueError, match="is not dynamic in the traced graph"):
        tracer.onnx.export(_model(), tracer.ones(2, 3), tmp_path / "m.onnx", output_names=["y"],
                           dynamic_axes={"y": [0]})
    assert not (tmp_path / "m.onnx").exists()


def test_training_mode_training_exports_dropout_as_a_draw(tmp_path):
    proto = tracer.onnx.export(_model(), tracer.ones(2, 3), None, training=tracer.onnx.TrainingMode.TRAINING)
    assert any(n.op_type.startswith("RandomUniform") for n in proto.graph.node)
    proto = tracer.onnx.export(_model(), tracer.ones(2, 3), None)
    assert not any(n.op_type.startswith("Random") for n in proto.graph.node)
