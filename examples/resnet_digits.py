"""A small ResNet (basic blocks with BatchNorm, a strided block with a 1x1 projection, global
average pooling) on scikit-learn's 8x8 digits upsampled to 16x16, trained by nothing but
onnxruntime: the compiled training step (forward, backward, SGD with momentum and the
BatchNorm running statistics) is exported once as a standard ``.onnx`` file, and a plain
``onnxruntime.InferenceSession`` loop trains it. The trained weights come back into the
eager model for evaluation.

    python examples/resnet_digits.py                  # 8 epochs on onnxruntime, prints test accuracy
    python examples/resnet_digits.py --epochs 2 --out resnet_step.onnx
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import tracer as torch
from tracer import nn
from tracer.nn import functional as F


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: two 3x3 convolutions with BatchNorm and a shortcut (a 1x1
    strided convolution with BatchNorm when the shape changes)."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, width: int = 16, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = BasicBlock(width, width)
        self.layer2 = BasicBlock(width, 2 * width, stride=2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer2(self.layer1(out))
        return self.fc(torch.flatten(self.pool(out), 1))


def make_data(n_train: int = 1408):
    """Digits scaled to [0, 1], upsampled bilinearly to 16x16, split into train and test."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = torch.tensor(digits.images.astype(np.float32)[:, None] / 16.0)
    x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False).numpy()
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], digits.target[order].astype(np.int64)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def make_step(model, lr: float = 0.05):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


def export_training_step(model, path, batch_size: int = 64):
    """Compile the step and export its steady state for a batch of ``batch_size`` without
    taking a real step; returns the initial feeds (parameters, buffers, momentum, lr)."""
    compiled = torch.compile(make_step(model))
    example = (torch.zeros(batch_size, 1, 16, 16), torch.zeros(batch_size, dtype=torch.int64))
    compiled.export(path, example=example)
    return compiled.feeds()


def train_on_onnxruntime(path, feeds: dict, x, y, epochs: int, batch_size: int = 64, seed: int = 0):
    """The whole training loop with onnxruntime alone: feed the batch and the state, keep the
    ``updated.*`` outputs as the next state. Full batches only (the graph's batch size)."""
    import onnxruntime as ort
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            result = dict(zip(outputs, session.run(None, {"x": x[idx], "y": y[idx], **feeds})))
            for name in feeds:
                if f"updated.{name}" in result:
                    feeds[name] = result[f"updated.{name}"]
            losses.append(float(result[outputs[0]]))
    return feeds, losses


def accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return (model(torch.tensor(x)).argmax(dim=1) == torch.tensor(y)).float().mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--width", type=int, default=16, help="channels of the first stage")
    parser.add_argument("--out", default="", help="keep the exported training step here")
    args = parser.parse_args(argv)
    x_train, y_train, x_test, y_test = make_data()
    torch.manual_seed(0)
    model = ResNet(args.width)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.out) if args.out else Path(tmp) / "resnet_step.onnx"
        feeds = export_training_step(model, path)
        print(f"exported the training step: {path.stat().st_size / 1e3:.0f} kB, {len(feeds)} state inputs")
        feeds, losses = train_on_onnxruntime(path, feeds, x_train, y_train, args.epochs)
    model.load_state_dict({k: torch.tensor(v) for k, v in feeds.items() if k in model.state_dict()})
    acc = accuracy(model, x_test, y_test)
    print(f"loss {losses[0]:.3f} -> {np.mean(losses[-10:]):.3f} over {len(losses)} onnxruntime steps; "
          f"test accuracy {acc:.4f}")
    return {"losses": losses, "test_acc": acc, "feeds": feeds}


if __name__ == "__main__":
    main()
