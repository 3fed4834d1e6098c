"""dtype and device conversions and copies: to, cpu, cuda, type, float/double/long/int/bool, clone,
detach, contiguous."""
from __future__ import annotations

from ir import dtypes
from ir.dtypes import DType
from ir.ops import elementwise as E
from tracer.core import tensor_state, tracing
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.ops._util import cast
from tracer.core.unsupported_dtype import UnsupportedDType
from tracer.core.tensor import NO_CUDA, Tensor, as_device, require_cpu


_TO_OVERLOADS = ("(device device = None, dtype dtype = None, bool non_blocking = False, bool copy = False)",
                 "(dtype dtype, bool non_blocking = False, bool copy = False)",
                 "(Tensor tensor, bool non_blocking = False, bool copy = False)")
_TO_KEYWORDS = ("device", "dtype", "non_blocking", "copy", "memory_format")


def to(self, *args, **kwargs) -> Tensor:
    """``to(device, dtype)``, ``to(dtype)`` or ``to(other_tensor)``, each with ``non_blocking``
    and ``copy``, as torch's three overloads.

    The result is ``self`` when nothing changes (and ``copy`` is False), as in torch.

    Raises:
        AssertionError: for a CUDA device ("Torch not compiled with CUDA enabled", as CPU torch).
        RuntimeError: for other devices, or a malformed device string.
        TypeError: for arguments no overload takes.
    """
    where, dtype, _non_blocking, copy = to_args(args, kwargs)
    if where is not None:
        copy = require_cpu(where).index is not None or copy  # torch copies for "cpu:0" (not the tensor's "cpu")
    out = cast(self, dtype) if dtype is not None else self
    return clone(out) if copy and out is self else out


def to_args(args: tuple, kwargs: dict):
    """Which of torch's ``to`` overloads the arguments pick, as
    ``(device or None, dtype or None, non_blocking, copy)``; shared with ``Module.to``."""
    if any(k not in _TO_KEYWORDS for k in kwargs):
        raise _bad_to(args, kwargs)
    for a in (*args, *kwargs.values()):
        if isinstance(a, UnsupportedDType):
            a.refuse()
    first = args[0] if args else None
    if isinstance(first, (DType, Tensor)):
        if len(args) > 3 or "device" in kwargs or "dtype" in kwargs:
            raise _bad_to(args, kwargs)
        flags = dict(zip(("non_blocking", "copy"), args[1:]))
        dtype, where = (first, None) if isinstance(first, DType) else (first.dtype, first.device)
    else:
        if len(args) > 4 or (len(args) > 1 and not isinstance(args[1], (DType, type(None)))):
            raise _bad_to(args, kwargs)
        named = dict(zip(("device", "dtype", "non_blocking", "copy"), args))
        if set(named) & set(kwargs):
            raise _bad_to(args, kwargs)
        flags = {**named, **kwargs}
        where, dtype = flags.pop("device", None), flags.pop("dtype", None)
    flags.update((k, v) for k, v in kwargs.items() if k in ("non_blocking", "copy"))
    return where, dtype, bool(flags.get("non_blocking", False)), bool(flags.get("copy", False))


def _kind(x) -> str:
    return "dtype" if isinstance(x, DType) else type(x).__name__


def _bad_to(args, kwargs) -> TypeError:
    got = ", ".join([_kind(a) for a in args] + [f"{k}={_kind(v)}" for k, v in kwargs.items()])
    return err(TypeError, f"to() received an invalid combination of arguments - got ({got}), but expected one of:\n"
               + "\n".join(f" * {o}" for o in _TO_OVERLOADS))


def type_(self, dtype=None):
    if dtype is None:
        return {"float32": "tracer.FloatTensor", "float64": "tracer.DoubleTensor", "int64": "tracer.LongTensor",
                "int32": "tracer.IntTensor", "uint8": "tracer.ByteTensor", "bool": "tracer.BoolTensor",
                "float16": "tracer.HalfTensor", "int16": "tracer.ShortTensor",
                "int8": "tracer.CharTensor"}[self.dtype.name]
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


def half(self) -> Tensor:
    return cast(self, dtypes.float16)


def short(self) -> Tensor:
    return cast(self, dtypes.int16)


def char(self) -> Tensor:
    return cast(self, dtypes.int8)


def clone(self, *, memory_format=None) -> Tensor:
    """A copy. When autograd or a trace records it, it is an identity op (a same-dtype cast)
    that gradients flow through, as torch's clone."""
    if self._requires_grad or tracing.current() is not None:
        return apply(E.cast, [self], E.CastAttrs(self.dtype))
    return Tensor._wrap(self._value.copy())


def detach(self) -> Tensor:
    """The same value, cut from the graph (a ``detach`` node inside a trace)."""
    return tensor_state.make_view(_detached(self), self, _same, _detached, differentiable=False)


def _detached(self) -> Tensor:
    if tracing.current() is not None:
        out = apply(E.detach, [self])
        tensor_state.stop_gradient(out)
        return out
    return Tensor._make(self._value, self._type)


def _same(view) -> Tensor:
    """A ``detach()`` view's base takes the view's new value as it is."""
    return view


def contiguous(self, memory_format=None) -> Tensor:
    """``self`` when its elements are laid out in order (a fresh tensor, a leading slice), else
    a copy, as torch's: a transposed or expanded view's contiguous() no longer shares memory."""
    return self if self._value.flags.c_contiguous else clone(self)


def cpu(self, memory_format=None) -> Tensor:
    """``self``: every tensor is on the CPU."""
    return self


def cuda(self, device=None, non_blocking=False, memory_format=None):
    """Raises as CPU-only torch does: an index is an accelerator torch cannot find, anything else
    asserts that torch was not compiled with CUDA."""
    if isinstance(device, int) and not isinstance(device, bool):
        as_device(device)  # raises torch's "Cannot access accelerator device" RuntimeError
    raise err(AssertionError, NO_CUDA)
