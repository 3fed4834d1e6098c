"""The "What is torch.nn really?" tutorial, condensed, on synthetic 28x28 "digits": logistic
regression from scratch (log_softmax by hand, NLL with range-free integer indexing, accuracy),
then refactored step by step to nn.Module, nn.Linear, optim, TensorDataset and DataLoader,
with a validation loop under no_grad."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(21)
prototypes = rng.uniform(0, 1, (10, 784)).astype(np.float32)
y_np = rng.integers(0, 10, 300)
x_np = np.clip(prototypes[y_np] + rng.standard_normal((300, 784)).astype(np.float32) * 0.5, 0, 1)
x_train, y_train, x_valid, y_valid = map(torch.tensor, (x_np[:200], y_np[:200], x_np[200:], y_np[200:]))
n, c = x_train.shape
print("data", n, c, y_train.min().item(), y_train.max().item())

weights = torch.tensor(rng.standard_normal((784, 10)).astype(np.float32)) / math.sqrt(784)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


loss_func = nll
bs, lr, epochs = 32, 0.05, 2
print(f"start loss {loss_func(model(x_train[0:bs]), y_train[0:bs]).item():.6f}")
for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        xb, yb = x_train[start_i:start_i + bs], y_train[start_i:start_i + bs]
        loss = loss_func(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
print(f"scratch loss {loss_func(model(x_train), y_train).item():.6f} acc {accuracy(model(x_train), y_train).item():.4f}")
print(f"F.cross_entropy agrees {torch.allclose(F.cross_entropy(xb @ weights + bias, yb), loss_func(model(xb), yb))}")


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(784, 10)

    def forward(self, xb):
        return self.lin(xb)


def get_model():
    m = Mnist_Logistic()
    with torch.no_grad():
        m.lin.weight.copy_(torch.tensor(rng.standard_normal((10, 784)).astype(np.float32) / 28))
        m.lin.bias.zero_()
    return m, optim.SGD(m.parameters(), lr=0.01, momentum=0.9)


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        print(f"epoch {epoch} valid {val_loss:.6f}")


train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=bs)
valid_dl = DataLoader(TensorDataset(x_valid, y_valid), batch_size=bs * 2)
model, opt = get_model()
fit(3, model, F.cross_entropy, opt, train_dl, valid_dl)
