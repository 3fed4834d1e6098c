"""Median time per training step of examples/char_gpt.py's GPT (2 layers, 4 heads, n_embd 64,
block 32, batch 16, AdamW with two parameter groups): PyTorch eager running the example's
own source, tracegrad eager, and tracegrad compiled on NumPy and on onnxruntime (issue 17's
target: compiled >= 1.5x faster than torch eager). Each variant runs in its own process, 5
rounds in rotated order (bench/_rounds.py).

    python bench/gpt_step.py [--rounds N] [--quick] [--threads N] [--json PATH]
"""
from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np
from _rounds import ROOT, TORCH, Case, cores, main

EAGER, COMPILED_NUMPY, COMPILED_ORT = "tracegrad eager", "tracegrad compiled numpy", "tracegrad compiled onnxruntime"
BENCH = [Case("char GPT b16x32 AdamW step", (TORCH, EAGER, COMPILED_NUMPY, COMPILED_ORT), unit="ms/step", calls=20)]
EXAMPLE = os.path.join(ROOT, "examples", "char_gpt.py")


def _example(torch_module):
    """The example module; for torch, its source with ``tracer`` resolving to torch."""
    names = ("tracer", "tracer.nn", "tracer.nn.functional")
    if torch_module is not None:
        sys.modules.update(dict(zip(names, (torch_module, torch_module.nn, torch_module.nn.functional))))
    spec = importlib.util.spec_from_file_location("char_gpt", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_variant(variant: str, case: Case, quick: bool):
    if variant == TORCH:
        import torch as m
        m.set_num_threads(cores())
        example = _example(m)
    else:
        import tracer as m
        example = _example(None)
    chars, data, _ = example.load_text()
    m.manual_seed(1337)
    model = example.GPT(len(chars))
    step = example.make_step(model, model.configure_optimizers())
    if variant in (COMPILED_NUMPY, COMPILED_ORT):
        step = m.compile(step, backend="numpy" if variant == COMPILED_NUMPY else "onnxruntime")
    x, y = next(example.batches(data, 1))
    args = (m.from_numpy(np.ascontiguousarray(x)), m.from_numpy(np.ascontiguousarray(y)))
    return lambda: step(*args)


if __name__ == "__main__":
    main(BENCH, build_variant, description=__doc__)
