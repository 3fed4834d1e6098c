"""``assert_backends_agree``: a one-line check for users' own tests."""
from __future__ import annotations

import numpy as np

from backends import compare


def assert_backends_agree(fn, *inputs, grad: bool = True, rtol=None, atol=None, opset: int = 18, seed: int = 0):
    """Trace ``fn(*inputs)`` (and, with ``grad``, its gradients) and assert that the NumPy
    interpreter and onnxruntime agree on every output.

    Gradients are taken of the first output with respect to every floating-point input and
    parameter; a non-scalar output gets a random seed gradient.

    Returns:
        The ``Report`` (raises ``AssertionError`` with the report's table on a mismatch).
    """
    import ir
    from tracer import trace
    graph = trace(fn, *inputs)
    feeds = {name: value for name, value in zip(graph.input_names, inputs)}
    if grad:
        seeded = graph.outputs[0].shape != ()
        graph = ir.grad(graph, of=0, grad_output=seeded)
        if seeded:
            seed_node = graph.input_named("grad_output")
            rng = np.random.default_rng(seed)
            feeds["grad_output"] = rng.standard_normal(seed_node.shape).astype(seed_node.dtype.np)
    report = compare(graph, feeds, rtol=rtol, atol=atol, opset=opset)
    if not report.ok:
        raise AssertionError("backends disagree\n" + str(report))
    return report
