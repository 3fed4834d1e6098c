"""``tracegrad demo``: the whole pipeline on an XOR classifier, in well under a minute.

Train eagerly, trace the forward and the training step, export both to ONNX, compare the
interpreter with onnxruntime, continue training with the compiled step (checking it against
eager from the same state), time eager against compiled, and draw the graphs.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

import ir
import tracer as torch
from ir.passes import dce
from backends import compare
from backends.onnx import export
from ir.dot import graphviz_available, render
from tracer import nn
from tracer.cli.progress import Progress
from tracer.core.source import mark_user_code

# The demo plays the user: its model and training lines are the ops' source lines (in errors,
# pictures, ONNX doc_strings), not the console script that started it.
mark_user_code(__file__)


AGREEMENT = 1e-3  # relative, on the losses of 20 compiled vs eager steps


def xor_data(n: int = 200, seed: int = 1):
    """Points uniform in [-1, 1]^2, labelled 1 where x0 * x1 > 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float32).reshape(-1, 1)
    return torch.tensor(x), torch.tensor(y)


def make_model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))


def make_train_step(model, loss_fn, opt):
    """One training step: forward, loss, backward, optimizer step."""
    def train_step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return train_step


def _snapshot(model, opt):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            {p: {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in s.items()} for p, s in opt.state.items()})


def _restore(model, opt, snap):
    """Copy the snapshot back into the same tensors (a compiled step keeps feeding them)."""
    model.load_state_dict(snap[0])
    with torch.no_grad():
        for p, saved in snap[1].items():
            for k, v in saved.items():
                opt.state[p][k].copy_(v)


def _time(step, x, y, repeats: int) -> float:
    step(x, y)
    start = time.perf_counter()
    for _ in range(repeats):
        step(x, y)
    return (time.perf_counter() - start) / repeats * 1e6


def _pictures(out, name, graph, written):
    for fmt in ("svg", "png") if graphviz_available() else ("svg",):
        path = os.path.join(out, f"{name}.{fmt}")
        with open(path, "wb") as f:
            f.write(render(graph, fmt))
        written.append(path)
    path = os.path.join(out, f"{name}.dot")
    with open(path, "w") as f:
        f.write(graph.to_dot())
    written.append(path)


def run_demo(out: str = "tracegrad-demo", steps: int = 300) -> int:
    os.makedirs(out, exist_ok=True)
    written = []
    x, y = xor_data()
    model = make_model()
    loss_fn = nn.BCEWithLogitsLoss()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)

    train_step = make_train_step(model, loss_fn, opt)

    print("1. eager training of a 2-4-4-1 XOR classifier (BCEWithLogits + Adam)")
    bar = Progress(steps, "   eager steps")
    for _ in range(steps):
        loss = train_step(x, y)
        bar.update(1, f"loss {loss.item():.4f}")
    bar.close()
    with torch.no_grad():
        acc = ((model(x) > 0).float() == y).float().mean().item()
    print(f"   final loss {loss.item():.4f}, training accuracy {acc:.1%}")

    print("2. trace the forward, compile the training step, export both to ONNX")
    forward = dce(torch.trace(model, x))
    compiled = torch.compile(train_step)
    compiled(x, y)
    step_graph = compiled.graph
    export(forward, os.path.join(out, "forward.onnx"))
    compiled.export(os.path.join(out, "train_step.onnx"))
    for name, graph in (("forward", forward), ("train_step", step_graph)):
        written.append(os.path.join(out, f"{name}.onnx"))
        print(f"   {written[-1]}: {len(graph.nodes)} ir nodes "
              f"({sum(n.phase == 'backward' for n in graph.nodes)} backward), "
              f"inputs {len(graph.inputs)}, outputs {len(graph.outputs)}")

    print("3. interpreter vs onnxruntime")
    for graph, feeds in ((forward, (x,)), (step_graph, (x, y))):
        report = compare(graph, *feeds)
        print("   " + str(report).replace("\n", "\n   "))
        if not report.ok:
            return 1

    print("4. continue training: compiled onnxruntime step against eager, from the same state")
    snap = _snapshot(model, opt)
    eager_losses = [train_step(x, y).item() for _ in range(20)]
    _restore(model, opt, snap)
    compiled_losses = [float(compiled(x, y)) for _ in range(20)]
    worst = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(eager_losses, compiled_losses))
    print(f"   20 steps: eager loss {eager_losses[-1]:.6f}, compiled loss {compiled_losses[-1]:.6f}, "
          f"max relative difference {worst:.1e} ({compiled.trace_count} trace)")
    # onnxruntime sums in another order; near convergence Adam divides tiny gradients by
    # their own scale, so float32 rounding shows in the 4th digit after 20 steps.
    if worst > AGREEMENT:
        print(f"   compiled and eager losses differ by more than {AGREEMENT:g}", file=sys.stderr)
        return 1

    print("5. timing (mean over repeated steps, this machine)")
    eager_us = _time(train_step, x, y, 200)
    ort_us = _time(compiled, x, y, 1000)
    np_step = torch.compile(train_step, backend="numpy")
    np_us = _time(np_step, x, y, 300)
    print(f"   eager                {eager_us:8.1f} us/step")
    print(f"   compiled numpy       {np_us:8.1f} us/step  ({eager_us / np_us:.1f}x faster than eager)")
    print(f"   compiled onnxruntime {ort_us:8.1f} us/step  ({eager_us / ort_us:.1f}x faster than eager)")

    print("6. pictures of the graphs")
    _pictures(out, "forward", forward, written)
    loss_graph = torch.trace(lambda x, y: loss_fn(model(x), y), x, y)
    _pictures(out, "forward_backward", dce(ir.grad(loss_graph, wrt=[n for n in loss_graph.input_names if n not in ("x", "y")])), written)
    for path in written:
        print(f"   wrote {path}")
    return 0
