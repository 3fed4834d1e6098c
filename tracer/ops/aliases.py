"""torch's other names for existing functions (subtract, multiply, divide, moveaxis), the
in-place forms of the elementwise functions (``ceil_``, ``eq_``, ``logical_and_``...), small
queries about a tensor (``stride``, ``is_contiguous``, ``is_signed``...), and kthvalue / aminmax.

An in-place form computes the function and assigns its result, so torch's rules hold: the
version counter moves, a leaf that requires grad refuses, and a result of a higher dtype
category than ``self`` (``sin_`` of an integer tensor) is torch's RuntimeError."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ir import dtypes
from tracer.core import tensor_state
from tracer.core.errors import err, scalar_type_name
from tracer.core.tensor import Tensor
from tracer.ops import elementwise as ew
from tracer.ops import inplace as ip
from tracer.ops.linalg import addmm
from tracer.ops import reduce as rd
from tracer.ops import shape as sh
from tracer.ops import sorting as so
from tracer.ops._util import cast, norm_dim, scalar
from tracer.ops.conversion import clone
from tracer.ops.creation import to_tensor

subtract = ew.public_sub
multiply = ew.mul
divide = ew.div
moveaxis = sh.movedim


def _inplace(fn, name):
    def method(self, *args, **kwargs):
        return ip.assign(self, fn(self, *args, **kwargs), op=name)
    method.__name__ = name
    return method


#: name of the in-place method -> the function it applies
_INPLACE = {
    "ceil_": ew.ceil, "floor_": ew.floor, "round_": ew.round, "trunc_": ew.trunc, "fix_": ew.trunc,
    "frac_": ew.frac, "sign_": ew.sign, "sin_": ew.sin, "cos_": ew.cos, "tan_": ew.tan, "log_": ew.log,
    "log2_": ew.log2, "log10_": ew.log10, "log1p_": ew.log1p, "expm1_": ew.expm1, "erf_": ew.erf,
    "reciprocal_": ew.reciprocal, "rsqrt_": ew.rsqrt, "square_": ew.square, "remainder_": ew.remainder,
    "fmod_": ew.fmod, "eq_": ew.eq, "ne_": ew.ne, "lt_": ew.lt, "le_": ew.le, "gt_": ew.gt, "ge_": ew.ge,
    "not_equal_": ew.ne, "less_": ew.lt, "less_equal_": ew.le, "greater_": ew.gt, "greater_equal_": ew.ge,
    "logical_and_": ew.logical_and, "logical_or_": ew.logical_or, "logical_xor_": ew.logical_xor,
    "logical_not_": ew.logical_not, "negative_": ew.neg, "absolute_": ew.abs, "subtract_": ew.public_sub,
    "multiply_": ew.mul, "divide_": ew.div, "true_divide_": ew.div, "floor_divide_": ew.floor_divide,
    "bitwise_and_": ew.bitwise_and, "bitwise_or_": ew.bitwise_or, "bitwise_xor_": ew.bitwise_xor,
    "bitwise_not_": ew.bitwise_not, "nan_to_num_": ew.nan_to_num,
}
INPLACE = {name: _inplace(fn, name) for name, fn in _INPLACE.items()}


def _addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    return ip.assign(self, addmm(self, mat1, mat2, beta=beta, alpha=alpha), op="addmm_")


def _float_power_(self, exponent):
    """torch's float_power_ computes in double, so ``self`` must be double already."""
    if self.dtype != dtypes.float64:
        raise err(RuntimeError, f"the base given to float_power_ has dtype {scalar_type_name(self.dtype)} but the "
                  "operation's result requires dtype Double")
    return ip.assign(self, ew.float_power(self, exponent), op="float_power_")


INPLACE.update(addmm_=_addmm_, float_power_=_float_power_)


def positive(input) -> Tensor:
    """torch.positive: ``input`` itself; refused for bool, as torch's unary ``+``."""
    if input.dtype == dtypes.bool_:
        raise err(RuntimeError, "The `+` operator, on a bool tensor is not supported.")
    return input


def type_as(self, other) -> Tensor:
    return cast(self, other.dtype) if self.dtype != other.dtype else self


def is_signed(self) -> bool:
    return self.dtype.is_floating_point or self.dtype.kind == "i"


def is_same_size(self, other) -> bool:
    return tuple(self.shape) == tuple(other.shape)


def is_nonzero(input) -> bool:
    if input.numel() == 0:
        raise err(RuntimeError, "Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise err(RuntimeError, "Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._value.reshape(-1)[0])


def _root_array(t) -> np.ndarray:
    found = tensor_state.view_base(t)
    while found is not None:
        t = found[0]
        found = tensor_state.view_base(t)
    return t._value


def _contiguous_strides(shape) -> tuple[int, ...]:
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


def stride(self, dim=None):
    """The element strides torch reports, read from the NumPy array: views (transpose, slices,
    expand) have theirs, and elementwise results keep their input's layout as torch's do. A
    broadcast array that is no view (torch would hold a real copy) reports row-major strides."""
    a = self._value
    strides = tuple(s // a.itemsize for s in a.strides) if a.ndim else ()
    broadcast = any(s == 0 and n > 1 for s, n in zip(strides, a.shape))
    if tensor_state.view_base(self) is None and (broadcast or a.size == 0):
        strides = _contiguous_strides(a.shape)
    return strides if dim is None else strides[norm_dim(dim, self.dim(), "stride")]


def storage_offset(self) -> int:
    """A view's distance (in elements) from the start of its base's array; 0 for the base."""
    if tensor_state.view_base(self) is None or self.numel() == 0:
        return 0
    start = self._value.__array_interface__["data"][0] - _root_array(self).__array_interface__["data"][0]
    return start // self._value.itemsize


def is_contiguous(self, memory_format=None) -> bool:
    """torch's rule: row-major strides, where dims of size 1 may have any stride."""
    if self.numel() == 0:
        return True
    expected = 1
    for n, s in reversed(list(zip(self.shape, stride(self)))):
        if n != 1:
            if s != expected:
                return False
            expected *= n
    return True


kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
aminmax_result = namedtuple("aminmax", ["min", "max"])


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the ``k``-th smallest entry along ``dim`` (torch.kthvalue)."""
    d = norm_dim(dim, input.dim(), "kthvalue")
    n = input.shape[d] if input.dim() else 1
    if not 1 <= k <= n:
        raise err(RuntimeError, f"kthvalue(): selected number k out of range for dimension {d}")
    if input.dim() == 0:
        return kthvalue_result(clone(input), sh.reshape(so.argsort(sh.reshape(input, 1)), ()))
    idx = sh.narrow(so.sort(input, d, stable=True).indices, d, k - 1, 1)
    values = input.gather(d, idx)
    if not keepdim:
        values, idx = sh.squeeze(values, d), sh.squeeze(idx, d)
    return kthvalue_result(values, clone(idx) if tensor_state.view_base(idx) is not None else idx)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` or the whole tensor (torch.aminmax)."""
    if input.numel() == 0 and (dim is None or input.shape[norm_dim(dim, input.dim(), "aminmax")] == 0):
        raise err(RuntimeError, "aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                  "no identity.")
    if dim is None:
        lo, hi = rd.amin(input), rd.amax(input)
        if keepdim:
            lo, hi = sh.reshape(lo, [1] * input.dim()), sh.reshape(hi, [1] * input.dim())
        return aminmax_result(lo, hi)
    return aminmax_result(rd.amin(input, dim, keepdim=keepdim), rd.amax(input, dim, keepdim=keepdim))


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def rsub(input, other, *, alpha=1) -> Tensor:
    """torch.rsub: ``other - alpha * input``."""
    return ew.public_sub(other, input, alpha=alpha)


unsafe_chunk = sh.chunk
unsafe_split = sh.unsafe_split


def fill_diagonal_(self, fill_value, wrap=False) -> Tensor:
    """``fill_value`` on the main diagonal (all dims equal, or a matrix; ``wrap`` continues it
    below ``N`` columns in a tall matrix), as NumPy's fill_diagonal and torch's."""
    if self.dim() < 2:
        raise err(RuntimeError, "dimensions must larger than 1")
    if self.dim() > 2 and len(set(self.shape)) != 1:
        raise err(RuntimeError, "all dimensions of input must be of equal length")
    mask = np.zeros(tuple(self.shape), dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    value = cast(fill_value, self.dtype) if isinstance(fill_value, Tensor) else scalar(fill_value, self.dtype)
    return ip.assign(self, ew.where(to_tensor(mask), value, self), cast_any=True, op="fill_diagonal_")
