"""tracegrad backends: NumPy interpreter, ONNX export, onnxruntime runner, comparison."""
