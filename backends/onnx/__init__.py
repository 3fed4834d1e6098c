"""The ONNX backend: one lowering per ir op and ``export`` to a standard ``.onnx`` model."""
from backends.onnx.export import ExportError, export, to_model  # noqa: F401
from backends.onnx.lowerings import LOWERINGS  # noqa: F401
from backends.onnx.opsets import MIN_OPSET, newest_opset  # noqa: F401
from ir.errors import DynamicShapeError  # noqa: F401
