"""Per-op cost of eager mode against PyTorch eager and raw NumPy: a chain of 200 small
elementwise ops on 16 floats (no grad; the input requiring grad so every op records; the same
followed by ``sum().backward()``) and a 512x512 matmul chain. Each variant runs in its own
process, 5 rounds in rotated order (bench/_rounds.py); prints the median per op, the spread
and the ratios to torch eager's and NumPy's time.

    python bench/eager_overhead.py [--rounds N] [--quick] [--filter TEXT] [--json PATH]
    python bench/eager_overhead.py --variant "tracegrad eager" --case "small chain, no grad"   # one child
"""
from __future__ import annotations

import numpy as np
from _rounds import NUMPY, TORCH, Case, cores, main

CHAIN = 200
TRACEGRAD = "tracegrad eager"
CASES = [
    Case("small chain, no grad", (NUMPY, TORCH, TRACEGRAD), unit="us/op", per_call=CHAIN),
    Case("small chain, requires_grad", (TORCH, TRACEGRAD), unit="us/op", per_call=CHAIN),
    Case("small chain, grad+backward", (TORCH, TRACEGRAD), unit="us/op", per_call=CHAIN),
    Case("512x512 matmul chain", (NUMPY, TORCH, TRACEGRAD), unit="us/op", per_call=8, calls=30),
]


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


def module_for(variant: str):
    """The module a variant computes with, imported only in the child that runs it."""
    if variant == NUMPY:
        return np
    if variant == TORCH:
        import torch
        torch.set_num_threads(cores())
        return torch
    import tracer
    return tracer


def build(variant: str, case: Case, quick: bool):
    m = module_for(variant)
    wrap = (lambda a: a) if m is np else m.tensor
    if case.name == "512x512 matmul chain":
        x = wrap(np.random.default_rng(1).standard_normal((512, 512)).astype(np.float32) / 23)
        return lambda: matmul_chain(x, x)
    a = np.random.default_rng(0).standard_normal(16).astype(np.float32) * 0.1
    b = wrap(np.ones(16, np.float32) * 0.5)
    if case.name == "small chain, no grad":
        x = wrap(a)
        return lambda: small_chain(m, x, b)
    if case.name == "small chain, requires_grad":
        return lambda: small_chain(m, m.tensor(a, requires_grad=True), b)

    def forward_backward():
        x = m.tensor(a, requires_grad=True)
        small_chain(m, x, b).sum().backward()
    return forward_backward


if __name__ == "__main__":
    main(CASES, build, description=__doc__)
