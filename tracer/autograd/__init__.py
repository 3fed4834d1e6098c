"""``tracer.autograd``: ``backward``, ``grad`` and ``Function`` (torch.autograd's), built on the ir's autodiff pass.

Importing it gives ``Tensor`` its ``backward`` method, so ``tracer/core`` never imports upwards.
"""
from tracer.autograd.engine import backward, grad  # noqa: F401
from tracer.autograd.function import Function, FunctionCtx, once_differentiable  # noqa: F401
from tracer.autograd.hooks import RemovableHandle, register_hook  # noqa: F401
from tracer.core.tensor import Tensor


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate d(self)/d(leaf) into each leaf's ``.grad`` (see ``tracer.autograd.backward``)."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


Tensor.backward = _tensor_backward
Tensor.register_hook = register_hook
