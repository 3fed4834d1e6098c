"""Gradient clipping as training loops write it: ``clip_grad_norm_`` (its returned total norm),
``clip_grad_value_``, on an MLP with a deliberately large learning signal."""
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(17)
X = torch.from_numpy((rng.standard_normal((24, 5)) * 3).astype(np.float32))
Y = torch.from_numpy((rng.standard_normal((24, 1)) * 10).astype(np.float32))
model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.5).astype(np.float32)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for step in range(8):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(X), Y)
    loss.backward()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    after = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    if step % 2:
        nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
    optimizer.step()
    print(f"step {step} loss {loss.item():.6f} norm {total.item():.6f} clipped {after.item():.6f}")
