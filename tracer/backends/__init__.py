"""``tracer.backends``, as ``torch.backends``: the flags of accelerator libraries tracegrad does
not have (``cuda``, ``cudnn``, ``mps``), so scripts that check or set them run.

Not to be confused with the project's top-level ``backends`` package (the NumPy interpreter,
ONNX export, onnxruntime), which tracer's modules import by its absolute name.
"""
from tracer.backends import cuda, cudnn, mps  # noqa: F401
