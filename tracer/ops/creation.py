"""Tensor creation: tensor, as_tensor, from_numpy, zeros, ones, full, empty, arange, linspace,
eye and the ``*_like`` forms. Python floats default to float32, ints to int64, as in torch."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ir import dtypes
from tracer.core import tensor_state
from tracer.core.errors import err
from tracer.ops._util import cast, is_scalar, py_number, scalar, shape_arg, size_arg
from tracer.core.promotion import promote_types, result_type
from tracer.core.promotion import default_float
from tracer.core.tensor import Tensor, require_cpu


def _infer_dtype(data):
    """torch.tensor's dtype for nested Python data (NumPy arrays keep theirs)."""
    if isinstance(data, np.ndarray):
        return dtypes.from_numpy(data.dtype)
    if isinstance(data, np.generic):
        return dtypes.from_numpy(np.asarray(data).dtype)
    flat = list(_flat_values(data))
    if not flat:
        return default_float()
    found = None
    for x in flat:  # tensors (unwrapped to arrays) keep their dtype; Python numbers take torch's
        found = promote_types(found, dtypes.from_numpy(x.dtype) if isinstance(x, (np.ndarray, np.generic))
                              else _python_dtype(x))
    return found


def _python_dtype(x):
    if isinstance(x, bool):
        return dtypes.bool_
    if isinstance(x, int):
        return dtypes.int64
    return default_float()


def _flat_values(data):
    if isinstance(data, (list, tuple)):
        for x in data:
            yield from _flat_values(x)
    else:
        yield data


def _unwrap(data):
    if isinstance(data, Tensor):
        return data._value
    if isinstance(data, (list, tuple)):
        return [_unwrap(x) for x in data]
    return data


def _placed(device) -> None:
    """``device=`` is checked, not ignored: the CPU is accepted, another device raises as CPU-only torch."""
    if device is not None:
        require_cpu(device)


def _done(t: Tensor, requires_grad: bool) -> Tensor:
    return t.requires_grad_() if requires_grad else t


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor copying ``data`` (nested lists, numbers, NumPy arrays or tensors)."""
    _placed(device)
    data = _unwrap(data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, np.ndarray) and x.ndim for x in _flat(data)):
        data = np.array(data)
    try:
        dtype = dtype or _infer_dtype(data)
        value = np.array(data, dtype=dtype.np)
    except (ValueError, TypeError) as e:
        _check_rectangular(data)
        raise err(ValueError, f"tensor(): could not convert the data to a tensor ({e})") from None
    return _done(Tensor._wrap(value), requires_grad)


def _check_rectangular(data, dim: int = 0) -> None:
    """torch's check of nested sequences: at each depth, every sequence has the first one's length."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    first = data[0]
    want = len(first) if isinstance(first, (list, tuple)) else None
    for x in data:
        got = len(x) if isinstance(x, (list, tuple)) else None
        if got != want:
            raise err(ValueError, f"tensor(): expected sequence of length {want} at dim {dim + 1} (got {got})")
    for x in data:
        _check_rectangular(x, dim + 1)


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def as_tensor(data, dtype=None, device=None) -> Tensor:
    _placed(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtype.np == data.dtype):
        return tensor_state.share(Tensor._wrap(data))
    return tensor(data, dtype=dtype)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor over the same array (no copy), as torch.from_numpy."""
    if not isinstance(ndarray, np.ndarray):
        raise err(TypeError, f"expected np.ndarray (got {type(ndarray).__name__})")
    return tensor_state.share(Tensor._wrap(ndarray))


def _filled(size, value, dtype, requires_grad, op) -> Tensor:
    shape = size_arg(size, op)
    return _done(Tensor._wrap(np.full(shape, value, dtype=(dtype or default_float()).np)), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    _placed(device)
    return _filled(size, 0, dtype, requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    _placed(device)
    return _filled(size, 1, dtype, requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    """Uninitialised in torch; zeros here, so nothing reads garbage."""
    _placed(device)
    return _filled(size, 0, dtype, requires_grad, "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _placed(device)
    if dtype is None:
        dtype = dtypes.bool_ if isinstance(fill_value, bool) else (
            dtypes.int64 if isinstance(fill_value, int) else default_float())
    return _filled((tuple(size),), fill_value, dtype, requires_grad, "full")


def zeros_like(input, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    _placed(device)
    return zeros(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    _placed(device)
    return ones(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    _placed(device)
    return empty(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    _placed(device)
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


# -- Tensor.new_*: a new tensor with ``self``'s dtype unless ``dtype=`` says otherwise ------------

def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A copy of ``data`` (lists, numbers, arrays, tensors) of ``self``'s dtype, as Tensor.new_tensor."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def new_zeros(self, *sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(_size(sizes, size), dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def new_ones(self, *sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return ones(_size(sizes, size), dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def new_empty(self, *sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return empty(_size(sizes, size), dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _size(sizes, size) -> tuple[int, ...]:
    """``x.new_zeros(2, 3)``, ``x.new_zeros((2, 3))`` and ``x.new_zeros(size=(2, 3))`` alike."""
    return shape_arg(sizes if size is None else (size,))


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` everywhere, of ``self``'s dtype (not the value's, unlike ``torch.full``)."""
    return full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values start + i*step below ``end``; int64 unless an argument is a float."""
    _placed(device)
    if end is None:
        start, end = 0, start
    args = [float(a) if isinstance(a, Tensor) else a for a in (start, end, step)]
    if step == 0:
        raise err(RuntimeError, "arange: step must be nonzero")
    if (args[1] - args[0]) * args[2] < 0:
        raise err(RuntimeError, f"arange: upper bound and lower bound inconsistent with step sign (start={args[0]}, "
                  f"end={args[1]}, step={args[2]})")
    if dtype is None:
        dtype = default_float() if any(isinstance(a, float) for a in args) else dtypes.int64
    count = max(0, math.ceil((args[1] - args[0]) / args[2]))
    value = (args[0] + np.arange(count, dtype=np.float64) * args[2]).astype(dtype.np)
    return _done(Tensor._wrap(value), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Evenly spaced values computed as torch does: in the target dtype, the first half forward
    from ``start`` and the second half backward from ``end``."""
    _placed(device)
    npd = (dtype or default_float()).np
    steps = int(steps)
    if steps < 0:
        raise err(RuntimeError, f"linspace: number of steps must be non-negative, got {steps}")
    if steps == 1:
        return _done(Tensor._wrap(np.array([start], dtype=npd)), requires_grad)
    # The step is rounded to the dtype; each value is then one fused multiply-add, as in torch's kernel.
    step = float(npd.type((float(end) - float(start)) / (steps - 1)))
    i = np.arange(steps, dtype=np.float64)
    value = np.where(i < steps // 2, float(start) + step * i, float(end) - step * (steps - 1 - i))
    return _done(Tensor._wrap(value.astype(npd)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _placed(device)
    value = np.logspace(float(start), float(end), int(steps), base=base).astype((dtype or default_float()).np)
    return _done(Tensor._wrap(value), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _placed(device)
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise err(RuntimeError, f"eye: {name} must be greater or equal to 0, got {v}")
    return _done(Tensor._wrap(np.eye(n, m if m is not None else n, dtype=(dtype or default_float()).np)), requires_grad)


def to_tensor(x, dtype=None) -> Tensor:
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    if is_scalar(x):
        return scalar(x, dtype or result_type([py_number(x)]))
    return tensor(x, dtype=dtype)
