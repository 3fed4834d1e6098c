"""The ONNX backend: one lowering and one import rule per op family, ``export`` to a standard
``.onnx`` model and ``load`` of one as an ``ir.Graph``."""
from backends.onnx.errors import OnnxImportError  # noqa: F401
from backends.onnx.export import ExportError, export, to_model  # noqa: F401
from backends.onnx.load import load, supported_op_types  # noqa: F401
from backends.onnx.lowerings import LOWERINGS  # noqa: F401
from backends.onnx.opsets import MIN_OPSET, newest_opset  # noqa: F401
from ir.errors import DynamicShapeError  # noqa: F401
