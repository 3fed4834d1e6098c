"""Eager steps of a 784-32-16-10 MLP at batch 64 (cross-entropy): forward+backward, and a full
Adam step (zero_grad, forward, backward, ``optimizer.step()``), tracegrad against PyTorch
eager and the same Adam step written by hand in NumPy; plus the node counts of the forward and
combined graphs. Each variant runs in its own process, 5 rounds in rotated order
(bench/_rounds.py); prints medians, spreads and ratios to torch eager's and NumPy's time.

    python bench/mlp_step.py [--rounds N] [--quick] [--filter TEXT] [--json PATH]
    python bench/mlp_step.py --variant "tracegrad eager" --case "mlp b64 Adam step"   # one child
"""
from __future__ import annotations

import numpy as np
from _rounds import TORCH, Case, cores, main
from train_step import data, init_weights, numpy_loss_and_grads

SIZES, BATCH = [784, 32, 16, 10], 64
TRACEGRAD, HAND_NUMPY = "tracegrad eager", "numpy by hand"
CASES = [
    Case("mlp b64 forward+backward", (TORCH, TRACEGRAD), unit="us/step", calls=300),
    Case("mlp b64 Adam step", (HAND_NUMPY, TORCH, TRACEGRAD), unit="us/step", calls=300, numpy=HAND_NUMPY),
    Case("graph nodes, forward", ("tracegrad",), unit="nodes", once=True, max_rounds=1),
    Case("graph nodes, forward+backward", ("tracegrad",), unit="nodes", once=True, max_rounds=1),
    Case("graph nodes, backward", ("tracegrad",), unit="nodes", once=True, max_rounds=1),
]


def model_and_data(m):
    m.manual_seed(0)
    model = m.nn.Sequential(m.nn.Linear(784, 32), m.nn.ReLU(), m.nn.Linear(32, 16), m.nn.ReLU(), m.nn.Linear(16, 10))
    rng = np.random.default_rng(0)
    x = m.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y = m.tensor(rng.integers(0, 10, 64))
    return model, x, y


def step(m, model, x, y):
    model.zero_grad()
    loss = m.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    return loss


def numpy_adam_step(weights, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """The Adam step with torch's defaults and update order, written by hand in NumPy."""
    ws = [w.copy() for w in weights]
    avg, avg_sq, count = [np.zeros_like(w) for w in ws], [np.zeros_like(w) for w in ws], [0]
    b1, b2 = betas

    def adam(x, y):
        loss, grads = numpy_loss_and_grads(SIZES, "ce", ws, x, y)
        count[0] += 1
        step_size = lr / (1 - b1 ** count[0])
        root_bc2 = (1 - b2 ** count[0]) ** 0.5
        for w, g, m, v in zip(ws, grads, avg, avg_sq):
            m += (1 - b1) * (g - m)
            v *= b2
            v += (1 - b2) * g * g
            w -= step_size * m / (np.sqrt(v) / root_bc2 + eps)
        return loss
    return adam


def node_count(which: str) -> int:
    import ir
    import tracer
    model, x, y = model_and_data(tracer)
    forward = tracer.trace(lambda x, y: tracer.nn.functional.cross_entropy(model(x), y), x, y)
    if which == "forward":
        return len(forward.nodes)
    combined = ir.grad(forward, wrt=[n for n in forward.input_names if n not in ("x", "y")])
    if which == "backward":
        return sum(n.phase == "backward" for n in combined.nodes)
    return len(combined.nodes)


def build(variant: str, case: Case, quick: bool):
    if case.name.startswith("graph nodes, "):
        return node_count(case.name[len("graph nodes, "):])
    if variant == HAND_NUMPY:
        x, y = data(SIZES, BATCH, "ce")
        adam = numpy_adam_step(init_weights(SIZES))
        return lambda: adam(x, y)
    if variant == TORCH:
        import torch as m
        m.set_num_threads(cores())
    else:
        import tracer as m
    model, x, y = model_and_data(m)
    if case.name == "mlp b64 forward+backward":
        return lambda: step(m, model, x, y)
    opt = m.optim.Adam(model.parameters())

    def adam():
        opt.zero_grad()
        m.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return adam


if __name__ == "__main__":
    main(CASES, build, description=__doc__)
