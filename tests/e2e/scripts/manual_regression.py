"""Linear regression with hand-written SGD: tensors with requires_grad, updates under no_grad
and through ``.data``, grads zeroed by hand; run as a main module with its own arguments."""
import sys

import numpy as np
import torch

from regression_data import make_data


def main(argv):
    steps = int(argv[1]) if len(argv) > 1 else 40
    x, y = make_data()
    w = torch.zeros(3, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.1
    for step in range(steps):
        pred = x @ w + b
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
        b.data.add_(b.grad, alpha=-lr)
        w.grad.zero_()
        b.grad = None
        if step % 10 == 0 or step == steps - 1:
            print(f"step {step} loss {loss.item():.6f}")
    print("w", " ".join(f"{v:.5f}" for v in w.detach().numpy().ravel()), "b", f"{b.item():.5f}")
    return 0


if __name__ == "__main__":
    print("argv", sys.argv[1:], "name", __name__)
    sys.exit(main(sys.argv))
