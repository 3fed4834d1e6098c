"""The 784-32-16-10 MLP forward at batch 1, 64 and 4096: tracegrad's graph on onnxruntime and
on the NumPy interpreter against PyTorch eager (no_grad) and the forward written by hand in
NumPy; and a 10,000-ONNX-node graph: export time, session-creation time, and trace + export +
session + one run end to end at 1k, 10k and 100k nodes (how it grows). Each variant runs in
its own process, 5 rounds in rotated order (bench/_rounds.py); prints medians, spreads and
ratios to torch eager's and NumPy's time.

    python bench/onnx_mlp.py [--rounds N] [--quick] [--filter TEXT] [--json PATH]
    python bench/onnx_mlp.py --variant "tracegrad onnxruntime" --case "mlp forward b64"   # one child
"""
from __future__ import annotations

import time

import numpy as np
from _rounds import TORCH, Case, cores, main
from train_step import init_weights

SIZES = [784, 32, 16, 10]
HAND_NUMPY, INTERPRETER, ORT = "numpy by hand", "tracegrad interpreter", "tracegrad onnxruntime"
FORWARD = {f"mlp forward b{b}": b for b in (1, 64, 4096)}
BIG = "10k-node graph"
SCALING = {f"graph end to end, {n // 1000}k ONNX nodes": n for n in (1_000, 10_000, 100_000)}
CASES = [Case(name, (HAND_NUMPY, TORCH, INTERPRETER, ORT), unit="us/call", calls=200 if b < 4096 else 50,
              numpy=HAND_NUMPY, pairs=((ORT, INTERPRETER),)) for name, b in FORWARD.items()]
CASES += [Case(f"{BIG}: export", ("tracegrad",), unit="ms", once=True),
          Case(f"{BIG}: session creation", ("tracegrad",), unit="ms", once=True)]
CASES += [Case(name, ("tracegrad",), unit="ms", once=True, max_rounds=3 if n < 100_000 else 1)
          for name, n in SCALING.items()]


def mlp(m, weights):
    """The MLP in module ``m`` (torch or tracer) with the given ``[w0, b0, ...]``."""
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        lin = m.nn.Linear(a, b)
        with m.no_grad():
            lin.weight.copy_(m.tensor(weights[2 * i]))
            lin.bias.copy_(m.tensor(weights[2 * i + 1]))
        layers += [lin, m.nn.ReLU()]
    return m.nn.Sequential(*layers[:-1])


def numpy_forward(weights, x):
    h = x
    for i in range(len(SIZES) - 1):
        h = h @ weights[2 * i].T + weights[2 * i + 1]
        if i < len(SIZES) - 2:
            h = np.maximum(h, 0)
    return h


def forward(variant: str, batch: int):
    weights = init_weights(SIZES)
    x = np.random.default_rng(batch).standard_normal((batch, 784)).astype(np.float32)
    if variant == HAND_NUMPY:
        return lambda: numpy_forward(weights, x)
    if variant == TORCH:
        import torch
        torch.set_num_threads(cores())
        model, tx = mlp(torch, weights), torch.tensor(x)

        def run():
            with torch.no_grad():
                return model(tx)
        return run
    import tracer
    graph = tracer.trace(mlp(tracer, weights), tracer.tensor(x))
    if variant == INTERPRETER:
        import backends.numpy as bnp
        return lambda: bnp.run(graph, x)
    from backends.ort import session_for
    session = session_for(graph)
    feeds = {n.attrs.name: n.value for n in graph.inputs}
    feeds["input"] = x
    return lambda: session.run(None, feeds)


def chain_graph(onnx_nodes: int):
    """A traced chain of tanh, mul, add and sub: ``onnx_nodes`` ONNX nodes once exported."""
    import tracer

    def chain(x):
        for _ in range(onnx_nodes // 4):
            x = tracer.tanh(x * 1.0001 + 0.001) - 0.0001
        return x.sum()
    return tracer.trace(chain, tracer.ones(8))


def big_graph_ms(what: str) -> float:
    from backends.onnx import export
    from backends.ort import session_for
    graph = chain_graph(10_000)
    t0 = time.perf_counter()
    model = export(graph, check=False, optimize=False)
    t1 = time.perf_counter()
    if what == "export":
        return (t1 - t0) * 1e3
    session_for(graph, model=model)
    return (time.perf_counter() - t1) * 1e3


def end_to_end_ms(onnx_nodes: int) -> float:
    """Trace, export, create the session and run once."""
    from backends.onnx import export
    from backends.ort import session_for
    t0 = time.perf_counter()
    graph = chain_graph(onnx_nodes)
    session = session_for(graph, model=export(graph, check=False, optimize=False))
    session.run(None, {n.attrs.name: n.value for n in graph.inputs})
    return (time.perf_counter() - t0) * 1e3


def build(variant: str, case: Case, quick: bool):
    if case.name in FORWARD:
        return forward(variant, FORWARD[case.name])
    if case.name in SCALING:
        return end_to_end_ms(SCALING[case.name])
    return big_graph_ms(case.name[len(BIG) + 2:])


if __name__ == "__main__":
    main(CASES, build, description=__doc__)
