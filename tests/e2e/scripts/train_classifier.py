"""An MLP classifier trained the way tutorials write it: device boilerplate, a DataLoader over a
TensorDataset, Adam, a StepLR schedule, the loss printed per epoch. Weights come from NumPy so
torch and tracegrad start from the same numbers."""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--lr", type=float, default=0.05)
args = parser.parse_args()

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device", device)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


rng = np.random.default_rng(0)
X = rng.standard_normal((48, 4)).astype(np.float32)
y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5).astype(np.int64)

model = MLP().to(device)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.4))

loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=8, shuffle=False)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
criterion = nn.CrossEntropyLoss()

for epoch in range(args.epochs):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * xb.size(0)
    scheduler.step()
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(X).to(device))
        accuracy = (logits.argmax(dim=1) == torch.from_numpy(y)).float().mean().item()
    print(f"epoch {epoch} loss {total / len(X):.6f} acc {accuracy:.4f} lr {scheduler.get_last_lr()[0]:.5f}")
