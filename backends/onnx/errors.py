"""The ONNX backend's error (its own module, so the lowering table and the exporter share it)."""
from ir.errors import IRError


class ExportError(IRError):
    """The graph cannot be expressed in ONNX as asked (op without lowering, opset, dtype)."""


class OnnxImportError(ValueError):
    """An ONNX model cannot be imported (``backends.onnx.load``): a bad or oversized file, an
    opset outside the supported range, or a node whose op type, dtype, attribute or non-constant
    input the ir cannot express. The message names the node, its op type, the opset and what is
    missing."""
