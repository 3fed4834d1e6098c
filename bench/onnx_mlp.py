"""onnxruntime vs the NumPy interpreter vs PyTorch eager for the MLP forward at batch 1, 64
and 4096 (ratios from one run), and export + session-creation time for a 10,000-node graph.

    python bench/onnx_mlp.py
"""
from __future__ import annotations

import time

import numpy as np

import backends.numpy as bnp
import tracer
from _timing import median_us
from backends.onnx import export
from backends.ort import session_for


def main():
    import torch
    torch.set_num_threads(2)
    tracer.manual_seed(0)
    model = tracer.nn.Sequential(tracer.nn.Linear(784, 32), tracer.nn.ReLU(), tracer.nn.Linear(32, 16),
                                 tracer.nn.ReLU(), tracer.nn.Linear(16, 10))
    twin = torch.nn.Sequential(torch.nn.Linear(784, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16),
                               torch.nn.ReLU(), torch.nn.Linear(16, 10))
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    print("784-32-16-10 MLP forward")
    print(f"  {'batch':>6} {'torch eager':>12} {'interpreter':>12} {'onnxruntime':>12}   ort vs torch   ort vs interp")
    for batch in (1, 64, 4096):
        x = np.random.default_rng(batch).standard_normal((batch, 784)).astype(np.float32)
        graph = tracer.trace(model, tracer.tensor(x))
        session = session_for(graph)
        feeds = {n.attrs.name: n.value for n in graph.inputs}
        feeds["input"] = x
        tx = torch.tensor(x)
        with torch.no_grad():
            t = median_us(lambda: twin(tx), 200)
        i = median_us(lambda: bnp.run(graph, x), 200)
        o = median_us(lambda: session.run(None, feeds), 200)
        print(f"  {batch:>6} {t:>10.1f}us {i:>10.1f}us {o:>10.1f}us   {t / o:10.2f}x   {i / o:10.2f}x")

    def big(x):
        for k in range(2500):
            x = tracer.tanh(x * 1.0001 + 0.001) - 0.0001
        return x.sum()
    graph = tracer.trace(big, tracer.ones(8))
    t0 = time.perf_counter()
    model_proto = export(graph, check=False, optimize=False)
    t1 = time.perf_counter()
    session_for(graph, model=model_proto)
    t2 = time.perf_counter()
    print(f"10,000-node graph ({len(graph.nodes)} ir nodes, {len(model_proto.graph.node)} ONNX nodes): "
          f"export {1e3 * (t1 - t0):.0f} ms, session creation {1e3 * (t2 - t1):.0f} ms")


if __name__ == "__main__":
    main()
