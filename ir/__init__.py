"""tracegrad's graph IR: dtypes, op definitions, the ``Graph``, autodiff and graph passes.

It imports only numpy, networkx and the standard library.
"""
from ir import dtypes, ops  # noqa: F401
from ir.autodiff import append_gradients  # noqa: F401
from ir.builder import Builder  # noqa: F401
from ir.dtypes import DType, bool_, float32, float64, int32, int64, uint8  # noqa: F401
from ir.errors import GraphFormatError, IRError, IRIndexError, IRTypeError  # noqa: F401
from ir.grad import grad  # noqa: F401
from ir.graph import Graph, load  # noqa: F401
from ir.lint import lint  # noqa: F401
from ir.node import BACKWARD, FORWARD, Node, make_node  # noqa: F401
from ir.types import TensorType  # noqa: F401
