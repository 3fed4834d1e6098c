"""A regression net trained with the mixed-precision recipe (autocast + GradScaler, enabled
only on CUDA), importing the way larger projects do."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim.lr_scheduler as lr_scheduler
from torch.utils.data.dataloader import DataLoader
from torch.utils.data import TensorDataset

use_amp = torch.cuda.is_available()
device = "cuda" if use_amp else "cpu"

rng = np.random.default_rng(2)
X = rng.uniform(-1, 1, (40, 2)).astype(np.float32)
Y = np.sin(X[:, :1] * 2) + X[:, 1:] ** 2

net = nn.Sequential(nn.Linear(2, 12), nn.Tanh(), nn.Linear(12, 1)).to(device)
for p in net.parameters():
    p.data.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))

loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(Y, dtype=torch.float32)), batch_size=10)
opt = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9)
sched = lr_scheduler.ExponentialLR(opt, gamma=0.9)
scaler = torch.amp.GradScaler(device, enabled=use_amp)

for epoch in range(4):
    losses = []
    for xb, yb in loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device, enabled=use_amp):
            loss = F.mse_loss(net(xb), yb)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    sched.step()
    print(f"epoch {epoch} mean {sum(losses) / len(losses):.6f} last {losses[-1]:.6f}")
