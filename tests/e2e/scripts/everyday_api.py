"""The small everyday calls tutorials sprinkle everywhere: allclose/isclose/equal, new_zeros and
friends, numpy-style axis/keepdims, indexing with ranges and lists, size/shape/numel/item/tolist."""
import numpy as np
import torch

a = torch.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4) / 3)
b = a + 1e-7
print("allclose", torch.allclose(a, b), a.allclose(b + 1e-3), torch.allclose(a, b + 1e-3, atol=1e-2))
print("isclose", torch.isclose(a, b).all().item(), torch.isclose(a, a[[2, 1, 0]]).sum().item())
print("equal", torch.equal(a, a.clone()), torch.equal(a, b), a.equal(a[:2]), torch.equal(a.long(), a.long()))
nan = torch.tensor([1.0, float("nan")])
print("nan", torch.allclose(nan, nan), torch.allclose(nan, nan, equal_nan=True), torch.isclose(nan, nan).tolist())

z = a.new_zeros(2, 3)
o = a.new_ones((2,))
f = a.new_full((2, 2), 0.25)
t = a.new_tensor([[1, 2], [3, 4]])
print("new", tuple(z.shape), o.tolist(), f.sum().item(), t.dtype == a.dtype, t.tolist(), a.new_empty(0).numel())

print("keepdims", a.sum(1, keepdims=True).shape == (3, 1), a.mean(axis=0).tolist())
print("axis", [f"{v:.4f}" for v in torch.std(a, axis=1).tolist()], a.max(axis=1, keepdims=True).values.view(-1).tolist())
print("cat", tuple(torch.cat([a, a], axis=1).shape), tuple(torch.stack([a, a], axis=0).shape))
print("range", a[range(3), [0, 1, 3]].tolist(), a[[2, 0]][:, range(1, 3)].tolist())
a[range(2), 0] = -1.0
print("set", a[:, 0].tolist())
print("sizes", tuple(a.size()), a.size(1), a.shape[0], a.numel(), a.dim(), a.ndim, len(a))
print("items", a[0, 1].item(), a.argmax().item(), int(a.sum()), float(a.mean()))
