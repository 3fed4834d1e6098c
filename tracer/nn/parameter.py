"""``nn.Parameter``: a leaf tensor that modules register automatically."""
from __future__ import annotations

import numpy as np

from tracer.core.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter (``requires_grad=True`` by default)."""

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            value = np.zeros((0,), dtype=np.float32)
        else:
            value = data._value if isinstance(data, Tensor) else np.asarray(data)
        p = object.__new__(cls)
        p._init(value, Tensor._wrap(value)._type)
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
