"""A makemore-style character MLP (Bengio et al. 2003, as in the "building makemore" lectures):
an embedding table indexed by a tensor, ``keepdims=True`` and ``range`` indexing for a hand-made
negative log likelihood, F.cross_entropy to check it, parameters in a plain list, manual SGD."""
import numpy as np
import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
vocab = len(stoi)
block_size = 3


def build_dataset(names):
    X, Y = [], []
    for w in names:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


Xtr, Ytr = build_dataset(words)
print("dataset", tuple(Xtr.shape), Xtr.dtype == torch.int64, tuple(Ytr.shape), "vocab", vocab)

rng = np.random.default_rng(7)
C = torch.tensor(rng.standard_normal((vocab, 4)).astype(np.float32))
W1 = torch.tensor((rng.standard_normal((block_size * 4, 32)) * 0.3).astype(np.float32))
b1 = torch.tensor((rng.standard_normal(32) * 0.01).astype(np.float32))
W2 = torch.tensor((rng.standard_normal((32, vocab)) * 0.1).astype(np.float32))
b2 = torch.zeros(vocab)
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True
print("parameters", sum(p.nelement() for p in parameters))

for step in range(30):
    emb = C[Xtr]
    h = torch.tanh(emb.view(-1, block_size * 4) @ W1 + b1)
    logits = h @ W2 + b2
    counts = logits.exp()
    prob = counts / counts.sum(1, keepdims=True)
    nll = -prob[range(len(Ytr)), Ytr].log().mean()
    loss = F.cross_entropy(logits, Ytr)
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.5 if step < 20 else 0.05
    for p in parameters:
        p.data += -lr * p.grad
    if step % 5 == 0 or step == 29:
        print(f"step {step} loss {loss.item():.6f} nll {nll.item():.6f}")

with torch.no_grad():
    logits = torch.tanh(C[Xtr].view(Xtr.shape[0], -1) @ W1 + b1) @ W2 + b2
    top = logits.max(dim=1, keepdims=True)
    print("agree", (top.indices.squeeze(1) == Ytr).float().mean().item(), "max", f"{top.values.mean().item():.5f}")
    probs = F.softmax(logits, dim=1)
    print("rows sum to one", torch.allclose(probs.sum(dim=1), torch.ones(len(Ytr))))
