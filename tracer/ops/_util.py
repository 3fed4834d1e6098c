"""Shared helpers for the torch-style functions: scalars to tensors, promotion, dims."""
from __future__ import annotations

import functools

import numpy as np

from ir import dtypes
from ir.ops import elementwise as E
from ir.ops.rules import normalize_axis
from ir.types import TensorType
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.core.promotion import result_type
from tracer.core.unsupported_dtype import UnsupportedDType
from tracer.core.tensor import Tensor

_SCALARS = (bool, int, float, np.bool_, np.integer, np.floating)


def is_scalar(x) -> bool:
    return isinstance(x, _SCALARS)


def scalar(value, dtype) -> Tensor:
    """A 0-d tensor holding a Python number."""
    return Tensor._make(np.asarray(value, dtype=dtype.np), _scalar_type(dtype))


@functools.cache
def _scalar_type(dtype) -> TensorType:
    """One 0-d type object per dtype, so ``x * 0.5`` in a loop meets dispatch's eager plan for it."""
    return TensorType((), dtype)


def py_number(x):
    return x.item() if isinstance(x, np.generic) else x


def cast(t: Tensor, dtype) -> Tensor:
    if t._type.dtype == dtype:
        return t
    if isinstance(dtype, UnsupportedDType):
        dtype.refuse()
    return apply(E.cast, [t], E.CastAttrs(dtype))


def promote(*xs) -> list[Tensor]:
    """Tensors of torch's common dtype for ``xs`` (tensors and Python numbers)."""
    fast = _promote_fast(xs)
    if fast is not None:
        return fast
    for x in xs:
        if not isinstance(x, Tensor) and not is_scalar(x):
            raise err(TypeError, f"expected a Tensor or a number, got {type(x).__name__}")
    dtype = result_type([x if isinstance(x, Tensor) else py_number(x) for x in xs])
    return [cast(x, dtype) if isinstance(x, Tensor) else scalar(x, dtype) for x in xs]


def _promote_fast(xs):
    """The common cases without the general rule: tensors of one dtype, or a float tensor with
    a Python float/int (the number takes the tensor's dtype)."""
    a, b = xs[0], xs[-1]
    if len(xs) != 2:
        return None
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return [a, b] if a._type.dtype is b._type.dtype else None
    if isinstance(a, Tensor) and b.__class__ in (float, int) and a._type.dtype.kind == "f":
        return [a, scalar(b, a._type.dtype)]
    if isinstance(b, Tensor) and a.__class__ in (float, int) and b._type.dtype.kind == "f":
        return [scalar(a, b._type.dtype), b]
    return None


def to_float(t: Tensor) -> Tensor:
    """Integer/bool inputs of float-only math (exp, sqrt, mean...) become float32, as in torch."""
    return t if t._type.dtype.is_floating_point else cast(t, dtypes.float32)


def op_err(cls: type[Exception], op: str, detail: str, *inputs) -> Exception:
    """``err`` for a torch function's own check: ``op: detail (inputs: float32[2, 3], ...)``."""
    shown = ", ".join(str(t._type) if isinstance(t, Tensor) else repr(t) for t in inputs)
    return err(cls, f"{op}: {detail} (inputs: {shown})" if inputs else f"{op}: {detail}")


def norm_dim(d: int, rank: int, op: str) -> int:
    try:
        return normalize_axis(op, (), int(d), rank)
    except Exception as e:
        raise err(IndexError, str(e)) from None


def norm_dims(d, rank: int, op: str) -> tuple[int, ...]:
    """torch's ``dim`` argument (None, int or sequence) as sorted non-negative axes."""
    if d is None:
        return tuple(range(rank))
    if isinstance(d, (int, np.integer)):
        d = (d,)
    out = sorted({norm_dim(x, rank, op) for x in d})
    if len(out) != len(tuple(d)):
        raise err(RuntimeError, f"{op}: dim {tuple(d)} appears multiple times in the list of dims")
    return tuple(out) if rank else ()


def shape_arg(args) -> tuple[int, ...]:
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` all mean shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def size_arg(args, op: str) -> tuple[int, ...]:
    """A creation function's size (``f(2, 3)``, ``f((2, 3))``), checked as torch checks it:
    integers only (``int(2.5)`` would quietly make 2), none negative."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    for i, a in enumerate(args):
        if isinstance(a, (float, np.floating)) or (isinstance(a, Tensor) and a.dtype.is_floating_point):
            raise err(TypeError, f"{op}(): argument 'size' must be tuple of ints, but found element of type "
                      f"{type(a).__name__} at pos {i}")
    shape = tuple(int(a) for a in args)
    for d in shape:
        if d < 0:
            raise err(RuntimeError, f"{op}: Trying to create tensor with negative dimension {d}: {list(shape)}")
    return shape


def promote_all(xs) -> list[Tensor]:
    """Tensors cast to their common dtype (for cat and friends)."""
    dtype = result_type(list(xs))
    return [cast(x, dtype) for x in xs]


#: NumPy's argument names that torch's native functions take for their own (``torch.sum(x,
#: axis=1, keepdims=True)``), as ``(numpy name, torch name)``.
_NUMPY_NAMES = (("axis", "dim"), ("keepdims", "keepdim"))


def numpy_names(fn):
    """Let ``fn`` take ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``, as torch's
    native functions do (its Python-level ones, like ``split`` and ``norm``, do not)."""
    @functools.wraps(fn)
    def accepting_numpy_names(*args, **kwargs):
        for numpy_name, torch_name in _NUMPY_NAMES:
            if numpy_name in kwargs:
                if torch_name in kwargs:  # torch's own message for both spellings at once
                    raise err(TypeError, f"{fn.__name__}() got an unexpected keyword argument '{numpy_name}'")
                kwargs[torch_name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)
    return accepting_numpy_names
