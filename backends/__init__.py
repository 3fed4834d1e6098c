"""tracegrad backends: NumPy interpreter, ONNX export, onnxruntime runner, comparison."""
from backends.comparison import compare  # noqa: F401  (interpreter vs onnxruntime, output by output)
