"""Median time per SGD training step (forward, loss, backward, update) of three MLPs:
PyTorch eager, tracegrad eager, tracegrad compiled on the NumPy backend and on onnxruntime, a
hand-written NumPy step and a hand-built ONNX graph of the same step on onnxruntime
(bench/hand_onnx.py, the ceiling for the onnxruntime backend), plus trace + export + session
creation for the MNIST step. Each variant runs in its own process, 5 rounds in rotated order
(bench/_rounds.py); prints medians, spreads and ratios to torch eager's and NumPy's time.

    python bench/train_step.py [--rounds N] [--quick] [--filter TEXT] [--json PATH]
    python bench/train_step.py --filter mnist            # only the MNIST cases
    python bench/train_step.py --variant "tracegrad compiled onnxruntime" --case "mnist 784-32-16-10 b64"
"""
from __future__ import annotations

import time

import numpy as np
from _rounds import NUMPY, TORCH, Case, cores, main

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


def numpy_loss_and_grads(sizes, kind, ws, x, y):
    """The loss and ``[gw0, gb0, gw1, ...]`` of the MLP ``ws`` written by hand in NumPy."""
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
    grads = [None] * len(ws)
    for i in reversed(range(len(sizes) - 1)):
        grads[2 * i], grads[2 * i + 1] = g.T @ acts[i], g.sum(0)
        if i:
            g = (g @ ws[2 * i]) * (acts[i] > 0)
    return loss, grads


def numpy_step(sizes, kind, weights, lr=0.01):
    """The same SGD step written by hand in NumPy (the reference for the numpy backend)."""
    ws = [w.copy() for w in weights]

    def step(x, y):
        loss, grads = numpy_loss_and_grads(sizes, kind, ws, x, y)
        for w, g in zip(ws, grads):
            w -= lr * g
        return loss
    return step


HAND_NUMPY, HAND_ONNX = "numpy by hand", "onnx graph by hand"
EAGER, COMPILED_NUMPY, COMPILED_ORT = "tracegrad eager", "tracegrad compiled numpy", "tracegrad compiled onnxruntime"
VARIANTS = (TORCH, HAND_NUMPY, HAND_ONNX, EAGER, COMPILED_NUMPY, COMPILED_ORT)
PAIRS = ((COMPILED_NUMPY, HAND_NUMPY), (COMPILED_ORT, HAND_ONNX))
SETUP, COLD = "mnist trace+export+session", "mnist trace+export+session, first in process"
K = 10  # steps per call of the "K steps per call" cases: compile(step, steps_per_call=K) on K stacked batches
KSTEPS = f", {K} steps per call"
BENCH = [Case("xor 2-4-4-1 b200", VARIANTS, unit="us/step", numpy=HAND_NUMPY, pairs=PAIRS),
         Case("mnist 784-32-16-10 b64", VARIANTS, unit="us/step", numpy=HAND_NUMPY, pairs=PAIRS),
         Case("wide 1024-4096-4096-10 b256", VARIANTS, unit="ms/step", calls=8, numpy=HAND_NUMPY, pairs=PAIRS),
         Case("xor 2-4-4-1 b200" + KSTEPS, (TORCH, COMPILED_ORT), unit="us/step", per_call=K, calls=40),
         Case("mnist 784-32-16-10 b64" + KSTEPS, (TORCH, COMPILED_ORT), unit="us/step", per_call=K, calls=40),
         Case(SETUP, ("tracegrad",), unit="ms", once=True),
         Case(COLD, ("tracegrad",), unit="ms", once=True)]


def setup_ms(first_in_process: bool) -> float:
    """Trace + grad + export + session creation of the MNIST step, the mean of the two calls
    that trace (the second sees the optimizer's state). Unless ``first_in_process``, a tiny
    step is compiled and run first, so onnxruntime's one-time start-up is not counted."""
    import tracer
    if not first_in_process:
        warm_sizes = [2, 1]
        warm = tracer.compile(build(tracer, warm_sizes, "bce", init_weights(warm_sizes)))
        warm(*map(tracer.tensor, data(warm_sizes, 4, "bce")))
    sizes, batch, kind = CASES["mnist 784-32-16-10 b64"]
    x, y = data(sizes, batch, kind)
    gx, gy = tracer.tensor(x), tracer.tensor(y)
    compiled = tracer.compile(build(tracer, sizes, kind, init_weights(sizes)))
    t0 = time.perf_counter()
    compiled(gx, gy)
    compiled(gx, gy)
    return (time.perf_counter() - t0) * 1e3 / 2


def variant_step(variant: str, sizes, batch, kind, k: int = 1):
    """The step function of ``variant``, importing only what it needs; with ``k`` > 1, a
    function taking ``k`` steps per call (torch: a loop; compiled: ``steps_per_call=k`` on the
    batch stacked ``k`` times)."""
    weights = init_weights(sizes)
    x, y = data(sizes, batch, kind)
    if variant == HAND_NUMPY:
        return numpy_step(sizes, kind, weights), (x, y)
    if variant == HAND_ONNX:
        from hand_onnx import hand_step
        return hand_step(sizes, batch, kind, weights), (x, y)
    if variant == TORCH:
        import torch
        torch.set_num_threads(cores())
        step = build(torch, sizes, kind, weights)
        if k == 1:
            return step, (torch.tensor(x), torch.tensor(y))
        return (lambda x, y: [step(x, y) for _ in range(k)]), (torch.tensor(x), torch.tensor(y))
    import tracer
    step = build(tracer, sizes, kind, weights)
    if variant != EAGER:
        step = tracer.compile(step, backend="numpy" if variant == COMPILED_NUMPY else "onnxruntime", steps_per_call=k)
    if k > 1:
        x, y = np.stack([x] * k), np.stack([y] * k)
    return step, (tracer.tensor(x), tracer.tensor(y))


def build_variant(variant: str, case: Case, quick: bool):
    if case.name in (SETUP, COLD):
        return setup_ms(case.name == COLD)
    k = K if case.name.endswith(KSTEPS) else 1
    step, args = variant_step(variant, *CASES[case.name.removesuffix(KSTEPS)], k)
    return lambda: step(*args)


if __name__ == "__main__":
    main(BENCH, build_variant, description=__doc__)
