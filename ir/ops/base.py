"""What an op is: a name, its typed attributes, its shape/dtype rule, its dynamic-shape rule
and its traits.

Kernels, lowerings and gradient rules live in tables keyed by the ``Op`` object itself
(``backends/numpy``, ``backends/onnx``, ``ir/gradients.py``), so a typo fails at import.
The name is used only to save and load graphs. Classifications (elementwise, random, not
differentiable, shape-only inputs) are traits here, never lists kept elsewhere.
"""
from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, is_dataclass
from typing import Callable

from ir.ops.dynamic import broadcast
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
        dynamic: ``dynamic(node, dyn) -> set[int]``, the output dims that are symbolic at run
            time given ``dyn[input]`` for each input (see ``ir/ops/dynamic.py``). Elementwise
            ops get the broadcasting rule when they give none; every other op declares its
            own (``tests/ir/test_completeness.py`` fails on one that does not).
        elementwise: the op maps input elements to output elements with broadcasting, so its
            output shape is the inputs' broadcast shape.
        differentiable: False when no gradient flows through the op (sources, comparisons and
            logic, argmax, counts, detach, random draws); True means it has a gradient rule.
        nondeterministic: every evaluation draws anew (random ops): never folded into a
            constant, never merged with an identical-looking node.
        shape_only_inputs: input positions whose value is never read, only their shape (the
            reference of ``expand_like``), so reading them keeps no value alive.
    """

    name: str
    infer: Callable[..., TensorType]
    attrs: type = NoAttrs
    arity: int | None = 1
    _: KW_ONLY
    dynamic: Callable[..., set] | None = None
    elementwise: bool = False
    differentiable: bool = True
    nondeterministic: bool = False
    shape_only_inputs: tuple[int, ...] = ()

    def __post_init__(self):
        if self.name in REGISTRY:
            raise ValueError(f"op {self.name!r} defined twice")
        if not is_dataclass(self.attrs):
            raise TypeError(f"op {self.name}: attrs must be a dataclass type")
        if self.dynamic is None and self.elementwise:
            object.__setattr__(self, "dynamic", broadcast)  # frozen: set once, here
        _check_traits(self)
        REGISTRY[self.name] = self

    def __repr__(self) -> str:
        return f"Op({self.name})"


def _check_traits(op: Op) -> None:
    """Reject a missing dynamic-shape rule and traits that contradict each other, at
    definition time like a typo."""
    if op.dynamic is None:
        raise TypeError(f"op {op.name}: no dynamic-shape rule; pass dynamic=... (see ir/ops/dynamic.py) "
                        "or elementwise=True")
    if op.nondeterministic and op.differentiable:
        raise TypeError(f"op {op.name}: a nondeterministic op passes no gradient; add differentiable=False")
    if op.arity == 0 and op.differentiable:
        raise TypeError(f"op {op.name}: an op without inputs passes no gradient; add differentiable=False")
    for pos in op.shape_only_inputs:
        if pos < 0 or (op.arity is not None and pos >= op.arity):
            raise TypeError(f"op {op.name}: shape_only_inputs position {pos} is not an input "
                            f"(arity {op.arity})")
