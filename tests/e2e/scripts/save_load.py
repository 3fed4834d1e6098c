"""Checkpointing as tutorials do it: ``torch.save`` of a state dict and of a whole checkpoint
dict (epoch, model and optimizer state, losses, a note) to ``.pt`` / ``.pth`` paths, loading
them back into fresh objects, resuming training, and checking the round trip with torch.equal."""
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
rng = np.random.default_rng(13)
X = torch.from_numpy(rng.standard_normal((20, 4)).astype(np.float32))
Y = torch.from_numpy(rng.standard_normal((20, 2)).astype(np.float32))


def make_model():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    init = np.random.default_rng(14)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((init.standard_normal(tuple(p.shape)) * 0.4).astype(np.float32)))
    return model


def train(model, optimizer, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        optimizer.step()
    return loss.item()


model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loss = train(model, optimizer, 5)
print(f"trained loss {loss:.6f}")

weights_path = os.path.join(folder, "model_weights.pth")
torch.save(model.state_dict(), weights_path)
print("saved", os.path.exists(weights_path), sorted(os.listdir(folder)))
restored = make_model()
result = restored.load_state_dict(torch.load(weights_path))
print("missing", list(result.missing_keys), "unexpected", list(result.unexpected_keys))
print("same weights", all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), restored.state_dict().values())))
print("same output", torch.equal(model(X), restored(X)), list(restored.state_dict()))

checkpoint_path = os.path.join(folder, "checkpoint.pt")
torch.save({"epoch": 5, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
            "loss": loss, "history": [1.5, 0.75], "note": "adam, lr 0.01"}, checkpoint_path)
checkpoint = torch.load(checkpoint_path)
print("checkpoint", checkpoint["epoch"], checkpoint["history"], checkpoint["note"], f"{checkpoint['loss']:.6f}")

resumed = make_model()
resumed.load_state_dict(checkpoint["model_state_dict"])
resumed_opt = torch.optim.Adam(resumed.parameters(), lr=0.01)
resumed_opt.load_state_dict(checkpoint["optimizer_state_dict"])
print(f"continued {train(model, optimizer, 5):.6f} resumed {train(resumed, resumed_opt, 5):.6f}")
print("still equal", torch.equal(model(X), resumed(X)))
