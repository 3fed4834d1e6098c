"""dtype conversions and copies: to, type, float/double/long/int/bool, clone, detach, contiguous."""
from __future__ import annotations

from ir import dtypes
from ir.dtypes import DType
from ir.ops import elementwise as E
from tracer.core import tensor_state, tracing
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.ops._util import cast
from tracer.core.tensor import Tensor, device


def to(self, *args, dtype=None, device_=None, copy=False, non_blocking=False, **kwargs) -> Tensor:
    """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(other_tensor)``."""
    for a in list(args) + [kwargs.get("device")]:
        if isinstance(a, DType):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif a is not None:
            device(a)  # raises for anything but the CPU
    out = cast(self, dtype) if dtype is not None else self
    return clone(out) if copy and out is self else out


def type_(self, dtype=None):
    if dtype is None:
        return {"float32": "tracer.FloatTensor", "float64": "tracer.DoubleTensor", "int64": "tracer.LongTensor",
                "int32": "tracer.IntTensor", "uint8": "tracer.ByteTensor", "bool": "tracer.BoolTensor"}[self.dtype.name]
    return cast(self, dtype)


def float_(self) -> Tensor:
    return cast(self, dtypes.float32)


def double(self) -> Tensor:
    return cast(self, dtypes.float64)


def long(self) -> Tensor:
    return cast(self, dtypes.int64)


def int_(self) -> Tensor:
    return cast(self, dtypes.int32)


def bool__(self) -> Tensor:
    return cast(self, dtypes.bool_)


def byte(self) -> Tensor:
    return cast(self, dtypes.uint8)


def clone(self, *, memory_format=None) -> Tensor:
    """A copy. When autograd or a trace records it, it is an identity op (a same-dtype cast)
    that gradients flow through, as torch's clone."""
    if self._requires_grad or tracing.current() is not None:
        return apply(E.cast, [self], E.CastAttrs(self.dtype))
    return Tensor._wrap(self._value.copy())


def detach(self) -> Tensor:
    """The same value, cut from the graph (a ``detach`` node inside a trace)."""
    if tracing.current() is not None:
        out = apply(E.detach, [self])
        tensor_state.stop_gradient(out)
    else:
        out = Tensor._make(self._value, self._type)
    return tensor_state.make_view(out, self, _same, differentiable=False)


def _same(view) -> Tensor:
    """A ``detach()`` view's base takes the view's new value as it is."""
    return view


def contiguous(self, memory_format=None) -> Tensor:
    return self


def cpu(self) -> Tensor:
    return self


def cuda(self, *args, **kwargs):
    raise err(RuntimeError, "tracegrad runs on the CPU only (no CUDA device)")
