"""A Dataset subclass (``__len__``/``__getitem__`` returning dicts and tuples) under a
DataLoader with ``drop_last`` and a ``collate_fn``, a small classifier, and the usual
``model.eval()`` + ``torch.no_grad()`` evaluation loop."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class Blobs(Dataset):
    """Three Gaussian blobs in 2-D; items are dicts, as many projects' datasets return."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]], dtype=np.float32)
        self.labels = rng.integers(0, 3, n)
        self.points = (centres[self.labels] + rng.standard_normal((n, 2)) * 0.7).astype(np.float32)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return {"x": torch.from_numpy(self.points[idx]), "y": int(self.labels[idx])}


def as_pair(batch):
    return torch.stack([item["x"] for item in batch]), torch.tensor([item["y"] for item in batch])


train_set, test_set = Blobs(70, seed=1), Blobs(30, seed=2)
print("sizes", len(train_set), len(test_set), "item", sorted(train_set[0]), tuple(train_set[0]["x"].shape))
train_loader = DataLoader(train_set, batch_size=16, shuffle=False, drop_last=True)
test_loader = DataLoader(test_set, batch_size=8, collate_fn=as_pair)
first = next(iter(train_loader))
print("batch", sorted(first), tuple(first["x"].shape), tuple(first["y"].shape), first["y"].dtype == torch.int64)
print("batches", len(train_loader), len(test_loader))

model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 3))
rng = np.random.default_rng(3)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.5).astype(np.float32)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)


def evaluate():
    model.eval()
    correct, total_loss = 0, 0.0
    with torch.no_grad():
        for x, y in test_loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    return total_loss / len(test_set), correct / len(test_set)


for epoch in range(4):
    model.train()
    running = 0.0
    for batch in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(batch["x"]), batch["y"])
        loss.backward()
        optimizer.step()
        running += loss.item()
    test_loss, accuracy = evaluate()
    print(f"epoch {epoch} train {running / len(train_loader):.6f} test {test_loss:.6f} acc {accuracy:.4f}")
