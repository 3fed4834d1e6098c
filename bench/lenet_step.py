"""Median time per LeNet-5 SGD training step (batch 64, 1x28x28: conv 6@5x5 pad 2, max_pool 2,
conv 16@5x5, max_pool 2, 120-84-10, relu, cross-entropy): PyTorch eager, tracegrad eager, and
tracegrad compiled on the NumPy backend and on onnxruntime (issue 14's targets: compiled
onnxruntime >= 1.5x faster than torch eager, eager within 1.5x of torch). Each variant runs in
its own process, 5 rounds in rotated order (bench/_rounds.py).

    python bench/lenet_step.py [--rounds N] [--quick] [--threads N] [--json PATH]
"""
from __future__ import annotations

import numpy as np
from _rounds import TORCH, Case, cores, main

EAGER, COMPILED_NUMPY, COMPILED_ORT = "tracegrad eager", "tracegrad compiled numpy", "tracegrad compiled onnxruntime"
BENCH = [Case("lenet-5 b64 SGD step", (TORCH, EAGER, COMPILED_NUMPY, COMPILED_ORT), unit="ms/step", calls=20)]


def lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def build_variant(variant: str, case: Case, quick: bool):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    if variant == TORCH:
        import torch as m
        m.set_num_threads(cores())
    else:
        import tracer as m
    m.manual_seed(0)
    model = lenet(m.nn)
    opt = m.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = m.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    if variant in (COMPILED_NUMPY, COMPILED_ORT):
        step = m.compile(step, backend="numpy" if variant == COMPILED_NUMPY else "onnxruntime")
    args = (m.tensor(x), m.tensor(y))
    return lambda: step(*args)


if __name__ == "__main__":
    main(BENCH, build_variant, description=__doc__)
