"""Dynamic dims for export. The rules live on the ir op definitions (``Op.dynamic``) and the
walk in ``ir.dynamic``; this module keeps the names the ONNX backend imports."""
from ir.dynamic import propagate  # noqa: F401
from ir.errors import DynamicShapeError  # noqa: F401
from ir.ops.dynamic import fail as _fail  # noqa: F401
from ir.ops.shape import reshape_plan  # noqa: F401
