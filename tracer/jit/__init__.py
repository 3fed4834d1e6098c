"""Tracing and compiling: ``trace`` records a function into an ``ir.Graph``; ``compile`` keeps
one traced graph per input signature and runs it on NumPy or onnxruntime."""
from tracer.jit.compiled import compile  # noqa: F401,A004
from tracer.jit.record import trace  # noqa: F401
