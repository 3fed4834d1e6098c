"""Models written with real torch, exported by torch.onnx, imported with ``tracer.onnx.load``:
forward and every parameter's gradient equal to torch's, 20 fine-tuning steps with torch's
losses from the same weights, and the fine-tuning step exported (compile -> export(example=)
-> feeds()) and trained on a plain onnxruntime InferenceSession loop, equal to eager tracer.

torch's exporter is the TorchScript one (``dynamo=False``: the dynamo exporter needs onnxscript).
It is run with ``do_constant_folding=False`` so that parameters stay initializers named after
the module's parameters (folding fuses Conv+BatchNorm and pre-transposes MatMul weights into
``onnx::...`` constants), and every parameter is given a distinct random value because in eval
mode the exporter merges initializers with equal values (LayerNorm's ones, BatchNorm's zeros).

Tolerances: forward 1e-4 (absolute and relative), gradients 1e-3 relative (atol 1e-5 for
entries near zero), as the issue asks. Fine-tuning losses: 5e-5 relative, step by step over 20
steps. Both sides compute in float32 with different summation orders,
so the first loss differs from torch's by ~1e-7 relative and the optimizer steps
compound that; the measured worst over the four models is 3e-6 (LeNet-5 with SGD momentum,
whose loss moves fastest), so 5e-5 leaves room for other BLAS builds while any wrong gradient
or update shows at 1e-2 within a step or two.
onnxruntime vs eager tracer: 1e-4 relative over 5 steps (the same float32 argument, shorter run).
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

import tracer
import tracer.onnx

torch = pytest.importorskip("torch")
# torch's legacy exporter warns that it is legacy, and its tracer that split sizes become constants
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Converting a tensor to a Python")
nn = torch.nn
F = torch.nn.functional

FORWARD_TOL = 1e-4
GRAD_RTOL, GRAD_ATOL = 1e-3, 1e-5
LOSS_RTOL = 5e-5
ORT_RTOL = 1e-4
STEPS = 20
ORT_STEPS = 5


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(8, 32), nn.Linear(32, 32), nn.Linear(32, 4)

    def forward(self, x):
        return self.fc3(torch.tanh(self.fc2(F.relu(self.fc1(x)))))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock with a downsampling 1x1 shortcut, plus a classifier head."""

    def __init__(self, cin=4, cout=8, classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=2, bias=False), nn.BatchNorm2d(cout))
        self.fc = nn.Linear(cout, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = F.relu(out + self.down(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


class GPTBlock(nn.Module):
    """Token + position embeddings, a pre-norm block (causal masked self-attention written with
    matmul/masked_fill/softmax, GELU MLP), final LayerNorm and a vocabulary head."""

    def __init__(self, vocab=17, block=8, dim=16, heads=2):
        super().__init__()
        self.heads = heads
        self.wte, self.wpe = nn.Embedding(vocab, dim), nn.Embedding(block, dim)
        self.ln1, self.ln2, self.ln_f = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.c_attn, self.c_proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc, self.proj = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.head = nn.Linear(dim, vocab)
        self.register_buffer("bias", torch.tril(torch.ones(block, block)).view(1, 1, block, block))

    def forward(self, idx):
        b, t = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(t))
        h = self.ln1(x)
        c = h.shape[-1]
        q, k, v = self.c_attn(h).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / (c // self.heads) ** 0.5)
        att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.c_proj(y)
        x = x + self.proj(F.gelu(self.fc(self.ln2(x))))
        return self.head(self.ln_f(x))


def _data(name, rng):
    if name == "mlp":
        return rng.standard_normal((16, 8)).astype(np.float32), rng.integers(0, 4, 16)
    if name == "lenet5":
        return rng.standard_normal((4, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 4)
    if name == "resnet_block":
        return rng.standard_normal((4, 4, 8, 8)).astype(np.float32), rng.integers(0, 3, 4)
    idx = rng.integers(0, 17, (4, 8))
    return idx, np.roll(idx, -1, axis=1)


MODELS = {"mlp": (MLP, "sgd"), "lenet5": (LeNet5, "sgd"), "resnet_block": (BasicBlock, "adam"),
          "gpt_block": (GPTBlock, "adam")}


def _optimizer(lib, kind, params):
    if kind == "sgd":
        return lib.optim.SGD(params, lr=0.05, momentum=0.9)
    return lib.optim.Adam(params, lr=3e-3)


def _torch_model(name):
    torch.manual_seed(0)
    model = MODELS[name][0]()
    with torch.no_grad():  # distinct values everywhere (see the module docstring), BN stats non-trivial
        for key, value in model.state_dict().items():
            if key.endswith(("weight", "bias")) and value.dtype.is_floating_point and value.dim() == 1:
                value.add_(torch.randn_like(value) * 0.1)
            elif key.endswith("running_mean"):
                value.copy_(torch.randn_like(value) * 0.1)
            elif key.endswith("running_var"):
                value.copy_(torch.rand_like(value) + 0.5)
    return model.eval()


def _export(model, x, path):
    torch.onnx.export(model, (torch.tensor(x),), str(path), dynamo=False, do_constant_folding=False,
                      input_names=["x"], output_names=["logits"], opset_version=17)


def _loss(lib, out, y):
    return lib.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def _imported(path, ref):
    """The imported module, with the torch buffers (BatchNorm statistics, the causal mask), which
    import as float initializers, frozen: only torch's parameters train."""
    module = tracer.onnx.load(path)
    wanted = {n for n, _ in ref.named_parameters()}
    names = {n for n, _ in module.named_parameters()}
    assert wanted <= names, f"missing parameters {sorted(wanted - names)}"
    for n, p in module.named_parameters():
        if n not in wanted:
            p.requires_grad_(False)
    return module, [module.get_parameter(n) for n, _ in ref.named_parameters()]


def _train_step(lib, model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = _loss(lib, model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _torch_model_through_onnx(name, seed, tmp_path):
    """torch's model ``name``, data drawn with ``seed``, and the model exported by torch.onnx
    and imported by tracer (in eval mode) with its parameters."""
    ref = _torch_model(name)
    x, y = _data(name, np.random.default_rng(seed))
    path = tmp_path / f"{name}.onnx"
    _export(ref, x, path)
    module, params = _imported(path, ref)
    module.eval()
    return ref, x, y, module, params


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_exported_model_imports_differentiates_and_fine_tunes_like_torch(name, tmp_path):
    ref, x, y, module, params = _torch_model_through_onnx(name, 1, tmp_path)

    # forward
    out, ref_out = module(tracer.tensor(x)), ref(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), ref_out.detach().numpy(), rtol=FORWARD_TOL, atol=FORWARD_TOL)

    # every parameter's gradient
    _loss(tracer, out, tracer.tensor(y)).backward()
    _loss(torch, ref_out, torch.tensor(y)).backward()
    for (pname, p), ours in zip(ref.named_parameters(), params):
        assert ours.grad is not None, pname
        np.testing.assert_allclose(ours.grad.numpy(), p.grad.numpy(), rtol=GRAD_RTOL, atol=GRAD_ATOL, err_msg=pname)

    # 20 fine-tuning steps from the file's weights, same optimizer and hyperparameters
    kind = MODELS[name][1]
    for p in params:
        p.grad = None
    ref.zero_grad(set_to_none=True)
    ours_step = _train_step(tracer, module, _optimizer(tracer, kind, params))
    ref_step = _train_step(torch, ref, _optimizer(torch, kind, list(ref.parameters())))
    xs, ys = tracer.tensor(x), tracer.tensor(y)
    ours_losses = [ours_step(xs, ys).item() for _ in range(STEPS)]
    ref_losses = [ref_step(torch.tensor(x), torch.tensor(y)).item() for _ in range(STEPS)]
    np.testing.assert_allclose(ours_losses, ref_losses, rtol=LOSS_RTOL)
    assert ours_losses[-1] < ours_losses[0]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_exported_model_fine_tuning_step_trains_on_plain_onnxruntime(name, tmp_path):
    ref, x, y, module, params = _torch_model_through_onnx(name, 2, tmp_path)
    kind = MODELS[name][1]
    step = _train_step(tracer, module, _optimizer(tracer, kind, params))
    compiled = tracer.compile(step)
    xs, ys = tracer.tensor(x), tracer.tensor(y)
    compiled.export(tmp_path / "step.onnx", example=(xs, ys))
    feeds = compiled.feeds()
    session = ort.InferenceSession(str(tmp_path / "step.onnx"))
    batch = {i.name for i in session.get_inputs()} - set(feeds)
    assert batch == {"x", "y"}
    outputs = [o.name for o in session.get_outputs()]
    ort_losses = []
    for _ in range(ORT_STEPS):
        result = dict(zip(outputs, session.run(None, {"x": x, "y": y.astype(np.int64), **feeds})))
        for k in feeds:
            if f"updated.{k}" in result:
                feeds[k] = result[f"updated.{k}"]
        ort_losses.append(float(result[outputs[0]]))
    eager_losses = [step(xs, ys).item() for _ in range(ORT_STEPS)]  # export(example=) left the state as it was
    np.testing.assert_allclose(ort_losses, eager_losses, rtol=ORT_RTOL)
    # The parameters agree too, except entries whose gradient is zero by symmetry (attention's key
    # bias: softmax ignores a per-row shift): there Adam turns float32 rounding noise (~1e-9) into
    # steps of +-lr whose signs differ between the two runs, so those entries only stay within
    # ORT_STEPS * lr of each other.
    for (pname, _), p in zip(ref.named_parameters(), params):
        noise = np.abs(p.grad.numpy()) < 1e-6
        got, want = feeds[pname], p.detach().numpy()
        np.testing.assert_allclose(got[~noise], want[~noise], rtol=1e-3, atol=1e-5, err_msg=pname)
        assert np.all(np.abs(got[noise] - want[noise]) <= ORT_STEPS * 3e-3 * 1.01), pname
