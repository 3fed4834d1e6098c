"""K calls of a function in one: ``tracer.compile(step, steps_per_call=K)``.

A small model's compiled step spends much of its time in the fixed cost of an onnxruntime call
(binding, launching, the Python around it). Tracing the step K times in a row makes one graph
that runs K steps per call: each step reads its slice of the stacked arguments, and the
parameters and optimizer state flow from one step's update into the next step's forward inside
the graph (the trace records the in-place updates as it records everything else). Unrolling
rather than an ONNX ``Loop``: onnxruntime runs a loop body through a subgraph executor whose
per-iteration cost exceeds a plain call's for graphs this small.
"""
from __future__ import annotations

import functools

from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.jit.record import is_tensor_like
from tracer.ops.shape import stack


def check_steps(steps_per_call, dynamic: bool) -> None:
    if not isinstance(steps_per_call, int) or isinstance(steps_per_call, bool) or steps_per_call < 1:
        raise err(ValueError, f"compile: steps_per_call must be a positive int, got {steps_per_call!r}")
    if steps_per_call > 1 and dynamic:
        raise err(ValueError, "compile: steps_per_call > 1 stacks the steps' arguments on dim 0, which dynamic=True "
                  "would make symbolic; use one or the other")


def unrolled(fn, k: int):
    """``fn`` called once per slice ``i < k`` of dim 0 of its tensor (and NumPy array) arguments
    (other arguments passed to every call as they are); the results stacked on a new dim 0."""
    @functools.wraps(fn)
    def run(*args):
        stacked = [i for i, a in enumerate(args) if is_tensor_like(a)]
        if not stacked:
            raise err(ValueError, f"compile(steps_per_call={k}): the arguments hold no tensor to take the "
                      f"{k} steps' slices from")
        for i in stacked:
            shape = tuple(args[i].shape)
            if not shape or shape[0] != k:
                raise err(ValueError, f"compile(steps_per_call={k}): argument {i} has shape {list(shape)}; each "
                          f"tensor argument stacks the {k} steps' values on dim 0")
        results = []
        for step in range(k):
            results.append(fn(*[a[step] if j in stacked else a for j, a in enumerate(args)]))
        return _stacked(results)
    return run


def _stacked(results):
    """The steps' results combined as one call's: tensors stacked on a new dim 0, tuples, lists
    and dicts combined entry by entry (a trace returns nothing else; the eager calls past
    ``cache_size_limit`` give anything else as the list of the steps')."""
    first = results[0]
    if isinstance(first, Tensor):
        return stack(results)
    if isinstance(first, (tuple, list)) and all(type(r) is type(first) and len(r) == len(first) for r in results):
        combined = [_stacked([r[i] for r in results]) for i in range(len(first))]
        return type(first)(combined) if not hasattr(first, "_fields") else type(first)(*combined)
    if isinstance(first, dict) and all(isinstance(r, dict) and r.keys() == first.keys() for r in results):
        return {key: _stacked([r[key] for r in results]) for key in first}
    return list(results)
