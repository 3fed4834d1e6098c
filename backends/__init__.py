"""tracegrad backends: NumPy interpreter, ONNX export, onnxruntime runner, comparison."""


def compare(graph, *inputs, **kwargs):
    """Interpreter vs onnxruntime (see ``backends.compare.compare``)."""
    from backends.compare import compare as _compare
    return _compare(graph, *inputs, **kwargs)
