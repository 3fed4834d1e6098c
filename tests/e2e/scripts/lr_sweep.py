"""An LR-scheduler sweep as people write one to pick a schedule: each scheduler drives a fresh
optimizer on the same model for a few epochs; the learning rates and final losses printed."""
import numpy as np
import torch
import torch.nn as nn
from torch.optim import lr_scheduler

rng = np.random.default_rng(9)
X = torch.from_numpy(rng.standard_normal((32, 3)).astype(np.float32))
Y = X @ torch.tensor([[1.0], [-1.0], [0.5]]) + 0.1
W0 = rng.standard_normal((1, 3)).astype(np.float32)


def fresh_model():
    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(W0))
        model.bias.zero_()
    return model


schedules = {
    "step": lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    "exponential": lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.8),
    "lambda": lambda opt: lr_scheduler.LambdaLR(opt, lr_lambda=lambda epoch: 1.0 / (1 + epoch)),
    "warmup": lambda opt: lr_scheduler.LambdaLR(opt, lambda e: min(1.0, (e + 1) / 3)),
}

for name, make in schedules.items():
    model = fresh_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    scheduler = make(optimizer)
    lrs = []
    for epoch in range(6):
        for i in range(0, 32, 8):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(X[i:i + 8]), Y[i:i + 8])
            loss.backward()
            optimizer.step()
        lrs.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
    with torch.no_grad():
        final = nn.functional.mse_loss(model(X), Y).item()
    print(name, "lrs", " ".join(f"{lr:.5f}" for lr in lrs), "last", f"{scheduler.get_last_lr()[0]:.5f}",
          "loss", f"{final:.6f}")
