"""What an op is: a name, its typed attributes, its shape/dtype rule.

Kernels, lowerings and gradient rules live in tables keyed by the ``Op`` object itself
(``backends/numpy``, ``backends/onnx``, ``ir/gradients.py``), so a typo fails at import.
The name is used only to save and load graphs.
"""
from __future__ import annotations

from dataclasses import dataclass, is_dataclass
from typing import Callable

from ir.types import TensorType

#: Every op by name, for (de)serialization only.
REGISTRY: dict[str, "Op"] = {}


@dataclass(frozen=True)
class NoAttrs:
    """The attributes of an op that takes none."""


NO_ATTRS = NoAttrs()


@dataclass(eq=False, frozen=True)
class Op:
    """One ir operation.

    Attributes:
        name: the op's stable name (saved in JSON graphs).
        infer: ``infer(input_types, attrs) -> TensorType``; raises ``IRError`` naming the op.
        attrs: the frozen dataclass its attributes are an instance of.
        arity: the number of inputs, or None for variadic ops (concat).
    """

    name: str
    infer: Callable[..., TensorType]
    attrs: type = NoAttrs
    arity: int | None = 1

    def __post_init__(self):
        if self.name in REGISTRY:
            raise ValueError(f"op {self.name!r} defined twice")
        if not is_dataclass(self.attrs):
            raise TypeError(f"op {self.name}: attrs must be a dataclass type")
        REGISTRY[self.name] = self

    def __repr__(self) -> str:
        return f"Op({self.name})"
