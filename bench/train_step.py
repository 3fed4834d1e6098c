"""Median time per training step: PyTorch eager, tracegrad eager, tracegrad compiled on the
NumPy interpreter and on onnxruntime, a hand-written NumPy step and a hand-built ONNX graph of
the same step on onnxruntime (the reference the speed targets were set against), for three
MLPs, with ratios against PyTorch eager measured in the same run.

    python bench/train_step.py [--quick]
"""
from __future__ import annotations

import argparse
import functools
import time

import numpy as np
from _timing import interleaved_us
from hand_onnx import hand_step

import tracer

CASES = {
    "xor 2-4-4-1 b200": ([2, 4, 4, 1], 200, "bce"),
    "mnist 784-32-16-10 b64": ([784, 32, 16, 10], 64, "ce"),
    "wide 1024-4096-4096-10 b256": ([1024, 4096, 4096, 10], 256, "ce"),
}


def init_weights(sizes, seed: int = 1) -> list:
    """``[w0, b0, w1, b1, ...]`` drawn as nn.Linear initialises them (uniform in +-1/sqrt(fan_in))."""
    rng = np.random.default_rng(seed)
    weights = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(a)
        weights += [rng.uniform(-bound, bound, (b, a)).astype(np.float32),
                    rng.uniform(-bound, bound, b).astype(np.float32)]
    return weights


def data(sizes, batch, kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = (rng.random((batch, 1)) < 0.5).astype(np.float32) if kind == "bce" else rng.integers(0, sizes[-1], batch)
    return x, y


def build(m, sizes, kind, weights, lr=0.01):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = m.nn.Linear(a, b)
        with m.no_grad():
            lin.weight.copy_(m.tensor(weights[2 * i]))
            lin.bias.copy_(m.tensor(weights[2 * i + 1]))
        layers += [lin, m.nn.ReLU()]
    model = m.nn.Sequential(*layers[:-1])
    opt = m.optim.SGD(model.parameters(), lr=lr)
    loss_fn = m.nn.BCEWithLogitsLoss() if kind == "bce" else m.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def numpy_step(sizes, kind, weights, lr=0.01):
    """The same SGD step written by hand in NumPy (the reference for the numpy backend)."""
    ws = [w.copy() for w in weights]

    def step(x, y):
        acts, h = [x], x
        for i in range(len(sizes) - 1):
            h = h @ ws[2 * i].T + ws[2 * i + 1]
            if i < len(sizes) - 2:
                h = np.maximum(h, 0)
            acts.append(h)
        if kind == "bce":
            p = 1 / (1 + np.exp(-h))
            loss = np.mean(np.maximum(h, 0) - h * y + np.log1p(np.exp(-np.abs(h))))
            g = (p - y) / len(x)
        else:
            e = np.exp(h - h.max(1, keepdims=True))
            p = e / e.sum(1, keepdims=True)
            loss = -np.mean(np.log(p[np.arange(len(y)), y]))
            g = p
            g[np.arange(len(y)), y] -= 1
            g /= len(x)
        for i in reversed(range(len(sizes) - 1)):
            gw, gb = g.T @ acts[i], g.sum(0)
            if i:
                g = (g @ ws[2 * i]) * (acts[i] > 0)
            ws[2 * i] -= lr * gw
            ws[2 * i + 1] -= lr * gb
        return loss
    return step


def main(quick: bool = False):
    import torch
    torch.set_num_threads(2)
    print(f"{'model':<28} {'variant':<24} {'us/step':>10} {'vs torch eager':>15}")
    for name, (sizes, batch, kind) in CASES.items():
        if quick and sizes[1] > 1000:
            continue
        weights = init_weights(sizes)
        x, y = data(sizes, batch, kind)
        big = sizes[1] > 1000
        tx, ty = torch.tensor(x), torch.tensor(y)
        gx, gy = tracer.tensor(x), tracer.tensor(y)
        steps = {"torch eager": functools.partial(build(torch, sizes, kind, weights), tx, ty),
                 "numpy by hand": functools.partial(numpy_step(sizes, kind, weights), x, y),
                 "onnx graph by hand": functools.partial(hand_step(sizes, batch, kind, weights), x, y),
                 "tracegrad eager": functools.partial(build(tracer, sizes, kind, weights), gx, gy)}
        for backend in ("numpy", "onnxruntime"):
            compiled = tracer.compile(build(tracer, sizes, kind, weights), backend=backend)
            steps[f"tracegrad compiled {backend}"] = functools.partial(compiled, gx, gy)
        results = interleaved_us(steps, rounds=3 if big else 7, block=3 if big else 200, settle=1 if big else 20)
        base = results["torch eager"]
        for variant, us in results.items():
            print(f"{name:<28} {variant:<24} {us:>10.1f} {base / us:>14.2f}x")
        if name.startswith("mnist"):
            step = build(tracer, sizes, kind, weights)
            t0 = time.perf_counter()
            c = tracer.compile(step)
            c(gx, gy)
            c(gx, gy)
            ms = (time.perf_counter() - t0) * 1e3 / 2
            print(f"{name:<28} {'trace+export+session':<24} {ms:>9.1f} ms (mean of the two traced calls)")
        print(f"{'':<28} numpy backend vs hand-written numpy: "
              f"{results['tracegrad compiled numpy'] / results['numpy by hand']:.2f}x the time; "
              f"onnxruntime backend vs hand-built graph: "
              f"{results['tracegrad compiled onnxruntime'] / results['onnx graph by hand']:.2f}x the time")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the wide MLP")
    main(parser.parse_args().quick)
