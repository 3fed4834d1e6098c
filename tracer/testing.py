"""``assert_backends_agree`` for functions and modules: trace, then check the graph and its
gradients on the interpreter and onnxruntime (``backends.testing`` does the checking)."""
from __future__ import annotations

from backends import testing
from tracer.jit.record import trace


def assert_backends_agree(fn, *inputs, grad: bool = True, rtol=None, atol=None, opset: int = 18, seed: int = 0):
    """Trace ``fn(*inputs)`` and assert that the NumPy interpreter and onnxruntime agree on its
    outputs and (with ``grad``) on the gradients of its first output with respect to every
    floating-point input and parameter. Returns the comparison ``Report``."""
    return testing.assert_backends_agree(trace(fn, *inputs), *inputs, grad=grad, rtol=rtol, atol=atol,
                                         opset=opset, seed=seed)
