"""tracegrad backends: NumPy interpreter, ONNX export, onnxruntime runner, comparison."""


def compare(graph, *inputs, **kwargs):
    """Interpreter vs onnxruntime, output by output (see ``backends.comparison.compare``)."""
    from backends.comparison import compare as _compare
    return _compare(graph, *inputs, **kwargs)
