"""``nn.Parameter``: a leaf tensor that modules register automatically."""
from __future__ import annotations

import numpy as np

from tracer.core import tensor_state
from tracer.core.tensor import Tensor
from tracer.ops.creation import zeros


class Parameter(Tensor):
    """A tensor that is a module parameter (``requires_grad=True`` by default)."""

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            value = np.zeros((0,), dtype=np.float32)
        else:
            value = data._value if isinstance(data, Tensor) else np.asarray(data)
        p = object.__new__(cls)
        p._init(value, Tensor._wrap(value)._type)
        if isinstance(data, Tensor):  # p and data share storage, as torch's: a step on p shows in data
            tensor_state.share(data)
            tensor_state.share(p)
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """Marks a tensor as a buffer when assigned to a module attribute (``nn.Buffer``)."""

    def __new__(cls, data, persistent: bool = True):
        b = object.__new__(cls)
        b._init(data._value, data._type)
        b.persistent = persistent
        return b

    def __init__(self, data, persistent: bool = True):
        pass


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (a lazy module's, before its first call); its
    ``materialize`` gives it a shape and makes it a plain Parameter, as torch's."""

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        p = super().__new__(cls, None, requires_grad)
        p._lazy_dtype = dtype
        return p

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Become a Parameter of ``shape`` (zeros until the module's reset_parameters fills it)."""
        dtype = dtype or self._lazy_dtype
        value = zeros(tuple(shape), dtype=dtype)._value  # the default dtype when none was given
        requires_grad = self.requires_grad
        self.__class__ = Parameter
        self._init(value, Tensor._wrap(value)._type)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"
