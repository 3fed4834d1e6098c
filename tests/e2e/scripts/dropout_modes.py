"""``model.train()`` / ``model.eval()`` with Dropout: the flags on every submodule, eval output
deterministic and equal to the dropout-free network, train output scaled by 1/(1-p) where kept;
a short training run with p=0 matching exactly."""
import numpy as np
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(p), nn.Linear(32, 2))

    def forward(self, x):
        return self.body(x)


def init_(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))


x = torch.from_numpy(np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32))
net = Net(0.5)
init_(net, 1)
print("training", net.training, [m.training for m in net.modules()])
net.eval()
print("eval", net.training, [m.training for m in net.modules()])
with torch.no_grad():
    a, b = net(x), net(x)
print("eval deterministic", torch.equal(a, b), "sum", f"{a.sum().item():.6f}")
plain = nn.Sequential(net.body[0], net.body[1], net.body[3])
print("eval is dropout-free", torch.allclose(a, plain(x).detach()))

net.train()
hidden = net.body[1](net.body[0](x))
dropped = net.body[2](hidden)
kept = dropped != 0
print("train kept scaled", torch.allclose(dropped[kept], hidden[kept] * 2), "some dropped", bool((~kept & (hidden != 0)).any()))
print("train differs from eval", not torch.allclose(net(x), a))

model = Net(0.0)
init_(model, 2)
target = torch.from_numpy(np.random.default_rng(4).standard_normal((8, 2)).astype(np.float32))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(15):
    model.train()
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), target)
    loss.backward()
    opt.step()
    if step % 5 == 4:
        model.eval()
        with torch.no_grad():
            print(f"step {step} train {loss.item():.6f} eval {nn.functional.mse_loss(model(x), target).item():.6f}")
