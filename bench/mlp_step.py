"""Eager forward+backward of a 784-32-16-10 MLP at batch 64 (cross-entropy), tracegrad
against PyTorch in the same run, plus the node counts of the forward and combined graphs.

    python bench/mlp_step.py
"""
from __future__ import annotations

import numpy as np

import ir
import tracer
from _timing import median_us


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


def main():
    import torch
    torch.set_num_threads(2)
    t_model, tx, ty = model_and_data(torch)
    g_model, gx, gy = model_and_data(tracer)
    t_us = median_us(lambda: step(torch, t_model, tx, ty), 300)
    g_us = median_us(lambda: step(tracer, g_model, gx, gy), 300)
    print("784-32-16-10 MLP, batch 64, eager forward+backward")
    print(f"  torch eager      {t_us:8.1f} us/step")
    print(f"  tracegrad eager  {g_us:8.1f} us/step   {g_us / t_us:.2f}x torch's time")
    forward = tracer.trace(lambda x, y: tracer.nn.functional.cross_entropy(g_model(x), y), gx, gy)
    combined = ir.grad(forward, wrt=[n for n in forward.input_names if n not in ("x", "y")])
    print(f"  graph nodes: forward {len(forward.nodes)}, forward+backward {len(combined.nodes)} "
          f"({sum(n.phase == 'backward' for n in combined.nodes)} backward)")


if __name__ == "__main__":
    main()
