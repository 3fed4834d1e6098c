"""An LBFGS fit with a closure (the optimizer re-evaluates the loss), as curve-fitting scripts do."""
import numpy as np
import torch

t = torch.linspace(0, 1, 30)
target = torch.from_numpy((2.0 * np.exp(-1.5 * np.linspace(0, 1, 30)) + 0.1).astype(np.float32))
params = torch.tensor([1.0, -1.0, 0.0], requires_grad=True)
optimizer = torch.optim.LBFGS([params], lr=0.5, max_iter=20, history_size=10, line_search_fn="strong_wolfe")


def closure():
    optimizer.zero_grad()
    amplitude, rate, offset = params
    loss = ((amplitude * torch.exp(rate * t) + offset - target) ** 2).mean()
    loss.backward()
    return loss


for step in range(3):
    loss = optimizer.step(closure)
    print(f"step {step} loss {loss.item():.6f}")
print("params", " ".join(f"{v:.4f}" for v in params.tolist()))
