"""The ONNX backend's error (its own module, so the lowering table and the exporter share it)."""
from ir.errors import IRError


class ExportError(IRError):
    """The graph cannot be expressed in ONNX as asked (op without lowering, opset, dtype)."""
