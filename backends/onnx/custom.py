"""Lowerings of the Function ops: ONNX cannot call Python, so export refuses with the name."""
from __future__ import annotations

from backends.onnx.errors import ExportError
from ir.ops import custom as CU


def _python(b, node, xs):
    """ir function_output/function_grad -> nothing: a clear refusal naming the Function."""
    name = getattr(node.attrs.call, "name", "autograd.Function")
    raise ExportError(f"{node.op.name}: {name} is a torch.autograd.Function whose forward and backward run "
                      "Python, which ONNX cannot express; write it with tracer ops to export it, or run the "
                      "graph on the NumPy backend" + (f"\n  at {node.source}" if node.source else ""))


LOWERINGS = {CU.function_output: _python, CU.function_grad: _python}
