"""torch's legacy typed constructors, ``torch.FloatTensor([...])``, ``torch.LongTensor(2, 3)``:
a tensor of that dtype from data or of that shape (zeros here; torch leaves it uninitialised),
and ``isinstance(t, torch.LongTensor)`` true exactly for an int64 tensor, as torch's."""
from __future__ import annotations

import numpy as np

from ir import dtypes
from tracer.core.errors import err
from tracer.core.tensor import Tensor


class _LegacyTensorType(type):
    """The metaclass: calling the class builds a tensor, isinstance checks the dtype."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args):
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype is not cls.dtype:
                raise err(TypeError, f"expected TensorOptions(dtype={cls.dtype.name}, device=cpu), got a tensor of "
                          f"dtype {args[0].dtype.name}")
            return args[0]
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return Tensor._wrap(np.zeros(args, dtype=cls.dtype.np))
        if len(args) == 1:
            return Tensor._wrap(np.array(args[0], dtype=cls.dtype.np))
        raise err(TypeError, f"{cls.__name__}(): expected a shape of ints or one sequence of data, got {args!r}")


def _legacy(name: str, dtype) -> type:
    return _LegacyTensorType(name, (), {"dtype": dtype, "__doc__": f"torch.{name}: tensors of dtype {dtype.name}."})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool_)
