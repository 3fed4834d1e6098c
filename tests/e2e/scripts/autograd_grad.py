"""torch.autograd beyond ``backward()``: ``torch.autograd.grad`` with ``create_graph`` for a
gradient penalty and a second derivative, ``retain_graph``, gradient accumulation over two
backward calls, ``requires_grad_``/``detach``, and ``torch.enable_grad`` inside ``no_grad``."""
import numpy as np
import torch
from torch import autograd

x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
y = (x ** 3).sum()
(g,) = autograd.grad(y, x, create_graph=True)
(h,) = torch.autograd.grad(g.sum(), x)
print("grad", " ".join(f"{v:.5f}" for v in g.tolist()), "second", " ".join(f"{v:.5f}" for v in h.tolist()))

w = torch.tensor(np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32), requires_grad=True)
inp = torch.tensor(np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32), requires_grad=True)
out = torch.tanh(inp @ w)
grad_inp, = autograd.grad(out.sum(), inp, create_graph=True)
penalty = ((grad_inp.norm(2, dim=1) - 1) ** 2).mean()
penalty.backward()
print(f"penalty {penalty.item():.6f} w.grad {w.grad.abs().sum().item():.6f}")

z = (w * 2).sum()
z.backward(retain_graph=True)
z.backward()
print("accumulated", w.grad.sum().item() > 0, f"{w.grad.sum().item():.5f}")

frozen = w.detach().requires_grad_(False)
with torch.no_grad():
    print("no_grad", (frozen * 2).requires_grad, torch.is_grad_enabled())
    with torch.enable_grad():
        q = (w * 3).sum()
        print("enable_grad", q.requires_grad)
