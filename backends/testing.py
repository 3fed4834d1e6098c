"""``assert_backends_agree`` for graphs: one line in a test to check that the NumPy interpreter
and onnxruntime agree. (``tracer.testing.assert_backends_agree`` traces a function first.)"""
from __future__ import annotations

import numpy as np

import ir
from backends import compare


def assert_backends_agree(graph, *inputs, grad: bool = True, rtol=None, atol=None, opset: int = 18,
                          seed: int = 0, **named):
    """Assert that the interpreter and onnxruntime agree on every output of ``graph`` and, with
    ``grad``, on the gradients of its first output with respect to every floating-point input
    (a non-scalar output gets a random seed gradient).

    Args:
        graph: an ``ir.Graph``.
        inputs, named: as for ``backends.numpy.run`` (traced values fill in the rest).

    Returns:
        The ``Report``; raises ``AssertionError`` with the report's table on a mismatch.
    """
    feeds = dict(zip(graph.input_names, inputs), **named)
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
