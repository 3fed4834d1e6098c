"""Exporting as the PyTorch tutorials do: ``torch.onnx.export`` with input/output names,
dynamic batch axes and an opset, then checking the file with onnxruntime at another batch size.
(``dynamo=False``: torch's default exporter needs the onnxscript package.)"""
import os
import sys
import tempfile

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Dropout(0.3), nn.Linear(4 * 4 * 4, 3))
init = np.random.default_rng(5)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy((init.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))
model.train()
model(torch.from_numpy(init.standard_normal((6, 1, 8, 8)).astype(np.float32)))  # moves BatchNorm's running stats

folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
path = os.path.join(folder, "classifier.onnx")
example = torch.zeros(2, 1, 8, 8)
torch.onnx.export(model, (example,), path, input_names=["image"], output_names=["logits"],
                  dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                  do_constant_folding=True, dynamo=False)
print("still training", model.training)

session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
print("inputs", [(i.name, i.shape) for i in session.get_inputs()])
print("outputs", [(o.name, o.shape) for o in session.get_outputs()])
x = init.standard_normal((5, 1, 8, 8)).astype(np.float32)
(logits,) = session.run(None, {"image": x})
model.eval()
with torch.no_grad():
    expected = model(torch.from_numpy(x)).numpy()
print("batch of 5", logits.shape, "matches eval model", bool(np.allclose(logits, expected, atol=1e-5)))
print("logits", " ".join(f"{v:.5f}" for v in logits[0]))
