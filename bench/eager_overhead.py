"""Per-op cost of eager mode against PyTorch eager and raw NumPy, measured in one run:
a chain of small elementwise ops (with and without autograd recording) and a 512x512
matmul chain. Prints microseconds per op and the ratios.

    python bench/eager_overhead.py
"""
from __future__ import annotations

import numpy as np

import tracer
from _timing import median_us

CHAIN = 200


def small_chain(m, x, y):
    for _ in range(CHAIN // 4):
        x = x + y
        x = x * y
        x = x - y
        x = m.relu(x) if m is not np else np.maximum(x, 0)
    return x


def matmul_chain(x, w):
    for _ in range(8):
        x = x @ w
    return x


def main():
    import torch
    torch.set_num_threads(2)
    rows = []
    a = np.random.default_rng(0).standard_normal(16).astype(np.float32) * 0.1
    b = np.ones(16, np.float32) * 0.5
    cases = {
        "numpy": lambda: small_chain(np, a, b),
        "torch eager": lambda ta=torch.tensor(a), tb=torch.tensor(b): small_chain(torch, ta, tb),
        "tracegrad eager": lambda ta=tracer.tensor(a), tb=tracer.tensor(b): small_chain(tracer, ta, tb),
    }
    grad_cases = {
        "torch eager (requires_grad)": lambda: small_chain(torch, torch.tensor(a, requires_grad=True), torch.tensor(b)),
        "tracegrad eager (requires_grad)": lambda: small_chain(tracer, tracer.tensor(a, requires_grad=True), tracer.tensor(b)),
    }
    print(f"small elementwise chain ({CHAIN} ops on 16 floats)")
    times = {k: median_us(f, 200) / CHAIN for k, f in {**cases, **grad_cases}.items()}
    for k, us in times.items():
        rows.append((k, us))
        print(f"  {k:<34} {us:7.2f} us/op   {us / times['numpy']:6.1f}x numpy   "
              f"{us / times['torch eager' if 'requires' not in k else 'torch eager (requires_grad)']:5.2f}x torch")
    x = np.random.default_rng(1).standard_normal((512, 512)).astype(np.float32) / 23
    mats = {"numpy": lambda: matmul_chain(x, x),
            "torch eager": lambda tx=torch.tensor(x): matmul_chain(tx, tx),
            "tracegrad eager": lambda gx=tracer.tensor(x): matmul_chain(gx, gx)}
    print("512x512 matmul chain (8 matmuls)")
    mt = {k: median_us(f, 30) / 8 for k, f in mats.items()}
    for k, us in mt.items():
        print(f"  {k:<34} {us:9.1f} us/op   {us / mt['numpy']:5.2f}x numpy   {us / mt['torch eager']:5.2f}x torch")


if __name__ == "__main__":
    main()
