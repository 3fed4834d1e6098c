"""torch.onnx at the tracer level: ``export`` with torch.onnx.export's signature, and ``load`` of
an ONNX model as an ``nn.Module``."""
from tracer.onnx.export import OperatorExportTypes, TrainingMode, export  # noqa: F401
from tracer.onnx.load import OnnxModule, load  # noqa: F401
