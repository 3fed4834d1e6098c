"""XOR classification three ways: an nn.Sequential, an nn.Module, and a model with a custom
noisy linear layer (Gaussian noise on its input during training only). Trained with BCE + SGD
on 200 XOR points, as in the textbook chapter; tracegrad runs it unchanged but for the import.

The chapter's 2-4-4-1 network fits XOR unreliably (dying ReLUs leave 74-96% validation accuracy
depending on the seed, in PyTorch too), so the hidden layers here have 16 units.

    python examples/xor.py            # prints validation accuracy, saves xor_curves.png
"""
from __future__ import annotations

import numpy as np

import tracer as torch
from tracer import nn
from tracer.utils.data import DataLoader, TensorDataset


HIDDEN = 16


def make_data(seed: int = 1):
    """Points uniform in [-1, 1]^2, label 1 where x0 * x1 >= 0: 200 to train, 200 to validate."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(400, 2)).astype(np.float32)
    y = np.ones(len(x), dtype=np.float32)
    y[x[:, 0] * x[:, 1] < 0] = 0
    return x[:200], y[:200], x[200:], y[200:]


def sequential_model():
    return nn.Sequential(nn.Linear(2, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, 1), nn.Sigmoid())


class MyModule(nn.Module):
    def __init__(self):
        super().__init__()
        l1, l2, l3 = nn.Linear(2, HIDDEN), nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, 1)
        self.module_list = nn.ModuleList([l1, nn.ReLU(), l2, nn.ReLU(), l3, nn.Sigmoid()])

    def forward(self, x):
        for f in self.module_list:
            x = f(x)
        return x

    def predict(self, x):
        x = torch.tensor(x, dtype=torch.float32)
        return (self.forward(x)[:, 0] >= 0.5).float()


class NoisyLinear(nn.Module):
    """A linear layer that adds N(0, noise_stddev) to its input while training."""

    def __init__(self, input_size, output_size, noise_stddev=0.1):
        super().__init__()
        w = torch.Tensor(input_size, output_size)
        self.w = nn.Parameter(w)
        nn.init.xavier_uniform_(self.w)
        b = torch.Tensor(output_size).fill_(0)
        self.b = nn.Parameter(b)
        self.noise_stddev = noise_stddev

    def forward(self, x, training=False):
        if training:
            noise = torch.normal(0.0, self.noise_stddev, x.shape)
            x_new = torch.add(x, noise)
        else:
            x_new = x
        return torch.add(torch.mm(x_new, self.w), self.b)


class MyNoiseModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = NoisyLinear(2, HIDDEN, 0.07)
        self.a1 = nn.ReLU()
        self.l2 = nn.Linear(HIDDEN, HIDDEN)
        self.a2 = nn.ReLU()
        self.l3 = nn.Linear(HIDDEN, 1)
        self.a3 = nn.Sigmoid()

    def forward(self, x, training=False):
        x = self.l1(x, training)
        x = self.a2(self.l2(self.a1(x)))
        return self.a3(self.l3(x))


def train(model, data, num_epochs=100, batch_size=8, lr=0.1, momentum=0.9, noisy=False, progress=None):
    """Mini-batch SGD on BCE; returns per-epoch (train loss, train acc, valid loss, valid acc)."""
    x_train, y_train, x_valid, y_valid = (torch.from_numpy(a) for a in data)
    torch.manual_seed(1)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size, shuffle=True)
    loss_fn = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    history = {k: [0.0] * num_epochs for k in ("loss", "acc", "val_loss", "val_acc")}
    for epoch in range(num_epochs):
        for x_batch, y_batch in loader:
            pred = (model(x_batch, True) if noisy else model(x_batch))[:, 0]
            loss = loss_fn(pred, y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            history["loss"][epoch] += loss.item() * y_batch.size(0)
            history["acc"][epoch] += ((pred >= 0.5).float() == y_batch).float().sum().item()
        history["loss"][epoch] /= len(x_train)
        history["acc"][epoch] /= len(x_train)
        with torch.no_grad():
            pred = model(x_valid)[:, 0]
            history["val_loss"][epoch] = loss_fn(pred, y_valid).item()
            history["val_acc"][epoch] = ((pred >= 0.5).float() == y_valid).float().mean().item()
        if progress is not None:
            progress.update(1)
    return history


def main(num_epochs: int = 100, plot: str | None = "xor_curves.png") -> dict:
    from tqdm import tqdm
    data = make_data()
    results = {}
    for name, factory, noisy in (("Sequential", sequential_model, False), ("Module", MyModule, False),
                                 ("NoisyModule", MyNoiseModule, True)):
        torch.manual_seed(1)
        model = factory()
        with tqdm(total=num_epochs, desc=f"XOR {name}") as bar:
            results[name] = train(model, data, num_epochs, noisy=noisy, progress=bar)
        print(f"{name:12s} validation accuracy {results[name]['val_acc'][-1]:.1%}")
    if plot:
        _plot(results, plot)
    return results


def _plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, h in results.items():
        axes[0].plot(h["loss"], label=f"{name} train")
        axes[0].plot(h["val_loss"], "--", label=f"{name} valid")
        axes[1].plot(h["val_acc"], label=name)
    axes[0].set(xlabel="epoch", ylabel="BCE loss")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
